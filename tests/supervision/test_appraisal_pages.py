"""The appraisal pages: ranked results and a unit's breakdown, the indicator system with a region's stricter
indicator, hand scores; scoped like every supervisor page."""

import pytest

from haochaping.supervision.appraisal import rules
from haochaping.supervision.appraisal.models import Appraisal, Indicator, ManualScore
from tests import factories

from .appraisal_helpers import submit

pytestmark = pytest.mark.django_db


def month_of_today():
    from django.utils import timezone

    start, end = rules.month_of(timezone.localdate())
    return start, end, f"{start:%Y-%m}"


def test_compute_then_read_the_ranked_list_and_the_breakdown(client, org, item, cast):
    submit(factories.make_record(org, item), 4)
    start, end, month = month_of_today()
    client.force_login(cast["supervisor"])
    assert "该月尚未计算绩效评价" in client.get(f"/work/appraisal/?month={month}").content.decode()
    response = client.post("/work/appraisal/", {"month": month})
    assert response.status_code == 302
    row = Appraisal.objects.get(department=org.department, period_start=start, period_end=end)
    page = client.get(response.url).content.decode()
    assert org.department.name in page and f"{row.score:.2f}" in page
    detail = client.get(f"/work/appraisal/{row.pk}/").content.decode()
    assert "得分构成" in detail and "满意度（0–100）" in detail and "75.00" in detail and "第 1 名" in detail
    # The handler of the unit reads it; another county's supervisor does not.
    client.force_login(cast["handler"])
    assert client.get(f"/work/appraisal/{row.pk}/").status_code == 200
    assert client.post("/work/appraisal/", {"month": month}).status_code == 404
    client.force_login(cast["far_supervisor"])
    assert client.get(f"/work/appraisal/{row.pk}/").status_code == 404
    assert org.department.name not in client.get(f"/work/appraisal/?month={month}").content.decode()
    client.force_login(cast["assessor"])
    assert client.get("/work/appraisal/").status_code == 403


def test_a_region_adds_a_stricter_indicator_on_the_page(client, org, cast):
    client.force_login(cast["supervisor"])
    page = client.get("/work/appraisal/indicators/").content.decode()
    assert "QUAL-BAD" in page and "服务质量" in page
    data = {"code": "QUAL-BAD", "name": "差评率（从严）", "dimension": "quality", "source": "bad_rate", "weight": "1",
            "floor": "20", "target": "0"}
    response = client.post("/work/appraisal/indicators/", data)
    assert response.status_code == 422 and "地区只能从严" in response.content.decode()
    data["floor"] = "5"
    assert client.post("/work/appraisal/indicators/", data).status_code == 302
    assert Indicator.objects.get(region=org.county, code="QUAL-BAD").floor == 5
    client.force_login(cast["handler"])
    assert client.post("/work/appraisal/indicators/", data).status_code == 404


def test_hand_scores_on_the_page(client, org, cast):
    client.force_login(cast["supervisor"])
    start, end, month = month_of_today()
    data = {"indicator_code": "SUP-WORK", "department": org.department.pk, "month": month, "value": "90",
            "evidence": ""}
    response = client.post("/work/appraisal/manual/", data)
    assert response.status_code == 422 and "请填写评分依据" in response.content.decode()
    response = client.post("/work/appraisal/manual/", {**data, "month": "2026/13"})
    assert response.status_code == 422 and "考核月份应为" in response.content.decode()
    assert not ManualScore.objects.exists()
    assert client.post("/work/appraisal/manual/", {**data, "evidence": "现场检查记录"}).status_code == 302
    assert ManualScore.objects.get().period_start == start
    client.force_login(cast["handler"])
    assert client.get("/work/appraisal/manual/").status_code == 403


def test_the_dashboard_shows_the_latest_appraisal_and_reports_have_the_section(client, org, item, cast):
    from haochaping.insight.reports.content import Subject, build
    from haochaping.insight.reports.periods import ReportPeriod
    from haochaping.supervision.appraisal import services

    submit(factories.make_record(org, item), 5)
    start, end, _month = month_of_today()
    client.force_login(cast["supervisor"])
    assert "尚未计算绩效评价" in client.get("/insight/").content.decode()
    [row] = services.compute(region=org.county, start=start, end=end)
    page = client.get("/insight/").content.decode()
    assert "绩效评价" in page and f"/work/appraisal/{row.pk}/" in page and f"{row.score:.2f}" in page
    report = build(Subject(org.county), ReportPeriod("month", start))
    section = report.section("绩效评价")
    assert section.rows[0][0] == org.department.name and section.rows[0][1] == pytest.approx(row.score)
