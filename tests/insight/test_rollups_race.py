"""Simultaneous writers bump the same counter: the upsert, not luck, keeps every one (PostgreSQL, `make test-pg`)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from haochaping.insight import rollups
from haochaping.insight.models import DailyCounter

from .helpers import completed_record, exclude, rate

pytestmark = [pytest.mark.pg_only, pytest.mark.django_db(transaction=True)]

WRITERS = 8


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.fail("needs PostgreSQL (marked pg_only: runs in make test-pg): run with DATABASE_URL=postgres://…")


def race(fn, args):
    barrier = threading.Barrier(len(args))

    def run(arg):
        try:
            barrier.wait(timeout=30)
            return fn(arg)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(len(args)) as pool:
        return list(pool.map(run, args))


def test_simultaneous_evaluations_into_one_counter_are_all_counted(org, item):
    records = [completed_record(org, item) for _ in range(WRITERS)]
    evaluations = race(lambda r: rate(r, 5, channel="kiosk"), records)
    assert len({e.pk for e in evaluations}) == WRITERS
    assert list(DailyCounter.objects.values_list("count", flat=True)) == [WRITERS]
    assert rollups.rebuild(apply=False).differing == 0


def test_simultaneous_exclusions_and_writes_keep_counters_exact(org, item):
    first = [rate(completed_record(org, item), 1) for _ in range(WRITERS // 2)]
    fresh = [completed_record(org, item) for _ in range(WRITERS // 2)]
    race(lambda job: exclude(job[1]) if job[0] == "x" else rate(job[1], 1),
         [("x", e) for e in first] + [("w", r) for r in fresh])
    counts = dict(DailyCounter.objects.values_list("excluded", "count"))
    assert counts == {False: WRITERS // 2, True: WRITERS // 2}
    assert rollups.rebuild(apply=False).differing == 0


def test_simultaneous_first_evaluations_of_one_record_rate_it_once(org, item):
    """Two evaluations of one completed 办件 (受理 and 办结 stages) at once: each sees no other committed evaluation,
    but the 办件's row lock makes the second look again after the first commits, so it is rated once."""
    from haochaping.insight.rollups import participation as participation

    from .test_rollups_participation import evaluate

    for _ in range(3):
        record = completed_record(org, item)
        race(lambda stage, record=record: evaluate(record, stage=stage, channel="pc"), ["accept", "complete"])
    assert participation.stored() == participation.expected()
    assert {r for r in participation.stored().values()} == {(3, 3), (0, 3)}
    assert rollups.rebuild(apply=False).agrees


def test_an_evaluation_racing_the_completion_is_counted(org, item):
    """An evaluation of the 受理 stage submitted while the 办件 is being completed: whichever commits second counts
    the 办件 as rated."""
    from django.utils import timezone

    from haochaping.insight.rollups import participation as participation
    from haochaping.records import services as record_services
    from tests import factories

    from .test_rollups_participation import evaluate

    def act(arg):
        kind, record = arg
        if kind == "complete":
            record_services.update_record(record.project_no, {"status": 3, "completed_at": timezone.now()}, actor="t")
        else:
            evaluate(record, stage="accept", channel="qr")

    for _ in range(4):
        record = factories.make_record(org, item, completed=False)
        race(act, [("complete", record), ("rate", record)])
    assert participation.stored() == participation.expected()
    assert sum(r for (c, r) in (v for k, v in participation.stored().items() if k[-1] == "")) == 4
    assert rollups.rebuild(apply=False).agrees


def test_a_check_reads_one_snapshot_and_does_not_hold_up_writers(org, item, monkeypatch):
    """``rebuild_rollups --check`` in the middle of the day: an evaluation submitted while it runs is neither held
    up (a rebuild's table locks would block it) nor half-seen (a false difference between counters read before and
    after it)."""
    from haochaping.insight.rollups import participation as participation

    rate(completed_record(org, item), 5)
    fresh = completed_record(org, item)
    real_compare = participation.compare
    written = []

    def compare_while_someone_writes(*args, **kwargs):
        def write():
            try:
                return rate(fresh, 1, channel="kiosk")
            finally:
                connections.close_all()

        pool = ThreadPoolExecutor(1)
        try:
            written.append(pool.submit(write).result(timeout=20))  # a lock would make this time out
        finally:
            pool.shutdown(wait=False)  # a blocked writer goes on once the check's transaction ends
        return real_compare(*args, **kwargs)

    monkeypatch.setattr(participation, "compare", compare_while_someone_writes)
    report = rollups.rebuild(apply=False)
    assert written and written[0].pk
    assert report.agrees and report.evaluations == 1  # the snapshot from before the write, and consistent
    monkeypatch.undo()
    after = rollups.rebuild(apply=False)
    assert after.agrees and after.evaluations == 2


def test_case_writers_beside_a_case_rebuild_neither_deadlock_nor_drift(org, item):
    """差评 (each opening a case) and changes to open cases, while the case counters are rebuilt: every writer and
    the rebuild finish (a writer takes the tally's table lock before any tally row, see rollups.cases._lock_tally),
    and the counters agree with the cases afterwards."""
    from haochaping.insight.rollups.rebuilding import rebuild_cases
    from haochaping.rectification.models import RectificationCase

    existing = [RectificationCase.objects.get(evaluation=rate(completed_record(org, item), 1))
                for _ in range(WRITERS // 2)]
    fresh = [completed_record(org, item) for _ in range(WRITERS // 2 - 1)]

    def job(work):
        kind, target = work
        if kind == "rebuild":
            return rebuild_cases(None, None)
        if kind == "call_back":
            from django.db import transaction
            from django.utils import timezone

            with transaction.atomic():
                case = RectificationCase.objects.select_for_update().get(pk=target.pk)
                case.state, case.callback_at = "called_back", timezone.now()
                case.save(update_fields=["state", "callback_at"])
            return None
        return rate(target, 1)

    race(job, [("rebuild", None)] + [("call_back", c) for c in existing] + [("rate", r) for r in fresh])
    assert rebuild_cases(None, None, apply=False)[1] == 0
    assert RectificationCase.objects.count() == WRITERS - 1
