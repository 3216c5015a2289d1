"""The analyses beside the dashboard in a real browser: a supervisor goes from the dashboard to 按事项, opens one
item's dashboard, then 按平台, the questionnaire summary and the coverage page — each WCAG 2.1 AA clean (axe), and
at 390 px no wider than the screen, with axe's target-size rule on."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from haochaping.accounts.models import User
from haochaping.accounts.roles import Role
from haochaping.org.models import Window
from tests import factories
from tests.browser.test_receipt import login_cookie
from tests.browser.test_staff_accessibility import axe_violations_phone
from tests.evaluation.conftest import national_labels  # noqa: F401
from tests.insight.helpers import completed_record, rate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALL_YES = {"guide_clear": True, "process_convenient": True, "materials_simplified": True, "interface_friendly": True}


@pytest.fixture
def world(national_labels):  # noqa: F811
    org = factories.make_org()
    item = factories.make_item(org, name="职工养老保险关系转移（演示）")
    idle_item = factories.make_item(org, name="失业登记（演示）")
    for level in (5, 4, 2):
        rate(completed_record(org, item), level, channel="kiosk")
    online = dict(agency=None, window=None, staff=None, platform=org.platform)
    rate(completed_record(org, item, **online), 5, channel="mobile", questionnaire=ALL_YES)
    rate(completed_record(org, item, **online), 2, channel="mobile",
         questionnaire={**ALL_YES, "materials_simplified": False, "suggestions": "证明材料太多，电话13912345678"})
    Window.objects.create(agency=org.agency, code="Z09", name="空闲窗口", department=org.department)
    completed_record(org, idle_item, window=Window.objects.get(code="Z09"), staff=None)
    return {"org": org, "item": item, "idle_item": idle_item}


def test_a_supervisor_reads_items_platforms_questionnaire_and_coverage(page, live_server, world):
    org, item = world["org"], world["item"]
    login_cookie(page, live_server, User.objects.create(username="sup-an", role=Role.SUPERVISOR, region=org.city,
                                                        is_staff=True))
    page.goto("/insight/")
    nav = page.get_by_role("navigation", name="统计分析")
    nav.get_by_role("link", name="按事项").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("按事项统计")
    table = page.get_by_role("table", name="各事项的评价指标（按有效评价数排列）")
    row = table.get_by_role("row").filter(has_text=item.name)
    assert row.get_by_role("cell").nth(1).inner_text() == "5"  # 评价数
    assert axe_violations_phone(page) == []

    row.get_by_role("link", name=item.name).click()
    expect(page.get_by_text(f"只看事项：{item.name}")).to_be_visible()
    assert page.locator("#fig-evaluations").inner_text() == "5"

    page.get_by_role("navigation", name="统计分析").get_by_role("link", name="按平台").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("按平台统计")
    platform_row = page.get_by_role("row").filter(has_text=org.platform.name)
    assert platform_row.get_by_role("cell").nth(1).inner_text() == "2"
    assert axe_violations_phone(page) == []

    page.get_by_role("navigation", name="统计分析").get_by_role("link", name="问卷与改进意见").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("问卷与改进意见")
    answers = page.get_by_role("table", name="按事项汇总的问卷答案（“是”的比例，括号内为是/否人数）")
    cells = answers.get_by_role("row").filter(has_text=item.name).get_by_role("cell")
    assert cells.nth(0).inner_text() == "2" and cells.nth(3).inner_text() == "50.0%（1/1）"
    suggestions = page.locator("#suggestions")
    expect(suggestions).to_contain_text("证明材料太多")
    assert "13912345678" not in suggestions.inner_text()
    page.get_by_role("link", name="按部门").click()
    expect(page.get_by_role("table", name="按部门汇总的问卷答案（“是”的比例，括号内为是/否人数）")).to_contain_text(
        org.department.name)
    assert axe_violations_phone(page) == []

    page.get_by_role("navigation", name="统计分析").get_by_role("link", name="评价覆盖与参评率").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("评价覆盖与参评率")
    expect(page.locator('ul.zero-list[data-of="window"]')).to_contain_text("空闲窗口")
    expect(page.locator('ul.zero-list[data-of="item"]')).to_contain_text(world["idle_item"].name)
    expect(page.get_by_role("table", name="各部门的参评率（有评价的办结办件 ÷ 办结办件，低的在前）")).to_contain_text("83.3%")
    assert axe_violations_phone(page) == []


@pytest.mark.parametrize("path", ["/insight/items/", "/insight/platforms/", "/insight/questionnaire/",
                                  "/insight/coverage/"])
def test_each_analysis_page_fits_a_phone(page, live_server, world, path):
    login_cookie(page, live_server, User.objects.create(username="sup-phone", role=Role.SUPERVISOR,
                                                        region=world["org"].county, is_staff=True))
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(path)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_violations_phone(page) == []
