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
