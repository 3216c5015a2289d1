"""集中问题 (R5.1): a supervisor hands a recurring problem to a responsible department as a tracked case with the
usual working-day deadlines; nobody else may, nothing outside their scope, nothing half-written on bad input."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from haochaping.accounts.models import User
from haochaping.accounts.roles import Role
from haochaping.core.models import AuditEntry
from haochaping.core.problems import DomainError
from haochaping.core.services import seed_national_calendar
from haochaping.org.models import RegionPolicy
from haochaping.rectification.models import CaseTransition, RectificationCase
from haochaping.rectification.services import focus
from tests import factories
from tests.factories import SHANGHAI

pytestmark = pytest.mark.django_db

SOURCE = "painpoints:2025-04-01..2025-09-30"


def refused(call, status, field):
    with pytest.raises(DomainError) as exc:
        call()
    assert (exc.value.status, exc.value.field) == (status, field), exc.value
    assert not RectificationCase.objects.exists() and not AuditEntry.objects.filter(action="case.open").exists()
    return exc.value.detail


def open_issue(actor, department, **kw):
    kw.setdefault("summary", "差评集中反映“排队、时间”问题，请牵头整改。")
    kw.setdefault("source", SOURCE)
    return focus.open_focus_issue(department=department, actor=actor, **kw)


def test_a_supervisor_opens_a_focus_issue_with_the_region_deadlines_across_national_day(org, people):
    seed_national_calendar(2025)
    # Tuesday 30 September 2025, the day before the National Day holiday (1–8 October; 11 October is worked).
    now = datetime(2025, 9, 30, 16, 0, tzinfo=SHANGHAI)
    case = open_issue(people["supervisor"], org.department, now=now)
    assert (case.kind, case.state, case.department_id, case.region_id) == ("focus_issue", "open", org.department.pk,
                                                                           org.county.pk)
    assert (case.evaluation_id, case.record_id, case.is_real_name, case.appeal_due) == (None, None, False, None)
    assert case.summary.startswith("差评集中反映")
    # 15 working days for 限期整改, as for every other case of the region.
    assert (case.callback_due, case.fix_now_due, case.rectify_due) == (date(2025, 10, 9), date(2025, 10, 14),
                                                                         date(2025, 10, 28))
    (row,) = CaseTransition.objects.filter(case=case)
    assert (row.action, row.from_state, row.to_state, row.actor) == ("open", "", "open", people["supervisor"])
    (audit,) = AuditEntry.objects.filter(object_type="rectification.RectificationCase", object_id=str(case.pk))
    assert (audit.actor, audit.action) == ("sup-1", "case.open")
    assert audit.data["source"] == SOURCE and audit.data["kind"] == "focus_issue"
    assert audit.data["rectify_due"] == "2025-10-28"
    assert "排队" not in str(audit.data)  # the summary is free text: not in the audit


def test_the_region_policy_sets_the_periods(org, people):
    RegionPolicy.objects.create(region=org.city, rectify_days=10)
    now = datetime(2025, 3, 3, 9, 0, tzinfo=SHANGHAI)  # a Monday, no holiday near
    case = open_issue(people["supervisor"], org.department.pk, now=now)
    assert case.rectify_due == date(2025, 3, 17)


def test_it_is_listed_until_closed(org, people):
    case = open_issue(people["supervisor"], org.department)
    assert list(focus.open_focus_issues(people["supervisor"])) == [case]
    assert list(focus.open_focus_issues(people["handler"])) == [case]  # the responsible unit sees it in its work
    assert list(focus.open_focus_issues(people["far_supervisor"])) == []
    RectificationCase.objects.filter(pk=case.pk).update(state="closed")
    assert list(focus.open_focus_issues(people["supervisor"])) == []


@pytest.mark.parametrize("who", ["handler", "staff", "hotline", "nobody", "inactive"])
def test_only_supervisors_may_open_one(org, people, who):
    actors = {
        "handler": people["handler"],
        "staff": User.objects.create(username="S1", role=Role.STAFF, region=org.county, staff=org.staff),
        "hotline": User.objects.create(username="T1", role=Role.HOTLINE, region=org.county),
        "nobody": None,
        "inactive": User.objects.create(username="sup-x", role=Role.SUPERVISOR, region=org.county, is_active=False),
    }
    detail = refused(lambda: open_issue(actors[who], org.department), 403, None)
    assert "监督人员" in detail


def test_a_superuser_may(org):
    root = User.objects.create(username="root", is_superuser=True)
    assert open_issue(root, org.department).kind == "focus_issue"


def test_a_department_outside_the_supervisors_scope_looks_missing(org, people):
    elsewhere = factories.department(org.other_county, "市中区人社局")
    outside = refused(lambda: open_issue(people["supervisor"], elsewhere), 404, "department")
    missing = refused(lambda: open_issue(people["supervisor"], 999999), 404, "department")
    assert outside == missing and "部门" in outside
    refused(lambda: open_issue(people["far_supervisor"], org.department), 404, "department")


@pytest.mark.parametrize("kw, field, message", [
    ({"summary": "  "}, "summary", "请填写集中问题的问题概述"),
    ({"summary": "长" * 2001}, "summary", "内容不能超过2000字"),
    ({"department": None}, "department", "请选择责任部门"),
    ({"department": ""}, "department", "请选择责任部门"),
    ({"department": "abc"}, "department", "没有这个部门，请选择监督范围内的责任部门"),
    ({"source": "痛点 分析"}, "source", "集中问题的来源标识格式不正确"),
    ({"source": ""}, "source", "集中问题的来源标识格式不正确"),
    ({"source": "painpoints:" + "x" * 100}, "source", "集中问题的来源标识格式不正确"),
])
def test_bad_input_is_refused_naming_the_field(org, people, kw, field, message):
    args = {"department": org.department, **kw}
    status = 404 if message.startswith("没有这个部门") else 422
    assert refused(lambda: open_issue(people["supervisor"], **args), status, field) == message
