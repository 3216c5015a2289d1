"""Last month's callback samples are drawn by the worker (core.schedule) once a day; a day whose month already
has its samples adds nothing (services.draw_sample is idempotent)."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from haochaping.core.schedule import periodic

from . import services


@periodic(every=timedelta(days=1))
@task()
def draw_callback_samples() -> int:
    """Draw every unit's sample of the last calendar month; returns how many samples were new."""
    return sum(1 for d in services.draw_last_month() if d.created)
