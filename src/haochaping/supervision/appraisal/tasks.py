"""The appraisal of last month is (re)computed once a day from the worker (core.schedule): cases handled and
assessments accepted after the month's end still count for the month they belong to."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from haochaping.core.schedule import periodic

from . import services


@periodic(every=timedelta(days=1))
@task()
def compute_appraisal() -> int:
    """Last month's appraisal of every department; returns how many units were appraised."""
    return services.compute_last_month()
