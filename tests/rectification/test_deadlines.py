"""Deadlines running by themselves: reminders before, escalation after (on the region's working-day calendar),
answered cases the evaluator did not confirm closed, overdue appeal reviews escalated; each written once."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.core import mail

from haochaping.accounts.models import Role, User
from haochaping.core.models import AuditEntry
from haochaping.core.services import seed_national_calendar
from haochaping.evaluation.models import Evaluation
from haochaping.org.models import ManagementAgency
from haochaping.rectification import services
from haochaping.rectification.models import Appeal, CaseNotice, CaseTransition, LedgerEntry, RectificationCase
from haochaping.rectification.services import deadlines
from tests import factories
from tests.factories import SHANGHAI

pytestmark = pytest.mark.django_db
PHONE = "13811112222"


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def open_case(record, created: datetime, n: int = 0, **fields) -> RectificationCase:
    """A 差评 written at ``created`` and its case, opened by the real service (deadlines on the calendar). With
    ``n`` the 差评 is about another 办件 like ``record`` (one active evaluation per 办件 and stage)."""
    if n:
        record = factories.make_record(record.org, record.item)
    ev = Evaluation.objects.create(
        record=record, stage="complete", type="active", channel="pc", level=1, is_bad=True, comment="材料反复要求补交",
        item=record.item, region=record.region, department=record.department, agency=record.agency,
        window=record.window, staff=record.staff, idempotency_key=f"idem-deadline-{n}-{record.pk}",
        request_hash="0" * 64, receipt_code=f"DEADLINE{n:04d}", leaf_hash="0" * 64, created_at=created,
        evaluator_name="赵六", evaluator_phone=PHONE,
    )
    case = services.open_case_for_evaluation(ev)
    if fields:
        RectificationCase.objects.filter(pk=case.pk).update(**fields)
        case.refresh_from_db()
    return case


@pytest.fixture
def national_day(db):
    seed_national_calendar(2025)


@pytest.fixture
def staff(org, people):
    """Who gets mail: the unit's handler and the county's supervisor have addresses; others do not, or are elsewhere."""
    people["handler"].email = "handler@example.gov.cn"
    people["handler"].save()
    people["other_handler"].email = "other@example.gov.cn"
    people["other_handler"].save()
    people["supervisor"].email = "sup@example.gov.cn"
    people["supervisor"].save()
    people["far_supervisor"].email = "far@example.gov.cn"
    people["far_supervisor"].save()
    hall = User.objects.create(username="hall-handler", role=Role.HANDLER, agency=org.agency, region=org.county,
                               email="hall@example.gov.cn")
    User.objects.create(username="no-mail", role=Role.HANDLER, department=org.department, region=org.county)
    city = User.objects.create(username="sup-city", role=Role.SUPERVISOR, region=org.city, email="city@example.gov.cn")
    return {**people, "hall": hall, "city": city}


@pytest.fixture
def record(org, item):
    record = factories.make_record(org, item)
    record.org = org
    return record


@pytest.fixture
def case(record, national_day):
    # Tuesday 30 September 2025, the day before the National Day holiday (1–8 October; Saturday 11th is worked).
    return open_case(record, at(date(2025, 9, 30), 16))


def recipients() -> list[str]:
    return sorted(address for m in mail.outbox for address in m.to)


def test_the_case_opened_before_the_holiday_has_its_deadlines_after_it(case):
    assert (case.callback_due, case.fix_now_due, case.rectify_due) == (date(2025, 10, 9), date(2025, 10, 14),
                                                                       date(2025, 10, 28))


def test_reminder_one_working_day_before_even_nine_calendar_days_ahead(case, staff):
    # Monday 29th: two working days left (30th and 9th); no reminder yet.
    assert deadlines.send_reminders(at(date(2025, 9, 29))) == 0
    # Tuesday 30th: the 9th is the next working day, although nine calendar days away.
    assert deadlines.send_reminders(at(date(2025, 9, 30), 17)) == 1
    notice = CaseNotice.objects.get()
    assert (notice.kind, notice.deadline, notice.due, notice.agency) == ("reminder", "callback", date(2025, 10, 9), None)
    # The unit's handler and the hall's handler (the case was handled at its window); not another unit's, nobody
    # without an address, no supervisor.
    assert recipients() == ["hall@example.gov.cn", "handler@example.gov.cn"]
    assert notice.sent_to == 2
    message = mail.outbox[0]
    assert f"差评整改第{case.pk:06d}号" in message.subject and "回访核实" in message.subject
    assert "2025-10-09" in message.body and "还剩1个工作日" in message.body
    for secret in (PHONE, "赵六", "材料反复要求补交"):
        assert secret not in message.subject + message.body
    # No state change, no step for a reminder.
    assert list(CaseTransition.objects.filter(case=case).values_list("action", flat=True)) == ["open"]


def test_reminders_are_written_once_however_often_the_task_runs(case, staff):
    for hour in (9, 12, 17):
        deadlines.send_reminders(at(date(2025, 10, 9), hour))
    assert CaseNotice.objects.count() == 1
    assert len(mail.outbox) == 2
    assert "今天到期" in mail.outbox[0].body


def test_the_assignee_is_reminded_too(case, staff, people):
    services.assign(case.pk, people["handler"], actor=staff["supervisor"])
    people["handler"].department = None  # an assignee who moved away still hears about the case
    people["handler"].agency = staff["hall"].agency
    assert deadlines.send_reminders(at(date(2025, 10, 9))) == 1
    assert "handler@example.gov.cn" in recipients()


def test_no_escalation_on_the_due_day_then_escalated_the_day_after(case, staff, org):
    assert deadlines.escalate_overdue(at(date(2025, 10, 9), 23)) == 0
    now = at(date(2025, 10, 10), 0)
    assert deadlines.escalate_overdue(now) == 1
    notice = CaseNotice.objects.get()
    assert (notice.kind, notice.deadline, notice.due) == ("escalation", "callback", date(2025, 10, 9))
    assert notice.agency == ManagementAgency.objects.get(region=org.county)
    case.refresh_from_db()
    assert (case.state, case.escalated_at) == ("open", now)
    step = CaseTransition.objects.filter(case=case).last()
    assert (step.action, step.from_state, step.to_state, step.actor) == ("escalate", "open", "open", None)
    audit = AuditEntry.objects.get(action="case.escalate", object_id=str(case.pk))
    assert audit.actor == "system" and audit.data["deadline"] == "callback"
    # The supervisors of the case's region; not another county's.
    assert recipients() == ["sup@example.gov.cn"] and notice.sent_to == 1
    assert "逾期上报" in mail.outbox[0].subject and "2025-10-09" in mail.outbox[0].body
    assert PHONE not in mail.outbox[0].body


def test_escalation_is_idempotent_and_escalated_at_keeps_the_first_time(case, staff):
    first = at(date(2025, 10, 10))
    deadlines.escalate_overdue(first)
    deadlines.escalate_overdue(first + timedelta(hours=1))
    assert CaseNotice.objects.count() == 1 and len(mail.outbox) == 1
    # The 14th passes too: the handling deadline escalates separately.
    assert deadlines.escalate_overdue(at(date(2025, 10, 15))) == 1
    assert sorted(CaseNotice.objects.values_list("deadline", "due")) == [
        ("callback", date(2025, 10, 9)), ("handling", date(2025, 10, 14))]
    case.refresh_from_db()
    assert case.escalated_at == first
    assert CaseTransition.objects.filter(case=case, action="escalate").count() == 2


def test_a_deadline_met_in_time_neither_reminds_nor_escalates(case, staff):
    RectificationCase.objects.filter(pk=case.pk).update(state="called_back", callback_at=at(date(2025, 9, 30), 17))
    assert deadlines.send_reminders(at(date(2025, 10, 9))) == 0
    assert deadlines.escalate_overdue(at(date(2025, 10, 10))) == 0
    # Handled on time: the handling deadline passes without escalation either.
    RectificationCase.objects.filter(pk=case.pk).update(state="explained", outcome="explained",
                                                        handled_at=at(date(2025, 10, 13)))
    assert deadlines.escalate_overdue(at(date(2025, 10, 20))) == 0
    assert not CaseNotice.objects.exists() and not mail.outbox


def test_a_ledger_deadline_after_the_limit_counts_only_once_approved(case, staff):
    RectificationCase.objects.filter(pk=case.pk).update(state="rectifying", outcome="deadline",
                                                        callback_at=at(date(2025, 9, 30), 17))
    entry = LedgerEntry.objects.create(case=case, problem="指南缺项", measures="修订指南", responsible_person="王科长",
                                       deadline=date(2025, 11, 14), extension_reason="需上级部门会签")
    # Not approved: the 台账 is due on rectify_due (28 October).
    assert deadlines.escalate_overdue(at(date(2025, 10, 29))) == 1
    assert CaseNotice.objects.get().deadline == "rectify" and CaseNotice.objects.get().due == date(2025, 10, 28)
    # Approved: the requested date applies, and is escalated in its own right once passed.
    entry.extension_approved = True
    entry.save()
    assert deadlines.escalate_overdue(at(date(2025, 11, 14))) == 0
    assert deadlines.escalate_overdue(at(date(2025, 11, 17))) == 1
    assert CaseNotice.objects.order_by("created_at").last().due == date(2025, 11, 14)


def test_a_case_handled_between_reading_and_writing_is_not_escalated(case, staff, monkeypatch):
    real = deadlines._locked_case

    def handled_meanwhile(case_id):
        RectificationCase.objects.filter(pk=case_id).update(state="called_back", callback_at=at(date(2025, 10, 9)))
        return real(case_id)

    monkeypatch.setattr(deadlines, "_locked_case", handled_meanwhile)
    assert deadlines.escalate_overdue(at(date(2025, 10, 10))) == 0
    assert not CaseNotice.objects.exists() and not mail.outbox


def test_answered_cases_past_the_confirmation_period_are_closed_by_the_system(record, national_day):
    late = open_case(record, at(date(2025, 9, 1)), 1, state="answered", satisfaction_due=date(2025, 9, 10),
                     answered_at=at(date(2025, 9, 3)))
    due_today = open_case(record, at(date(2025, 9, 1)), 2, state="answered", satisfaction_due=date(2025, 9, 11))
    said = open_case(record, at(date(2025, 9, 1)), 3, state="answered", satisfaction_due=date(2025, 9, 10),
                     satisfaction="unsatisfied")
    now = at(date(2025, 9, 11), 8)
    assert deadlines.close_unconfirmed(now) == 1
    assert deadlines.close_unconfirmed(now) == 0
    late.refresh_from_db()
    assert (late.state, late.closed_at, late.satisfaction) == ("closed", now, "")
    step = CaseTransition.objects.filter(case=late).last()
    assert (step.action, step.from_state, step.to_state, step.actor, step.note) == (
        "close", "answered", "closed", None, "评价人逾期未确认")
    assert AuditEntry.objects.get(action="case.close", object_id=str(late.pk)).actor == "system"
    for other in (due_today, said):
        other.refresh_from_db()
        assert other.state == "answered"


def test_an_appeal_review_past_its_deadline_goes_to_the_agency_above(case, staff, org):
    ManagementAgency.objects.create(region=org.city, name="济南市政务服务管理办公室（演示）")
    Appeal.objects.create(case=case, evaluation=case.evaluation, appellant=staff["handler"], party="unit",
                          explanation="评价人所述与事实不符", submitted_at=at(date(2025, 10, 9)),
                          review_due=date(2025, 10, 16))
    # Keep the case's own deadlines out of the way.
    RectificationCase.objects.filter(pk=case.pk).update(state="explained", outcome="explained",
                                                        callback_at=at(date(2025, 10, 9)), handled_at=at(date(2025, 10, 9)))
    assert deadlines.escalate_overdue(at(date(2025, 10, 16), 20)) == 0
    assert deadlines.escalate_overdue(at(date(2025, 10, 17))) == 1
    assert deadlines.escalate_overdue(at(date(2025, 10, 18))) == 0
    notice = CaseNotice.objects.get()
    assert (notice.deadline, notice.due, notice.agency.region_id) == ("appeal_review", date(2025, 10, 16), org.city.code)
    assert recipients() == ["city@example.gov.cn"]
    assert "申诉" in mail.outbox[0].body
    case.refresh_from_db()
    assert case.escalated_at is None  # the agency's delay, not the unit's
    assert CaseTransition.objects.filter(case=case, action="escalate").count() == 1
    # Decided: nothing more.
    Appeal.objects.filter(case=case).update(state="rejected")
    assert deadlines.escalate_overdue_appeals(at(date(2025, 12, 1))) == 0


def test_queries_do_not_grow_with_the_number_of_cases(record, national_day, staff, django_assert_max_num_queries):
    for n in range(12):
        open_case(record, at(date(2025, 9, 1)), 10 + n)
    now = at(date(2025, 10, 20))
    assert deadlines.escalate_overdue(now) == 24  # callback and handling of each
    # Everything already written: the candidates, the notices and the appeals, whatever the number of cases.
    with django_assert_max_num_queries(3):
        assert deadlines.escalate_overdue(now) == 0
    assert deadlines.send_reminders(at(date(2025, 9, 2))) == 12
    with django_assert_max_num_queries(2):
        assert deadlines.send_reminders(at(date(2025, 9, 2), 15)) == 0


def test_writing_costs_a_fixed_number_of_queries_per_notice(record, national_day, staff, django_assert_max_num_queries):
    for n in range(10):
        open_case(record, at(date(2025, 9, 1)), 30 + n)
    # Read: cases, notices, supervisors, agencies, appeals (+ appeals' notices). Write per escalation: savepoint,
    # locked case, notice check, notice, step, audit, escalated_at, release.
    with django_assert_max_num_queries(6 + 10 * 2 * 8):
        assert deadlines.escalate_overdue(at(date(2025, 10, 20))) == 20
