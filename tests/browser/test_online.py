"""Online 一事一评 in a real browser: a platform's signed link, the five levels and the questionnaire, by keyboard
alone on a 320 px phone, with no accessibility violations, and back to the platform with the receipt code."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from haochaping.evaluation import online
from haochaping.evaluation.models import Evaluation
from haochaping.org.services import issue_secret
from tests import factories

from .test_public_pages import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_page(live_server):
    org = factories.make_org()
    # The platform's return page is on the same host in this test: the page fixture refuses other hosts.
    org.platform.return_url_prefixes = f"{live_server.url}/items/"
    org.platform.save()
    secret = issue_secret(org.platform)
    record = factories.make_record(org, factories.make_item(org), platform=org.platform)
    params = {"platform": org.platform.code, "project_no": record.project_no, "stage": "complete",
              "return_url": f"{live_server.url}/items/?from=platform", "client": "mobile"}
    return record, online.signed_url("/e/", secret, params)


def tab_to(page, name: str, limit: int = 60) -> None:
    """Press Tab until the focused element's accessible text is ``name`` (keyboard only, like a real user)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        text = page.evaluate(
            "(() => { const el = document.activeElement; if (!el) return '';"
            " const label = el.labels && el.labels[0]; return (label ? label.innerText : el.innerText || el.value || '').trim(); })()"
        )
        if text == name:
            return
    raise AssertionError(f"{name!r} not reachable with Tab")


def test_keyboard_only_rating_with_the_questionnaire_at_320px(page, signed_page):
    record, url = signed_page
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(url)
    assert page.get_by_role("heading", level=1).inner_text() == "请您对本次服务作出评价"
    for name in ("非常满意", "满意", "基本满意", "不满意", "非常不满意"):
        assert page.get_by_role("button", name=name, exact=True).is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert axe_violations(page) == []

    tab_to(page, "满意")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=服务指引是否清晰")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert axe_violations(page) == []
    # 服务指引是否清晰 → 是 (Space checks a focused radio button).
    tab_to(page, "是")
    page.keyboard.press("Space")
    tab_to(page, "有何改进意见")
    page.keyboard.type("希望增加夜间窗口")
    tab_to(page, "提交评价")
    page.keyboard.press("Enter")

    page.wait_for_url("**/items/?from=platform&receipt_code=*")
    query = parse_qs(urlsplit(page.url).query)
    ev = Evaluation.objects.get(record=record)
    assert query == {"from": ["platform"], "receipt_code": [ev.receipt_code], "result": ["ok"]}
    assert (ev.level, ev.channel) == (4, "mobile")
    assert ev.questionnaire == {"guide_clear": True, "suggestions": "希望增加夜间窗口"}


def test_a_tampered_link_is_refused_in_chinese(page, signed_page):
    _record, url = signed_page
    response = page.goto(url.replace("stage=complete", "stage=accept"))
    assert response.status == 403
    assert "签名（sig）无效" in page.locator("main").inner_text()
    assert axe_violations(page) == []
    assert not Evaluation.objects.exists()
