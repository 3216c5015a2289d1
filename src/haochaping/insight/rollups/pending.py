"""Counting a single submit after it commits (PostgreSQL; issue 14 item 1).

Every evaluation of a unit on a day adds 1 to the same counter rows. Written in the submit's own statement, those
upserts were half of PostgreSQL's work per submit, and every writer of the unit waited on the others' row locks.
On PostgreSQL a single submit therefore writes, in its one statement, only a :class:`~haochaping.insight.models.
PendingCount` row: what the evaluation adds (its counter key, labels, questionnaire) and the 参评率 decision taken
under the 办件's row lock, as the synchronous path took it (``rated_overall``/``rated_channel``). :func:`fold` adds
every pending row to the counters in one transaction, set-wise, as batch intake counts (rollups.count_written_many).

The counters stay exact when read, because additions commute: an exclusion, a 办件's completion corrected, a batch
or a rebuild moves the counters by deltas that do not depend on the pending rows, and each pending row's delta is
the one the submit would have applied itself. What must see every evaluation folds first:

- every ORM read of a counter table on the primary (:class:`FoldBeforeReading`, the first database router): the
  dashboards, the stats API, reports, the public portal, tests;
- an exclusion (rollups.count_excluded: the suggestion row it removes must exist);
- ``rebuild_rollups`` (rollups.rebuilding: under its table locks, or before its snapshot);
- every running worker, every few seconds (insight.tasks.fold_pending_counts), so the replica lags by seconds.

A read from the replica does not fold: the replica's figures lag by the fold as by replication. SQLite keeps
counting inside the submit (one writer at a time: nothing to contend on).
"""

from __future__ import annotations

import contextvars
import json
from collections import Counter
from datetime import date, datetime

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, transaction

from haochaping.evaluation.lookups import lookup_table
from haochaping.evaluation.models import Channel

from ..models import (
    DailyCounter,
    DailyParticipation,
    PendingCount,
    QuestionnaireCounter,
    RegionDayCounter,
    RegionDayMix,
    RegionMonthCounter,
    RegionMonthMix,
    Suggestion,
    UnitDayCounter,
    UnitMonthCounter,
)
from . import mix, participation, questionnaire
from .counting import bump, key_of

# The tables a pending row adds to: reading one of them on the primary folds first.
COUNTED = frozenset({DailyCounter, DailyParticipation, RegionDayCounter, UnitDayCounter, RegionMonthCounter,
                     UnitMonthCounter, RegionDayMix, RegionMonthMix, QuestionnaireCounter, Suggestion})
# Folders wait on each other (pg_advisory_xact_lock) rather than on each other's counter rows.
_LOCK = 0x68637063  # "hcpc"
_folding: contextvars.ContextVar[bool] = contextvars.ContextVar("haochaping_folding", default=False)
_SQL: dict[tuple, str] = {}


def deferred() -> bool:
    """Whether a single submit leaves its counting to :func:`fold` (PostgreSQL)."""
    return connection.vendor == "postgresql"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _insert_sql(rating: bool) -> str:
    key = (rating, lookup_table())
    if key not in _SQL:
        cols = ", ".join(_q(c) for c in ("evaluation_id", "queued_at", "counts", "rated_overall", "rated_channel"))
        # queued_at: the write's own time (an imported evaluation's created_at may be years old).
        head = f"INSERT INTO {_q(PendingCount._meta.db_table)} ({cols}) SELECT %s, now(), %s::jsonb, "
        if rating:
            # As participation._first_sql: first countable evaluation of the 办件, and first through its channel.
            other = (f"SELECT 1 FROM {_q(lookup_table())} WHERE {_q('record_id')} = %s AND {_q('id')} <> %s "
                     f"AND {_q('channel')}")
            _SQL[key] = head + f"NOT EXISTS ({other} <> %s), NOT EXISTS ({other} = %s)"
        else:
            _SQL[key] = head + "false, false"
    return _SQL[key]


def written_statement(ev, labels: list[str]) -> tuple[str, list]:
    """The pending row of a new evaluation, as a statement for the single submit's one write
    (evaluation.signals.evaluation_writing). ``ev.record`` is the 办件 as read under its row lock."""
    units = None if ev.channel == Channel.SYSTEM_DEFAULT else participation.state_key(participation.state_of(ev.record))
    counts = {
        "key": [str(v) if isinstance(v, date) else v for v in key_of(ev, excluded=False)],
        "record": ev.record_id, "bad": bool(ev.is_bad), "at": ev.created_at.isoformat(),
        "labels": list(labels) if ev.is_bad else [],
        "questionnaire": ev.questionnaire or None,
        "units": None if units is None else [str(units[0]), *units[1:]],
    }
    params = [ev.pk, json.dumps(counts, ensure_ascii=False)]
    if units is None:
        return _insert_sql(False), params
    return _insert_sql(True), [*params, ev.record_id, ev.pk, Channel.SYSTEM_DEFAULT, ev.record_id, ev.pk, ev.channel]


