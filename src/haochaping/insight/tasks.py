"""Background tasks of insight, run by ``haochaping worker`` on a schedule (core.schedule).

Reports (R5.2): every hour the worker makes the previous month's, quarter's and year's reports of each province,
city and county with a management agency that does not have them yet — so they appear in the first hour of the
1st of the month (of the quarter, of the year), and a worker that was down catches up when it comes back. A run
with nothing to make costs three small queries."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from haochaping.core.schedule import frequent, periodic


def _snapshot_minutes() -> int:
    from django.conf import settings

    return max(1, int(getattr(settings, "HAOCHAPING_PAINPOINTS_SNAPSHOT_MINUTES", 15)))


@periodic(every=timedelta(hours=1))
@task()
def generate_period_reports() -> int:
    """The previous period's reports not made yet; returns how many were made."""
    from .reports.services import generate_due_reports

    return generate_due_reports()


@periodic(every=timedelta(minutes=15))
@task()
def assign_pain_points() -> int:
    """Classify the bad reviews not classified yet into pain-point kinds (R5.1); returns how many. The pages and
    the API read the stored assignments, so they never run the model."""
    from .painpoints.services import assign_pending

    return assign_pending()


@periodic(every=timedelta(minutes=_snapshot_minutes()))
@task()
def build_pain_point_snapshots() -> int:
    """The pain-point page's default view of each whole-region scope, analysed now and stored (issue 14): the page
    reads one row instead of up to 100,000 bad reviews. Runs on its own schedule
    (``HAOCHAPING_PAINPOINTS_SNAPSHOT_MINUTES``, default 15); returns how many snapshots were stored."""
    from .painpoints.services import build_snapshots

    return build_snapshots()


@frequent
def fold_pending_counts() -> int:
    """Count the single submits still pending (rollups.pending) into the counters, every few seconds in every
    worker, so figures read from the replica lag by seconds and the table stays small; returns how many. Readers
    on the primary count what is pending for themselves."""
    from .rollups import pending

    return pending.fold()
