"""The receipt page and the follow-up in a real browser: the code typed by hand, keyboard only, focus moved after
each step, the follow-up refused the second time."""

from __future__ import annotations

import importlib
import uuid

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from haochaping.evaluation import services
from haochaping.evaluation.models import Evaluation
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def seed_labels() -> None:
    # Live-server tests flush every table afterwards, the label dictionary the migration seeded included.
    from haochaping.evaluation.models import Label

    for code, text in importlib.import_module("haochaping.evaluation.migrations.0002_seed_labels").NATIONAL_LABELS:
        Label.objects.get_or_create(code=code, defaults={"text": text, "level": int(code[0])})


# Helpers shared with test_accessibility.py and test_hotline.py (no test_ prefix, so they are not collected twice).
def bad_evaluation(org=None, item=None) -> Evaluation:
    org = org or factories.make_org()
    item = item or factories.make_item(org)
    record = factories.make_record(org, item)
    data = services.EvaluationInput(idempotency_key=uuid.uuid4().hex, project_no=record.project_no, stage="complete",
                                    channel="kiosk", level=1, labels=["108"], comment="要求提供指南外的材料")
    return services.submit_evaluation(data, source="test").evaluation


def enter_code(page, code: str) -> None:
    page.goto("/r/")
    page.get_by_label("评价回执码").fill(code)
    page.get_by_role("button", name="查询").click()


def login_cookie(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                               "url": live_server.url}])


def active_element(page) -> dict:
    return page.evaluate(
        "() => { const e = document.activeElement; const s = getComputedStyle(e);"
        " return {tag: e.tagName, id: e.id, text: (e.innerText || e.value || '').trim(), outline: s.outlineStyle,"
        " outlineWidth: parseFloat(s.outlineWidth)}; }"
    )


def tab_to(page, text: str, limit: int = 30) -> dict:
    """Press Tab until the focused element's text is ``text``; fail if it is not reachable."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = active_element(page)
        if focused["text"] == text:
            return focused
    raise AssertionError(f"{text!r} is not reachable with Tab")


@pytest.fixture(autouse=True)
def _fresh_limits(db):
    seed_labels()
    cache.clear()
    yield
    cache.clear()


def test_receipt_and_followup_with_the_keyboard_alone(page, db):
    ev = bad_evaluation()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/r/")
    # Skip link, navigation, the text-size toggle, then the code field.
    for _ in range(10):
        page.keyboard.press("Tab")
        if active_element(page)["id"] == "code":
            break
    assert active_element(page)["id"] == "code", "the code field is not reachable with Tab"
    page.keyboard.type(ev.receipt_code.lower())
    page.keyboard.press("Enter")
    page.wait_for_url("**/r/view/")
    # The code never appears in an address.
    assert ev.receipt_code not in page.url and ev.receipt_code.lower() not in page.url
    assert active_element(page)["id"] == "receipt-view-h"  # focus moved to the new page's heading
    main = page.locator("main").inner_text()
    assert "差评已转交办理单位核实处理" in main and "非常不满意" in main
    # The 存证摘要 is there for whoever checks it, folded away below the evaluator's own facts.
    assert ev.leaf_hash not in main and ev.leaf_hash in page.locator("details.leaf-hash").text_content()

    link = tab_to(page, "追加评价")
    assert link["outline"] != "none" and link["outlineWidth"] >= 2, "keyboard focus must be visible"
    page.keyboard.press("Enter")
    page.wait_for_url("**/r/followup/")
    button = tab_to(page, "不满意")
    assert button["outline"] != "none"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert active_element(page)["id"] == "rate-h"  # the details step starts at its heading
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # the first reason of level 2
    tab_to(page, "提交评价")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_role("heading", level=1).inner_text() == "感谢您的评价"
    assert active_element(page)["id"] == "rate-h"
    follow = Evaluation.objects.get(record=ev.record, type="followup")
    assert follow.level == 2 and follow.channel == "pc" and follow.labels.count() == 1
    assert page.locator("#receipt-code").inner_text() == follow.receipt_code

    with page.expect_navigation():
        page.get_by_role("link", name="返回我的评价").click()
    followup = page.locator("#followup-made").inner_text()
    assert "追加评价：不满意" in followup and follow.receipt_code in followup
    assert page.get_by_role("link", name="追加评价").count() == 0


def test_second_followup_from_an_old_tab_is_refused_on_the_page(page, browser, live_server, db):
    ev = bad_evaluation()
    enter_code(page, ev.receipt_code)
    page.get_by_role("link", name="追加评价").click()
    # A second tab of the same browser (same session) opened before the first follow-up is sent.
    other = page.context.new_page()
    other.goto("/r/followup/")
    with page.expect_navigation():
        page.get_by_role("button", name="非常满意").click()
    with page.expect_navigation():  # a follow-up asks for the words first, whatever the level
        page.get_by_role("button", name="提交评价").click()
    assert page.get_by_role("heading", level=1).inner_text() == "感谢您的评价"

    with other.expect_navigation():
        other.get_by_role("button", name="满意", exact=True).click()
    response_status = {}
    other.on("response", lambda r: response_status.setdefault("status", r.status) if r.request.method == "POST" else None)
    with other.expect_navigation():
        other.get_by_role("button", name="提交评价").click()
    alert = other.get_by_role("alert")
    assert alert.inner_text() == "该办件的这一环节已有追加评价，每个环节只能追加评价一次"
    assert response_status["status"] == 409
    assert other.evaluate("document.activeElement.id") == "form-error"
    assert Evaluation.objects.filter(record=ev.record).count() == 2


def test_wrong_codes_get_a_chinese_message_then_a_wait(page, db):
    enter_code(page, "ABCDEFGHJKLM")
    assert page.get_by_role("alert").inner_text() == "没有这个评价回执码，请核对后重试"
    # The message is tied to the field for screen readers, and the field has the focus again.
    assert page.get_by_label("评价回执码").get_attribute("aria-describedby") == "code-hint code-error"
    assert page.evaluate("document.activeElement.id") == "code"
    for _ in range(10):
        page.get_by_label("评价回执码").fill("ABCDEFGHJKLM")
        page.get_by_role("button", name="查询").click()
    assert page.get_by_role("heading", level=1).inner_text() == "查询过于频繁"
    assert "分钟后再试" in page.get_by_role("alert").inner_text()


def test_large_text_toggle_persists_across_pages(page, db):
    page.goto("/r/")
    normal = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    page.get_by_role("button", name="大字版").click()
    page.wait_for_function("document.documentElement.classList.contains('large-text')")
    assert page.url.endswith("/r/")
    large = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert large >= 1.3 * normal
    page.goto("/")
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") == large
    page.get_by_role("button", name="标准版").click()
    page.wait_for_function("!document.documentElement.classList.contains('large-text')")
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") == normal
    page.reload()  # the choice was kept by the server (the cookie), not only on this page
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") == normal
