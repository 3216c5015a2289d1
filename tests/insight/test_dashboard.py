"""数据看板 pages with Django's test client: the figures shown are metrics' figures for the same filter (同源发布),
the drill-down goes region → unit → window → staff → evaluations, and nobody sees or drills past their scope."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.utils import timezone

from haochaping.accounts.models import User
from haochaping.accounts.roles import Role
from haochaping.insight import charts, metrics
from haochaping.insight.metrics import StatsFilter
from haochaping.org.models import Staff, Window
from tests import factories

from .helpers import completed_record, exclude, import_default, rate

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(org, item, national_labels):
    """Evaluations at two windows of the county's hall (one staff member each), an excluded 差评 and an imported
    default there, and a department of the other county with online evaluations (no window)."""
    window2 = Window.objects.create(agency=org.agency, code="B02", name="综合受理2号窗口", department=org.department)
    staff2 = Staff.objects.create(staff_no=f"S{factories.seq():05d}", name="王芳", agency=org.agency,
                                  department=org.department, window=window2)
    for level in (5, 5, 4, 3, 2, 1):
        rate(completed_record(org, item), level, channel="kiosk")
    rate(completed_record(org, item), 5, channel="pc", phone="13912345678")
    for level in (5, 1):
        rate(completed_record(org, item, window=window2, staff=staff2), level, channel="qr")
    exclude(rate(completed_record(org, item), 1, channel="kiosk"))
    import_default(completed_record(org, item))
    other_dept = factories.department(org.other_county, "市中区人社局")
    other_item = factories.make_item(org, department=other_dept, region=org.other_county)
    there = dict(region=org.other_county, department=other_dept, agency=None, window=None, staff=None)
    for level in (5, 2):
        rate(completed_record(org, other_item, **there), level, channel="mobile")
    completed_record(org, item)  # completed, never rated
    return dict(window2=window2, staff2=staff2, other_dept=other_dept)


def make(role, **kw):
    return User.objects.create(username=f"u{factories.seq()}", role=role, **kw)


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def last_30_days() -> StatsFilter:
    today = timezone.localdate()
    return StatsFilter(date_from=today - timedelta(days=29), date_to=today)


def text(response) -> str:
    html = response.content.decode()
    main = html[html.index("<main"):html.index("</main>")]
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", main)))


def shown(response, fig_id: str) -> str:
    match = re.search(rf'id="{fig_id}">([^<]*)<', response.content.decode())
    assert match, fig_id
    return unescape(match.group(1))


def links(response) -> dict[str, str]:
    """link text → href"""
    return {unescape(re.sub(r"<[^>]+>", "", t)).strip(): unescape(h)
            for h, t in re.findall(r'<a href="([^"]*)"[^>]*>(.*?)</a>', response.content.decode())}


def assert_headline(response, fig: metrics.Figures):
    t = fig.tally
    assert shown(response, "fig-evaluations") == charts.fmt_count(t.valid)
    assert shown(response, "fig-participation") == charts.fmt_percent(fig.participation_rate)
    assert shown(response, "fig-good-rate") == charts.fmt_percent(t.good_rate)
    assert shown(response, "fig-bad-rate") == charts.fmt_percent(t.bad_rate)
    assert shown(response, "fig-satisfaction") == charts.fmt_score(t.satisfaction)
    assert shown(response, "fig-excluded") == charts.fmt_count(t.excluded)
    assert shown(response, "fig-system-default") == charts.fmt_count(t.system_default)


def test_a_city_supervisor_sees_the_same_figures_as_metrics(world, org):
    supervisor = make(Role.SUPERVISOR, region=org.city)
    response = client_for(supervisor).get("/insight/")
    assert response.status_code == 200
    fig = metrics.figures(supervisor, last_30_days()).total
    assert_headline(response, fig)
    # Counted by hand: 11 valid (5 5 4 3 2 1 5 5 1 5 2), 6 good, 4 bad; one excluded 差评, one imported default.
    assert (fig.tally.valid, fig.tally.good, fig.tally.bad, fig.tally.excluded, fig.tally.system_default) == (11, 6, 4, 1, 1)
    assert shown(response, "fig-good-rate") == "54.5%" and shown(response, "fig-bad-rate") == "36.4%"
    # 12 of 14 completed 办件 rated: the excluded 差评 still means someone rated, the imported default does not.
    assert shown(response, "fig-participation") == "85.7%"
    page = text(response)
    assert "单独列出" in page and "评价总数 13 条" in page


def test_the_page_has_every_chart_with_a_table_view_and_no_inline_style(world, org):
    response = client_for(make(Role.SUPERVISOR, region=org.city)).get("/insight/")
    html = response.content.decode()
    svgs = re.findall(r"<svg .*?</svg>", html, flags=re.S)
    assert len(svgs) >= 8  # trend ×2, levels, channels, labels, one composition per unit table
    for svg in svgs:
        ET.fromstring(svg)
    assert html.count('<details class="chart-table">') == len(svgs)
    assert 'scope="col"' in html and "<caption>" in html
    assert not re.search(r"<[a-zA-Z][^>]*\sstyle\s*=", html) and "<style" not in html
    assert not re.search(r"<script(?![^>]*\ssrc=)", html)  # scripts only from files (CSP: no inline script)
    page = text(response)
    for title in ("评价数趋势（按日）", "差评率趋势（按日）", "评价等级分布", "评价渠道构成（有效评价）", "差评标签"):
        assert title in page
    assert "无理由超过法定办理时间" in page and "110 无理由" not in page  # the top label, in words


def test_drill_down_region_unit_window_staff_evaluations(world, org):
    supervisor = make(Role.SUPERVISOR, region=org.city)
    c = client_for(supervisor)
    root = c.get("/insight/")
    assert "历下区" in links(root) and "市中区" in links(root)

    county = c.get("/insight/" + links(root)["历下区"])
    assert county.status_code == 200
    flt = StatsFilter.from_codes(region_code=org.county.code, date_from=last_30_days().date_from,
                                 date_to=timezone.localdate())
    assert_headline(county, metrics.figures(supervisor, flt).total)
    assert "市中区人社局" not in text(county)

    dept = c.get("/insight/" + links(county)[org.department.name])
    assert dept.status_code == 200 and f"部门：{org.department.name}" in text(dept)
    window_name = f"{org.agency.name} {org.window.name}"
    window = c.get("/insight/" + links(dept)[window_name])
    assert window.status_code == 200
    w_filter = StatsFilter(region_prefix="370102", region_code="370102", departments=frozenset({org.department.pk}),
                           windows=frozenset({org.window.pk}), date_from=flt.date_from, date_to=flt.date_to)
    assert_headline(window, metrics.figures(supervisor, w_filter).total)
    assert world["staff2"].name not in links(window)

    staff = c.get("/insight/" + links(window)[org.staff.name])
    assert staff.status_code == 200 and f"工作人员：{org.staff.name}" in text(staff)
    s_filter = StatsFilter(**{**w_filter.__dict__, "staff": frozenset({org.staff.pk})})
    assert_headline(staff, metrics.figures(supervisor, s_filter).total)

    listing = c.get(links(staff)["查看评价明细"])
    assert listing.status_code == 200
    page = text(listing)
    expected = metrics.evaluations(supervisor, s_filter).count()
    assert f"共 {expected} 条" in page and expected == 9
    assert "13912345678" not in page and "139****5678" in page  # masked, never in clear
    assert "不计入统计（申诉成立）" in page and "系统默认评价（不计入）" in page


def test_breadcrumbs_lead_back_up(world, org):
    c = client_for(make(Role.SUPERVISOR, region=org.city))
    response = c.get(f"/insight/?region={org.county.code}&department={org.department.credit_code}&from=2026-01-01&to=2026-01-31")
    crumbs = re.search(r'<nav class="crumbs".*?</nav>', response.content.decode(), flags=re.S).group(0)
    assert "济南市" in crumbs and f"?from=2026-01-01&amp;to=2026-01-31&amp;region={org.county.code}" in crumbs
    assert 'aria-current="page">部门：' in crumbs


def test_a_county_supervisor_cannot_drill_into_another_county(world, org):
    c = client_for(make(Role.SUPERVISOR, region=org.county))
    assert c.get(f"/insight/?region={org.county.code}").status_code == 200
    other = c.get(f"/insight/?region={org.other_county.code}")
    missing = c.get("/insight/?region=370199")
    assert other.status_code == missing.status_code == 404
    assert c.get(f"/insight/?region={org.city.code}").status_code == 404  # not upward either
    assert c.get(f"/insight/?department={world['other_dept'].credit_code}").status_code == 404
    assert c.get(f"/insight/evaluations/?department={world['other_dept'].credit_code}").status_code == 404
    root = c.get("/insight/")
    assert "市中区" not in text(root)
    assert shown(root, "fig-evaluations") == "9"


def test_a_handler_sees_their_unit_only(world, org):
    handler = make(Role.HANDLER, region=org.other_county, department=world["other_dept"])
    c = client_for(handler)
    response = c.get("/insight/")
    assert response.status_code == 200
    assert_headline(response, metrics.figures(handler, last_30_days()).total)
    assert shown(response, "fig-evaluations") == "2"
    assert "按下级地区" not in text(response) and "市中区人社局" in text(response)
    assert c.get(f"/insight/?department={org.department.credit_code}").status_code == 404
    assert c.get(f"/insight/?region={org.other_county.code}").status_code == 404
    assert c.get(f"/insight/?window={org.agency.code}/{org.window.code}").status_code == 404
    assert c.get(f"/insight/?staff={org.staff.staff_no}").status_code == 404


def test_superuser_sees_everything(world, org):
    root = User.objects.create(username="root", is_superuser=True)
    response = client_for(root).get("/insight/")
    assert response.status_code == 200 and shown(response, "fig-evaluations") == "11"
    assert "山东省" in links(response)


@pytest.mark.parametrize("role", [Role.HOTLINE, Role.ASSESSOR, Role.ADMINISTRATOR, Role.EVALUATOR])
def test_other_roles_are_refused(world, org, role):
    user = make(role, region=org.county, staff=org.staff if role == Role.STAFF else None)
    for url in ("/insight/", "/insight/evaluations/"):
        assert client_for(user).get(url).status_code == 403


def test_window_staff_are_sent_to_their_own_results(world, org):
    user = make(Role.STAFF, region=org.county, staff=org.staff)
    response = client_for(user).get("/insight/")
    assert response.status_code == 302 and response["Location"] == "/insight/mine/"
    assert client_for(user).get("/insight/evaluations/").status_code == 403


def test_anonymous_goes_to_login(db):
    for url in ("/insight/", "/insight/evaluations/"):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_workbench_links_to_the_dashboard(world, org):
    response = client_for(make(Role.SUPERVISOR, region=org.county)).get("/insight/")
    assert '<a href="/insight/" aria-current="page">数据看板</a>' in response.content.decode()
