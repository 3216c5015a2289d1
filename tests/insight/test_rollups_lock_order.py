"""Every writer of the counters takes their tables in an order that cannot deadlock against ``rebuild_rollups``
(PostgreSQL, `make test-pg`).

A rebuild locks its tables one after the other (rollups.rebuilding: the pending counts, then LOCKED; the case
counters in a transaction of their own, rollups.cases.MODELS). A writer deadlocks against it exactly when it can
block on a table the rebuild holds while it already holds one the rebuild has yet to take. So for every writer and
every prefix of the rebuild's order, another connection holds that prefix while the writer runs; when the writer
blocks, it must hold none of the later tables. A 差评 that opened a case once locked the case day counter before
the tally, and the CI run of 2026-12-07 ended in ``deadlock detected``."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from haochaping.evaluation import intake
from haochaping.evaluation.services import EvaluationInput
from haochaping.insight.models import MONTHLY, PendingCount
from haochaping.insight.rollups import cases, pending
from haochaping.insight.rollups.rebuilding import LOCKED
from haochaping.insight.rollups.recount import q
from haochaping.records import services as record_services
from haochaping.rectification.models import RectificationCase
from tests import factories

from .helpers import completed_record, exclude, import_default, rate

pytestmark = [pytest.mark.pg_only, pytest.mark.django_db(transaction=True)]

# rebuild_period's LOCK order, the month tables last (rollups.monthly.replace locks them after the day rows' rewrite).
EVALUATION_REBUILD = (PendingCount, *LOCKED, *MONTHLY.values())
CASE_REBUILD = cases.MODELS
# The modes a rebuild's SHARE ROW EXCLUSIVE waits for.
CONFLICTING = ["RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock",
               "AccessExclusiveLock"]


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.fail("needs PostgreSQL (marked pg_only: runs in make test-pg): run with DATABASE_URL=postgres://…")


def _good(org, item):
    record = completed_record(org, item)
    return lambda: rate(record, 5, channel="kiosk")


def _bad(org, item):
    record = completed_record(org, item)
    return lambda: rate(record, 1)


def _batch(org, item):
    items = [EvaluationInput(idempotency_key=uuid.uuid4().hex, project_no=completed_record(org, item).project_no,
                             stage="complete", channel="pc", level=level, labels=["110"] if level == 1 else [])
             for level in (5, 1, 4)]
    return lambda: intake.submit_evaluations(items, source="apikey:test", by_api_key=True)


def _imported_default(org, item):
    record = completed_record(org, item)
    return lambda: import_default(record, level=2)


def _exclusion(org, item):
    evaluation = rate(completed_record(org, item), 2)
    return lambda: exclude(evaluation)


def _completion(org, item):
    record = factories.make_record(org, item, completed=False)
    return lambda: record_services.update_record(record.project_no, {"status": 3, "completed_at": timezone.now()},
                                                 actor="t")


def _call_back(org, item):
    case = RectificationCase.objects.get(evaluation=rate(completed_record(org, item), 1))

    def call_back():
        with transaction.atomic():
            locked = RectificationCase.objects.select_for_update().get(pk=case.pk)
            locked.state, locked.callback_at = "called_back", timezone.now()
            locked.save(update_fields=["state", "callback_at"])

    return call_back


def _fold(org, item):
    rate(completed_record(org, item), 5)  # a single submit leaves a pending count for the worker
    assert pending.any_waiting()
    return pending.fold


WRITERS = {"a good evaluation": _good, "a 差评 opening a case": _bad, "a batch": _batch,
           "an imported 系统默认评价": _imported_default, "an exclusion": _exclusion, "a 办件 completed": _completion,
           "a case called back": _call_back, "the worker folding pending counts": _fold}


def _held_while_blocked(held: list[str], later: list[str], write) -> list[str]:
    """Run ``write`` in a connection of its own while another holds ``held`` (SHARE ROW EXCLUSIVE); the tables of
    ``later`` the writer holds in a conflicting mode when it blocks ([] if it never blocks). Both then finish."""
    writer_pid: list[int] = []
    holding = threading.Event()

    def writer():
        try:
            connection.ensure_connection()
            writer_pid.append(connection.connection.info.backend_pid)
            assert holding.wait(20)
            return write()
        finally:
            connections.close_all()

    def holder(writing) -> list[str]:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                for table in held:
                    cursor.execute(f"LOCK TABLE {q(table)} IN SHARE ROW EXCLUSIVE MODE")
                holding.set()
                deadline = time.monotonic() + 20
                while not writing.done():
                    locks = "SELECT DISTINCT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE l.pid = %s"
                    cursor.execute(f"{locks} AND NOT l.granted AND c.relname = ANY(%s)", [*writer_pid, held])
                    if cursor.fetchone():  # the writer waits for one of the held tables
                        cursor.execute(f"{locks} AND l.granted AND l.mode = ANY(%s) AND c.relname = ANY(%s)",
                                       [*writer_pid, CONFLICTING, later])
                        return sorted(r[0] for r in cursor.fetchall())
                    assert time.monotonic() < deadline, "the writer neither finished nor waited for a held table"
                    time.sleep(0.005)
                return []
        finally:
            connections.close_all()

    with ThreadPoolExecutor(2) as pool:
        writing = pool.submit(writer)
        while not writer_pid and not writing.done():
            time.sleep(0.005)
        found = pool.submit(holder, writing).result(timeout=30)
        writing.result(timeout=30)
    return found


@pytest.mark.parametrize("writer", WRITERS)
def test_a_writer_blocked_by_a_rebuild_holds_none_of_the_tables_it_has_yet_to_lock(org, item, writer):
    offending = {}
    for name, order in (("rebuild_period", EVALUATION_REBUILD), ("rebuild_cases", CASE_REBUILD)):
        tables = [model._meta.db_table for model in order]
        for n in range(1, len(tables) + 1):
            held = _held_while_blocked(tables[:n], tables[n:], WRITERS[writer](org, item))
            if held:
                offending[f"{name} holding {', '.join(tables[:n])}"] = held
    assert offending == {}
