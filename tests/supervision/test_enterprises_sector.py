"""Public-service enterprises (§五, issue 13 item 7): a water company and its hall are evaluated through the same
channels and the same workflow (a 差评 opens its case), supervised by the configured industry department, and
shown apart — the statistics API's sector filter, the portal's own table and ranking, the report's own sections."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from haochaping.accounts.models import Role, User
from haochaping.core.scoping import scope
from haochaping.evaluation.models import Evaluation
from haochaping.insight import metrics
from haochaping.insight.reports import content
from haochaping.org.models import ServiceAgency, Window
from haochaping.rectification.models import RectificationCase
from haochaping.supervision.complaints import services as complaints
from haochaping.supervision.models import SocialReview
from tests import factories
from tests.evaluation.conftest import national_labels  # noqa: F401  (bad evaluations need the label dictionary)
from tests.insight.reports_fixtures import last_month, moment, rated

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def water(org):
    """历下区供水公司 (sector water, supervised by the org's department as its industry department), its business
    hall with one window, and a service item it handles."""
    company = factories.department(org.county, name="历下区供水有限公司", sector="water",
                                   industry_department=org.department)
    hall = ServiceAgency.objects.create(code=f"WATER{factories.seq()}", name="供水营业厅", kind="hall", region=org.county)
    window = Window.objects.create(agency=hall, code="W01", name="用水报装窗口", department=company)
    item = factories.make_item(org, department=company, name="用水报装")
    return {"company": company, "hall": hall, "window": window, "item": item}


def enterprise_record(org, water, at):
    return dict(department=water["company"], agency=water["hall"], window=water["window"], staff=None)


@pytest.fixture
def period_data(org, item, water):
    period = last_month()
    for n, level in enumerate((5, 5, 4, 1)):
        rated(org, item, level, moment(period, day=3 + n), n=n)
    for n, level in enumerate((5, 1, 1)):
        rated(org, water["item"], level, moment(period, day=4 + n), n=n, **enterprise_record(org, water, None))
    return period


def test_an_enterprise_bad_review_opens_its_case_through_the_same_workflow(org, water, period_data):
    cases = RectificationCase.objects.filter(department=water["company"])
    assert cases.count() == 2 and all(c.kind == "bad_review" for c in cases)


def test_the_sector_filter_splits_the_statistics(http, org, water, period_data):
    params = {"from": period_data.start.isoformat(), "to": period_data.end.isoformat()}
    everything = http.get("/api/v1/stats", params=params).json()["total"]
    enterprises = http.get("/api/v1/stats", params={**params, "sector": "enterprise"}).json()["total"]
    government = http.get("/api/v1/stats", params={**params, "sector": "government"}).json()["total"]
    only_water = http.get("/api/v1/stats", params={**params, "sector": "water"}).json()["total"]
    power = http.get("/api/v1/stats", params={**params, "sector": "power"}).json()["total"]
    assert (enterprises["evaluations"], enterprises["bad"]) == (3, 2)
    assert (government["evaluations"], government["bad"]) == (4, 1)
    assert everything["evaluations"] == 7 and only_water == enterprises and power["evaluations"] == 0
    assert http.get("/api/v1/stats", params={"sector": "bank"}).status_code == 422


def test_the_portal_and_the_report_show_enterprises_apart(client, org, water, period_data, settings):
    settings.HAOCHAPING_RANKING_MIN_SAMPLE = 3
    page = client.get(f"/public/regions/{org.county.code}/", {"period": period_data.start.strftime("%Y-%m")})
    text = page.content.decode()
    assert page.status_code == 200, text
    assert "公共服务企业评价情况" in text and "公共服务企业排名" in text
    departments = text.split('data-table="departments"')[1].split("</table>")[0]
    enterprises = text.split('data-table="enterprises"')[1].split("</table>")[0]
    assert "历下区供水有限公司" in enterprises and "历下区供水有限公司" not in departments
    assert org.department.name in departments
    ranking = text.split('<caption>公共服务企业排名</caption>')[1].split("</table>")[0]
    assert "历下区供水有限公司" in ranking and org.department.name not in ranking

    report = content.build(content.Subject(org.county), period_data)
    names = [s.name for s in report.sections]
    assert "公共服务企业" in names and "公共服务企业排名" in names
    table = next(s for s in report.sections if s.name == "公共服务企业")
    assert [row[1] for row in table.rows] == ["历下区供水有限公司"]
    stats = metrics.figures(content.region_actor(org.county.code), content.Subject(org.county).filters(period_data),
                            group_by="department")
    government, enterprises = metrics.by_sector(stats)
    assert {g.name for g in enterprises.groups} == {"历下区供水有限公司"}
    assert org.department.name in {g.name for g in government.groups}


def test_the_industry_department_sees_the_enterprises_evaluations_and_complaints(org, water, period_data):
    industry = User.objects.create(username="industry-1", role=Role.HANDLER, region=org.county, department=org.department)
    other = factories.department(org.county, name="历下区教育局")
    outsider = User.objects.create(username="other-1", role=Role.HANDLER, region=org.county, department=other)
    company_reviews = Evaluation.objects.filter(department=water["company"])
    assert scope(company_reviews, industry).count() == 3
    assert scope(company_reviews, outsider).count() == 0
    complaint = complaints.register(complaints.ComplaintInput(
        source="hotline", reference="12345-W-1", summary="停水未提前通知", department=water["company"]), actor=None,
    ).complaint
    assert scope(SocialReview.objects.filter(pk=complaint.pk), industry).exists()
    assert not scope(SocialReview.objects.filter(pk=complaint.pk), outsider).exists()
