"""Online 一事一评 (R3.5): a platform opens the region's evaluation page with a signed request; the page and the
API for platforms that render their own page apply the same rules and store the same data."""

from __future__ import annotations

import re
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from haochaping.evaluation import online
from haochaping.evaluation.models import Evaluation
from haochaping.org.models import Platform
from haochaping.org.services import issue_secret
from tests import factories

RETURN = "https://zwfw.example.gov.cn/done?from=hcp"


@pytest.fixture
def platform(org):
    org.platform.return_url_prefixes = "https://zwfw.example.gov.cn/\nhttps://m.example.gov.cn/app/"
    org.platform.save()
    secret = issue_secret(org.platform)
    return org.platform, secret


@pytest.fixture
def record(org, item, platform):
    return factories.make_record(org, item, platform=platform[0])


def url(platform, record, secret=None, now=None, **kw):
    pf, key = platform
    params = {"platform": pf.code, "project_no": record.project_no, "stage": "complete", "return_url": RETURN, **kw}
    return online.signed_url("/e/", secret or key, params, now=now)


def form_token(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def test_signature_helper_is_stable_and_order_independent():
    a = online.sign("k", {"b": "2", "a": "一 &", "ts": "100"})
    b = online.sign("k", {"ts": "100", "a": "一 &", "b": "2"})
    assert a["sig"] == b["sig"] and len(a["sig"]) == 64
    assert online.canonical(a) == "a=%E4%B8%80%20%26&b=2&ts=100"
    assert online.signature_ok("k", a) and not online.signature_ok("k2", a) and not online.signature_ok("", a)


@pytest.mark.django_db
def test_signed_request_shows_levels_then_questionnaire_and_returns_with_the_receipt(client, platform, record):
    page = url(platform, record)
    r = client.get(page)
    html = r.content.decode()
    assert r.status_code == 200
    assert all(t in html for t in ("非常满意", "满意", "基本满意", "不满意", "非常不满意"))
    assert "来自：爱山东（演示）" in html
    # The form's redirect goes to the platform: CSP lets the form go there, and only there besides this site.
    assert "form-action 'self' https://zwfw.example.gov.cn" in r["Content-Security-Policy"]
    r = client.post(page, {"form_token": form_token(html), "level": "4"})
    html2 = r.content.decode()
    assert "服务指引是否清晰" in html2 and "有何改进意见" in html2
    r = client.post(page, {"form_token": form_token(html), "level": "4", "confirm": "1", "q_guide_clear": "yes",
                           "q_process_convenient": "no", "q_suggestions": "希望简化材料"})
    assert r.status_code == 302
    target = urlsplit(r["Location"])
    assert r["Location"].startswith("https://zwfw.example.gov.cn/done?from=hcp&")
    ev = Evaluation.objects.get(record=record)
    assert parse_qs(target.query) == {"from": ["hcp"], "receipt_code": [ev.receipt_code], "result": ["ok"]}
    assert (ev.channel, ev.level, ev.is_real_name) == ("pc", 4, False)
    assert ev.questionnaire == {"guide_clear": True, "process_convenient": False, "suggestions": "希望简化材料"}
    assert ev.source == f"online:{platform[0].code}"


@pytest.mark.django_db
def test_signed_client_mobile_rates_on_the_mobile_channel(client, platform, record):
    page = url(platform, record, client="mobile", return_url="https://m.example.gov.cn/app/back")
    html = client.get(page).content.decode()
    client.post(page, {"form_token": form_token(html), "level": "5"})
    r = client.post(page, {"form_token": form_token(html), "level": "5", "confirm": "1"})
    assert r.status_code == 302 and r["Location"].startswith("https://m.example.gov.cn/app/back?receipt_code=")
    assert Evaluation.objects.get().channel == "mobile"


def _refused(client, page, status, text, method="get"):
    r = getattr(client, method)(page, {"level": "5"} if method == "post" else None)
    html = r.content.decode()
    assert r.status_code == status, html
    assert text in html
    assert not Evaluation.objects.exists()


@pytest.mark.django_db
def test_bad_signature_or_tampered_parameter_is_refused(client, platform, record):
    _refused(client, url(platform, record, secret="hcs_wrong"), 403, "签名（sig）无效")
    tampered = url(platform, record).replace("stage=complete", "stage=accept")
    _refused(client, tampered, 403, "签名（sig）无效")
    _refused(client, tampered, 403, "签名（sig）无效", method="post")
    # Adding client=mobile after signing is tampering too.
    _refused(client, url(platform, record) + "&client=mobile", 403, "签名（sig）无效")


@pytest.mark.django_db
def test_missing_parameters_and_unknown_platform(client, platform, record):
    _refused(client, "/e/?platform=x", 400, "缺少参数：project_no、stage、return_url、ts、sig")
    pf, key = platform
    params = {"platform": "NOPE", "project_no": record.project_no, "stage": "complete", "return_url": RETURN}
    _refused(client, online.signed_url("/e/", key, params), 403, "平台（platform）不存在或未开通一事一评")
    Platform.objects.filter(pk=pf.pk).update(is_active=False)
    _refused(client, url(platform, record), 403, "平台（platform）不存在或未开通一事一评")


@pytest.mark.django_db
def test_stale_or_future_timestamp_is_refused(client, platform, record):
    _refused(client, url(platform, record, now=time.time() - 11 * 60), 403, "评价请求已过期")
    _refused(client, url(platform, record, now=time.time() + 11 * 60), 403, "晚于当前时间")
    assert client.get(url(platform, record, now=time.time() - 9 * 60)).status_code == 200


@pytest.mark.django_db
def test_return_url_outside_the_prefixes_is_refused(client, platform, record):
    _refused(client, url(platform, record, return_url="https://evil.example.com/zwfw.example.gov.cn/"), 400, "不在该平台登记的允许范围内")
    _refused(client, url(platform, record, return_url="https://zwfw.example.gov.cn.evil.com/"), 400, "不在该平台登记的允许范围内")
    _refused(client, url(platform, record, return_url="javascript:alert(1)"), 400, "应为完整的 http(s) 地址")


@pytest.mark.django_db
def test_another_platforms_record_reads_as_missing(client, platform, org, item):
    other = Platform.objects.create(code="PF-OTHER", name="其他平台", kind="pc", region=org.province)
    theirs = factories.make_record(org, item, platform=other)
    _refused(client, url(platform, theirs), 404, "该平台没有此办件编号（project_no）的办件")
    no_platform = factories.make_record(org, item)
    _refused(client, url(platform, no_platform), 404, "该平台没有此办件编号（project_no）的办件")


@pytest.mark.django_db(transaction=True)
def test_page_and_api_apply_the_same_rules_and_store_the_same_data(client, http, platform, org, item):
    via_page = factories.make_record(org, item, platform=platform[0])
    via_api = factories.make_record(org, item, platform=platform[0])
    # A bad review without a reason: refused on both paths, with the same message.
    page = url(platform, via_page)
    html = client.get(page).content.decode()
    r = client.post(page, {"form_token": form_token(html), "level": "2", "confirm": "1"})
    message = "差评请至少选择一项原因，或写下具体情况"
    assert r.status_code == 422 and message in r.content.decode()
    api = http.post("/api/v1/evaluations", json={
        "idempotency_key": uuid.uuid4().hex, "project_no": via_api.project_no, "stage": "complete", "channel": "pc",
        "level": 2})
    assert api.status_code == 422 and message in api.text
    assert not Evaluation.objects.exists()
    # A bad review with a label and the questionnaire: stored identically.
    answers = {"guide_clear": False, "interface_friendly": True, "suggestions": "窗口太少"}
    r = client.post(page, {"form_token": form_token(html), "level": "2", "confirm": "1", "labels": ["207"],
                           "q_guide_clear": "no", "q_interface_friendly": "yes", "q_suggestions": "窗口太少"})
    assert r.status_code == 302
    api = http.post("/api/v1/evaluations", json={
        "idempotency_key": uuid.uuid4().hex, "project_no": via_api.project_no, "stage": "complete", "channel": "pc",
        "level": 2, "labels": ["207"], "questionnaire": answers})
    assert api.status_code == 201, api.text
    a, b = Evaluation.objects.get(record=via_page), Evaluation.objects.get(record=via_api)
    for ev in (a, b):
        ev.label_codes = sorted(ev.labels.values_list("code", flat=True))
    assert (a.level, a.is_bad, a.channel, a.questionnaire, a.label_codes) == (b.level, b.is_bad, b.channel, b.questionnaire, b.label_codes)
    assert a.questionnaire == answers