class _Counted:
    """A pending evaluation as the counting functions read it (the attributes of an Evaluation they use)."""

    def __init__(self, pk: int, counts: dict):
        (day, self.region_id, self.department_id, self.agency_id, self.window_id, self.staff_id, self.item_id,
         self.platform_id, self.channel, self.level, self.type, self.is_real_name, _excluded) = counts["key"]
        self.pk = self.id = pk
        self.local_day = date.fromisoformat(day)
        self.record_id = counts["record"]
        self.is_bad = counts["bad"]
        self.created_at = datetime.fromisoformat(counts["at"])
        self.questionnaire = counts["questionnaire"]
        self.labels = counts["labels"]
        self.units = counts["units"]


def any_waiting() -> bool:
    """Whether any evaluation waits to be counted (one index-free probe that stops at the first row)."""
    if not deferred():
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {_q(PendingCount._meta.db_table)})")
        return bool(cursor.fetchone()[0])


def fold() -> int:
    """Add every pending row committed so far to the counters and remove it, in one transaction (a savepoint
    inside the caller's); returns how many. Folders wait on each other; submits never wait on a folder."""
    if not deferred() or _folding.get() or not any_waiting():
        return 0
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        return fold_locked()


def fold_locked() -> int:
    """:func:`fold` for a caller that already keeps other folders out (the rebuild's table lock)."""
    token = _folding.set(True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {_q(PendingCount._meta.db_table)} RETURNING {_q('evaluation_id')}, "
                           f"{_q('counts')}::text, {_q('rated_overall')}, {_q('rated_channel')}")
            rows = cursor.fetchall()
        if rows:
            _count([(_Counted(pk, json.loads(counts)), overall, channel) for pk, counts, overall, channel in rows])
        return len(rows)
    finally:
        _folding.reset(token)


def _count(pending: list[tuple[_Counted, bool, bool]]) -> None:
    # As rollups.count_written_many, in its order (fine, wide, month, mix, questionnaire, 参评率), with the
    # 参评率 decisions the submits took.
    evaluations = [ev for ev, _o, _c in pending]
    fine = Counter(key_of(ev, excluded=False) for ev in evaluations)
    bump(sorted(fine.items(), key=lambda kv: tuple(str(v) for v in kv[0])))
    mix.count_written_many(evaluations, labels={ev.pk: ev.labels for ev in evaluations})
    questionnaire.count_written_many(evaluations)
    rated: Counter = Counter()
    for ev, overall, channel in pending:
        if ev.units is not None:
            units = (date.fromisoformat(ev.units[0]), *ev.units[1:])
            rated[(*units, "")] += int(overall)
            rated[(*units, ev.channel)] += int(channel)
    participation.bump({key: (0, n) for key, n in sorted(rated.items(), key=lambda kv: tuple(map(str, kv[0])))})


def oldest_seconds() -> float | None:
    """Age of the oldest pending row (None: none), for the health endpoint."""
    if not deferred():
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXTRACT(EPOCH FROM now() - MIN({_q('queued_at')})) FROM "
                       f"{_q(PendingCount._meta.db_table)}")
        age = cursor.fetchone()[0]
    return None if age is None else float(age)


class FoldBeforeReading:
    """Database router, first in DATABASE_ROUTERS: a read of a counter table that goes to the primary, and any
    ORM write to one, folds the pending rows first, so the figures count every evaluation committed before. It
    routes nothing else, and leaves the choice of database to the replica router when there is one."""

    def db_for_read(self, model, **hints):
        if model not in COUNTED or _folding.get():
            return None
        target = DEFAULT_DB_ALIAS
        if "replica" in settings.DATABASES:
            from haochaping.core.replicas import ReplicaRouter

            target = ReplicaRouter().db_for_read(model, **hints)
        if target == DEFAULT_DB_ALIAS:
            fold()
        return target

    def db_for_write(self, model, **hints):
        # A change made to the counters themselves (an operator's correction, a test's drift) applies to the
        # counters with every committed evaluation in them.
        if model in COUNTED and not _folding.get():
            fold()
        return None
