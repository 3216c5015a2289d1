"""The window evaluator (评价器) in a real browser: activation, the business system pushing a 办件, rating with
the big buttons (mouse and keyboard), the reasons of a bad level, the reset, the accessibility scan, and the
network dropping: the evaluation waits on the tablet and arrives exactly once."""

from __future__ import annotations

import importlib
import json
import re

import pytest
from playwright.sync_api import expect

from haochaping.evaluation import kiosk, services
from haochaping.evaluation.models import Evaluation, Label
from tests import factories
from tests.browser.test_public_pages import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUEUE = "haochaping.kiosk.queue"
WAITING = "请稍候，工作人员正在为您办理"
SEED = importlib.import_module("haochaping.evaluation.migrations.0002_seed_labels")


@pytest.fixture
def world(db, settings):
    settings.HAOCHAPING_KIOSK_RESET_SECONDS = 2  # the real default is 10; the tests need not wait that long
    for code, text in SEED.NATIONAL_LABELS:  # live-server tests flush the seeded dictionary
        Label.objects.get_or_create(code=code, defaults={"text": text, "level": int(code[0])})
    org = factories.make_org()
    item = factories.make_item(org, name="食品经营许可证核发")
    device, secret = kiosk.register_kiosk(org.window, "1号窗口评价器")
    return org, item, device, secret


def activate(page, secret):
    page.goto("/kiosk/")
    page.get_by_label("设备密钥").fill(secret)
    page.get_by_role("button", name="激活").click()
    expect(page.get_by_text(WAITING)).to_be_visible()


def push(http, device, record):
    response = http.put(f"/api/v1/kiosks/{device.prefix}/current", json={"project_no": record.project_no, "stage": "complete"})
    assert response.status_code == 200, response.text


def queue(page) -> list:
    return page.evaluate(f"JSON.parse(localStorage.getItem('{QUEUE}') || '[]')")


def test_a_citizen_rates_at_the_window_and_the_page_resets(page, http, world):
    org, item, device, secret = world
    record = factories.make_record(org, item)
    activate(page, secret)
    # The tablet is its own full screen: no site header, no links away.
    assert page.locator("header.site-header").count() == 0 and page.locator("a").count() == 0
    expect(page.get_by_text("综合受理1号窗口").first).to_be_visible()

    push(http, device, record)
    best = page.get_by_role("button", name="非常满意", exact=True)
    expect(best).to_be_visible(timeout=15_000)  # kiosk.js polls and shows the new 办件
    text = page.locator("main").inner_text()
    assert "食品经营许可证核发" in text and "李明" in text and org.staff.staff_no in text
    assert "王小二" not in page.content() and "13912345678" not in page.content()
    assert [b.inner_text() for b in page.locator("button.level").all()] == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]

    best.click()
    code = page.locator("#receipt-code")
    expect(code).to_have_text(re.compile(r"^[2-9A-Z]{12}$"))
    ev = Evaluation.objects.get(record=record)
    assert (ev.level, ev.channel, code.inner_text()) == (5, "kiosk", ev.receipt_code)
    expect(page.locator("#handling")).to_be_hidden()
    expect(page.get_by_text(WAITING)).to_be_visible(timeout=10_000)  # reset by itself
    assert ev.receipt_code not in page.content()


def test_a_bad_review_with_a_reason(page, http, world):
    org, item, device, secret = world
    record = factories.make_record(org, item)
    activate(page, secret)
    push(http, device, record)
    page.get_by_role("button", name="不满意", exact=True).click(timeout=15_000)
    page.get_by_label("未在承诺时间内办结").check()
    page.get_by_label("具体情况（没有合适的选项时必填）").fill("多跑了一趟")
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator("#receipt-code")).to_have_text(re.compile(r"^[2-9A-Z]{12}$"))
    ev = Evaluation.objects.get(record=record)
    assert (ev.level, ev.is_bad, ev.comment) == (2, True, "多跑了一趟")
    assert list(ev.labels.values_list("code", flat=True)) == ["209"]
    # Who handles it and by when, from the case opened with it (the day the product's calendar gives).
    due = ev.case.callback_due
    expect(page.locator("#handling")).to_contain_text(
        f"责任单位：{org.department.name}；回访核实期限：{due.year}年{due.month}月{due.day}日")
    assert page.locator("a").count() == 0  # still no link away from the tablet


