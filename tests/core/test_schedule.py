"""The scheduler of periodic tasks (core.schedule): each task's time slot is enqueued once, by whichever process
asks first."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections
from django_tasks_db.models import DBTaskResult

from haochaping.core import schedule
from haochaping.core.models import ScheduledRun

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Beijing, on a slot boundary of every interval below
EVERY_15 = {"haochaping.rectification.tasks.send_deadline_reminders", "haochaping.rectification.tasks.escalate_overdue_cases",
            "haochaping.insight.tasks.assign_pain_points", "haochaping.insight.tasks.build_pain_point_snapshots",
            "haochaping.transparency.tasks.seal_log", "haochaping.supervision.complaints.tasks.read_intake_mailboxes"}
HOURLY = {"haochaping.rectification.tasks.close_unconfirmed_cases", "haochaping.insight.tasks.generate_period_reports",
          "haochaping.exchange.tasks.fetch_received_reports"}
DAILY = {"haochaping.core.tasks.check_calendar_coverage", "haochaping.core.tasks.maintain_partitions",
         "haochaping.exchange.tasks.reconcile_with_upstreams", "haochaping.supervision.fraud.tasks.detect_fraud",
         "haochaping.supervision.sampling.tasks.draw_callback_samples",
         "haochaping.supervision.appraisal.tasks.compute_appraisal"}
# Reporting upward runs every minute (exchange: the outbox's lag is counted in minutes, not quarter hours).
EVERY_MINUTE = {"haochaping.exchange.tasks.send_outbox"}
ALL = EVERY_MINUTE | EVERY_15 | HOURLY | DAILY


def queued() -> list[str]:
    return sorted(DBTaskResult.objects.values_list("task_path", flat=True))


def test_the_registered_tasks_and_their_intervals():
    schedule.autodiscover()
    every = {p.name: p.every for p in schedule.registered()}
    assert {n: every[n] for n in ALL} == {
        **dict.fromkeys(EVERY_15, timedelta(minutes=15)), **dict.fromkeys(HOURLY, timedelta(hours=1)),
        **dict.fromkeys(DAILY, timedelta(days=1)), **dict.fromkeys(EVERY_MINUTE, timedelta(minutes=1)),
    }


def test_every_periodic_task_is_in_the_operations_manual_with_its_interval():
    """An operator reads docs/operations.md to know what stops when the worker stops: no task may be missing."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([a-z_.]+)` \| ([^|]+?) \|", text, flags=re.MULTILINE))
    words = {timedelta(minutes=1): "1 分钟", timedelta(minutes=15): "15 分钟", timedelta(hours=1): "1 小时",
             timedelta(days=1): "1 天"}
    schedule.autodiscover()
    listed = {p.name.removeprefix("haochaping."): words[p.every] for p in schedule.registered()}
    assert {name: rows.get(name) for name in listed} == listed


def test_a_slot_is_floor_of_time_over_interval():
    p = schedule.Periodic(task=None, every=timedelta(minutes=15))
    assert p.slot(T0) == int(T0.timestamp()) // 900
    assert p.slot(T0 + timedelta(minutes=14, seconds=59)) == p.slot(T0)
    assert p.slot(T0 + timedelta(minutes=15)) == p.slot(T0) + 1


@pytest.mark.django_db
def test_each_slot_is_enqueued_once():
    assert set(schedule.enqueue_due(T0)) == ALL
    assert queued() == sorted(ALL)
    # Later in the same slots: nothing more (but the every-minute task's next minute).
    assert schedule.enqueue_due(T0 + timedelta(seconds=59)) == []
    assert set(schedule.enqueue_due(T0 + timedelta(minutes=14))) == EVERY_MINUTE
    assert len(queued()) == len(ALL) + len(EVERY_MINUTE)
    # The next quarter hour: the 15-minute tasks (and the every-minute one); the next hour: those and the hourly.
    assert set(schedule.enqueue_due(T0 + timedelta(minutes=15))) == EVERY_15 | EVERY_MINUTE
    assert set(schedule.enqueue_due(T0 + timedelta(hours=1, minutes=1))) == EVERY_15 | HOURLY | EVERY_MINUTE
    assert set(schedule.enqueue_due(T0 + timedelta(days=1))) == ALL
    assert len(queued()) == (len(ALL) + len(EVERY_MINUTE) + len(EVERY_15 | EVERY_MINUTE)
                             + len(EVERY_15 | HOURLY | EVERY_MINUTE) + len(ALL))
    run = ScheduledRun.objects.get(name="haochaping.core.tasks.check_calendar_coverage")
    assert run.slot == int((T0 + timedelta(days=1)).timestamp()) // 86400
    assert DBTaskResult.objects.filter(id=run.task_id).exists()


@pytest.mark.django_db
def test_a_worker_down_for_hours_enqueues_each_task_once_when_back():
    schedule.enqueue_due(T0)
    assert set(schedule.enqueue_due(T0 + timedelta(hours=5))) == EVERY_15 | HOURLY | EVERY_MINUTE
    assert len(queued()) == len(ALL) + len(EVERY_15 | HOURLY | EVERY_MINUTE)


@pytest.mark.django_db
def test_a_clock_going_back_enqueues_nothing():
    schedule.enqueue_due(T0)
    assert schedule.enqueue_due(T0 - timedelta(hours=2)) == []


def test_only_tasks_at_most_once_a_minute_are_accepted():
    from haochaping.core.tasks import check_calendar_coverage

    with pytest.raises(ValueError):
        schedule.register(check_calendar_coverage, timedelta(seconds=30))
    with pytest.raises(TypeError):
        schedule.register(lambda: None, timedelta(hours=1))


@pytest.mark.pg_only
@pytest.mark.django_db(transaction=True)
def test_two_processes_at_the_same_moment_enqueue_each_slot_once():
    """Two schedulers (threads with their own connections, like two worker processes) race on a fresh table."""
    if connections["default"].vendor != "postgresql":
        pytest.fail("needs PostgreSQL (DATABASE_URL=postgres://...)")
    barrier = threading.Barrier(4)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def race():
        try:
            barrier.wait(timeout=10)
            results.append(schedule.enqueue_due(T0))
        except BaseException as e:  # reported below
            errors.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=race) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    enqueued = [name for names in results for name in names]
    assert sorted(enqueued) == sorted(ALL)  # every task once, by one of the four
    assert queued() == sorted(ALL)
    assert ScheduledRun.objects.count() == len(ALL)
