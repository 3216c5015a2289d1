"""``rebuild_rollups``: recompute every counter table from the evaluations and 办件, period by period, inside the
database (rollups.recount), and report how the stored counters differed (DESIGN.md "Rollups": they must agree).

Memory does not follow the data: no row of evaluations or counters comes into Python (the improvement suggestions
excepted, whose redaction is Python's: they are written in batches of a thousand). What stays per period is a
transaction, its table locks and, on PostgreSQL, the server's own sorting and hashing (work_mem, spilling to disk).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from haochaping.core.models import AuditEntry
from haochaping.evaluation.models import Evaluation
from haochaping.records.models import RecordStatus, ServiceRecord

from ..models import KEY_FIELDS, DailyCounter
from . import cases, mix, monthly, participation, pending, questionnaire, recount, wide
from .recount import q

COUNT = ("count",)


def want_sql(date_from: date | None, date_to: date | None) -> recount.Sql:
    """DailyCounter as the evaluations of [date_from, date_to] say it should be (KEY_FIELDS and ``count``)."""
    e = q(Evaluation._meta.db_table)
    day, day_params = recount.local_day(recount.column(Evaluation, "created_at"))
    where, params = recount.time_range(recount.column(Evaluation, "created_at"), date_from, date_to)
    keys = ", ".join(q(c) for c in KEY_FIELDS)
    inner = (
        f"SELECT {day} AS {q('day')}, {recount.unit_columns(Evaluation)}, {recount.column(Evaluation, 'channel')} AS {q('channel')}, "
        f"{recount.column(Evaluation, 'level')} AS {q('level')}, {recount.column(Evaluation, 'type')} AS {q('type')}, "
        f"{recount.column(Evaluation, 'is_real_name')} AS {q('is_real_name')}, "
        f"{recount.excluded_sql(recount.column(Evaluation, 'id'))} AS {q('excluded')} FROM {e} WHERE {where}"
    )
    return f"SELECT {keys}, COUNT(*) AS {q('count')} FROM ({inner}) x GROUP BY {keys}", [*day_params, *params]


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
    cases: int = 0  # rectification cases the case counters count (opened in the period)
    case_differing: int = 0  # case counter rows (day, month) and case tallies that differed

    @property
    def agrees(self) -> bool:
        return not (self.differing or self.participation_differing or self.wide_differing
                    or self.questionnaire_differing or self.case_differing)


def rebuild(date_from: date | None = None, date_to: date | None = None, *, apply: bool = True,
            actor: str = "system", after_period=None, days: int | None = None) -> RebuildReport:
    """Recompute the counters of [date_from, date_to] (everything when both are None) month by month: one
    :func:`rebuild_period` (one transaction) per calendar month (北京时间) of the period, so a lock is held for one
    month at a time. The reports are summed. The work is SQL (rollups.recount): memory does not grow with the data.

    A rebuild stopped halfway (killed, or ``after_period`` raising: it is called with (start, end, report) after
    each month is committed) leaves the months done rebuilt and the others as they were; running it again converges,
    since each month is replaced whole. The first period is open towards the past and the last towards the future
    when the bounds are None, so counters left on days without data are rebuilt (emptied) too. ``days`` cuts each
    month further into periods of at most that many days (shorter transactions and locks)."""
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


LOCKED = (DailyCounter, participation.DailyParticipation, *wide.MODELS, questionnaire.QuestionnaireCounter,
          questionnaire.Suggestion, mix.RegionDayMix)


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
    exactly while writers go on. Single submits counted later (rollups.pending) are counted first: under the locks,
    or before the snapshot, which is taken again while it still holds some."""
    if date_from and date_to and date_from > date_to:
        raise ValueError("date_from after date_to")
    snapshot = not apply and not connection.in_atomic_block
    # A snapshot that holds single submits whose counting is still pending (rollups.pending) would count them as
    # missing: fold and take another, a few times, then lock the writers out as a rebuild does.
    for _try in range(3 if snapshot and pending.deferred() else 0):
        pending.fold()
        try:
            return _rebuild_period(date_from, date_to, apply=apply, actor=actor, snapshot=True)
        except _PendingInSnapshot:
            continue
    return _rebuild_period(date_from, date_to, apply=apply, actor=actor, snapshot=snapshot and not pending.deferred())


