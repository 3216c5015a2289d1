"""Background tasks of the core app, run by `haochaping worker`."""

from __future__ import annotations

import logging

from django.utils import timezone
from django_tasks import task

log = logging.getLogger(__name__)


@task()
def check_calendar_coverage(years_ahead: int = 1) -> list[int]:
    """Years from this one to ``years_ahead`` later that have no published holiday arrangement.

    Deadlines set in December already land in the next year, so operators need to know before the year turns.
    """
    from . import calendar

    this_year = timezone.localdate().year
    missing = [y for y in range(this_year, this_year + years_ahead + 1) if calendar.is_fallback_year(y)]
    for year in missing:
        log.warning("holiday arrangement for %s not entered: deadlines count Monday-Friday only", year)
    return missing


@task()
def maintain_partitions() -> dict:
    """PostgreSQL: create the monthly partitions of 办件 and evaluations ahead, and move rows that a missing
    partition sent to the DEFAULT partition into their month's own (core.partitions; a no-op on SQLite)."""
    from . import partitions

    done = partitions.maintain()
    if done.created:
        log.info("partitions created: %s; rows moved out of DEFAULT partitions: %s", ", ".join(done.created), done.moved)
    return {"created": done.created, "moved": done.moved}
