"""The worker reads the intake mailboxes every quarter hour (core.schedule)."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from haochaping.core.schedule import periodic

from . import mail


@periodic(every=timedelta(minutes=15))
@task()
def read_intake_mailboxes() -> int:
    """Read every active intake mailbox; returns how many complaints were registered."""
    return mail.poll_all().accepted
