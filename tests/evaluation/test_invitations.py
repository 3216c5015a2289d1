"""SMS invitations and the one reminder (补充评价, R3.3): who gets a message, when, how many, and what the link does."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from haochaping.core import calendar
from haochaping.core.models import CalendarDay
from haochaping.evaluation import invitations, sms, tasks
from haochaping.evaluation.models import Evaluation, Invitation
from haochaping.records import services as record_services
from tests import factories

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


class FailingSender(sms.Sender):
    def send(self, phone, text):
        return sms.SendResult(ok=False, error="HTTP 503")


@pytest.fixture(autouse=True)
def sms_file(settings, tmp_path):
    settings.HAOCHAPING_SMS_BACKEND = "haochaping.evaluation.sms.FileSender"
    settings.HAOCHAPING_SMS_FILE = str(tmp_path / "sms.jsonl")
    settings.HAOCHAPING_PUBLIC_URL = "https://hcp.example.gov.cn"
    settings.HAOCHAPING_REMINDER_WORKING_DAYS = 2
    settings.HAOCHAPING_MAX_SMS_PER_RECORD = 2
    return tmp_path / "sms.jsonl"


def messages():
    return sms.read_file_messages()


def token_of(message: dict) -> str:
    return re.search(r"https://hcp\.example\.gov\.cn/i/([A-Za-z0-9_-]+)/", message["text"]).group(1)


def in_progress(org, item, **kw):
    return factories.make_record(org, item, completed=False, **kw)


def complete(record):
    return record_services.update_record(
        # Five minutes ago, but not before the day began: the factory accepted the 办件 today (at 00:00 at the earliest).
        record.project_no, {"status": 3, "completed_at": factories.earlier_today(5 / 60)}, actor="test"
    )


def test_completion_sends_an_invitation_with_a_link_that_expires_with_the_period(
    org, item, django_capture_on_commit_callbacks
):
    record = in_progress(org, item)
    with override_settings(TASKS=IMMEDIATE), django_capture_on_commit_callbacks(execute=True):
        complete(record)
    (msg,) = messages()
    assert msg["phone"] == "139****5678"
    assert item.name in msg["text"]
    token = token_of(msg)
    inv = Invitation.objects.get(record=record)
    assert (inv.kind, inv.stage, inv.status, inv.channel) == ("invite", "complete", "sent", "sms")
    assert inv.token_hash == invitations.token_hash(token) and token not in inv.token_hash
    record.refresh_from_db()
    last = calendar.add_working_days(timezone.localtime(record.completed_at).date(), 5, record.region_id)
    assert timezone.localtime(inv.expires_at) == timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))
    assert f"{last.month}月{last.day}日前有效" in msg["text"]


def test_completion_with_the_database_backend_queues_the_task_after_commit(org, item, django_capture_on_commit_callbacks, settings):
    settings.HAOCHAPING_INVITATION_DELAY_MINUTES = 30
    record = in_progress(org, item)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        complete(record)
    assert DBTaskResult.objects.count() == 0  # nothing before the commit
    for cb in callbacks:
        cb()
    (queued,) = DBTaskResult.objects.all()
    assert queued.task_path == "haochaping.evaluation.tasks.send_invitation"
    assert queued.args_kwargs["args"] == [record.pk, "invite", 1]
    assert timedelta(minutes=29) < queued.run_after - timezone.now() <= timedelta(minutes=30)
    assert messages() == []


def test_pushing_a_completed_record_also_invites(org, item, django_capture_on_commit_callbacks):
    data = record_services.RecordInput(
        project_no="P-PUSHED-1", implementation_code=item.implementation_code, region_code=org.county.code,
        department_credit_code=org.department.credit_code, applicant_type=1, record_type="immediate", status=3,
        agency_code=org.agency.code, applicant_phone="13700001111",
        accepted_at=timezone.now() - timedelta(hours=1), completed_at=timezone.now() - timedelta(minutes=30),
    )
    with override_settings(TASKS=IMMEDIATE), django_capture_on_commit_callbacks(execute=True):
        record_services.push_record(data, source="test")
    assert [m["phone"] for m in messages()] == ["137****1111"]


def test_no_invitation_without_a_phone(org, item, django_capture_on_commit_callbacks):
    record = in_progress(org, item, applicant_phone="")
    with override_settings(TASKS=IMMEDIATE), django_capture_on_commit_callbacks(execute=True):
        complete(record)
    assert messages() == [] and not Invitation.objects.exists()
    assert invitations.send(record.pk).reason == "no_phone"


def test_no_invitation_when_already_rated(org, item):
    record = factories.make_record(org, item)
    _rate(record)
    outcome = invitations.send(record.pk)
    assert (outcome.status, outcome.reason) == ("skipped", "rated")
    assert messages() == [] and not Invitation.objects.exists()


def test_no_invitation_for_an_unfinished_record_or_after_the_period(org, item):
    assert invitations.send(in_progress(org, item).pk).reason == "not_completed"
    old = factories.make_record(org, item, accepted_at=timezone.now() - timedelta(days=40))
    assert invitations.send(old.pk).reason == "period_over"
    assert messages() == []


def test_one_reminder_after_n_working_days_then_nothing_more(org, item):
    record = factories.make_record(org, item)
    t0 = timezone.now()
    assert invitations.send(record.pk, now=t0).status == "sent"
    assert invitations.send(record.pk, now=t0).reason == "already_sent"
    assert invitations.send(record.pk, kind="reminder", now=t0 + timedelta(hours=1)).reason == "not_due"
    due = invitations.reminder_due(Invitation.objects.get(record=record, kind="invite"))
    assert calendar.working_days_between(timezone.localtime(t0).date(), timezone.localtime(due).date(), record.region_id) in (2, 3)
    reminder = invitations.send(record.pk, kind="reminder", now=due)
    assert reminder.status == "sent" and reminder.invitation.kind == "reminder"
    assert invitations.send(record.pk, kind="reminder", now=due + timedelta(days=1)).reason == "already_sent"
    texts = [m["text"] for m in messages()]
    assert len(texts) == 2 and "尚未评价" in texts[1]
    # Both links work until the period ends.
    assert {i.kind for i in Invitation.objects.filter(record=record)} == {"invite", "reminder"}


def test_reminder_is_not_sent_once_rated(org, item):
    record = factories.make_record(org, item)
    t0 = timezone.now()
    invitations.send(record.pk, now=t0)
    _rate(record)
    due = invitations.reminder_due(Invitation.objects.get(record=record))
    assert invitations.send(record.pk, kind="reminder", now=due).reason == "rated"
    assert len(messages()) == 1


def test_message_cap_per_record(org, item, settings):
    settings.HAOCHAPING_MAX_SMS_PER_RECORD = 1
    record = factories.make_record(org, item)
    t0 = timezone.now()
    invitations.send(record.pk, now=t0)
    due = invitations.reminder_due(Invitation.objects.get(record=record))
    assert invitations.send(record.pk, kind="reminder", now=due).reason == "cap"
    assert len(messages()) == 1


def test_reminder_waits_for_working_days_across_a_holiday(org, item):
    record = factories.make_record(org, item)
    t0 = timezone.now()
    invitations.send(record.pk, now=t0)
    inv = Invitation.objects.get(record=record)
    before = invitations.reminder_due(inv)
    # The next working day becomes a holiday: the reminder moves one working day later.
    next_workday = calendar.add_working_days(timezone.localtime(t0).date(), 1, record.region_id)
    CalendarDay.objects.create(date=next_workday, is_workday=False, name="临时休假")
    calendar.invalidate()
    after = invitations.reminder_due(inv)
    assert after > before
    assert invitations.send(record.pk, kind="reminder", now=before).reason == "not_due"


def test_link_expiry_follows_the_working_calendar(org, item):
    record = factories.make_record(org, item)
    plain = invitations.expiry(record)
    completed_day = timezone.localtime(record.completed_at).date()
    CalendarDay.objects.create(date=calendar.add_working_days(completed_day, 1, record.region_id), is_workday=False, name="临时休假")
    calendar.invalidate()
    assert invitations.expiry(record) > plain


def test_a_failed_send_is_recorded_and_retried_with_backoff(org, item, settings):
    record = factories.make_record(org, item)
    settings.HAOCHAPING_SMS_BACKEND = "tests.evaluation.test_invitations.FailingSender"
    assert tasks.send_invitation.call(record.pk) == "failed"
    inv = Invitation.objects.get(record=record)
    assert inv.status == "failed"
    (retry,) = DBTaskResult.objects.all()
    assert retry.args_kwargs["args"] == [record.pk, "invite", 2]
    assert timedelta(seconds=50) < retry.run_after - timezone.now() <= timedelta(minutes=1)
    # The last attempt gives up instead of queueing another.
    assert tasks.send_invitation.call(record.pk, "invite", settings.HAOCHAPING_SMS_MAX_ATTEMPTS) == "failed"
    assert DBTaskResult.objects.count() == 1
    # The gateway is back: the retry sends on the same row, with a new link.
    settings.HAOCHAPING_SMS_BACKEND = "haochaping.evaluation.sms.FileSender"
    assert tasks.send_invitation.call(record.pk, "invite", 2) == "sent"
    inv2 = Invitation.objects.get(record=record)
    assert inv2.pk == inv.pk and inv2.status == "sent" and inv2.token_hash != inv.token_hash
    assert invitations.token_hash(token_of(messages()[0])) == inv2.token_hash
    # …and queues the reminder for when it is due.
    reminder = DBTaskResult.objects.get(args_kwargs__args=[record.pk, "reminder", 1])
    assert reminder.run_after == invitations.reminder_due(inv2)


def test_backoff_grows():
    assert [tasks.backoff(n) for n in (1, 2, 3)] == [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=25)]


def test_sweep_command_is_idempotent(org, item):
    rated = factories.make_record(org, item)
    _rate(rated)
    factories.make_record(org, item, applicant_phone="")
    todo = factories.make_record(org, item)
    call_command("send_invitations")
    call_command("send_invitations")
    assert len(messages()) == 1
    assert Invitation.objects.get().record_id == todo.pk


def _rate(record):
    from haochaping.evaluation.services import EvaluationInput, submit_evaluation

    submit_evaluation(
        EvaluationInput(idempotency_key=f"t-{record.pk}", project_no=record.project_no, stage="complete", channel="pc", level=5),
        source="test",
    )
    assert Evaluation.objects.filter(record=record).exists()
