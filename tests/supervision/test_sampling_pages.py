"""Callback pages over HTTP: the operator's list with masked phones, revealing one (logged), recording a call with
errors shown by field; the supervisor's figures per unit, the flagged calls, and a redraw that adds nothing."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from haochaping.accounts.models import PersonalDataAccess, Role, User
from haochaping.supervision.sampling import services
from haochaping.supervision.sampling.models import CallbackCall, CallbackItem, CallbackSample
from tests.supervision.sampling_world import last_month, rate

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def entry(org, item):
    rate(org, item, 1, phone="13955556666")
    start, end = last_month()
    return services.draw_sample(org.department.pk, start, end).sample.items.get()


@pytest.fixture
def operator(org):
    return User.objects.create(username="hotline-1", role=Role.HOTLINE, region=org.city)


def test_the_operator_sees_the_list_with_masked_phones_and_records_a_call(entry, operator):
    c = signed_in(operator)
    assert "回访清单" in c.get("/hotline/").content.decode()
    page = text(c.get("/work/callbacks/"))
    assert f"回访{entry.pk:06d}" in page and "139****6666" in page and "13955556666" not in page
    detail = f"/work/callbacks/{entry.pk}/"
    r = c.post(detail, {"action": "reveal", "reason": "看"})
    assert r.status_code == 422 and not PersonalDataAccess.objects.exists()
    r = c.post(detail, {"action": "reveal", "reason": "回访调查：拨打评价人电话核实评价"})
    assert "13955556666" in text(r) and PersonalDataAccess.objects.get().user == operator
    r = c.post(detail, {"action": "call", "reached": "yes", "gave_rating": "yes", "satisfaction_now": "3"})
    assert r.status_code == 422 and "请选择“是否被要求或被施压作出该评价”" in text(r)
    assert not CallbackCall.objects.exists()
    r = c.post(detail, {"action": "call", "reached": "yes", "gave_rating": "no", "pressured": "no",
                        "satisfaction_now": "3", "notes": "称未作过评价"}, follow=True)
    assert "回访结果已保存" in text(r)
    assert CallbackItem.objects.get().mismatch_reasons == ["never_rated"]


def test_an_operator_of_another_region_finds_nothing(entry, org):
    far = User.objects.create(username="hotline-far", role=Role.HOTLINE, region=org.other_county)
    c = signed_in(far)
    assert f"回访{entry.pk:06d}" not in text(c.get("/work/callbacks/"))
    assert c.get(f"/work/callbacks/{entry.pk}/").status_code == 404
    assert c.post(f"/work/callbacks/{entry.pk}/", {"action": "reveal", "reason": "回访调查核实评价"}).status_code == 404
    assert not PersonalDataAccess.objects.exists()
    staff = User.objects.create(username="staff-1", role=Role.STAFF, region=org.county, staff=org.staff)
    assert signed_in(staff).get("/work/callbacks/").status_code == 403


def test_the_supervisor_sees_mismatches_per_unit_and_a_redraw_adds_nothing(entry, org, operator):
    services.record_call(entry.pk, services.rules.CallOutcome(True, "yes", "yes", 2), actor=operator)
    supervisor = User.objects.create(username="sup-1", role=Role.SUPERVISOR, region=org.county)
    c = signed_in(supervisor)
    assert "回访抽查" in c.get("/work/supervision/").content.decode()
    r = c.get("/work/callbacks/supervision/")
    page = text(r)
    assert r.status_code == 200 and org.department.name in page and "被要求或施压作出该评价" in page
    assert r.context["units"][0].mismatches == 1
    start, end = last_month()
    r = c.post("/work/callbacks/supervision/", {"department": org.department.pk, "start": start, "end": end},
               follow=True)
    assert "重新抽取结果相同，未新增" in text(r)
    assert CallbackSample.objects.count() == 1 and CallbackItem.objects.count() == 1
    r = c.post("/work/callbacks/supervision/", {"department": org.department.pk, "start": end, "end": start})
    assert r.status_code == 422 and "结束日期不能早于开始日期" in text(r)
    handler = User.objects.create(username="h", role=Role.HANDLER, region=org.county, department=org.department)
    assert signed_in(handler).get("/work/callbacks/supervision/").status_code == 403
