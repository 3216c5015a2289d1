"""What GET /api/v1/health tells whoever is on call beyond the database and the outbox: no worker running (no
periodic task enqueued for too long), a read replica that is no longer a standby, a month without its partition
and rows waiting in a DEFAULT partition (PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from haochaping.core import partitions, replicas
from haochaping.core.models import ScheduledRun
from tests import factories

from .test_partitions import evaluation, months_apart, needs_pg

pytestmark = pytest.mark.django_db
HEALTH = "/api/v1/health"


def test_no_periodic_task_enqueued_for_an_hour_means_no_worker(client, settings):
    settings.HAOCHAPING_SCHEDULE_ALERT_SECONDS = 3600
    assert client.get(HEALTH).json()["problems"] == []  # nothing ever enqueued: a new installation
    run = ScheduledRun.objects.create(name="core.tasks.check_calendar_coverage", slot=1,
                                      enqueued_at=timezone.now() - timedelta(minutes=70))
    body = client.get(HEALTH).json()
    assert body["status"] == "degraded"
    assert [p for p in body["problems"] if "定时任务已" in p and "haochaping worker 可能没有运行" in p], body
    ScheduledRun.objects.filter(pk=run.pk).update(enqueued_at=timezone.now() - timedelta(minutes=20))
    assert client.get(HEALTH).json()["status"] == "ok"


def test_a_replica_that_is_not_a_standby_is_reported(client, monkeypatch):
    promoted = {"status": "ok", "reads": "replica", "lag_seconds": 0.0, "lag_bytes": 0, "replay_paused": False,
                "in_recovery": False}
    monkeypatch.setattr(replicas, "status", lambda: promoted)
    body = client.get(HEALTH).json()
    assert body["status"] == "degraded" and "只读副本不是备库" in body["problems"][0], body
    monkeypatch.setattr(replicas, "status", lambda: {**promoted, "in_recovery": True})
    assert client.get(HEALTH).json()["status"] == "ok"


@pytest.mark.pg_only
def test_a_missing_months_partition_and_rows_in_a_default_partition_are_reported(org, item, client):
    needs_pg()
    assert partitions.problems() == []
    # Months later without the worker's upkeep: this month's and next month's partitions are missing.
    later = months_apart(partitions.MONTHS_AHEAD + 2)
    month = date(later.year, later.month, 1)
    found = partitions.problems(later)
    expected = f"{month:%Y-%m}、{partitions.next_month(month):%Y-%m}"
    assert found == [f"办件表缺少 {expected} 的分区（分区维护未运行）", f"评价表缺少 {expected} 的分区（分区维护未运行）"]
    # A write in a month with no partition lands in the DEFAULT partition: reported until the upkeep moves it.
    far = months_apart(partitions.MONTHS_AHEAD + 6)
    with time_machine.travel(far, tick=False):
        record = factories.make_record(org, item)
    evaluation(record, at=far)
    body = client.get(HEALTH).json()
    assert body["status"] == "degraded"
    assert [p for p in body["problems"] if "默认分区中有数据" in p] == [
        "办件表的默认分区中有数据（所属月份的分区尚未建立，待分区维护移入）",
        "评价表的默认分区中有数据（所属月份的分区尚未建立，待分区维护移入）",
    ]
    partitions.maintain()
    assert partitions.problems() == []

