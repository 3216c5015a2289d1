"""The fraud detectors run once a day from the worker (core.schedule) and file findings for supervisors."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from haochaping.core.schedule import periodic

from . import services


@periodic(every=timedelta(days=1))
@task()
def detect_fraud() -> int:
    """Run every fraud detector over the last period; returns how many new findings were filed."""
    return len(services.detect().created)
