"""Periodic tasks: which django-tasks task runs how often, and enqueuing those whose time has come.

A task is registered with an interval (``@periodic(every=timedelta(minutes=15))`` on a ``@task`` function, or
``register(task, every)``). Time is cut into slots of that length counted from the Unix epoch (UTC), so a daily
task's slot starts at 08:00 Beijing time. :func:`enqueue_due` enqueues every task whose current slot has not been
enqueued yet and records the slot in its :class:`~haochaping.core.models.ScheduledRun` row, locked while it does
so: any number of worker processes may call it at any time and each slot is enqueued once. A worker that was down
for several slots enqueues the task once when it comes back, not once per missed slot.

The ``worker`` command (core/management/commands/worker.py) calls :func:`enqueue_due` at start and every minute.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    task: object  # a django_tasks Task
    every: timedelta

    @property
    def name(self) -> str:
        return self.task.module_path

    def slot(self, now: datetime) -> int:
        """The number of the time slot ``now`` falls in (floor(now / every), both from the epoch)."""
        return int(now.timestamp() // self.every.total_seconds())


_registry: dict[str, Periodic] = {}


def register(task, every: timedelta) -> None:
    """Run ``task`` (a django-tasks task taking no arguments) once per ``every``."""
    if not hasattr(task, "enqueue") or not hasattr(task, "module_path"):
        raise TypeError("register() takes a django-tasks task (apply @task() first)")
    if every.total_seconds() < 60:
        raise ValueError("a periodic task runs at most once a minute")
    _registry[task.module_path] = Periodic(task, every)


def periodic(*, every: timedelta):
    """Decorator form of :func:`register`, applied on top of ``@task()``."""

    def decorate(task):
        register(task, every)
        return task

    return decorate


def registered() -> list[Periodic]:
    """The registered periodic tasks, by name."""
    return [_registry[name] for name in sorted(_registry)]


def autodiscover() -> None:
    """Import every installed app's ``tasks`` module, where periodic tasks register themselves."""
    autodiscover_modules("tasks")
    from .tasks import check_calendar_coverage, maintain_partitions

    # Operators learn about a missing holiday arrangement the day it matters, not when a deadline is wrong.
    if check_calendar_coverage.module_path not in _registry:
        register(check_calendar_coverage, timedelta(days=1))
    # PostgreSQL: next months' partitions of 办件 and evaluations exist before their first row (core.partitions).
    if maintain_partitions.module_path not in _registry:
        register(maintain_partitions, timedelta(days=1))


_frequent: dict[str, object] = {}


def frequent(job):
    """Register ``job`` (a function without arguments) to run every few seconds in every running worker, outside
    the task queue: short work that is safe to run from several workers at once and whose effect must not wait for
    the next minute (insight's pending counts). Decorator; the job's own module is found by :func:`autodiscover`."""
    _frequent[f"{job.__module__}.{job.__qualname__}"] = job
    return job


def run_frequent() -> None:
    """Run every :func:`frequent` job once; a failing job is logged and the others still run."""
    autodiscover()
    for name in sorted(_frequent):
        try:
            _frequent[name]()
        except Exception:
            log.exception("frequent job %s failed", name)


def quiet_for(now: datetime | None = None) -> timedelta | None:
    """How long since any periodic task was last enqueued: a worker runs the scheduler every minute and the most
    frequent task is due every 15 minutes, so a long silence means no worker (or cron ``worker --batch``) is
    running. None when nothing was ever enqueued (a new installation; the health endpoint stays quiet then)."""
    from django.db.models import Max

    from .models import ScheduledRun

    last = ScheduledRun.objects.aggregate(last=Max("enqueued_at"))["last"]
    if last is None:
        return None
    return max((now or timezone.now()) - last, timedelta(0))


def enqueue_due(now: datetime | None = None) -> list[str]:
    """Enqueue each periodic task whose current slot has not been enqueued yet; returns their names.

    Each task is claimed in its own transaction on its locked ScheduledRun row, so two processes calling this at
    the same moment enqueue each slot once, and one task failing to enqueue does not hold back the others."""
    from .models import ScheduledRun

    autodiscover()
    now = now or timezone.now()
    entries = registered()
    if not entries:
        return []
    names = [p.name for p in entries]
    existing = set(ScheduledRun.objects.filter(name__in=names).values_list("name", flat=True))
    if len(existing) < len(names):
        ScheduledRun.objects.bulk_create(
            [ScheduledRun(name=n) for n in names if n not in existing], ignore_conflicts=True
        )
    enqueued: list[str] = []
    for entry in entries:
        slot = entry.slot(now)
        try:
            with transaction.atomic():
                run = ScheduledRun.objects.select_for_update().get(name=entry.name)
                if run.slot >= slot:
                    continue
                result = entry.task.enqueue()
                run.slot = slot
                run.enqueued_at = now
                run.task_id = str(getattr(result, "id", ""))[:64]
                run.save(update_fields=["slot", "enqueued_at", "task_id"])
        except Exception:
            log.exception("could not enqueue periodic task %s", entry.name)
            continue
        enqueued.append(entry.name)
    if enqueued:
        log.info("enqueued periodic tasks: %s", ", ".join(enqueued))
    return enqueued
