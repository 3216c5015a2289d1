"""Reports (R5.2): the files say what insight.metrics says for the same scope and period (同源发布), in Chinese,
with numbers as numbers; they never carry an evaluator's name or phone; only the region's supervisors make and
download them; the worker makes each region's report of the previous period once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client

from haochaping.accounts.models import User
from haochaping.accounts.roles import Role
from haochaping.core.models import AuditEntry
from haochaping.core.problems import DomainError
from haochaping.insight import metrics
from haochaping.insight.models import Report
from haochaping.insight.reports import periods, services
from haochaping.org.models import ManagementAgency
from tests import factories
from tests.pdf_fonts import assert_fonts_embedded, fonts

from .helpers import exclude, import_default
from .reports_fixtures import (
    EVALUATOR_NAMES,
    EVALUATOR_PHONES,
    all_cell_text,
    headline,
    last_month,
    moment,
    pdf_text,
    rated,
    sheet_rows,
    workbook,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def period():
    return last_month()


@pytest.fixture
def data(org, item, period):
    """Last month in county A (the org's county): good, neutral and bad reviews with comments, an excluded one, an
    imported default; a 办件 completed and never rated; county B's reviews; one review of this month."""
    other_dept = factories.department(org.other_county, "市中区人社局")
    other_item = factories.make_item(org, department=other_dept, region=org.other_county)
    there = dict(region=org.other_county, department=other_dept, agency=None, window=None, staff=None)
    for n, level in enumerate((5, 5, 5, 4, 4, 3, 2, 1, 1)):
        comment = "窗口排队时间太长，工作人员态度差" if level <= 2 else ""
        rated(org, item, level, moment(period, day=3 + n), n=n, comment=comment)
    exclude(rated(org, item, 1, moment(period, day=15), n=1, comment="材料要求反复变化"))
    import_default(factories.make_record(org, item, accepted_at=moment(period, day=16)), now=moment(period, day=17))
    factories.make_record(org, item, accepted_at=moment(period, day=18))  # completed, never rated
    for n, level in enumerate((5, 1, 1)):
        rated(org, other_item, level, moment(period, day=5 + n), n=n, comment="社保卡补办太慢", **there)
    rated(org, item, 5, moment(period.previous(), day=5), n=2)  # the month before: not in this report
    return dict(other_dept=other_dept, other_item=other_item)


def supervisor(region, name="sup") -> User:
    return User.objects.create(username=f"{name}-{factories.seq()}", role=Role.SUPERVISOR, region=region, is_active=True)


def make(user, period, **subject) -> Report:
    return services.generate_report(user, kind=period.kind, start=period.start, **subject).report


def read(field) -> bytes:
    with field.open("rb") as handle:
        return handle.read()


def test_the_workbook_says_what_the_metrics_module_says(org, data, period):
    sup = supervisor(org.county)
    report = make(sup, period, region_code=org.county.code)
    wb = workbook(read(report.xlsx))
    filters = metrics.StatsFilter(region_prefix="370102", region_code="370102", date_from=period.start,
                                  date_to=period.end)
    total = metrics.figures(sup, filters).total
    figures = headline(wb)
    assert figures["评价数"] == total.tally.valid == 9
    assert figures["好评数"] == total.tally.good and figures["差评数"] == total.tally.bad == 3
    assert figures["好评率"] == pytest.approx(total.tally.good_rate)
    assert figures["差评率"] == pytest.approx(total.tally.bad_rate)
    assert figures["满意度"] == pytest.approx(total.tally.satisfaction)
    assert figures["参评率"] == pytest.approx(total.participation_rate)
    assert (figures["办结办件数"], figures["参评办件数"]) == (total.completed, total.rated)
    # Excluded and imported defaults are shown apart, never dropped or mixed in.
    assert figures["不计入统计的评价"] == total.tally.excluded == 1
    assert figures["系统默认评价"] == total.tally.system_default == 1
    assert figures["评价总数"] == 11
    # Numbers are numbers; rates are shares formatted as percentages.
    ws = wb["概况"]
    cells = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=2) for r in range(4, ws.max_row + 1)}
    assert isinstance(cells["评价数"].value, int)
    assert cells["好评率"].number_format == "0.0%" and isinstance(cells["好评率"].value, float)
    assert cells["满意度"].number_format == "0.0"
    # One sheet per section, Chinese headers.
    assert {"概况", "分部门", "部门排名", "工作人员排名", "覆盖情况", "整改情况", "处理方式", "差评标签", "表扬名单",
            "问责名单", "疑似刷好评"} <= set(wb.sheetnames)
    assert [c.value for c in wb["部门排名"][3]] == ["排名", "编码", "名称", "有效评价数", "好评数", "好评率",
                                               "好评率置信下限", "说明"]
    assert [c.value for c in wb["问责名单"][3]] == ["类别", "编码", "名称", "差评数", "有效评价数", "差评率", "排名",
                                               "投诉数", "理由"]


