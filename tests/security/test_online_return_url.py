"""Online 一事一评: return_url must lie under a registered prefix for real, not just share its first characters
(an open redirect to a look-alike host after the evaluation)."""

from __future__ import annotations

import pytest

from haochaping.evaluation import online
from haochaping.org.services import issue_secret
from tests import factories

ALLOWED_HOST_ONLY = ["https://zwfw.example.gov.cn"]  # registered without the trailing slash
ALLOWED_PATH = ["https://m.example.gov.cn/app"]


@pytest.mark.parametrize("url", [
    "https://zwfw.example.gov.cn.evil.example/done",
    "https://zwfw.example.gov.cn@evil.example/done",
    "https://zwfw.example.gov.cn:443@evil.example/",
    "https://zwfw.example.gov.cn\\@evil.example/",
])
def test_look_alike_hosts_are_refused(url):
    assert online.return_url_problem(url, ALLOWED_HOST_ONLY) == (
        "return_url", "返回地址（return_url）不在该平台登记的允许范围内")


def test_a_prefix_path_is_matched_on_segment_boundaries():
    assert online.return_url_problem("https://m.example.gov.cn/application-evil/", ALLOWED_PATH) is not None
    assert online.return_url_problem("https://m.example.gov.cn/app/done?x=1", ALLOWED_PATH) is None
    assert online.return_url_problem("https://m.example.gov.cn/app?x=1", ALLOWED_PATH) is None


@pytest.mark.parametrize("url", ["https://zwfw.example.gov.cn", "https://zwfw.example.gov.cn/done?from=hcp",
                                 "https://zwfw.example.gov.cn?x=1"])
def test_urls_under_the_prefix_still_pass(url):
    assert online.return_url_problem(url, ALLOWED_HOST_ONLY) is None


@pytest.mark.django_db
def test_page_refuses_a_look_alike_return_url_even_when_signed(client, org, item):
    org.platform.return_url_prefixes = "https://zwfw.example.gov.cn"
    org.platform.save()
    secret = issue_secret(org.platform)
    record = factories.make_record(org, item, platform=org.platform)
    params = {"platform": org.platform.code, "project_no": record.project_no, "stage": "complete",
              "return_url": "https://zwfw.example.gov.cn.evil.example/done"}
    response = client.get(online.signed_url("/e/", secret, params))
    assert response.status_code == 400
    assert "返回地址（return_url）不在该平台登记的允许范围内" in response.content.decode()
