"""数据看板 in a real browser: a supervisor opens the dashboard, sees the charts (server-drawn SVG, nothing loaded
from elsewhere, no script errors), opens a chart's table view, and drills region → department → window → staff
member → the evaluations themselves. Every page passes WCAG 2.1 A/AA checks, also on a 320 px screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from haochaping.accounts.models import User
from haochaping.accounts.roles import Role
from tests import factories
from tests.browser.test_painpoints import sign_in
from tests.browser.test_public_pages import axe_violations
from tests.evaluation.conftest import national_labels  # noqa: F401
from tests.insight.helpers import completed_record, exclude, import_default, rate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(national_labels):  # noqa: F811
    org = factories.make_org()
    item = factories.make_item(org)
    for level in (5, 5, 4, 3, 2, 1):
        rate(completed_record(org, item), level, channel="kiosk")
    rate(completed_record(org, item), 5, channel="pc", phone="13912345678")
    exclude(rate(completed_record(org, item), 1, channel="kiosk"))
    import_default(completed_record(org, item))
    other = factories.department(org.other_county, "市中区人社局")
    rate(completed_record(org, factories.make_item(org, department=other, region=org.other_county),
                          region=org.other_county, department=other, agency=None, window=None, staff=None), 2)
    return org


def no_axe_violations(page):
    assert axe_violations(page) == []


def test_a_supervisor_drills_from_the_city_to_the_evaluations(page, live_server, world):
    org = world
    sign_in(page, live_server, User.objects.create(username="sup-3701", role=Role.SUPERVISOR, region=org.city))
    page.goto("/insight/")
    assert page.get_by_role("heading", level=1).inner_text() == "数据看板"
    assert page.locator("#fig-evaluations").inner_text() == "8"
    charts = page.locator("svg.chart-svg")
    assert charts.count() >= 8
    expect(page.get_by_role("img", name="评价等级分布")).to_be_visible()
    # The stylesheet colours the SVG (no inline styles: CSP).
    assert page.eval_on_selector("svg.chart-svg .bar.lv5", "el => getComputedStyle(el).fill") == "rgb(30, 107, 52)"
    no_axe_violations(page)

    page.get_by_text("以表格查看：评价等级分布").click()
    table = page.get_by_role("table", name="评价等级分布")
    expect(table).to_be_visible()
    assert table.get_by_role("row", name="非常满意").get_by_role("cell").first.inner_text() == "3"
    no_axe_violations(page)

    page.locator("#units-region").get_by_role("link", name="历下区").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("数据看板：历下区")
    assert page.locator("#fig-evaluations").inner_text() == "7"
    page.locator("#units-department").get_by_role("link", name=org.department.name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"数据看板：{org.department.name}")
    page.locator("#units-window").get_by_role("link", name=f"{org.agency.name} {org.window.name}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"数据看板：{org.agency.name} {org.window.name}")
    page.locator("#units-staff").get_by_role("link", name=org.staff.name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"数据看板：{org.staff.name}")
    crumbs = page.get_by_role("navigation", name="下钻路径").inner_text()
    assert "济南市" in crumbs and "历下区" in crumbs and org.window.name in crumbs
    no_axe_violations(page)

    page.get_by_role("link", name="查看以上范围的评价明细").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"评价明细：{org.staff.name}")
    listing = page.get_by_role("table", name="评价明细（最新在前）")
    assert listing.locator("tbody tr").count() == 9  # 7 valid, 1 excluded, 1 imported default
    main = page.locator("main").inner_text()
    assert "13912345678" not in main and "139****5678" in main
    no_axe_violations(page)


def test_the_dashboard_fits_a_320px_screen(page, live_server, world):
    sign_in(page, live_server, User.objects.create(username="sup-370102", role=Role.SUPERVISOR, region=world.county))
    page.set_viewport_size({"width": 320, "height": 640})
    for url in ("/insight/", f"/insight/?department={world.department.credit_code}", "/insight/evaluations/",
                "/insight/?from=2026-02-30"):
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{url} is {width}px wide on a 320px screen"
        no_axe_violations(page)
