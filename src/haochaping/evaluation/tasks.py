"""Background tasks of the evaluation app, run by `haochaping worker`: SMS invitations and reminders (R3.3).

A failed send is retried by the task itself with growing pauses (1, 5, 25 … minutes), at most
HAOCHAPING_SMS_MAX_ATTEMPTS attempts. Backends that cannot defer a task (django-tasks' ImmediateBackend) get no
deferred work; `haochaping send_invitations` from cron catches up on anything left.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

log = logging.getLogger(__name__)

BACKOFF_MINUTES = 1
BACKOFF_FACTOR = 5


def backoff(attempt: int) -> timedelta:
    """Pause before attempt ``attempt + 1`` (attempts count from 1)."""
    return timedelta(minutes=BACKOFF_MINUTES * BACKOFF_FACTOR ** (attempt - 1))


def _enqueue(task_obj, run_after: datetime | None, *args) -> bool:
    """Enqueue now or at ``run_after``; False when the backend cannot defer and the time is still ahead."""
    if run_after is not None and run_after > timezone.now():
        if not task_obj.get_backend().supports_defer:
            log.info("task %s not deferred (backend cannot defer); the send_invitations sweep will catch up", task_obj.name)
            return False
        task_obj.using(run_after=run_after).enqueue(*args)
    else:
        task_obj.enqueue(*args)
    return True


def schedule_invitation(record_id: int) -> None:
    """Queue the invitation of a just-completed 办件 (after HAOCHAPING_INVITATION_DELAY_MINUTES)."""
    delay = settings.HAOCHAPING_INVITATION_DELAY_MINUTES
    _enqueue(send_invitation, timezone.now() + timedelta(minutes=delay) if delay else None, record_id, "invite", 1)


@task()
def send_invitation(record_id: int, kind: str = "invite", attempt: int = 1) -> str:
    """Send one invitation or reminder; on success of an invitation, queue its reminder; on failure, retry later."""
    from . import invitations
    from .models import Invitation

    outcome = invitations.send(record_id, kind=kind)
    if outcome.status == "sent" and kind == "invite":
        _enqueue(send_invitation, invitations.reminder_due(outcome.invitation), record_id, "reminder", 1)
    elif outcome.status == "failed":
        if attempt < settings.HAOCHAPING_SMS_MAX_ATTEMPTS:
            _enqueue(send_invitation, timezone.now() + backoff(attempt), record_id, kind, attempt + 1)
        else:
            log.error("invitation %s for record_id=%s gave up after %s attempts", kind, record_id, attempt)
    elif outcome.reason == "not_due":
        # Enqueued early (e.g. the calendar gained a holiday since): try again when it is due.
        invite = Invitation.objects.filter(record_id=record_id, stage="complete", kind="invite").first()
        if invite is not None:
            _enqueue(send_invitation, invitations.reminder_due(invite), record_id, kind, attempt)
    return outcome.status