def test_offline_evaluations_wait_and_arrive_exactly_once(page, http, world):
    org, item, device, secret = world
    record = factories.make_record(org, item)
    activate(page, secret)
    push(http, device, record)
    good = page.get_by_role("button", name="满意", exact=True)
    expect(good).to_be_visible(timeout=15_000)

    page.context.set_offline(True)
    good.click()
    expect(page.get_by_text("网络恢复后将自动提交")).to_be_visible()
    assert page.locator("#receipt-code").is_hidden()
    queued = queue(page)
    assert len(queued) == 1 and not Evaluation.objects.exists()
    assert "王小二" not in json.dumps(queued, ensure_ascii=False)
    expect(page.get_by_text(WAITING)).to_be_visible(timeout=10_000)  # resets offline too, from its template

    page.context.set_offline(False)
    page.wait_for_function(f"() => JSON.parse(localStorage.getItem('{QUEUE}') || '[]').length === 0", timeout=20_000)
    assert Evaluation.objects.filter(record=record).count() == 1
    assert Evaluation.objects.get(record=record).level == 4

    # The answer to the delivery was lost: the tablet sends the same evaluation again. It is a replay.
    page.evaluate("([key, item]) => localStorage.setItem(key, JSON.stringify([item]))", [QUEUE, queued[0]])
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_function(f"() => JSON.parse(localStorage.getItem('{QUEUE}') || '[]').length === 0", timeout=20_000)
    assert Evaluation.objects.filter(record=record).count() == 1
    expect(page.get_by_text(WAITING)).to_be_visible()  # the rated 办件 is not offered again


def test_a_queued_evaluation_refused_for_good_is_dropped(page, http, world):
    org, item, device, secret = world
    record = factories.make_record(org, item)
    activate(page, secret)
    push(http, device, record)
    expect(page.get_by_role("button", name="满意", exact=True)).to_be_visible(timeout=15_000)
    page.context.set_offline(True)
    page.get_by_role("button", name="满意", exact=True).click()
    expect(page.get_by_text("网络恢复后将自动提交")).to_be_visible()
    # Meanwhile the 办件 was rated through another channel: the queued one is a second evaluation (409).
    services.submit_evaluation(
        services.EvaluationInput(idempotency_key="other-channel-1", project_no=record.project_no, stage="complete",
                                 channel="pc", level=5),
        source="test",
    )
    warnings = []
    page.on("console", lambda msg: warnings.append(msg.text) if msg.type == "warning" else None)
    page.context.set_offline(False)
    page.wait_for_function(f"() => JSON.parse(localStorage.getItem('{QUEUE}') || '[]').length === 0", timeout=20_000)
    assert Evaluation.objects.filter(record=record).count() == 1
    assert any("已丢弃" in w and "409" in w for w in warnings)


def test_kiosk_pages_pass_axe_and_work_with_the_keyboard(page, http, world):
    org, item, device, secret = world
    page.goto("/kiosk/")
    assert axe_violations(page) == []
    activate(page, secret)
    assert axe_violations(page) == []

    push(http, device, factories.make_record(org, item))
    expect(page.get_by_role("button", name="非常满意", exact=True)).to_be_visible(timeout=15_000)
    assert axe_violations(page) == []
    page.get_by_role("button", name="非常不满意", exact=True).click()
    expect(page.get_by_role("button", name="提交评价")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("button", name="提交评价").click()
    expect(page.get_by_role("alert")).to_have_text("差评请至少选择一项原因，或写下具体情况")
    assert Evaluation.objects.count() == 0

    # Keyboard only, on the next 办件 (the page does not change under a citizen choosing reasons: reload it).
    record = factories.make_record(org, item)
    push(http, device, record)
    page.goto("/kiosk/")
    expect(page.get_by_role("button", name="非常满意", exact=True)).to_be_visible(timeout=15_000)
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.textContent.trim()") == "非常满意":
            break
    else:
        pytest.fail("非常满意 cannot be reached with Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#receipt-code")).to_have_text(re.compile(r"^[2-9A-Z]{12}$"))
    assert page.evaluate("document.activeElement.id") == "rate-h"  # focus moved to the thank-you heading
    assert axe_violations(page) == []
    assert Evaluation.objects.get(record=record).level == 5
