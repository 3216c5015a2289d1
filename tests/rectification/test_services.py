"""Rectification use cases: a case opens with its bad review and goes through every step, each one logged."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from haochaping.core.models import AuditEntry
from haochaping.core.problems import DomainError
from haochaping.core.services import seed_national_calendar
from haochaping.evaluation.models import Evaluation
from haochaping.rectification import services
from haochaping.rectification.models import CaseTransition, LedgerProgress, RectificationCase
from haochaping.rectification.services import OutcomeInput
from tests import factories
from tests.factories import SHANGHAI

from .conftest import submit

pytestmark = pytest.mark.django_db


def refused(call, status, field):
    with pytest.raises(DomainError) as exc:
        call()
    assert (exc.value.status, exc.value.field) == (status, field), exc.value
    return exc.value.detail


def steps(case):
    return list(CaseTransition.objects.filter(case=case).values_list("action", "from_state", "to_state"))


def test_a_bad_review_opens_one_case_routed_to_the_window_department(org, record):
    result = submit(record, level=2, evaluator_phone="13800001111")
    case = RectificationCase.objects.get()
    assert result.case_id == case.pk
    assert (case.kind, case.state, case.evaluation_id, case.record_id) == ("bad_review", "open", result.evaluation.pk, record.pk)
    assert (case.region_id, case.department_id, case.agency_id, case.platform_id) == (
        org.county.code, org.window.department_id, org.agency.pk, None)
    assert case.is_real_name is True
    assert steps(case) == [("open", "", "open")]
    assert AuditEntry.objects.filter(action="case.open", object_id=str(case.pk)).count() == 1


def test_a_good_or_middling_review_opens_none(record):
    assert submit(record, level=3).case_id is None
    assert not RectificationCase.objects.exists()


def test_an_online_record_goes_to_the_platform_operator(org, item):
    operator = factories.department(org.county, "历下区大数据局")
    platform = org.platform
    platform.operator = operator
    platform.save()
    record = factories.make_record(org, item, agency=None, window=None, staff=None, platform=platform)
    case = RectificationCase.objects.get(pk=submit(record).case_id)
    assert (case.department_id, case.platform_id, case.agency_id) == (operator.pk, platform.pk, None)


def test_deadlines_count_working_days_across_national_day(org, record):
    seed_national_calendar(2025)
    # Written on Tuesday 30 September 2025, the day before the National Day holiday (1–8 October).
    ev = Evaluation.objects.create(
        record=record, stage="complete", type="active", channel="pc", level=1, is_bad=True, comment="差",
        item=record.item, region=record.region, department=record.department, agency=record.agency,
        window=record.window, staff=record.staff, idempotency_key="idem-holiday", request_hash="0" * 64,
        receipt_code="HOLIDAY00001", leaf_hash="0" * 64, created_at=datetime(2025, 9, 30, 16, 0, tzinfo=SHANGHAI),
    )
    case = services.open_case_for_evaluation(ev)
    # 11 October (Saturday) is a make-up workday; 1–8 October are not.
    assert (case.callback_due, case.fix_now_due, case.rectify_due) == (date(2025, 10, 9), date(2025, 10, 14), date(2025, 10, 28))


@pytest.fixture
def case(record):
    return RectificationCase.objects.get(pk=submit(record).case_id)


def test_assign_a_handler_of_the_responsible_unit(case, people):
    refused(lambda: services.assign(case.pk, people["other_handler"], actor=people["supervisor"]), 422, "assignee")
    refused(lambda: services.assign(case.pk, people["supervisor"], actor=people["supervisor"]), 422, "assignee")
    services.assign(case.pk, people["handler"], actor=people["supervisor"])
    case.refresh_from_db()
    assert case.assignee == people["handler"]
    assert steps(case)[-1] == ("assign", "open", "open")
    assert CaseTransition.objects.filter(case=case).last().actor == people["supervisor"]


def test_fixed_now_lifecycle_to_closed(case, people):
    h = people["handler"]
    refused(lambda: services.choose_outcome(case.pk, OutcomeInput("fixed_now", detail="x"), actor=h), 409, "state")
    refused(lambda: services.record_callback(case.pk, note="", actor=h), 422, "note")
    services.record_callback(case.pk, note="已电话回访，情况属实", actor=h)
    detail = refused(lambda: services.choose_outcome(case.pk, OutcomeInput("fixed_now"), actor=h), 422, "detail")
    assert detail == "立行立改须写明已整改的内容"
    services.choose_outcome(case.pk, OutcomeInput("fixed_now", detail="已取消指南外材料要求"), actor=h)
    refused(lambda: services.close(case.pk, actor=h), 409, "state")
    refused(lambda: services.answer(case.pk, text=" ", actor=h), 422, "answer")
    services.answer(case.pk, text="经核实，已取消多余材料要求，感谢监督。", actor=h)
    services.close(case.pk, actor=h)
    case.refresh_from_db()
    assert (case.state, case.outcome, case.outcome_detail) == ("closed", "fixed_now", "已取消指南外材料要求")
    assert steps(case) == [
        ("open", "", "open"), ("callback", "open", "called_back"), ("outcome", "called_back", "rectified"),
        ("answer", "rectified", "answered"), ("close", "answered", "closed"),
    ]
    # One audit row per step, none holding free text.
    audit = AuditEntry.objects.filter(object_type="rectification.RectificationCase", object_id=str(case.pk))
    assert audit.count() == 5
    assert not [a for a in audit if "感谢监督" in str(a.data)]
    refused(lambda: services.record_callback(case.pk, note="再次回访", actor=h), 409, "state")


def test_deadline_rectification_keeps_a_ledger_with_progress(case, people):
    h = people["handler"]
    services.record_callback(case.pk, note="情况属实，需修改系统", actor=h)
    late = case.rectify_due + timedelta(days=1)
    ledger = dict(problem="系统要求上传指南外材料", measures="修改申报系统材料清单", responsible_person="李科长")
    msg = refused(lambda: services.choose_outcome(case.pk, OutcomeInput("deadline", deadline=late, **ledger), actor=h),
                  422, "deadline")
    assert "确需延期须经批准" in msg
    refused(lambda: services.add_ledger_progress(case.pk, note="已开始", actor=h), 409, "state")
    services.choose_outcome(case.pk, OutcomeInput("deadline", deadline=late, extension_approved=True, **ledger), actor=h)
    case.refresh_from_db()
    assert case.state == "rectifying" and case.ledger.deadline == late and case.ledger.extension_approved
    refused(lambda: services.answer(case.pk, text="已整改", actor=h), 409, "state")
    refused(lambda: services.add_ledger_progress(case.pk, note=" ", actor=h), 422, "note")
    services.add_ledger_progress(case.pk, note="已提交系统修改需求", actor=h)
    services.add_ledger_progress(case.pk, note="系统已测试", actor=h)
    assert list(LedgerProgress.objects.filter(entry__case=case).values_list("note", flat=True)) == [
        "已提交系统修改需求", "系统已测试"]
    refused(lambda: services.complete_ledger(case.pk, evidence="", actor=h), 422, "evidence")
    services.complete_ledger(case.pk, evidence="系统上线截图", actor=h)
    case.refresh_from_db()
    assert case.state == "rectified" and case.ledger.completed_at is not None
    assert [s[0] for s in steps(case)] == ["open", "callback", "outcome", "progress", "progress", "complete_ledger"]


def test_explained_needs_legal_basis(case, people):
    h = people["handler"]
    services.record_callback(case.pk, note="评价人认为材料过多", actor=h)
    refused(lambda: services.choose_outcome(case.pk, OutcomeInput("explained", detail="法定要件"), actor=h), 422,
            "legal_basis")
    services.choose_outcome(case.pk, OutcomeInput("explained", detail="法定要件", legal_basis="《食品安全法》第三十五条"),
                            actor=h)
    case.refresh_from_db()
    assert case.state == "explained" and case.legal_basis == "《食品安全法》第三十五条"


@pytest.mark.parametrize("outcome", ["mistaken", "malicious"])
def test_not_adopted_needs_a_supervisor_of_the_region(case, people, outcome):
    h = people["handler"]
    services.record_callback(case.pk, note="评价人称误点", actor=h)
    data = OutcomeInput(outcome, evidence="回访录音")
    msg = refused(lambda: services.choose_outcome(case.pk, data, actor=h), 422, "confirmed_by")
    assert msg == "认定误评或恶意差评须经政务服务管理机构监督人员确认"
    for not_a_supervisor in (h, people["far_supervisor"]):
        data.confirmed_by = not_a_supervisor
        refused(lambda data=data: services.choose_outcome(case.pk, data, actor=h), 422, "confirmed_by")
    data.confirmed_by = people["supervisor"]
    services.choose_outcome(case.pk, data, actor=h)
    case.refresh_from_db()
    assert (case.state, case.outcome, case.confirmed_by) == ("not_adopted", outcome, people["supervisor"])


def test_unknown_case_and_unknown_outcome(case, people):
    refused(lambda: services.record_callback(case.pk + 999, note="x", actor=None), 404, "case_id")
    services.record_callback(case.pk, note="x", actor=None)
    refused(lambda: services.choose_outcome(case.pk, OutcomeInput("ignore"), actor=None), 422, "outcome")


def test_a_complaint_opens_a_case_about_a_department(org, people):
    refused(lambda: services.open_complaint(summary="", department=org.department, actor=people["supervisor"]), 422, "summary")
    refused(lambda: services.open_complaint(summary="态度差", actor=people["supervisor"]), 422, "department")
    case = services.open_complaint(summary="窗口态度差", department=org.department, actor=people["supervisor"])
    assert (case.kind, case.state, case.evaluation, case.department, case.region_id) == (
        "complaint", "open", None, org.department, org.county.code)
    assert case.callback_due > timezone.localdate()
    assert AuditEntry.objects.get(action="case.open", object_id=str(case.pk)).actor == "sup-1"
