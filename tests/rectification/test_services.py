"""Rectification use cases of the responsible unit: a case opens with its bad review and goes through callback,
outcome, 台账, answer and close — each step checked for scope, role, state and input, and logged."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from haochaping.accounts.models import Role, User
from haochaping.core.models import AuditEntry
from haochaping.core.services import seed_national_calendar
from haochaping.evaluation import sms
from haochaping.evaluation.models import Evaluation
from haochaping.rectification import services
from haochaping.rectification.models import CaseAttachment, CaseTransition, LedgerProgress, RectificationCase
from haochaping.rectification.services import OutcomeInput
from tests import factories
from tests.factories import SHANGHAI

from .casesteps import (
    call_back,
    callback_input,
    ledger_input,
    pdf,
    png,
    refused,
    refused_unchanged,
    steps,
    to_answered,
)
from .conftest import submit

pytestmark = pytest.mark.django_db

PHONE = "13800001111"
NOT_FOUND = "没有这个整改案件"




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
    case = RectificationCase.objects.get(pk=submit(record, comment="网上申报系统登录总是失败，页面报错").case_id)
    assert (case.department_id, case.platform_id, case.agency_id) == (operator.pk, platform.pk, None)


def test_an_online_record_about_the_service_goes_to_its_department(org, item):
    # 谁办理、谁负责: materials asked for beyond the guide are the department's, whichever channel it came through.
    operator = factories.department(org.county, "历下区大数据局")
    platform = org.platform
    platform.operator = operator
    platform.save()
    record = factories.make_record(org, item, agency=None, window=None, staff=None, platform=platform)
    case = RectificationCase.objects.get(pk=submit(record, labels=["109"], comment="").case_id)
    assert (case.department_id, case.platform_id, case.agency_id) == (record.department_id, platform.pk, None)


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


@pytest.fixture
def real_name_case(record):
    return RectificationCase.objects.get(pk=submit(record, evaluator_phone=PHONE).case_id)


@pytest.fixture
def administrator(org):
    return User.objects.create(username="admin-1", role=Role.ADMINISTRATOR, is_staff=True, region=org.county)


# --- assign ----------------------------------------------------------------------------------------------------


def test_assign_a_handler_of_the_responsible_unit(case, people):
    sup = people["supervisor"]
    refused_unchanged(case.pk, lambda: services.assign(case.pk, people["other_handler"], actor=sup), 422, "assignee")
    refused_unchanged(case.pk, lambda: services.assign(case.pk, sup, actor=sup), 422, "assignee")
    services.assign(case.pk, people["handler"], actor=sup)
    case.refresh_from_db()
    assert case.assignee == people["handler"]
    assert steps(case.pk)[-1] == ("assign", "open", "open")
    assert CaseTransition.objects.filter(case=case).last().actor == sup
    # The handler may reassign within the unit too.
    services.assign(case.pk, people["handler"], actor=people["handler"])


# --- the whole way: 立行立改 --------------------------------------------------------------------------------------


def test_fixed_now_lifecycle_to_closed(case, people):
    h = people["handler"]
    refused_unchanged(case.pk, lambda: services.choose_outcome(case.pk, OutcomeInput("fixed_now", detail="x"), actor=h),
                      409, "state")
    call_back(case.pk, h)
    case.refresh_from_db()
    assert (case.state, case.callback_method, case.callback_reached, case.callback_facts) == (
        "called_back", "phone", True, "窗口确实要求提供指南外材料")
    refused_unchanged(case.pk, lambda: services.choose_outcome(case.pk, OutcomeInput("fixed_now"), actor=h), 422,
                      "detail", "立行立改须写明已整改的内容")
    services.choose_outcome(case.pk, OutcomeInput("fixed_now", detail="已取消指南外材料要求"), actor=h)
    case.refresh_from_db()
    assert case.state == "rectified" and case.handled_at is not None
    refused_unchanged(case.pk, lambda: services.close(case.pk, actor=h), 409, "state")
    refused_unchanged(case.pk, lambda: services.answer(case.pk, text=" ", actor=h), 422, "answer")
    services.answer(case.pk, text="经核实，已取消多余材料要求，感谢监督。", actor=h)
    case.refresh_from_db()
    assert case.answered_at is not None
    # 5 working days (the default satisfaction_days) after the answer.
    assert case.satisfaction_due == services._add_working_days(
        timezone.localdate(case.answered_at), 5, region_code=case.region_id)
    services.close(case.pk, actor=h)
    case.refresh_from_db()
    assert (case.state, case.outcome, case.outcome_detail) == ("closed", "fixed_now", "已取消指南外材料要求")
    assert case.closed_at is not None
    assert steps(case.pk) == [
        ("open", "", "open"), ("callback", "open", "called_back"), ("outcome", "called_back", "rectified"),
        ("answer", "rectified", "answered"), ("close", "answered", "closed"),
    ]
    # One audit row per step, none holding free text or names.
    audit = AuditEntry.objects.filter(object_type="rectification.RectificationCase", object_id=str(case.pk))
    assert audit.count() == 5
    assert not [a for a in audit if "感谢监督" in str(a.data) or "评价人本人" in str(a.data) or "指南外" in str(a.data)]
    refused_unchanged(case.pk, lambda: services.record_callback(case.pk, callback_input(), actor=h), 409, "state")


# --- callback input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kw,field,detail", [
    (dict(at=None), "at", "请填写回访时间"),
    (dict(at=timezone.now() + timedelta(hours=1)), "at", "回访时间不能晚于现在"),
    (dict(at=timezone.now() - timedelta(days=30)), "at", "回访时间不能早于立案时间"),
    (dict(method="fax"), "method", "请选择回访方式：电话、短信、面谈或网上留言"),
    (dict(reached=None), "reached", "请说明是否联系上评价人"),
    (dict(reached=False, contact=""), "contact", "未联系上评价人的，请写明原因和已尝试的联系方式"),
    (dict(facts="  "), "facts", "请填写核实的情况"),
])
def test_a_bad_callback_names_the_field_and_changes_nothing(case, people, kw, field, detail):
    call = lambda: services.record_callback(case.pk, callback_input(**kw), actor=people["handler"])  # noqa: E731
    refused_unchanged(case.pk, call, 422, field, detail)


def test_not_reached_is_a_callback_too(case, people):
    services.record_callback(case.pk, callback_input(reached=False, contact="三次来电无人接听，已发短信"),
                             actor=people["handler"])
    case.refresh_from_db()
    assert (case.state, case.callback_reached) == ("called_back", False)


# --- 限期整改 ---------------------------------------------------------------------------------------------------------


def test_deadline_within_the_limit_keeps_a_ledger_with_progress_and_evidence_files(case, people):
    h = people["handler"]
    call_back(case.pk, h)
    refused_unchanged(case.pk, lambda: services.add_ledger_progress(case.pk, note="已开始", actor=h), 409, "state")
    refused_unchanged(case.pk, lambda: services.choose_outcome(
        case.pk, ledger_input(timezone.localdate() - timedelta(days=1)), actor=h), 422, "deadline", "整改期限不能早于今天")
    services.choose_outcome(case.pk, ledger_input(case.rectify_due), actor=h)
    case.refresh_from_db()
    assert case.state == "rectifying" and case.handled_at is None
    assert (case.ledger.deadline, case.ledger.extension_approved, case.ledger.extension_reason) == (
        case.rectify_due, False, "")
    refused_unchanged(case.pk, lambda: services.answer(case.pk, text="已整改", actor=h), 409, "state")
    refused_unchanged(case.pk, lambda: services.add_ledger_progress(case.pk, note=" ", actor=h), 422, "note")
    services.add_ledger_progress(case.pk, note="已提交系统修改需求", actor=h)
    services.add_ledger_progress(case.pk, note="系统已测试", actor=h)
    assert list(LedgerProgress.objects.filter(entry__case=case).values_list("note", flat=True)) == [
        "已提交系统修改需求", "系统已测试"]
    refused_unchanged(case.pk, lambda: services.complete_ledger(case.pk, evidence="", actor=h), 422, "evidence")
    exe = SimpleUploadedFile("病毒.pdf", b"MZ\x90\x00 an executable renamed", content_type="application/pdf")
    msg = refused_unchanged(case.pk, lambda: services.complete_ledger(case.pk, evidence="上线截图", actor=h,
                                                                       files=[png(), exe]), 422, "files")
    assert "“佐证材料”" in msg and "PDF" in msg  # named by the field's own label
    services.complete_ledger(case.pk, evidence="系统上线截图", actor=h, files=[png(), pdf()])
    case.refresh_from_db()
    assert case.state == "rectified" and case.ledger.completed_at is not None and case.handled_at is not None
    files = list(CaseAttachment.objects.filter(case=case))
    assert [(f.purpose, f.original_name) for f in files] == [("ledger", "现场照片.png"), ("ledger", "整改报告.pdf")]
    # Stored under a random name: an uploaded file's name may name a person.
    assert all("现场" not in f.file.name and "整改" not in f.file.name for f in files)
    assert files[0].file.read().startswith(b"\x89PNG")
    assert [s[0] for s in steps(case.pk)] == ["open", "callback", "outcome", "progress", "progress", "complete_ledger"]


def test_too_many_files_are_refused(case, people):
    h = people["handler"]
    call_back(case.pk, h)
    services.choose_outcome(case.pk, ledger_input(case.rectify_due), actor=h)
    refused_unchanged(case.pk, lambda: services.complete_ledger(
        case.pk, evidence="截图", actor=h, files=[png() for _ in range(11)]), 422, "files")


def test_a_later_deadline_needs_a_reason_and_stays_pending(case, people):
    h = people["handler"]
    call_back(case.pk, h)
    late = case.rectify_due + timedelta(days=7)
    msg = refused_unchanged(case.pk, lambda: services.choose_outcome(case.pk, ledger_input(late), actor=h), 422,
                            "deadline")
    assert "请写明延期理由" in msg
    # A handler cannot approve their own extension.
    refused_unchanged(case.pk, lambda: services.choose_outcome(
        case.pk, ledger_input(late, extension_approved=True), actor=h), 403)
    services.choose_outcome(case.pk, ledger_input(late, extension_reason="需采购设备"), actor=h)
    case.refresh_from_db()
    assert (case.ledger.deadline, case.ledger.extension_approved, case.ledger.extension_reason) == (
        late, False, "需采购设备")
    assert services.extension_pending(case, case.ledger)
    # Until a supervisor approves, the case's rectification deadline stays rectify_due.
    rows = services.case_deadlines(case)
    assert [(r.kind, r.due) for r in rows][1] == ("rectify", case.rectify_due)
    audit = AuditEntry.objects.get(action="case.outcome", object_id=str(case.pk))
    assert audit.data["extension_pending"] is True and "需采购设备" not in str(audit.data)


def test_explained_needs_legal_basis(case, people):
    h = people["handler"]
    call_back(case.pk, h)
    refused_unchanged(case.pk, lambda: services.choose_outcome(case.pk, OutcomeInput("explained", detail="法定要件"),
                                                               actor=h), 422, "legal_basis")
    services.choose_outcome(case.pk, OutcomeInput("explained", detail="法定要件", legal_basis="《食品安全法》第三十五条"),
                            actor=h)
    case.refresh_from_db()
    assert case.state == "explained" and case.legal_basis == "《食品安全法》第三十五条" and case.handled_at


def test_unknown_outcome_and_files_with_an_outcome_that_takes_none(case, people):
    h = people["handler"]
    call_back(case.pk, h)
    refused_unchanged(case.pk, lambda: services.choose_outcome(case.pk, OutcomeInput("ignore"), actor=h), 422, "outcome")
    refused_unchanged(case.pk, lambda: services.choose_outcome(
        case.pk, OutcomeInput("fixed_now", detail="已改"), actor=h, files=[png()]), 422, "files")


# --- scope and roles ----------------------------------------------------------------------------------------------


def every_step(case_id, actor, other):
    """Every service on ``case_id`` by ``actor``, with valid input."""
    return {
        "assign": lambda: services.assign(case_id, other, actor=actor),
        "callback": lambda: services.record_callback(case_id, callback_input(), actor=actor),
        "outcome": lambda: services.choose_outcome(case_id, OutcomeInput("fixed_now", detail="已改"), actor=actor),
        "progress": lambda: services.add_ledger_progress(case_id, note="进展", actor=actor),
        "complete": lambda: services.complete_ledger(case_id, evidence="截图", actor=actor),
        "answer": lambda: services.answer(case_id, text="已整改", actor=actor),
        "close": lambda: services.close(case_id, actor=actor),
        "confirm": lambda: services.confirm_not_adopted(case_id, actor=actor),
        "reject": lambda: services.reject_not_adopted(case_id, actor=actor, note="证据不足"),
        "extension": lambda: services.decide_extension(case_id, approve=True, actor=actor),
        "send_back": lambda: services.send_back(case_id, actor=actor, note="重办"),
        "supervise": lambda: services.add_supervision_note(case_id, actor=actor, note="请加快"),
    }


@pytest.mark.parametrize("who", ["other_handler", "far_supervisor"])
def test_a_case_outside_the_actors_scope_is_not_found_like_a_missing_one(case, people, who):
    for name, call in every_step(case.pk, people[who], people["handler"]).items():
        detail = refused_unchanged(case.pk, call, 404, "case_id")
        assert detail == NOT_FOUND, name
    for name, call in every_step(case.pk + 999, people["handler"], people["handler"]).items():
        assert refused(call, 404, "case_id") == NOT_FOUND, name
    refused(lambda: services.record_callback("abc", callback_input(), actor=people["handler"]), 404, "case_id")


def test_an_inactive_user_sees_no_case(case, people):
    h = people["handler"]
    h.is_active = False
    h.save()
    refused_unchanged(case.pk, lambda: services.record_callback(case.pk, callback_input(), actor=h), 404, "case_id")


def test_a_supervisor_does_not_do_the_units_work(case, people):
    sup = people["supervisor"]
    detail = refused_unchanged(case.pk, lambda: services.record_callback(case.pk, callback_input(), actor=sup), 403)
    assert detail == "只有责任单位的经办人员可以登记回访核实"
    call_back(case.pk, people["handler"])
    assert refused_unchanged(case.pk, lambda: services.choose_outcome(
        case.pk, OutcomeInput("fixed_now", detail="已改"), actor=sup), 403) == "只有责任单位的经办人员可以确定处理结果"


def test_a_handler_does_not_supervise(case, people):
    h = people["handler"]
    to_answered(case.pk, h)
    for name, what in [("send_back", "退回重办"), ("supervise", "填写督办意见"), ("confirm", "确认误评或恶意差评"),
                       ("reject", "驳回误评或恶意差评的认定"), ("extension", "审批整改延期")]:
        call = every_step(case.pk, h, h)[name]
        assert refused_unchanged(case.pk, call, 403) == f"只有政务服务管理机构的监督人员可以{what}", name


def test_other_roles_in_scope_may_take_no_step(case, people, administrator):
    # An administrator of the region sees the case but handles and supervises nothing.
    for name, call in every_step(case.pk, administrator, people["handler"]).items():
        detail = refused_unchanged(case.pk, call, 403)
        assert detail.startswith("只有"), name


def test_a_superuser_may_take_every_step(case, people):
    root = User.objects.create(username="root", is_superuser=True, is_staff=True)
    to_answered(case.pk, root)
    services.close(case.pk, actor=root)
    case.refresh_from_db()
    assert case.state == "closed"
    assert set(CaseTransition.objects.filter(case=case).exclude(action="open").values_list("actor", flat=True)) == {root.pk}


# --- answer and the SMS --------------------------------------------------------------------------------------------


def test_the_answer_texts_a_real_name_evaluator_after_commit(real_name_case, people, sms_file, caplog,
                                                          django_capture_on_commit_callbacks):
    case = real_name_case
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        to_answered(case.pk, people["handler"])
    assert len(callbacks) == 1
    [message] = sms.read_file_messages()
    assert message["phone"] == "138****1111"
    text = message["text"]
    assert "https://hcp.example.gov.cn/r/" in text and "评价回执码" in text and "已办理答复" in text
    assert "https://hcp.example.gov.cn/a/" in text  # the answer's own link (tests/rectification/test_reply_links.py)
    evaluation = Evaluation.objects.get(pk=case.evaluation_id)
    assert evaluation.receipt_code not in text and PHONE not in text
    assert "食品" not in text  # nothing about the service or the person
    assert PHONE not in caplog.text and f"case_id={case.pk}" in caplog.text


def test_no_sms_before_commit_or_for_an_anonymous_evaluator(case, people, sms_file,
                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        to_answered(case.pk, people["handler"])
    assert callbacks == [] and sms.read_file_messages() == []


class BrokenGateway(sms.Sender):
    def send(self, phone, text):
        raise ConnectionError(f"gateway refused {phone}")


def test_a_gateway_failure_keeps_the_answer_and_logs_no_phone(real_name_case, people, settings, caplog,
                                                             django_capture_on_commit_callbacks):
    settings.HAOCHAPING_SMS_BACKEND = f"{__name__}.BrokenGateway"
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        to_answered(real_name_case.pk, people["handler"])
    real_name_case.refresh_from_db()
    assert real_name_case.state == "answered" and real_name_case.answer
    assert "ConnectionError" in caplog.text and PHONE not in caplog.text


# --- close ----------------------------------------------------------------------------------------------------


def test_the_system_closes_an_answered_case_but_never_takes_a_units_step(case, people):
    refused_unchanged(case.pk, lambda: services.record_callback(case.pk, callback_input(), actor=None), 403)
    to_answered(case.pk, people["handler"])
    services.close(case.pk, actor=None)
    case.refresh_from_db()
    assert case.state == "closed" and CaseTransition.objects.filter(case=case).last().actor is None
    assert AuditEntry.objects.filter(action="case.close", object_id=str(case.pk)).get().actor == "system"


def test_a_supervisor_does_not_close_an_answered_case(case, people):
    to_answered(case.pk, people["handler"])
    assert refused_unchanged(case.pk, lambda: services.close(case.pk, actor=people["supervisor"]), 403) == (
        "只有责任单位的经办人员可以办结已答复的案件")


# --- deadlines of a case -------------------------------------------------------------------------------------------


def test_case_deadlines_count_on_the_region_calendar(org, record):
    seed_national_calendar(2025)
    ev = Evaluation.objects.create(
        record=record, stage="complete", type="active", channel="pc", level=1, is_bad=True, comment="差",
        item=record.item, region=record.region, department=record.department, agency=record.agency,
        window=record.window, staff=record.staff, idempotency_key="idem-rows", request_hash="0" * 64,
        receipt_code="ROWS00000001", leaf_hash="0" * 64, created_at=datetime(2025, 9, 30, 16, 0, tzinfo=SHANGHAI),
    )
    case = services.open_case_for_evaluation(ev)
    rows = services.case_deadlines(case, today=date(2025, 10, 5))
    assert [(r.kind, r.due, r.working_days_left, r.overdue) for r in rows] == [
        ("callback", date(2025, 10, 9), 1, False), ("handling", date(2025, 10, 14), 5, False)]
    # A county holiday of its own (only there) moves nothing already fixed, but counts in the days left.
    from haochaping.core.models import CalendarDay

    CalendarDay.objects.create(region_code=org.county.code, date=date(2025, 10, 13), is_workday=False)
    from haochaping.core import calendar

    calendar.invalidate()
    rows = services.case_deadlines(case, today=date(2025, 10, 10))
    assert (rows[0].overdue, rows[1].due, rows[1].working_days_left) == (True, date(2025, 10, 14), 2)


# --- complaints ----------------------------------------------------------------------------------------------------


def test_a_complaint_opens_a_case_about_a_department(org, people):
    sup = people["supervisor"]
    refused(lambda: services.open_complaint(summary="", department=org.department, actor=sup), 422, "summary")
    refused(lambda: services.open_complaint(summary="态度差", actor=sup), 422, "department")
    refused(lambda: services.open_complaint(summary="态度差", department=org.department, actor=people["far_supervisor"]),
            404, "department")
    refused(lambda: services.open_complaint(summary="态度差", department=org.department, actor=people["handler"]), 403)
    assert not RectificationCase.objects.exists()
    case = services.open_complaint(summary="窗口态度差", department=org.department, actor=sup)
    assert (case.kind, case.state, case.evaluation, case.department, case.region_id) == (
        "complaint", "open", None, org.department, org.county.code)
    assert case.callback_due > timezone.localdate() and case.appeal_due is None
    assert AuditEntry.objects.get(action="case.open", object_id=str(case.pk)).actor == "sup-1"


def test_a_complaint_about_a_record_is_routed_like_a_bad_review(org, record, people):
    case = services.open_complaint(summary="窗口要求指南外材料", record=record, actor=people["supervisor"])
    assert (case.department_id, case.agency_id) == (org.window.department_id, org.agency.pk)
