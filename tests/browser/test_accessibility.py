"""Every evaluator page against WCAG 2.1 AA (axe-core), on a 320 px screen, in standard and large-text mode (R8.3).

Each page is reached the way an evaluator (or operator) reaches it, from scratch, once in standard mode and once
with the large-text cookie: the page must show no axe violation either way, never be wider than the screen, and
large-text mode must enlarge the body text by at least 1.3×.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import resolve
from playwright.sync_api import expect

from haochaping.accounts.roles import Role
from tests import factories
from tests.accounts.login_support import make_user
from tests.browser.test_public_pages import axe_violations
from tests.browser.test_receipt import bad_evaluation, enter_code, login_cookie, seed_labels

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def receipt_lookup(page, live_server, world):
    page.goto("/r/")


def receipt_wrong_code(page, live_server, world):
    enter_code(page, "ABCDEFGHJKLM")
    expect(page.get_by_role("alert")).to_be_visible()  # waits for the navigation


def receipt_limited(page, live_server, world):
    page.goto("/r/")
    for _ in range(11):
        page.get_by_label("评价回执码").fill("ABCDEFGHJKLM")
        page.get_by_role("button", name="查询").click()
        if page.get_by_role("heading", name="查询过于频繁").count():
            return
    raise AssertionError("the lookup was never limited")


def receipt_view(page, live_server, world):
    enter_code(page, bad_evaluation(world["org"], world["item"]).receipt_code)
    page.wait_for_url("**/r/view/")


def followup_levels(page, live_server, world):
    receipt_view(page, live_server, world)
    page.get_by_role("link", name="追加评价").click()
    page.wait_for_url("**/r/followup/")


def followup_details(page, live_server, world):
    followup_levels(page, live_server, world)
    page.get_by_role("button", name="非常不满意").click()
    expect(page.get_by_role("group", name="请告诉我们哪里做得不好（至少选择一项或填写意见）")).to_be_visible()  # waits for the navigation


def followup_reason_missing(page, live_server, world):
    followup_details(page, live_server, world)
    page.get_by_role("button", name="提交评价").click()
    expect(page.get_by_role("alert")).to_be_visible()  # waits for the navigation


def followup_thanks(page, live_server, world):
    followup_levels(page, live_server, world)
    page.get_by_role("button", name="非常满意").click()
    page.get_by_role("button", name="提交评价").click()  # waits for the details step to load
    expect(page.get_by_role("heading", name="感谢您的评价")).to_be_visible()  # waits for the navigation


def _operator(page, live_server, world):
    org = world["org"]
    record = factories.make_record(org, world["item"])
    login_cookie(page, live_server, make_user(f"op-{record.pk}", Role.HOTLINE, org))
    return record


def hotline_search(page, live_server, world):
    record = _operator(page, live_server, world)
    page.goto("/hotline/")
    page.get_by_label("办件编号").fill(record.project_no)
    page.get_by_role("button", name="查找办件").click()
    page.get_by_role("button", name="开始记录评价").wait_for()


def hotline_consent_missing(page, live_server, world):
    hotline_search(page, live_server, world)
    page.get_by_role("button", name="开始记录评价").click()
    page.locator("#consent-error").wait_for()


def hotline_levels(page, live_server, world):
    hotline_search(page, live_server, world)
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="开始记录评价").click()
    page.get_by_role("button", name="非常满意").wait_for()


def hotline_forbidden(page, live_server, world):
    if "staff_user" not in world:  # one account per staff member
        world["staff_user"] = make_user("staff-a11y", Role.STAFF, world["org"])
    login_cookie(page, live_server, world["staff_user"])
    assert page.goto("/hotline/").status == 403


# Other channels' pages, reached without their test data (each channel's own tests scan the full flows):
# what an evaluator sees with a broken or expired link, and the kiosk before activation.
def _other_channel(path: str, module: str):
    def reach(page, live_server, world):
        match = resolve(path)
        assert match.func.__module__ == f"haochaping.evaluation.{module}", f"{path} is not served by {module}"
        page.goto(path)
        assert page.get_by_role("heading", level=1).count() == 1

    return reach


PAGES = {
    "receipt-lookup": receipt_lookup,
    "receipt-wrong-code": receipt_wrong_code,
    "receipt-limited": receipt_limited,
    "receipt-view": receipt_view,
    "followup-levels": followup_levels,
    "followup-details": followup_details,
    "followup-reason-missing": followup_reason_missing,
    "followup-thanks": followup_thanks,
    "hotline-search": hotline_search,
    "hotline-consent-missing": hotline_consent_missing,
    "hotline-levels": hotline_levels,
    "hotline-forbidden": hotline_forbidden,
    "qr-bad-window-link": _other_channel("/q/w/not-a-valid-token/", "views.qr"),
    "invitation-bad-link": _other_channel("/i/not-a-valid-token/", "views.invite"),
    "online-unsigned": _other_channel("/e/", "views.online"),
    "kiosk-activation": _other_channel("/kiosk/", "views.kiosk"),
}


@pytest.fixture(autouse=True)
def _setup(db):
    seed_labels()
    cache.clear()
    yield
    cache.clear()


def body_font_size(page) -> float:
    return page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")


def check(page, name: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{name} is {width}px wide on a 320px screen"
    assert axe_violations(page) == []


@pytest.mark.parametrize("name", list(PAGES))
def test_evaluator_page_is_accessible_at_320px_and_in_large_text(page, browser, live_server, name):
    org = factories.make_org()
    world = {"org": org, "item": factories.make_item(org)}
    page.set_viewport_size({"width": 320, "height": 640})
    PAGES[name](page, live_server, world)
    check(page, name)
    standard = body_font_size(page)

    cache.clear()
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 320, "height": 640})
    context.add_cookies([{"name": "large_text", "value": "1", "url": live_server.url}])
    try:
        large_page = context.new_page()
        PAGES[name](large_page, live_server, world)
        assert large_page.evaluate("document.documentElement.classList.contains('large-text')")
        check(large_page, f"{name} (大字版)")
        large = body_font_size(large_page)
        # 1.3× with a rounding margin (computed sizes carry fractions).
        assert large >= 1.3 * standard - 0.05, f"large text is {large}px against {standard}px"
        # Everything grows, not only running text: the buttons a finger or an old eye has to hit too.
        button = large_page.locator("main button, main a.button-link").first
        if button.count():
            size = "e => parseFloat(getComputedStyle(e).fontSize)"
            before = page.locator("main button, main a.button-link").first.evaluate(size)
            assert button.evaluate(size) >= 1.3 * before - 0.05
    finally:
        context.close()