def test_every_section_matches_the_metrics_for_the_same_scope(org, data, period):
    sup = supervisor(org.county)
    wb = workbook(read(make(sup, period, region_code=org.county.code).xlsx))
    filters = metrics.StatsFilter(region_prefix="370102", region_code="370102", date_from=period.start,
                                  date_to=period.end)
    by_department = metrics.figures(sup, filters, group_by="department")
    rows = {r[1]: r for r in sheet_rows(wb, "分部门")}
    for g in by_department.groups:
        assert rows[g.name][2] == g.tally.valid and rows[g.name][5] == pytest.approx(g.tally.good_rate)
    assert "市中区人社局" not in rows  # county B's department is not in county A's report

    for dim in ("department", "window", "staff"):
        assert metrics.rankings_of(metrics.figures(sup, filters, group_by=dim)) == metrics.rankings(sup, filters, by=dim)
    ranking = metrics.rankings(sup, filters, by="staff")
    listed = sheet_rows(wb, "工作人员排名")
    assert [(r[1], r[3]) for r in listed] == [(r.key, r.evaluations) for r in ranking.ranked + ranking.apart]
    assert listed[0][7] == "有效评价少于30条，不参与排名"  # 9 reviews: listed apart, not ranked

    coverage = {r[0]: r for r in sheet_rows(wb, "覆盖情况")}
    window = metrics.coverage(sup, filters, of="window")
    assert coverage["窗口"][1:4] == (window.active, window.evaluated, pytest.approx(window.rate))

    cases_total = metrics.case_figures(sup, filters)[0]
    case_rows = {r[0]: r for r in sheet_rows(wb, "整改情况")}
    assert case_rows["合计"][1] == cases_total.cases == 4  # the excluded 差评 had its case too
    outcomes = {r[0]: r[1] for r in sheet_rows(wb, "处理方式")}
    assert sum(outcomes.values()) == cases_total.cases

    labels = {r[0]: r[1] for r in sheet_rows(wb, "差评标签")}
    assert sum(labels.values()) >= 1


def test_the_problems_sheet_names_each_problem_and_its_share_of_all_bad_reviews(org, data, period):
    from haochaping.insight.painpoints import services as pain_point_services

    pain_point_services.assign_pending()  # the worker's periodic task: the 差评 comments get their kinds
    wb = workbook(read(make(supervisor(org.county), period, region_code=org.county.code).xlsx))
    bad = headline(wb)["差评数"]
    problems = sheet_rows(wb, "集中问题")
    assert problems, "the three 差评 about queues and attitude make at least one problem"
    assert [c.value for c in wb["集中问题"][3]][3] == "占差评比例"
    for row in problems:
        number, name = row[0].split("：", 1)
        assert number.startswith("问题") and name.strip()  # what the problem is, not only its number
        assert row[3] == pytest.approx(row[2] / bad)  # of all 差评, as the pain-point page counts it


def test_by_region_the_citys_own_units_are_named_as_its_own_level_not_as_its_total(org, data, period):
    city_dept = factories.department(org.city, "济南市行政审批服务局")
    city_item = factories.make_item(org, department=city_dept, region=org.city)
    rated(org, city_item, 5, moment(period, day=6), n=0, region=org.city, department=city_dept, agency=None,
          window=None, staff=None)
    rows = {r[0]: r for r in sheet_rows(workbook(read(make(supervisor(org.city), period,
                                                              region_code=org.city.code).xlsx)), "分地区")}
    assert rows[org.city.code][1] == f"{org.city.name}本级" and rows[org.city.code][2] == 1
    assert rows[None][1] == "合计"  # the total, apart


