"""数据看板 filters (period, quick periods, channel), bad values refused in Chinese naming the field, the scoped
evaluation list, and a number of queries that does not grow with the data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from haochaping.accounts.roles import Role
from haochaping.insight import metrics
from haochaping.insight.metrics import StatsFilter
from haochaping.insight.rollups import pending
from haochaping.insight.views.dashboard_filters import quick_period
from haochaping.org.models import Staff, Window
from tests import factories

from . import test_dashboard
from .helpers import completed_record, rate
from .test_dashboard import assert_headline, client_for, links, make, shown, text

world = test_dashboard.world  # the same evaluations as the page tests

pytestmark = pytest.mark.django_db


def test_quick_periods():
    today = date(2026, 5, 20)
    assert quick_period("month", today) == (date(2026, 5, 1), today)
    assert quick_period("last_month", today) == (date(2026, 4, 1), date(2026, 4, 30))
    assert quick_period("last_month", date(2026, 1, 9)) == (date(2025, 12, 1), date(2025, 12, 31))
    assert quick_period("quarter", today) == (date(2026, 4, 1), today)
    assert quick_period("year", today) == (date(2026, 1, 1), today)


def test_the_default_period_is_the_last_30_days(world, org):
    response = client_for(make(Role.SUPERVISOR, region=org.county)).get("/insight/")
    today = timezone.localdate()
    assert f"统计期间：{(today - timedelta(days=29)).isoformat()} 至 {today.isoformat()}" in text(response)
    assert f'value="{today.isoformat()}"' in response.content.decode()  # the form shows the dates used


def test_a_quick_period_link_keeps_the_position(world, org):
    c = client_for(make(Role.SUPERVISOR, region=org.city))
    response = c.get(f"/insight/?region={org.county.code}")
    href = links(response)["本月"]
    assert "period=month" in href and f"region={org.county.code}" in href
    month = c.get("/insight/" + href)
    assert month.status_code == 200 and 'aria-current="true">本月' in month.content.decode()
    assert f"统计期间：{timezone.localdate().replace(day=1).isoformat()}" in text(month)


def test_channel_and_period_filters_match_metrics(world, org):
    supervisor = make(Role.SUPERVISOR, region=org.city)
    c = client_for(supervisor)
    today = timezone.localdate()
    response = c.get(f"/insight/?channel=kiosk&from={(today - timedelta(days=5)).isoformat()}&to={today.isoformat()}")
    assert response.status_code == 200
    fig = metrics.figures(supervisor, StatsFilter(channel="kiosk", date_from=today - timedelta(days=5), date_to=today)).total
    assert_headline(response, fig)
    assert shown(response, "fig-evaluations") == "6"
    assert "评价渠道：评价器" in text(response)
    old = c.get("/insight/?from=2020-01-01&to=2020-01-31")
    assert shown(old, "fig-evaluations") == "0" and shown(old, "fig-good-rate") == "—"
    assert "暂无数据" in text(old)


@pytest.mark.parametrize(("query", "message"), [
    ("from=2026-13-01", "开始日期：开始日期应为日期"),
    ("to=yesterday", "结束日期：结束日期应为日期"),
    ("from=2026-03-10&to=2026-03-01", "结束日期：结束日期不能早于开始日期"),
    ("from=2020-01-01&to=2026-01-01", "结束日期：一次最多查看三年"),
    ("channel=fax", "评价渠道：评价渠道不存在"),
    ("period=decade", "快捷期间：快捷期间应为本月、上月、本季度或本年"),
    ("region=37A102", "行政区划：行政区划代码应为6位、9位或12位数字"),
    ("window=A01", "窗口：窗口应写作“机构编码/窗口编号”"),
])
def test_bad_filter_values_are_named_in_chinese(world, org, query, message):
    c = client_for(make(Role.SUPERVISOR, region=org.city))
    for url in ("/insight/", "/insight/evaluations/"):
        response = c.get(f"{url}?{query}")
        assert response.status_code == 422
        page = text(response)
        assert message in page and "筛选条件有误" in page
        assert 'id="fig-evaluations"' not in response.content.decode()


def test_the_evaluation_list_is_scoped_filtered_and_marked(world, org):
    supervisor = make(Role.SUPERVISOR, region=org.county)
    c = client_for(supervisor)
    today = timezone.localdate()
    flt = StatsFilter(date_from=today - timedelta(days=29), date_to=today)
    everything = c.get("/insight/evaluations/")
    assert f"共 {metrics.evaluations(supervisor, flt).count()} 条" in text(everything)
    assert "市中区" not in text(everything)
    bad = c.get("/insight/evaluations/?part=bad")
    assert f"共 {metrics.figures(supervisor, flt).total.tally.bad} 条" in text(bad)
    assert "共 1 条" in text(c.get("/insight/evaluations/?part=excluded"))
    assert "共 1 条" in text(c.get("/insight/evaluations/?part=system_default"))
    assert "范围：范围应从列表中选择" in text(c.get("/insight/evaluations/?part=all"))


def test_the_evaluation_list_pages(world, org, item):
    supervisor = make(Role.SUPERVISOR, region=org.county)
    for _ in range(51 - 11):  # the county has 11 evaluations of every part
        rate(completed_record(org, item), 4, channel="kiosk")
    c = client_for(supervisor)
    first = c.get("/insight/evaluations/?part=")
    assert "第 1 / 2 页" in text(first)
    second = c.get("/insight/evaluations/" + links(first)["下一页"])
    assert "第 2 / 2 页" in text(second)


def _grow(org, item, n: int):
    """n more windows, each with its own staff member and evaluations, in new halls and departments."""
    for i in range(n):
        dept = factories.department(org.county, f"第{i}局")
        agency = org.agency.__class__.objects.create(code=f"GROW{factories.seq()}", name=f"第{i}中心", kind="center",
                                                     region=org.county)
        window = Window.objects.create(agency=agency, code=f"W{i}", name=f"{i}号窗口", department=dept)
        staff = Staff.objects.create(staff_no=f"S{factories.seq():05d}", name=f"员工{i}", agency=agency,
                                     department=dept, window=window)
        for level in (5, 1):
            rate(completed_record(org, item, department=dept, agency=agency, window=window, staff=staff), level)


def _count(c, urls) -> list[int]:
    out = []
    for url in urls:
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(url).status_code == 200
        out.append(len(ctx.captured_queries))
    return out


def test_query_counts_do_not_grow_with_the_data(world, org, item):
    supervisor = make(Role.SUPERVISOR, region=org.city)
    c = client_for(supervisor)
    urls = [
        "/insight/", f"/insight/?region={org.county.code}",
        f"/insight/?department={org.department.credit_code}", f"/insight/?agency={org.agency.code}",
        f"/insight/?window={org.agency.code}/{org.window.code}", f"/insight/?staff={org.staff.staff_no}",
        f"/insight/evaluations/?region={org.county.code}", "/insight/?from=2025-01-01&to=2026-12-31",
    ]
    c.get("/insight/")  # warm per-process caches
    few = _count(c, urls)
    _grow(org, item, 12)
    pending.fold()  # the growth's own counting (insight.rollups.pending): work per write, not per page
    many = _count(c, urls)
    assert many == few
    assert max(few) <= 40