class _PendingInSnapshot(Exception):
    pass


def _rebuild_period(date_from, date_to, *, apply: bool, actor: str, snapshot: bool) -> RebuildReport:
    span = (date_from, date_to)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                if snapshot:  # must be the transaction's first statement, hence only when this one opened it
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    if pending.any_waiting():  # read in the snapshot just taken
                        raise _PendingInSnapshot
                else:
                    # Pending single submits first (their folder holds that table, then counter rows), then
                    # counted into the counters about to be compared: nothing is recounted and then added again.
                    cursor.execute(f"LOCK TABLE {q(pending.PendingCount._meta.db_table)} IN SHARE ROW EXCLUSIVE MODE")
                    for model in LOCKED:
                        cursor.execute(f"LOCK TABLE {q(model._meta.db_table)} IN SHARE ROW EXCLUSIVE MODE")
                    pending.fold_locked()
        fine_want = want_sql(*span)
        fine = recount.compare(DailyCounter, KEY_FIELDS, COUNT, fine_want, *span)
        part_want = participation.want_sql(*span)
        part = participation.compare(part_want, *span)
        diff_m = mix.compare(*span)
        diff_q = questionnaire.compare(*span)
        if apply:
            recount.replace(DailyCounter, KEY_FIELDS, COUNT, fine_want, *span)
            participation.replace(part_want, *span)
            # The wide counters from the counters just written: a fraction of the evaluations' rows.
            diff_w = wide.rebuild(wide.want_from_tables(*span), *span)
            mix.replace(*span)
            # The month rows against the day rows just rewritten (so against the evaluations), then rewritten.
            diff_m += monthly.differing_stored(*span)
            monthly.replace(*span)
            questionnaire.replace(*span)
            AuditEntry.objects.create(
                actor=actor, action="insight.rebuild_rollups", object_type="insight.DailyCounter", object_id="",
                data={"from": str(date_from or ""), "to": str(date_to or ""), "differing": fine.rows,
                      "participation_differing": part.rows, "wide_differing": diff_w + diff_m,
                      "questionnaire_differing": diff_q},
            )
        else:
            # Stored fine and 参评率 counters equal to the recount stand for it (the usual case: no second pass over
            # the evaluations); otherwise the wide counters are compared with the ones the recount implies.
            sources = (wide.want_from_tables(*span) if not (fine.rows or part.rows)
                       else wide.want_from_sql(fine_want, part_want))
            diff_w = wide.compare(sources, *span)
            if not (fine.rows or part.rows or diff_w or diff_m):
                # The day rows agree with the evaluations, so the month rows are checked against them. (When a day
                # row differs, the rebuild rewrites its months anyway.)
                diff_m += monthly.differing_stored(*span)
    case_count, case_differing = rebuild_cases(date_from, date_to, apply=apply, actor=actor)
    return RebuildReport(
        cases=case_count, case_differing=case_differing,
        counters=fine.want_rows, evaluations=fine.want_sums[0], differing=fine.rows, missing=fine.missing[0],
        surplus=fine.surplus[0], applied=apply, participation_rows=part.want_rows, participation_differing=part.rows,
        completed=part.want_sums[0], wide_differing=diff_w + diff_m, questionnaire_differing=diff_q,
    )



def rebuild_cases(date_from: date | None, date_to: date | None, *, apply: bool = True,
                  actor: str = "system") -> tuple[int, int]:
    """The case counters (rollups.cases) of the cases opened in [date_from, date_to], in a transaction of their own
    (after the evaluation counters'): a writer of a case holds only these three tables' locks besides its own, so
    the two rebuild transactions never wait on a writer that waits on them. Returns (cases counted, rows that
    differed). Locks and snapshot as :func:`rebuild_period`."""
    snapshot = not apply and not connection.in_atomic_block
    with transaction.atomic():
        if snapshot and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        elif apply:
            cases.lock()
        day, other = cases.compare(date_from, date_to)
        differing = day.rows + other
        if apply:
            differing += cases.replace(date_from, date_to)
            if differing:
                AuditEntry.objects.create(
                    actor=actor, action="insight.rebuild_rollups", object_type="insight.CaseDayCounter",
                    object_id="", data={"from": str(date_from or ""), "to": str(date_to or ""),
                                        "case_differing": differing})
    return day.want_sums[0], differing
