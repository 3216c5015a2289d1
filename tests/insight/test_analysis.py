"""The analyses beside the dashboard, with Django's test client: 按事项 and 按平台 show metrics' figures per item and
platform and open the dashboard filtered to one; the questionnaire summary counts the answers of valid evaluations
per item or unit (kept in step by the rollups, equal after a rebuild) and lists suggestions without contact details;
the coverage page lists the units with completed 办件 but no evaluation, and 参评率 per unit. All scoped."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db.models import F
from django.test import Client
from django.utils import timezone

from haochaping.accounts.models import User
from haochaping.accounts.roles import Role
from haochaping.insight import charts, metrics, rollups
from haochaping.insight.metrics import StatsFilter
from haochaping.insight.metrics import questionnaire as qm
from haochaping.insight.models import QuestionnaireCounter, Suggestion
from haochaping.org.models import Platform, ServiceAgency, Window
from tests import factories

from .helpers import completed_record, exclude, rate

pytestmark = pytest.mark.django_db

ALL_YES = {"guide_clear": True, "process_convenient": True, "materials_simplified": True, "interface_friendly": True}


@pytest.fixture
def world(org, item, national_labels):
    """County A: item 1 rated at the window (two valid, one excluded) and online through the platform with
    questionnaires; item 2 completed online and never rated; an idle window and hall with a completed 办件 and no
    evaluation. County B: a department with its own item, rated once with a questionnaire."""
    item2 = factories.make_item(org, name="失业保险金申领（演示）")
    hall2 = ServiceAgency.objects.create(code=f"HALL{factories.seq()}", name="历下区第二便民服务中心", kind="center",
                                         region=org.county)
    idle = Window.objects.create(agency=hall2, code="C01", name="空闲窗口", department=org.department)
    platform2 = Platform.objects.create(code=f"PF{factories.seq()}", name="山东政务服务网（演示）", kind="pc",
                                        region=org.province, operator=org.department)
    rate(completed_record(org, item), 5, channel="kiosk")
    rate(completed_record(org, item), 2, channel="kiosk")
    exclude(rate(completed_record(org, item), 1, channel="kiosk",
                 questionnaire={"guide_clear": False, "suggestions": "恶意内容"}))
    online = dict(agency=None, window=None, staff=None, platform=org.platform)
    rate(completed_record(org, item, **online), 5, channel="mobile", questionnaire=ALL_YES)
    rate(completed_record(org, item, **online), 4, channel="mobile",
         questionnaire={**ALL_YES, "materials_simplified": False,
                        "suggestions": "材料太多，请联系我13912345678或 a.b@example.com"})
    rate(completed_record(org, item, **online), 2, channel="mobile",
         questionnaire={"guide_clear": False, "interface_friendly": False, "suggestions": "页面经常卡住"})
    completed_record(org, item2, agency=None, window=None, staff=None, platform=platform2)
    completed_record(org, item, agency=hall2, window=idle, staff=None)
    other_dept = factories.department(org.other_county, "市中区人社局")
    other_item = factories.make_item(org, department=other_dept, region=org.other_county, name="市中区事项（演示）")
    there = dict(region=org.other_county, department=other_dept, agency=None, window=None, staff=None,
                 platform=org.platform)
    rate(completed_record(org, other_item, **there), 3, channel="mobile",
         questionnaire={**ALL_YES, "suggestions": "市中区的意见"})
    return dict(item2=item2, hall2=hall2, idle=idle, platform2=platform2, other_item=other_item, other_dept=other_dept)


def make(role, **kw):
    return User.objects.create(username=f"u{factories.seq()}", role=role, **kw)


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def last_30_days(**kw) -> StatsFilter:
    today = timezone.localdate()
    return StatsFilter(date_from=today - timedelta(days=29), date_to=today, **kw)


def html(response) -> str:
    assert response.status_code == 200, response.content[:400]
    return response.content.decode()


def row(page: str, key: str) -> list[str]:
    """The cells (header included) of the table row marked data-key=key."""
    match = re.search(rf'<tr data-key="{re.escape(key)}">(.*?)</tr>', page, flags=re.S)
    assert match, key
    return [unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", match.group(1), flags=re.S)]


def test_items_page_shows_metrics_figures_per_item_and_opens_the_dashboard_for_one(world, org, item):
    sup = make(Role.SUPERVISOR, region=org.county)
    page = html(client_for(sup).get("/insight/items/"))
    by_item = {g.key: g for g in metrics.figures(sup, last_30_days(), group_by="item").groups}
    assert set(by_item) == {item.implementation_code, world["item2"].implementation_code}
    cells = row(page, item.implementation_code)
    g = by_item[item.implementation_code]
    assert cells[0] == item.name and cells[2] == charts.fmt_count(g.tally.valid) == "5"
    assert cells[3] == charts.fmt_percent(g.tally.good_rate) and cells[6] == charts.fmt_percent(g.participation_rate)
    assert cells[7] == "1"  # the excluded one, apart
    # Item 2: completed, never rated — listed with 0 and a 参评率 of 0.
    assert row(page, world["item2"].implementation_code)[2] == "0"
    assert world["other_item"].name not in page  # county B is out of scope

    href = unescape(re.search(rf'<a href="([^"]*item={item.implementation_code}[^"]*)"', page).group(1))
    dashboard = client_for(sup).get(href)
    text = html(dashboard)
    assert f"只看事项：<strong>{item.name}</strong>" in text
    expected = metrics.figures(sup, last_30_days(items=frozenset({item.pk}))).total
    assert re.search(r'id="fig-evaluations">([^<]*)<', text).group(1) == charts.fmt_count(expected.tally.valid) == "5"


def test_platforms_page_lists_each_platform_and_the_window_work_apart(world, org):
    sup = make(Role.SUPERVISOR, region=org.city)
    page = html(client_for(sup).get("/insight/platforms/"))
    by_platform = {g.key: g for g in metrics.figures(sup, last_30_days(), group_by="platform").groups}
    cells = row(page, org.platform.code)
    assert cells[0] == org.platform.name and cells[2] == charts.fmt_count(by_platform[org.platform.code].tally.valid) == "4"
    assert row(page, world["platform2"].code)[2] == "0"
    assert row(page, "")[0] == "（未关联）"  # window work: no platform


def test_questionnaire_summary_counts_valid_answers_per_item_and_lists_redacted_suggestions(world, org, item):
    sup = make(Role.SUPERVISOR, region=org.county)
    page = html(client_for(sup).get("/insight/questionnaire/"))
    cells = row(page, item.implementation_code)
    # Three valid questionnaires (the excluded one left the counts): guide 2 yes / 1 no, materials 1/1 …
    assert cells[:2] == [item.name, "3"]
    assert cells[2] == "66.7%（2/1）"  # 服务指引是否清晰
    assert cells[3] == "100.0%（2/0）"  # 办事程序是否便利
    assert cells[4] == "50.0%（1/1）"  # 材料手续是否精简
    assert cells[5] == "66.7%（2/1）"  # 操作界面是否友好
    assert cells[6] == "2"
    assert "页面经常卡住" in page and "材料太多" in page
    assert "13912345678" not in page and "a.b@example.com" not in page
    assert "恶意内容" not in page and "市中区的意见" not in page  # excluded; out of scope
    total, _groups = qm.summary(sup, last_30_days())
    assert total.answered == 3 and [a.yes for a in total.answers] == [2, 2, 1, 2]
    by_department = html(client_for(sup).get("/insight/questionnaire/?by=department"))
    assert row(by_department, org.department.credit_code)[1] == "3"
    assert client_for(sup).get("/insight/questionnaire/?by=nonsense").status_code == 422


def test_the_questionnaire_rollups_equal_a_rebuild_from_the_evaluations(world, org):
    def snapshot():
        return (sorted(QuestionnaireCounter.objects.exclude(answered=0).values_list(
                    "day", "region", "department", "item", "answered", "guide_clear_yes", "guide_clear_no",
                    "materials_simplified_no", "suggestions")),
                sorted(Suggestion.objects.values_list("evaluation_id", "text")))

    live = snapshot()
    assert len(live[1]) == 3
    assert rollups.rebuild(apply=False).agrees  # the live counters already equal a recount
    rollups.rebuild()
    assert snapshot() == live
    # A counter cell or a suggestion gone wrong behind the system's back is what `rebuild_rollups --check` finds.
    QuestionnaireCounter.objects.filter(answered__gt=0).update(guide_clear_yes=F("guide_clear_yes") + 1)
    Suggestion.objects.filter(pk=Suggestion.objects.first().pk).delete()
    report = rollups.rebuild(apply=False)
    assert not report.agrees
    assert report.questionnaire_differing == QuestionnaireCounter.objects.filter(answered__gt=0).count() + 1
    assert rollups.rebuild().questionnaire_differing == report.questionnaire_differing
    assert rollups.rebuild(apply=False).agrees and snapshot() == live


def test_coverage_page_lists_zero_evaluation_units_and_participation_per_unit(world, org, item):
    sup = make(Role.SUPERVISOR, region=org.county)
    page = html(client_for(sup).get("/insight/coverage/"))
    zero = {of: re.search(rf'<ul class="zero-list" data-of="{of}">(.*?)</ul>', page, flags=re.S)
            for of in ("agency", "window", "item", "platform")}
    assert world["hall2"].name in zero["agency"].group(1) and org.agency.name not in zero["agency"].group(1)
    assert "空闲窗口" in zero["window"].group(1)
    assert world["item2"].name in zero["item"].group(1) and item.name not in zero["item"].group(1)
    assert world["platform2"].name in zero["platform"].group(1)
    for of in ("window", "item"):
        c = metrics.coverage(sup, last_30_days(), of=of)
        cells = re.search(rf'<tr data-of="{of}">(.*?)</tr>', page, flags=re.S).group(1)
        assert re.findall(r"<td>([^<]*)</td>", cells) == [str(c.active), str(c.evaluated), charts.fmt_percent(c.rate),
                                                          str(len(c.missing))]
    # 参评率 per department: 6 of 8 completed 办件 of county A rated (the excluded one counts as rated).
    part = re.search(r'<table class="units" id="participation-department">(.*?)</table>', page, flags=re.S).group(1)
    assert "75.0%" in part and org.department.name in part and "市中区人社局" not in part


def test_other_roles_and_bad_filters(world, org):
    hotline = make(Role.HOTLINE, region=org.county)
    assert client_for(hotline).get("/insight/items/").status_code == 403
    sup = make(Role.SUPERVISOR, region=org.county)
    bad = client_for(sup).get("/insight/coverage/?from=2026-13-01")
    assert bad.status_code == 422 and "开始日期应为日期" in bad.content.decode()
    assert client_for(sup).get("/insight/items/?item=NO-SUCH-ITEM").status_code == 404
    # A county B supervisor does not see county A's units in the coverage lists.
    other = make(Role.SUPERVISOR, region=org.other_county)
    assert "空闲窗口" not in html(client_for(other).get("/insight/coverage/"))
