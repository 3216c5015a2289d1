"""Escalation by the worker: `haochaping worker --batch` enqueues the periodic tasks that are due and runs them,
so an overdue case is escalated without anyone asking."""

from __future__ import annotations

import io
import signal
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from haochaping.core import schedule
from haochaping.core.management.commands import worker as worker_command
from haochaping.core.models import ScheduledRun
from haochaping.rectification.models import CaseNotice, RectificationCase

from .conftest import submit

# The worker commits as it goes and closes connections it finds inside a transaction (close_old_connections), as
# a real worker process does: these tests run on committed data, not in a rolled-back test transaction.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _keep_signal_handlers():
    # db_worker installs its own SIGINT/SIGTERM handlers; give pytest its own back afterwards.
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)



@pytest.fixture
def overdue_case(record, people):
    people["supervisor"].email = "sup@example.gov.cn"
    people["supervisor"].save()
    case = RectificationCase.objects.get(pk=submit(record).case_id)
    # Opened three weeks ago: every deadline but the 限期整改 one has passed unmet.
    past = case.opened_at - timedelta(days=21)
    RectificationCase.objects.filter(pk=case.pk).update(
        opened_at=past, callback_due=past.date() + timedelta(days=1), fix_now_due=past.date() + timedelta(days=7),
        rectify_due=past.date() + timedelta(days=30))
    return case


def run_worker(**options) -> str:
    out = io.StringIO()
    call_command("worker", batch=True, startup_delay=False, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def test_the_worker_escalates_an_overdue_case_by_itself(overdue_case):
    run_worker()
    notices = CaseNotice.objects.filter(case=overdue_case, kind="escalation")
    assert sorted(notices.values_list("deadline", flat=True)) == ["callback", "handling"]
    overdue_case.refresh_from_db()
    assert overdue_case.escalated_at is not None and overdue_case.state == "open"
    assert [m.to for m in mail.outbox] == [["sup@example.gov.cn"], ["sup@example.gov.cn"]]
    # Every periodic task was enqueued once and ran successfully.
    results = DBTaskResult.objects.all()
    assert sorted(r.task_path for r in results) == sorted(ScheduledRun.objects.values_list("name", flat=True))
    assert {r.status for r in results} == {"SUCCESSFUL"}
    escalation = results.get(task_path="haochaping.rectification.tasks.escalate_overdue_cases")
    assert escalation.return_value == 2


def test_a_second_batch_in_the_same_slot_does_nothing_more(overdue_case):
    # Both runs in one slot of every task, the one-minute outbox sender's included: the clock stands still (on a
    # loaded machine two runs could straddle a minute and rightly enqueue the sender twice).
    with time_machine.travel(timezone.now(), tick=False):
        run_worker()
        run_worker()
    assert DBTaskResult.objects.count() == ScheduledRun.objects.count() == len(schedule.registered())
    assert CaseNotice.objects.count() == 2 and len(mail.outbox) == 2


def test_no_schedule_only_runs_what_is_queued(overdue_case):
    run_worker(no_schedule=True)
    assert not DBTaskResult.objects.exists() and not CaseNotice.objects.exists()
    from haochaping.rectification.tasks import escalate_overdue_cases

    escalate_overdue_cases.enqueue()
    run_worker(no_schedule=True)
    assert CaseNotice.objects.filter(case=overdue_case).count() == 2
    assert not ScheduledRun.objects.exists()


def test_the_scheduler_thread_calls_enqueue_due_until_stopped_and_closes_its_connections(monkeypatch):
    calls, closed = [], []
    twice = threading.Event()

    def fake_enqueue_due():
        calls.append(threading.current_thread().name)
        if len(calls) >= 2:
            twice.set()
        if len(calls) == 1:
            raise RuntimeError("database away")  # logged; the next round still runs
        return []

    monkeypatch.setattr(worker_command.schedule, "enqueue_due", fake_enqueue_due)
    monkeypatch.setattr(worker_command.connections, "close_all", lambda: closed.append(1))
    scheduler = worker_command.Scheduler(0.01)
    scheduler.start()
    assert twice.wait(5)
    scheduler.stop()
    scheduler.join(5)
    assert not scheduler.is_alive() and scheduler.daemon
    assert set(calls) == {"haochaping-scheduler"} and len(closed) >= 2


def test_the_schedule_interval_is_checked():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("worker", "--batch", "--schedule-interval", "0", stdout=io.StringIO())
