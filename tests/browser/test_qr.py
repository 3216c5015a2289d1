"""The QR page on a 320 px phone, keyboard only: code entry, rating, thank-you; WCAG 2.1 AA on every step."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from haochaping.evaluation import verification
from haochaping.evaluation.models import Evaluation
from haochaping.records import verification as record_verification
from tests import factories
from tests.browser.test_public_pages import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def record(db):
    from haochaping.evaluation.models import Label
    from tests.evaluation.conftest import _seed

    for code, text in _seed.NATIONAL_LABELS:
        Label.objects.get_or_create(code=code, defaults={"text": text, "level": int(code[0])})
    cache.clear()
    org = factories.make_org()
    return factories.make_record(org, factories.make_item(org))


def no_horizontal_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_qr_page_at_320px_with_the_keyboard_from_code_to_thank_you(page, record):
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"/q/w/{verification.window_token(record.window_id)}/")
    assert page.get_by_role("heading", level=1).inner_text() == "扫码评价"
    assert no_horizontal_overflow(page)
    assert axe_violations(page) == []

    # A wrong code first: one message, the page stays usable.
    page.get_by_label("办件编号").focus()
    page.keyboard.type(record.project_no)
    page.keyboard.press("Tab")
    page.keyboard.type("000000" if record_verification.verification_code(record.project_no) != "000000" else "111111")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_role("alert").first.inner_text() == "办件编号或验证码不正确，请核对办件回执后重新输入"
    assert no_horizontal_overflow(page)
    assert axe_violations(page) == []

    page.get_by_label("办件编号").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type(record.project_no)
    page.keyboard.press("Tab")
    page.keyboard.type(record_verification.verification_code(record.project_no))
    page.keyboard.press("Enter")
    page.wait_for_url("**/rate/")
    assert page.get_by_role("heading", level=1).inner_text() == "请您对本次服务作出评价"
    assert no_horizontal_overflow(page)
    assert axe_violations(page) == []

    page.get_by_role("button", name="不满意", exact=True).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.get_by_role("checkbox").first.focus()
    page.keyboard.press("Space")
    page.locator("textarea[name=comment]").fill("等了很久")
    # 大字版 halfway through a 差评: the text grows, and the reason ticked and the words typed so far stay.
    normal = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    page.get_by_role("button", name="大字版").click()
    page.wait_for_function("document.documentElement.classList.contains('large-text')")
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 1.3 * normal
    assert page.get_by_role("checkbox").first.is_checked()
    assert page.locator("textarea[name=comment]").input_value() == "等了很久"
    assert page.get_by_role("button", name="标准版").is_visible()
    page.get_by_role("button", name="提交评价").focus()
    assert no_horizontal_overflow(page)
    assert axe_violations(page) == []
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.get_by_role("heading", level=1).inner_text() == "感谢您的评价"
    ev = Evaluation.objects.get(record=record)
    assert (ev.channel, ev.level, ev.comment) == ("qr", 2, "等了很久")
    assert page.locator("#receipt-code").inner_text() == ev.receipt_code
    assert no_horizontal_overflow(page)
    assert axe_violations(page) == []