def test_a_city_report_covers_both_counties_and_a_department_report_only_its_department(org, data, period):
    city_sup = supervisor(org.city)
    wb = workbook(read(make(city_sup, period, region_code=org.city.code).xlsx))
    assert headline(wb)["评价数"] == 12
    assert {r[1] for r in sheet_rows(wb, "分地区")} >= {"历下区", "市中区"}

    dept = make(city_sup, period, department_id=data["other_dept"].pk)
    assert dept.region_id == org.other_county.code and dept.department_id == data["other_dept"].pk
    assert dept.title == f"市中区人社局政务服务“好差评”{period.label}月报"
    wb = workbook(read(dept.xlsx))
    expected = metrics.figures(city_sup, metrics.StatsFilter(departments=frozenset({data["other_dept"].pk}),
                                                             date_from=period.start, date_to=period.end))
    assert headline(wb)["评价数"] == expected.total.tally.valid == 3
    assert "分事项" in wb.sheetnames and "分部门" not in wb.sheetnames


def test_the_pdf_is_chinese_with_title_region_period_and_figures(org, data, period):
    report = make(supervisor(org.county), period, region_code=org.county.code)
    text = pdf_text(read(report.pdf))
    assert report.title == f"历下区政务服务“好差评”{period.label}月报"
    assert "历下区政务服务" in text and f"{period.label}月报" in text
    assert "行政区划：历下区（370102）" in text
    assert f"{period.start.isoformat()} 至 {period.end.isoformat()}" in text
    for words in ("主要指标", "好评率", "部门排名", "差评整改情况", "表扬名单", "问责名单", "疑似刷好评线索"):
        assert words in text
    assert "评价数 9" in text.replace("\n", " ")


def test_the_pdf_embeds_its_fonts_and_cites_no_repository_path(org, data, period):
    """A report travels to other offices: it must render where no Chinese font is installed, and must not send its
    reader to a file of this repository."""
    data_pdf = read(make(supervisor(org.county), period, region_code=org.county.code).pdf)
    assert_fonts_embedded(data_pdf)
    assert not any("STSong" in name for name in fonts(data_pdf))
    text = pdf_text(data_pdf)
    assert "docs/" not in text and ".md" not in text


def test_no_evaluator_personal_data_in_either_file(org, data, period):
    report = make(supervisor(org.county), period, region_code=org.county.code)
    cells, text = all_cell_text(workbook(read(report.xlsx))), pdf_text(read(report.pdf))
    for name in EVALUATOR_NAMES:
        assert name not in cells and name not in text
    for phone in EVALUATOR_PHONES:
        for shown in (phone, f"{phone[:3]}****{phone[-4:]}"):
            assert shown not in cells and shown not in text
    # Staff names do appear: the report is for the management agency.
    assert org.staff.name in cells


def test_asking_again_remakes_the_files_in_the_same_row(org, data, period, django_capture_on_commit_callbacks):
    sup = supervisor(org.county)
    first = make(sup, period, region_code=org.county.code)
    old_name = first.xlsx.name
    rated(org, factories.make_item(org), 5, moment(period, day=20), n=3)
    with django_capture_on_commit_callbacks(execute=True):
        second = services.generate_report(sup, kind=period.kind, start=period.start, region_code=org.county.code)
    assert second.report.xlsx.name != old_name
    assert not second.created and second.report.pk == first.pk
    assert Report.objects.count() == 1
    assert headline(workbook(read(second.report.xlsx)))["评价数"] == 10
    assert not first.xlsx.storage.exists(old_name)  # the replaced file is gone
    actions = list(AuditEntry.objects.filter(object_type="insight.Report").values_list("action", flat=True))
    assert sorted(actions) == ["report.generate", "report.regenerate"]


def test_only_finished_periods_and_counties_or_above(org, period):
    sup = supervisor(org.county)
    this_month = periods.ReportPeriod("month", period.end + timedelta(days=1))
    with pytest.raises(DomainError) as exc:
        make(sup, this_month, region_code=org.county.code)
    assert exc.value.status == 422 and exc.value.field == "period" and "尚未结束" in exc.value.detail
    town = factories.region("370102001", "解放路街道", org.county)
    with pytest.raises(DomainError) as exc:
        make(sup, period, region_code=town.code)
    assert exc.value.status == 422 and exc.value.field == "subject"
    handler = User.objects.create(username="h", role=Role.HANDLER, region=org.county, department=org.department)
    with pytest.raises(DomainError) as exc:
        make(handler, period, region_code=org.county.code)
    assert exc.value.status == 403


