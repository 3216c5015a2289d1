"""A 12345 operator records a caller's evaluation in a real browser; staff are turned away."""

from __future__ import annotations

import pytest

from haochaping.accounts.roles import Role
from haochaping.evaluation.models import Evaluation
from tests import factories
from tests.accounts.login_support import make_user
from tests.browser.test_receipt import login_cookie, seed_labels

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _labels(db):
    seed_labels()


def test_operator_records_a_callers_evaluation_with_consent(page, live_server, db):
    org = factories.make_org()
    record = factories.make_record(org, factories.make_item(org))
    login_cookie(page, live_server, make_user("hotline-op", Role.HOTLINE, org))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/hotline/")
    # Signing out sits among the page's links and reads as one, not as a red action beside 查找办件.
    sign_out = page.get_by_role("button", name="退出登录")
    assert sign_out.evaluate("e => getComputedStyle(e).backgroundColor") == "rgba(0, 0, 0, 0)"
    assert sign_out.evaluate("e => getComputedStyle(e).color") == page.get_by_role(
        "link", name="回访清单（回访调查抽中的评价）").evaluate("e => getComputedStyle(e).color")
    page.get_by_label("办件编号").fill(record.project_no)
    page.get_by_role("button", name="查找办件").click()
    assert "食品经营许可证核发" in page.locator("main").inner_text()

    # Without the caller's consent nothing starts, and the message is tied to the checkbox.
    page.get_by_role("button", name="开始记录评价").click()
    consent = page.get_by_role("checkbox", name="来电人同意由话务员代为记录评价（必选）")
    assert consent.get_attribute("aria-describedby") == "consent-error"
    assert page.evaluate("document.activeElement.id") == "consent"
    assert "未经来电人同意不能代为记录" in page.locator("#consent-error").inner_text()

    consent.check()
    page.get_by_label("来电人手机号（选填，用于实名评价和回访）").fill("13800002222")
    page.get_by_role("button", name="开始记录评价").click()
    page.get_by_role("button", name="非常满意").click()
    assert page.get_by_role("heading", level=1).inner_text() == "评价已记录"
    ev = Evaluation.objects.get(record=record)
    assert (ev.channel, ev.level, ev.source, ev.is_real_name) == ("phone", 5, "hotline:hotline-op:consent", True)
    assert page.locator("#receipt-code").inner_text() == ev.receipt_code
    # Read out to the caller in three groups of four, as the operator sees it on a phone-width screen too.
    code = ev.receipt_code
    assert page.locator("#receipt-spoken strong").inner_text().split() == [code[:4], code[4:8], code[8:]]
    page.get_by_role("link", name="记录下一通来电").click()
    page.wait_for_url("**/hotline/")


def test_window_staff_get_a_chinese_403(page, live_server, db):
    org = factories.make_org()
    login_cookie(page, live_server, make_user("staff-1", Role.STAFF, org))
    response = page.goto("/hotline/")
    assert response.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "无权访问"
