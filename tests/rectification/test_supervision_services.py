"""Supervision of a case: 误评/恶意差评 proposed by the unit and confirmed or rejected by a supervisor, extensions,
send-back, supervision notes, and the evaluator's 满意/不满意 that closes or reopens the case."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from haochaping.core.models import AuditEntry
from haochaping.evaluation.models import Evaluation, EvaluationExclusion
from haochaping.rectification import services
from haochaping.rectification.models import CaseAttachment, CaseNotice, CaseTransition, RectificationCase
from haochaping.rectification.services import OutcomeInput

from .casesteps import call_back, ledger_input, png, refused, refused_unchanged, steps, to_answered
from .conftest import submit

pytestmark = pytest.mark.django_db



@pytest.fixture
def case(record):
    return RectificationCase.objects.get(pk=submit(record).case_id)


@pytest.fixture
def called_back(case, people):
    call_back(case.pk, people["handler"])
    return case


def excluded(case):
    return EvaluationExclusion.objects.filter(evaluation_id=case.evaluation_id).first()


# --- 误评 / 恶意差评 ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["mistaken", "malicious"])
def test_a_units_proposal_waits_for_the_supervisor_who_confirms_it(org, called_back, people, outcome):
    case, h, sup = called_back, people["handler"], people["supervisor"]
    refused_unchanged(case.pk, lambda: services.choose_outcome(case.pk, OutcomeInput(outcome), actor=h), 422,
                      "evidence", "认定误评或恶意差评须提供核实证据")
    services.choose_outcome(case.pk, OutcomeInput(outcome, evidence="回访录音：评价人称误点"), actor=h, files=[png("录音截图.png")])
    case.refresh_from_db()
    assert (case.state, case.outcome, case.proposed_outcome, case.proposed_by) == ("called_back", "", outcome, h)
    assert case.proposed_at is not None and case.handled_at is None and excluded(case) is None
    assert steps(case.pk)[-1] == ("propose", "called_back", "called_back")
    assert CaseAttachment.objects.get(case=case).purpose == "not_adopted"
    # While it waits, the unit cannot pick another outcome, nor can the handler confirm it.
    refused_unchanged(case.pk, lambda: services.choose_outcome(case.pk, OutcomeInput("fixed_now", detail="已改"),
                                                               actor=h), 409, "outcome")
    refused_unchanged(case.pk, lambda: services.confirm_not_adopted(case.pk, actor=h), 403)
    refused_unchanged(case.pk, lambda: services.confirm_not_adopted(case.pk, actor=people["far_supervisor"]), 404,
                      "case_id", "没有这个整改案件")

    services.confirm_not_adopted(case.pk, actor=sup, note="录音可证")
    case.refresh_from_db()
    assert (case.state, case.outcome, case.confirmed_by) == ("not_adopted", outcome, sup)
    assert case.handled_at is not None
    assert steps(case.pk)[-1] == ("confirm", "called_back", "not_adopted")
    exclusion = excluded(case)
    assert (exclusion.reason, exclusion.source, exclusion.actor) == (outcome, f"case:{case.pk}", sup)
    assert not Evaluation.objects.countable().filter(pk=case.evaluation_id).exists()
    assert Evaluation.objects.filter(pk=case.evaluation_id).exists()  # kept, never deleted
    report = CaseNotice.objects.get(case=case)
    assert (report.kind, report.agency) == ("report", org.management_agency)
    # Confirmed once: a second confirmation has nothing to confirm.
    refused_unchanged(case.pk, lambda: services.confirm_not_adopted(case.pk, actor=sup), 409, "proposed_outcome")


def test_the_report_goes_to_the_nearest_management_agency_up_the_tree(org, called_back, people):
    org.management_agency.delete()
    from haochaping.org.models import ManagementAgency

    city = ManagementAgency.objects.create(region=org.city, name="济南市政务服务管理办公室（演示）")
    services.choose_outcome(called_back.pk, OutcomeInput("mistaken", evidence="录音"), actor=people["supervisor"])
    assert CaseNotice.objects.get(case=called_back).agency == city


def test_a_supervisor_decides_not_adopted_at_once(called_back, people):
    sup = people["supervisor"]
    services.choose_outcome(called_back.pk, OutcomeInput("malicious", evidence="同一号码一日内差评30次"), actor=sup)
    called_back.refresh_from_db()
    assert (called_back.state, called_back.confirmed_by, called_back.proposed_outcome) == ("not_adopted", sup, "")
    assert steps(called_back.pk)[-1] == ("outcome", "called_back", "not_adopted")
    assert excluded(called_back).reason == "malicious"
    assert CaseNotice.objects.filter(case=called_back, kind="report").count() == 1


def test_a_rejected_proposal_lets_the_unit_choose_again(called_back, people):
    case, h, sup = called_back, people["handler"], people["supervisor"]
    refused_unchanged(case.pk, lambda: services.reject_not_adopted(case.pk, actor=sup, note="不成立"), 409,
                      "proposed_outcome", "该案件没有待确认的误评或恶意差评认定")
    services.choose_outcome(case.pk, OutcomeInput("mistaken", evidence="评价人称误点"), actor=h)
    refused_unchanged(case.pk, lambda: services.reject_not_adopted(case.pk, actor=sup, note=" "), 422, "note",
                      "请写明不予确认的理由")
    services.reject_not_adopted(case.pk, actor=sup, note="录音显示评价人对材料要求不满，不属误评")
    case.refresh_from_db()
    assert (case.state, case.proposed_outcome, case.proposed_by) == ("called_back", "", None)
    assert steps(case.pk)[-1] == ("reject_proposal", "called_back", "called_back")
    assert excluded(case) is None
    services.choose_outcome(case.pk, OutcomeInput("fixed_now", detail="已取消指南外材料要求"), actor=h)
    case.refresh_from_db()
    assert case.state == "rectified"
    audit = AuditEntry.objects.get(action="case.reject_proposal", object_id=str(case.pk))
    assert "录音" not in str(audit.data)


# --- extension --------------------------------------------------------------------------------------------------------


@pytest.fixture
def pending_extension(called_back, people):
    late = called_back.rectify_due + timedelta(days=10)
    services.choose_outcome(called_back.pk, ledger_input(late, extension_reason="需采购设备"), actor=people["handler"])
    called_back.refresh_from_db()
    return called_back, late


def test_an_approved_extension_moves_the_rectification_deadline(pending_extension, people):
    case, late = pending_extension
    refused_unchanged(case.pk, lambda: services.decide_extension(case.pk, approve=True, actor=people["handler"]), 403)
    services.decide_extension(case.pk, approve=True, actor=people["supervisor"], note="同意")
    case.refresh_from_db()
    assert (case.ledger.extension_approved, case.ledger.extension_decided_by) == (True, people["supervisor"])
    assert services.case_deadlines(case)[1].due == late
    assert steps(case.pk)[-1] == ("extension", "rectifying", "rectifying")
    refused_unchanged(case.pk, lambda: services.decide_extension(case.pk, approve=False, actor=people["supervisor"]),
                      409, "extension", "该案件没有待审批的延期申请")


def test_a_refused_extension_keeps_rectify_due(pending_extension, people):
    case, late = pending_extension
    services.decide_extension(case.pk, approve=False, actor=people["supervisor"])
    case.refresh_from_db()
    assert case.ledger.extension_approved is False and case.ledger.extension_decided_at is not None
    assert case.ledger.deadline == late  # as asked, for the record
    assert services.case_deadlines(case)[1].due == case.rectify_due
    assert AuditEntry.objects.get(action="case.extension", object_id=str(case.pk)).data["due"] == (
        case.rectify_due.isoformat())


def test_no_extension_to_decide_within_the_limit(called_back, people):
    services.choose_outcome(called_back.pk, ledger_input(called_back.rectify_due), actor=people["handler"])
    refused_unchanged(called_back.pk, lambda: services.decide_extension(
        called_back.pk, approve=True, actor=people["supervisor"]), 409, "extension")


# --- send back and supervision notes ------------------------------------------------------------------------------------


def test_send_back_starts_the_handling_again_from_the_callback(case, people):
    h, sup = people["handler"], people["supervisor"]
    to_answered(case.pk, h)
    refused_unchanged(case.pk, lambda: services.send_back(case.pk, actor=sup, note=""), 422, "note",
                      "请写明退回重办的理由")
    services.send_back(case.pk, actor=sup, note="整改不到位，请重新核实")
    case.refresh_from_db()
    assert (case.state, case.outcome, case.handled_at, case.answered_at) == ("called_back", "", None, None)
    assert steps(case.pk)[-1] == ("send_back", "answered", "called_back")
    # The unit decides again; a 台账 can follow.
    services.choose_outcome(case.pk, ledger_input(case.rectify_due), actor=h)
    case.refresh_from_db()
    assert case.state == "rectifying"


def test_send_back_is_refused_for_an_open_case_and_a_confirmed_not_adopted(case, people):
    sup = people["supervisor"]
    refused_unchanged(case.pk, lambda: services.send_back(case.pk, actor=sup, note="重办"), 409, "state")
    call_back(case.pk, people["handler"])
    services.choose_outcome(case.pk, OutcomeInput("mistaken", evidence="录音"), actor=sup)
    refused_unchanged(case.pk, lambda: services.send_back(case.pk, actor=sup, note="重办"), 409, "state")


def test_a_supervision_note_mails_the_unit_without_its_words(case, people, mailoutbox, django_capture_on_commit_callbacks):
    User = type(people["handler"])
    User.objects.filter(pk=people["handler"].pk).update(email="handler@example.gov.cn")
    with django_capture_on_commit_callbacks(execute=True):
        services.add_supervision_note(case.pk, actor=people["supervisor"], note="请联系王先生13912345678")
    [mail] = mailoutbox
    assert mail.to == ["handler@example.gov.cn"] and f"{case.pk:06d}" in mail.subject and "督办" in mail.subject
    assert "督办意见" in mail.body and "王先生" not in mail.body and "13912345678" not in mail.body


def test_a_supervision_note_keeps_the_state_in_any_state(case, people):
    sup = people["supervisor"]
    refused_unchanged(case.pk, lambda: services.add_supervision_note(case.pk, actor=sup, note="  "), 422, "note",
                      "请填写督办意见")
    services.add_supervision_note(case.pk, actor=sup, note="请于明日前完成回访")
    to_answered(case.pk, people["handler"])
    services.close(case.pk, actor=people["handler"])
    services.add_supervision_note(case.pk, actor=sup, note="抽查：处理得当")
    assert [s for s in steps(case.pk) if s[0] == "supervise"] == [
        ("supervise", "open", "open"), ("supervise", "closed", "closed")]
    assert list(CaseTransition.objects.filter(case=case, action="supervise").values_list("note", flat=True)) == [
        "请于明日前完成回访", "抽查：处理得当"]
    assert not AuditEntry.objects.filter(action="case.supervise", data__icontains="抽查").exists()


# --- the evaluator's satisfaction -------------------------------------------------------------------------------------


@pytest.fixture
def answered(case, people):
    to_answered(case.pk, people["handler"])
    case.refresh_from_db()
    return case


def test_satisfied_closes_the_case(answered):
    services.record_satisfaction(answered.evaluation_id, "satisfied")
    answered.refresh_from_db()
    assert (answered.state, answered.satisfaction, answered.reopen_count) == ("closed", "satisfied", 0)
    assert answered.closed_at is not None and answered.satisfaction_at is not None
    assert steps(answered.pk)[-1] == ("satisfaction", "answered", "closed")
    entry = AuditEntry.objects.get(action="case.satisfaction", object_id=str(answered.pk))
    assert (entry.actor, entry.data["satisfaction"]) == ("evaluator", "satisfied")


def test_unsatisfied_reopens_once_for_the_supervisor(answered, people):
    h, sup = people["handler"], people["supervisor"]
    services.record_satisfaction(answered.evaluation_id, "unsatisfied")
    answered.refresh_from_db()
    assert (answered.state, answered.satisfaction, answered.reopen_count) == ("reopened", "unsatisfied", 1)
    assert steps(answered.pk)[-1] == ("reopen", "answered", "reopened")
    # Said once: a second answer is refused and changes nothing.
    refused_unchanged(answered.pk, lambda: services.record_satisfaction(answered.evaluation_id, "satisfied"), 409,
                      "satisfaction", "该差评的处理结果已确认过，不能再次评价")
    # The supervisor, not the unit, decides now.
    refused_unchanged(answered.pk, lambda: services.close(answered.pk, actor=h), 403)
    services.send_back(answered.pk, actor=sup, note="请重新核实")
    to_answered_again = services.choose_outcome(
        answered.pk, OutcomeInput("explained", detail="材料为法定要件", legal_basis="《食品安全法》"), actor=h)
    assert to_answered_again.state == "explained"
    services.answer(answered.pk, text="经复核，该材料为法定要件。", actor=h)
    answered.refresh_from_db()
    assert (answered.state, answered.satisfaction) == ("answered", "")
    # Unsatisfied again: recorded, and the case closes (reopened once at most).
    services.record_satisfaction(answered.evaluation_id, "unsatisfied")
    answered.refresh_from_db()
    assert (answered.state, answered.satisfaction, answered.reopen_count) == ("closed", "unsatisfied", 1)
    assert steps(answered.pk)[-1] == ("satisfaction", "answered", "closed")


def test_a_supervisor_closes_a_reopened_case(answered, people):
    services.record_satisfaction(answered.evaluation_id, "unsatisfied")
    services.close(answered.pk, actor=people["supervisor"], note="处理得当")
    answered.refresh_from_db()
    assert answered.state == "closed" and answered.closed_at is not None
    assert steps(answered.pk)[-1] == ("close", "reopened", "closed")


def test_satisfaction_refusals_change_nothing(case, answered, people):
    refused_unchanged(answered.pk, lambda: services.record_satisfaction(answered.evaluation_id, "meh"), 422,
                      "satisfaction", "请选择满意或不满意")
    late = timezone.now() + timedelta(days=30)
    msg = refused_unchanged(answered.pk, lambda: services.record_satisfaction(answered.evaluation_id, "satisfied",
                                                                             now=late), 409, "satisfaction")
    assert msg.startswith("已超过确认期限")
    refused(lambda: services.record_satisfaction(answered.evaluation_id + 999, "satisfied"), 404)


def test_satisfaction_before_the_answer_is_refused(case, people):
    call_back(case.pk, people["handler"])
    refused_unchanged(case.pk, lambda: services.record_satisfaction(case.evaluation_id, "satisfied"), 409,
                      "satisfaction")


@pytest.mark.pg_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_satisfaction_answers_at_once_record_one(record, people, attempt):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from haochaping.core.problems import DomainError

    if connection.vendor != "postgresql":
        pytest.fail("needs PostgreSQL (marked pg_only: runs in make test-pg): run with DATABASE_URL=postgres://…")
    result = submit(record)
    to_answered(result.case_id, people["handler"])
    barrier = threading.Barrier(2)

    def go(answer):
        barrier.wait()
        try:
            return services.record_satisfaction(result.evaluation.pk, answer).state
        except DomainError as exc:
            return exc.status
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(map(str, pool.map(go, ["satisfied", "unsatisfied"])))
    case = RectificationCase.objects.get(pk=result.case_id)
    assert outcomes == sorted([case.state, "409"])
    assert CaseTransition.objects.filter(case=case, action__in=["satisfaction", "reopen"]).count() == 1