def test_a_supervisor_of_county_b_can_neither_make_nor_download_county_a_reports(org, data, period):
    sup_a, sup_b = supervisor(org.county, "a"), supervisor(org.other_county, "b")
    report = make(sup_a, period, region_code=org.county.code)
    with pytest.raises(DomainError) as exc:
        make(sup_b, period, region_code=org.county.code)
    assert exc.value.status == 404
    with pytest.raises(DomainError) as exc:
        make(sup_b, period, department_id=org.department.pk)
    assert exc.value.status == 404

    b = Client()
    b.force_login(sup_b)
    response = b.post("/insight/reports/", {"period": period.value, "subject": f"region:{org.county.code}"})
    assert response.status_code == 404 and "没有这个行政区划" in response.content.decode()
    missing = Report.objects.order_by("-pk").first().pk + 100
    for fmt in ("xlsx", "pdf"):
        assert b.get(f"/insight/reports/{report.pk}/{fmt}/").status_code == 404
        assert b.get(f"/insight/reports/{missing}/{fmt}/").status_code == 404
    page = b.get("/insight/reports/").content.decode()
    assert report.title not in page and "历下区（370102）" not in page

    a = Client()
    a.force_login(sup_a)
    response = a.get(f"/insight/reports/{report.pk}/xlsx/")
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    assert headline(workbook(b"".join(response.streaming_content)))["评价数"] == 9
    assert report.title in a.get("/insight/reports/").content.decode()


def test_the_page_generates_a_report_and_refuses_bad_input_next_to_the_field(org, data, period):
    client = Client()
    client.force_login(supervisor(org.county))
    page = client.get("/insight/reports/").content.decode()
    assert f'value="{period.value}"' in page and f'value="region:{org.county.code}"' in page
    response = client.post("/insight/reports/", {"period": period.value, "subject": f"region:{org.county.code}"})
    assert response.status_code == 302
    report = Report.objects.get()
    assert response["Location"].endswith(f"#report-{report.pk}")
    listed = client.get("/insight/reports/").content.decode()
    assert f"/insight/reports/{report.pk}/pdf/" in listed and "已生成报告" in listed

    response = client.post("/insight/reports/", {"period": "", "subject": f"region:{org.county.code}"})
    assert response.status_code == 422 and "请选择统计期间" in response.content.decode()
    response = client.post("/insight/reports/", {"period": "month:2999-01-01", "subject": f"region:{org.county.code}"})
    assert response.status_code == 422 and "尚未结束" in response.content.decode()


def test_other_roles_may_not_open_the_page(org):
    for role, extra in ((Role.HANDLER, {"department": org.department}), (Role.STAFF, {"staff": org.staff})):
        client = Client()
        client.force_login(User.objects.create(username=f"u-{role}", role=role, region=org.county, **extra))
        assert client.get("/insight/reports/").status_code == 403
    assert Client().get("/insight/reports/").status_code == 302


def test_the_worker_makes_each_previous_period_report_once(org, data, period):
    ManagementAgency.objects.create(region=org.city, name="济南市政务服务管理办公室")
    today = period.end + timedelta(days=1)  # the 1st of this month
    made = services.generate_due_reports(today)
    # month for both regions; quarter and year too (their last finished periods exist whatever today is).
    assert made == 6
    assert set(Report.objects.values_list("region_id", "kind")) == {
        (code, kind) for code in ("370100", "370102") for kind in ("month", "quarter", "year")}
    assert all(r.generated_by is None for r in Report.objects.all())
    monthly = Report.objects.get(region=org.county, kind="month")
    assert monthly.period_start == period.start and monthly.period_end == period.end
    assert headline(workbook(read(monthly.xlsx)))["评价数"] == 9
    files = sorted(p.name for p in Path(monthly.xlsx.storage.location).rglob("*.*"))
    assert len(files) == 12

    assert services.generate_due_reports(today) == 0
    assert services.generate_due_reports(today + timedelta(days=3)) == 0
    assert Report.objects.count() == 6
    assert sorted(p.name for p in Path(monthly.xlsx.storage.location).rglob("*.*")) == files  # nothing rewritten


def test_the_report_task_is_scheduled_hourly():
    from haochaping.core import schedule

    schedule.autodiscover()
    every = {p.name: p.every for p in schedule.registered()}
    assert every["haochaping.insight.tasks.generate_period_reports"] == timedelta(hours=1)
