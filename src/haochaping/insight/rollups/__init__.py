"""Keeping the per-day counters (DailyCounter) in step with evaluations, and rebuilding them (DESIGN.md "Rollups").

Writes happen inside the evaluation's or the exclusion's own transaction (insight.receivers), as one
``INSERT … ON CONFLICT … DO UPDATE SET count = count + excluded.count`` per change: atomic on PostgreSQL under
concurrent writers to the same counter (no read-modify-write, no lost update) and on SQLite, and a single
statement on the benchmarked write path. Django's bulk_create(update_conflicts=True) cannot add to the stored
value (it overwrites it), hence the one raw statement.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, fields
from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import Count, Exists, Max, Min, OuterRef
from django.db.models.functions import TruncDate
from django.utils import timezone

from haochaping.core.bulk import insert_rows
from haochaping.core.models import AuditEntry
from haochaping.evaluation.models import Channel, Evaluation, EvaluationExclusion
from haochaping.records.models import RecordStatus, ServiceRecord

from ..metrics.filters import day_start
from ..models import KEY_FIELDS, DailyCounter
from . import mix, monthly, participation, questionnaire, wide

Key = tuple  # values of KEY_FIELDS, in order
CHUNK = 5000  # rows fetched at a time by the rebuild's reads (a server-side cursor on PostgreSQL)


def _sql() -> str:
    q = connection.ops.quote_name
    table = q(DailyCounter._meta.db_table)
    cols = ", ".join(q(c) for c in (*KEY_FIELDS, "count"))
    marks = ", ".join(["%s"] * (len(KEY_FIELDS) + 1))
    keys = ", ".join(q(c) for c in KEY_FIELDS)
    return (
        f"INSERT INTO {table} ({cols}) VALUES ({marks}) "
        f"ON CONFLICT ({keys}) DO UPDATE SET {q('count')} = {table}.{q('count')} + EXCLUDED.{q('count')}"
    )


_UPSERT: dict[str, str] = {}


def key_of(ev: Evaluation, *, excluded: bool) -> Key:
    """The counter an evaluation is counted in: its local (北京时间) day and the targets copied onto it."""
    return (
        timezone.localtime(ev.created_at).date(), ev.region_id, ev.department_id, ev.agency_id or 0,
        ev.window_id or 0, ev.staff_id or 0, ev.item_id, ev.platform_id or 0, ev.channel, ev.level, ev.type,
        bool(ev.is_real_name), excluded,
    )


def _upsert_one() -> str:
    return _UPSERT.get(connection.vendor) or _UPSERT.setdefault(connection.vendor, _sql())


def statements(changes: list[tuple[Key, int]]) -> list[wide.Statement]:
    """The upserts of DailyCounter changes and of the wide counters they imply."""
    return [*((_upsert_one(), [*key, delta]) for key, delta in changes), *wide.upserts(wide.from_evaluations(changes))]


def bump(changes: list[tuple[Key, int]]) -> None:
    """Add each delta to its counter (and the wide counters), creating the counter when missing. Call inside the
    writing transaction. One statement on PostgreSQL (rollups.wide.run)."""
    wide.run(statements(changes))


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


@dataclass
class RebuildReport:
    counters: int  # non-zero counters after the rebuild
    evaluations: int  # evaluations they count
    differing: int  # keys whose stored count differed from the recomputed one
    missing: int  # evaluations the stored counters lacked (sum of positive differences)
    surplus: int  # evaluations the stored counters had too many (sum of negative differences)
    applied: bool
    participation_rows: int = 0  # 参评率 counters (DailyParticipation) after the rebuild
    participation_differing: int = 0  # of those (or of the stored ones), keys whose (completed, rated) differed
    completed: int = 0  # completed 办件 they count
    wide_differing: int = 0  # wide counters (RegionDayCounter, UnitDayCounter) and RegionDayMix cells that differed
    questionnaire_differing: int = 0  # questionnaire counter cells and suggestion rows that differed

    @property
    def agrees(self) -> bool:
        return not (self.differing or self.participation_differing or self.wide_differing
                    or self.questionnaire_differing)


def differences(want: Counter, have: Counter) -> dict[Key, int]:
    """key → (recomputed − stored), only where they differ."""
    return {k: want.get(k, 0) - have.get(k, 0) for k in set(want) | set(have) if want.get(k, 0) != have.get(k, 0)}


def rebuild(date_from: date | None = None, date_to: date | None = None, *, apply: bool = True,
            actor: str = "system", after_period=None, days: int | None = None) -> RebuildReport:
    """Recompute the counters of [date_from, date_to] (everything when both are None) month by month: one
    :func:`rebuild_period` (one transaction) per calendar month (北京时间) of the period, so memory is bounded by one
    month's counters, not by the data, and a lock is held for one month at a time. The reports are summed.

    A rebuild stopped halfway (killed, or ``after_period`` raising: it is called with (start, end, report) after
    each month is committed) leaves the months done rebuilt and the others as they were; running it again converges,
    since each month is replaced whole. The first period is open towards the past and the last towards the future
    when the bounds are None, so counters left on days without data are rebuilt (emptied) too. ``days`` cuts each
    month further into periods of at most that many days (a province whose month does not fit in memory)."""
    if date_from and date_to and date_from > date_to:
        raise ValueError("date_from after date_to")
    total = RebuildReport(counters=0, evaluations=0, differing=0, missing=0, surplus=0, applied=apply)
    for start, end in periods(date_from, date_to, days=days):
        report = rebuild_period(start, end, apply=apply, actor=actor)
        for f in fields(RebuildReport):
            if f.name != "applied":
                setattr(total, f.name, getattr(total, f.name) + getattr(report, f.name))
        if after_period is not None:
            after_period(start, end, report)
    return total


def _data_days() -> tuple[date, date] | None:
    """The first and last day (北京时间) with an evaluation or a completed 办件 (index look-ups)."""
    days = []
    for qs, column in ((Evaluation.objects.all(), "created_at"),
                       (ServiceRecord.objects.filter(status=RecordStatus.COMPLETED), "completed_at")):
        bounds = qs.order_by().aggregate(lo=Min(column), hi=Max(column))
        days += [timezone.localtime(v).date() for v in bounds.values() if v is not None]
    return (min(days), max(days)) if days else None


def periods(date_from: date | None, date_to: date | None, *, days: int | None = None
            ) -> list[tuple[date | None, date | None]]:
    """[date_from, date_to] cut at month boundaries (and every ``days`` days within a month); None bounds stay open
    at the two ends."""
    data = _data_days()
    lo = date_from or (data[0] if data else None)
    hi = date_to or (data[1] if data else None)
    if lo is None or hi is None or lo > hi:
        return [(date_from, date_to)]
    out = []
    month = lo.replace(day=1)
    while month <= hi:
        following = (month + timedelta(days=32)).replace(day=1)
        start, end = max(lo, month), min(hi, following - timedelta(days=1))
        step = timedelta(days=days or 31)
        while start <= end:
            out.append((start, min(end, start + step - timedelta(days=1))))
            start += step
        month = following
    out[0] = (date_from, out[0][1])
    out[-1] = (out[-1][0], date_to)
    return out


def rebuild_period(date_from: date | None = None, date_to: date | None = None, *, apply: bool = True,
                   actor: str = "system") -> RebuildReport:
    """Recompute the counters of [date_from, date_to] from the evaluations, and
    the 参评率 counters of the 办件 completed in those days from the 办件, in one transaction, and report how the
    stored counters differed. ``apply=False`` only compares. (:func:`rebuild` calls it once per month; coarser
    counters derived from these are recomputed here too, per period.)

    On PostgreSQL a rebuild first locks the counter tables against writers (SHARE ROW EXCLUSIVE), so an evaluation
    or a completion committed during the rebuild is either in the recount or added on top of it afterwards, never
    lost or twice. A comparison only (``apply=False``) started outside any transaction takes no lock: it reads one
    snapshot (REPEATABLE READ), in which every evaluation and its counters were committed together, so it agrees
    exactly while writers go on."""
    if date_from and date_to and date_from > date_to:
        raise ValueError("date_from after date_to")
    snapshot = not apply and not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                if snapshot:  # must be the transaction's first statement, hence only when this one opened it
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                else:
                    for model in (DailyCounter, participation.DailyParticipation, *wide.MODELS,
                                  questionnaire.QuestionnaireCounter, questionnaire.Suggestion, mix.RegionDayMix):
                        cursor.execute(
                            f"LOCK TABLE {connection.ops.quote_name(model._meta.db_table)} IN SHARE ROW EXCLUSIVE MODE"
                        )
        want = expected(date_from, date_to)
        have = stored(date_from, date_to)
        diff = differences(want, have)
        want_p = participation.expected(date_from, date_to)
        have_p = participation.stored(date_from, date_to)
        diff_p = [k for k in set(want_p) | set(have_p) if want_p.get(k, (0, 0)) != have_p.get(k, (0, 0))]
        want_w = wide.expected(want, want_p)
        diff_w = wide.differing(want_w, wide.stored(date_from, date_to))
        want_m = mix.expected(date_from, date_to)
        diff_w += mix.differing(want_m, mix.stored(date_from, date_to))
        diff_w += monthly.differing(date_from, date_to, want_w, want_m)
        diff_q = len(differences(questionnaire.expected(date_from, date_to), questionnaire.stored(date_from, date_to)))
        diff_q += questionnaire.suggestions_differ(date_from, date_to)
        if apply:
            DailyCounter.objects.in_days(date_from, date_to).delete()
            insert_rows(DailyCounter, (*KEY_FIELDS, "count"), ((*k, n) for k, n in want.items() if n))
            participation.replace(date_from, date_to, want_p)
            wide.replace(date_from, date_to, want_w)
            mix.replace(date_from, date_to, want_m)
            monthly.replace(date_from, date_to)  # from the day rows just written
            questionnaire.replace(date_from, date_to)
            AuditEntry.objects.create(
                actor=actor, action="insight.rebuild_rollups", object_type="insight.DailyCounter", object_id="",
                data={"from": str(date_from or ""), "to": str(date_to or ""), "differing": len(diff),
                      "participation_differing": len(diff_p), "wide_differing": diff_w,
                      "questionnaire_differing": diff_q},
            )
    return RebuildReport(
        counters=sum(1 for n in want.values() if n), evaluations=sum(want.values()), differing=len(diff),
        missing=sum(d for d in diff.values() if d > 0), surplus=-sum(d for d in diff.values() if d < 0), applied=apply,
        participation_rows=len(want_p), participation_differing=len(diff_p), wide_differing=diff_w,
        questionnaire_differing=diff_q,
        completed=sum(c for c, _r in want_p.values()),
    )
