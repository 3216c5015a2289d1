"""我的评价结果 (/insight/mine/): a window staff member sees their own figures and bad reviews, nobody else's."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from haochaping.accounts.models import Role, User
from haochaping.evaluation import services as evaluation_services
from haochaping.org.models import Staff
from tests import factories

pytestmark = pytest.mark.django_db


def rate(record, level, comment=""):
    data = evaluation_services.EvaluationInput(
        idempotency_key=uuid.uuid4().hex, project_no=record.project_no, stage="complete", channel="kiosk",
        level=level, comment=comment or ("态度生硬" if level <= 2 else ""))
    return evaluation_services.submit_evaluation(data, source="test").evaluation


@pytest.fixture
def world(org, item):
    colleague = Staff.objects.create(staff_no="S-OTHER", name="王芳", agency=org.agency, department=org.department,
                                     window=org.window)
    for level in (5, 5, 4, 1):
        rate(factories.make_record(org, item), level, "工作人员态度生硬，问两句就不耐烦" if level == 1 else "")
    rate(factories.make_record(org, item, staff=colleague), 2, "排队太久")
    user = User.objects.create(username=org.staff.staff_no, role=Role.STAFF, staff=org.staff, region=org.county)
    client = Client()
    client.force_login(user)
    return client


def test_staff_see_their_own_figures_and_bad_reviews(world):
    page = world.get("/insight/mine/")
    assert page.status_code == 200
    body = page.content.decode()
    assert '<span class="value" id="month-evaluations">4</span>' in body
    assert 'id="month-good-rate">75' in body  # 3 of 4 good
    assert "工作人员态度生硬，问两句就不耐烦" in body and "排队太久" not in body  # the colleague's is not theirs
    assert 'href="/work/appeals/mine/"' in body


def test_staff_land_there_from_the_workbench_and_the_dashboard(world):
    assert world.get("/work/")["Location"] == "/insight/mine/"
    assert world.get("/insight/")["Location"] == "/insight/mine/"


def test_other_roles_go_to_their_dashboard(org):
    handler = User.objects.create(username="h1", role=Role.HANDLER, department=org.department, region=org.county)
    client = Client()
    client.force_login(handler)
    assert client.get("/insight/mine/")["Location"] == "/insight/"


def test_the_paper_forms_page_is_linked_from_the_workbench_for_a_clerk(world, org):
    body = world.get("/insight/mine/").content.decode()
    assert 'href="/paper/"' in body
    paper = world.get("/paper/").content.decode()
    assert 'href="/paper/enter/"' in paper and f'href="/paper/print/{org.agency.pk}/"' in paper


@pytest.mark.parametrize(("now", "heading"), [
    ("2026-12-07T10:00:00+08:00", "近12个月（2026-01-01 至 2026-12-07）"),
    ("2026-07-15T10:00:00+08:00", "近12个月（2025-08-01 至 2026-07-15）"),
    ("2027-01-01T00:30:00+08:00", "近12个月（2026-02-01 至 2027-01-01）"),
])
def test_the_last_twelve_months_are_this_month_and_the_eleven_before_as_on_the_public_portal(org, now, heading):
    from datetime import datetime

    import time_machine

    from haochaping.disclosure.rules import last_twelve_months

    user = User.objects.create(username=org.staff.staff_no, role=Role.STAFF, staff=org.staff, region=org.county)
    client = Client()
    with time_machine.travel(datetime.fromisoformat(now), tick=False):
        client.force_login(user)  # at that moment: an insider's session expires after a few idle hours
        response = client.get("/insight/mine/")
        assert response.status_code == 200
        body = response.content.decode()
        portal = last_twelve_months(datetime.fromisoformat(now).date())
    assert heading in body
    assert heading == f"近12个月（{portal.start:%Y-%m-%d} 至 {portal.end:%Y-%m-%d}）"
