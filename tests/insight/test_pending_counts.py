"""A single submit's counting waits in insight_pendingcount and is added later (PostgreSQL, `make test-pg`;
insight.rollups.pending): the counters read the same as if every submit had counted itself, whatever happened
in between, and nothing is counted twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from haochaping.core import schedule
from haochaping.evaluation.models import EvaluationType
from haochaping.insight import metrics, rollups, tasks
from haochaping.insight.metrics import StatsFilter
from haochaping.insight.models import DailyCounter, Suggestion
from haochaping.insight.rollups import participation
from haochaping.records import services as record_services
from tests import factories

from .helpers import completed_record, exclude, rate
from .test_rollups_participation import _root, evaluate, raw_participation
from .test_rollups_race import race

pytestmark = [pytest.mark.pg_only]


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.fail("needs PostgreSQL (marked pg_only: runs in make test-pg): run with DATABASE_URL=postgres://…")


def raw(sql: str) -> int:
    """Straight from the tables, past the router that counts the pending rows before a read."""
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def waiting() -> int:
    return raw("SELECT count(*) FROM insight_pendingcount")


def counted() -> int:
    return raw("SELECT coalesce(sum(count), 0) FROM insight_dailycounter")


@pytest.mark.django_db
def test_a_submit_waits_to_be_counted_and_the_next_read_counts_it(org, item):
    rate(completed_record(org, item), 5, channel="kiosk")
    assert (waiting(), counted()) == (1, 0)
    assert DailyCounter.objects.get().count == 1  # an ORM read of a counter table counts what waits first
    assert (waiting(), counted()) == (0, 1)
    total = metrics.figures(_root(), StatsFilter()).total
    assert (total.tally.valid, total.completed, total.rated) == (1, 1, 1)


@pytest.mark.django_db
def test_counting_later_comes_out_as_counting_at_once_whatever_happened_in_between(org, item):
    now = timezone.now()
    rated_first = completed_record(org, item)
    rate(rated_first, 5, channel="pc")
    rate(rated_first, 4, channel="kiosk", type_=EvaluationType.FOLLOWUP)  # rated already: only its channel row
    open_record = factories.make_record(org, item, completed=False)
    evaluate(open_record, stage="accept", channel="qr")  # not completed: its completion will count it
    moved = factories.make_record(org, item, accepted_at=now - timedelta(days=3))
    rate(moved, 5, channel="mobile")
    rate(completed_record(org, item), 3, questionnaire={"guide_clear": True, "suggestions": "希望多开窗口"})
    assert waiting() == 5 and counted() == 0
    # While those wait: a completion and a corrected completion time move 参评率 counts of 办件 whose
    # evaluations are not counted yet.
    record_services.update_record(open_record.project_no, {"status": 3, "completed_at": now - timedelta(minutes=5)},
                                  actor="test")
    record_services.update_record(moved.project_no, {"completed_at": now - timedelta(days=2)}, actor="test")
    assert waiting() == 5
    # An exclusion counts what waits first, so the suggestion it removes is there to remove.
    withdrawn = rate(completed_record(org, item), 1, questionnaire={"suggestions": "恶意内容"})
    exclude(withdrawn)
    assert waiting() == 0
    assert rollups.stored() == rollups.expected()
    assert participation.stored() == participation.expected() == raw_participation()
    assert list(Suggestion.objects.values_list("text", flat=True)) == ["希望多开窗口"]
    assert rollups.rebuild(apply=False).agrees


@pytest.mark.django_db(transaction=True)
def test_a_check_counts_what_waits_and_a_rebuild_never_counts_it_twice(org, item):
    for level in (5, 4, 1):
        rate(completed_record(org, item), level)
    assert waiting() == 3
    report = rollups.rebuild(apply=False)  # outside any transaction: one snapshot, taken once nothing waits
    assert report.agrees and report.evaluations == 3
    assert waiting() == 0
    for level in (5, 2):
        rate(completed_record(org, item), level)
    assert waiting() == 2
    report = rollups.rebuild()  # under its locks: counts what waits, then recounts from the evaluations
    assert report.evaluations == 5 and report.differing == 0
    assert (waiting(), counted()) == (0, 5)
    assert rollups.rebuild(apply=False).agrees


@pytest.mark.django_db
def test_the_worker_counts_what_waits_every_few_seconds(org, item):
    rate(completed_record(org, item), 5)
    rate(completed_record(org, item), 2)
    schedule.run_frequent()  # what every running worker does every few seconds (--frequent-interval)
    assert (waiting(), counted()) == (0, 2)
    assert tasks.fold_pending_counts() == 0


@pytest.mark.django_db
def test_the_health_endpoint_says_when_evaluations_wait_too_long_to_be_counted(org, item):
    client = Client()
    assert client.get("/api/v1/health").json()["counting_lag_seconds"] is None
    rate(completed_record(org, item), 5)
    with connection.cursor() as cursor:  # as if no worker had run for an hour
        cursor.execute("UPDATE insight_pendingcount SET queued_at = now() - interval '1 hour'")
    body = client.get("/api/v1/health").json()
    assert body["status"] == "degraded" and body["counting_lag_seconds"] >= 3600
    assert any("未计入统计计数" in p and "worker" in p for p in body["problems"])
    tasks.fold_pending_counts()
    body = client.get("/api/v1/health").json()
    assert body["counting_lag_seconds"] is None and not any("统计计数" in p for p in body["problems"])


@pytest.mark.django_db(transaction=True)
def test_submits_and_reads_at_once_end_with_every_evaluation_counted_once(org, item):
    records = [completed_record(org, item) for _ in range(24)]
    done = threading.Event()
    reads = []

    def reader(_):
        try:
            while not done.is_set():  # every read counts what waits, while submits go on
                reads.append(DailyCounter.objects.aggregate(n=Sum("count"))["n"] or 0)
        finally:
            connections.close_all()

    def writer(batch):
        for record in batch:
            rate(record, 5 if record.pk % 3 else 1, channel="kiosk")

    thread = threading.Thread(target=reader, args=(None,))
    thread.start()
    try:
        race(writer, [records[i::6] for i in range(6)])
    finally:
        done.set()
        thread.join(timeout=60)
    assert reads and reads == sorted(reads) and max(reads) <= 24  # never more than were written, never less later
    assert DailyCounter.objects.aggregate(n=Sum("count"))["n"] == 24
    assert rollups.rebuild(apply=False).agrees
