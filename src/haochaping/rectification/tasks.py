"""Background tasks of rectification, run by ``haochaping worker`` on a schedule (core.schedule): reminders and
escalation every 15 minutes, answered cases the evaluator did not confirm closed every hour."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from haochaping.core.schedule import periodic
from haochaping.rectification.services import deadlines


@periodic(every=timedelta(minutes=15))
@task()
def send_deadline_reminders() -> int:
    """Reminders of deadlines with at most one working day left; returns how many were written."""
    return deadlines.send_reminders()


@periodic(every=timedelta(minutes=15))
@task()
def escalate_overdue_cases() -> int:
    """Escalations of deadlines passed unmet (cases and appeal reviews); returns how many were written."""
    return deadlines.escalate_overdue()


@periodic(every=timedelta(hours=1))
@task()
def close_unconfirmed_cases() -> int:
    """Answered cases past their satisfaction deadline, closed by the system; returns how many."""
    return deadlines.close_unconfirmed()
