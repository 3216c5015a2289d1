"""Keeping the per-day counters (DailyCounter) in step with evaluations, and rebuilding them (DESIGN.md "Rollups").

Writes happen inside the evaluation's or the exclusion's own transaction (insight.receivers), as one
``INSERT … ON CONFLICT … DO UPDATE SET count = count + excluded.count`` per change: atomic on PostgreSQL under
concurrent writers to the same counter (no read-modify-write, no lost update) and on SQLite, and a single
statement on the benchmarked write path. Django's bulk_create(update_conflicts=True) cannot add to the stored
value (it overwrites it), hence the one raw statement.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from django.db import connection
from django.db.models import Count, Exists, OuterRef
from django.db.models.functions import TruncDate

from haochaping.evaluation.models import Channel, Evaluation, EvaluationExclusion

from ..metrics.filters import day_start
from ..models import KEY_FIELDS, DailyCounter
from . import mix, participation, questionnaire, wide
from .counting import Key, bump, key_of, statements, upsert_one

CHUNK = 5000  # rows fetched at a time by the rebuild's reads (a server-side cursor on PostgreSQL)


def count_written(ev: Evaluation) -> None:
    """A new evaluation: +1 in its counter (excluded=False: a new evaluation is never excluded yet) and the wide
    counters, and the 参评率 counters when it is its completed 办件's first countable evaluation
    (rollups.participation).

    On PostgreSQL the upserts and the 办件's row lock are one statement, the conditional participation upserts a
    second: an evaluation costs two statements here, one more than the counter alone did."""
    changes = [*statements([(key_of(ev, excluded=False), 1)]), *mix.written(ev)]
    questionnaire.count_written(ev)  # a statement more only for an evaluation with questionnaire answers
    if ev.channel == Channel.SYSTEM_DEFAULT:
        wide.run(changes)  # never rates a 办件
        return
    if connection.vendor == "postgresql":
        state = wide.run([*changes, (participation.lock_sql(), [ev.record_id])])
    else:
        # SQLite: one writer at a time, and this transaction already wrote the evaluation, so a plain read.
        wide.run(changes)
        state = participation.read_state(ev.record_id)
    participation.count_first(ev, state)


def written_statements(ev: Evaluation, labels: list[str]) -> list[wide.Statement]:
    """:func:`count_written` as statements for the single submit's ONE write
    (evaluation.signals.evaluation_writing): the 办件's state is ``ev.record``, read under its row lock by an
    earlier statement, and no two of the statements change the same row (the wide rows of the evaluation and of
    its 办件's rating are summed into one upsert per table)."""
    fine = [(key_of(ev, excluded=False), 1)]
    changes = wide.from_evaluations(fine)
    units = None if ev.channel == Channel.SYSTEM_DEFAULT else participation.state_key(participation.state_of(ev.record))
    # not completed (its completion will count it) or never rating it: no 参评率 part
    counted = wide.upserts(changes) if units is None else participation.first_statements(ev, units, changes)
    # The tables in the order an exclusion (count_excluded) locks them — fine, wide day, wide month, mix — so the
    # two never wait on each other crosswise.
    return [(upsert_one(), [*fine[0][0], 1]), *counted, *mix.written(ev, labels),
            *questionnaire.written_statements(ev)]


def count_written_many(evaluations: list[Evaluation]) -> None:
    """:func:`count_written` for many new evaluations written in this transaction: each counter key gets the sum of
    its evaluations in one upsert (the wide counters likewise), then the questionnaire and 参评率 counters set-wise.
    The counters come out exactly as if the evaluations had been counted one by one."""
    if not evaluations:
        return
    fine = Counter(key_of(ev, excluded=False) for ev in evaluations)
    bump(sorted(fine.items(), key=lambda kv: tuple(str(v) for v in kv[0])))
    mix.count_written_many(evaluations)
    questionnaire.count_written_many(evaluations)
    participation.count_first_many([ev for ev in evaluations if ev.channel != Channel.SYSTEM_DEFAULT])


def count_excluded(ev: Evaluation) -> None:
    """An evaluation left statistics: move its 1 from the counted bucket to the excluded bucket of its key."""
    # Its own counting may still be pending (rollups.pending): counted first, so that its suggestion row exists
    # to be removed (the counters alone would come out right in either order).
    from . import pending

    pending.fold()
    wide.run([*statements([(key_of(ev, excluded=False), -1), (key_of(ev, excluded=True), 1)]), *mix.excluded(ev)])
    questionnaire.count_excluded(ev)


# --- rebuild ------------------------------------------------------------------------------------------------------


def expected(date_from: date | None = None, date_to: date | None = None) -> Counter:
    """The counters as the evaluations say they should be, for the days [date_from, date_to] (None = open)."""
    qs = Evaluation.objects.all()
    if date_from:
        qs = qs.filter(created_at__gte=day_start(date_from))
    if date_to:
        qs = qs.filter(created_at__lt=day_start(date_to + timedelta(days=1)))
    rows = (
        qs.order_by()
        .annotate(d=TruncDate("created_at"), ex=Exists(EvaluationExclusion.objects.filter(evaluation=OuterRef("pk"))))
        .values_list(
            "d", "region_id", "department_id", "agency_id", "window_id", "staff_id", "item_id", "platform_id",
            "channel", "level", "type", "is_real_name", "ex",
        )
        .annotate(n=Count("pk"))
    )
    out: Counter = Counter()
    for d, region, dept, agency, window, staff, item, platform, channel, level, type_, real, ex, n in rows.iterator(
            chunk_size=CHUNK):
        out[(d, region, dept, agency or 0, window or 0, staff or 0, item, platform or 0, channel, level, type_,
             bool(real), bool(ex))] += n
    return out


def stored(date_from: date | None = None, date_to: date | None = None) -> Counter:
    """The counters as they are now (zero counters, left behind by exclusions, are the same as none)."""
    out: Counter = Counter()
    for row in DailyCounter.objects.in_days(date_from, date_to).exclude(count=0).values_list(*KEY_FIELDS, "count").iterator(
            chunk_size=CHUNK):
        out[tuple(row[:-1])] += row[-1]
    return out


def differences(want: Counter, have: Counter) -> dict[Key, int]:
    """key → (recomputed − stored), only where they differ."""
    return {k: want.get(k, 0) - have.get(k, 0) for k in set(want) | set(have) if want.get(k, 0) != have.get(k, 0)}


# The rebuild itself works in SQL (rollups.rebuilding); expected() and stored() above are the same figures read into
# Python, for tests and small periods.
from .rebuilding import RebuildReport, periods, rebuild, rebuild_period  # noqa: E402

__all__ = ["RebuildReport", "periods", "rebuild", "rebuild_period"]
