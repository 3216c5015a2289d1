"""The 整改与申诉 figures summed per day and unit (CaseDayCounter, CaseMonthCounter), kept in step with the cases.

A case's part in each figure of rectification.figures.STORED is 0 or 1 and depends only on what is stored about
the case, its appeal and its 台账. Every transaction that writes one of those recounts the case
(:func:`count_cases`, from insight.receivers): its part as the same ORM expressions as rectification.figures compute
it now, minus its part as last counted (CaseTally), added to its day row and month row. So the figures read from
the rows equal the figures computed over the cases, and reading them costs one row per unit and day (or month),
not one per case. The rebuild (:func:`compare`, :func:`replace`) recomputes all three tables from the cases in SQL.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.db import connection
from django.db.models import F, IntegerField, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from haochaping.rectification import figures
from haochaping.rectification.models import RectificationCase

from ..models import CASE_KEYS, CASE_VALUES, CaseDayCounter, CaseMonthCounter, CaseTally
from . import recount
from .recount import Diff, Sql, q

assert tuple(CASE_VALUES) == tuple(figures.STORED), "CaseCounter's columns are rectification.figures.STORED"

MODELS = (CaseTally, CaseDayCounter, CaseMonthCounter)  # the order every writer and the rebuild lock them in
TALLY_KEYS = ("case_id", *CASE_KEYS)
# Statements for up to this many cases are built once per process: a write recounts one case (a case, its appeal, its
# 台账) or a handful; a bulk write's are built each time (their lengths vary without bound).
_CURRENT_CACHED_UP_TO = 8


def _keyed(qs: QuerySet, *, per_case: bool) -> QuerySet:
    """``qs``'s cases grouped by their key (and case, ``per_case``), with the STORED counts, columns named k_*."""
    keys = {"k_day": TruncDate("opened_at"), "k_region": F("region_id"), "k_department": F("department_id"),
            "k_agency": Coalesce("agency_id", Value(0), output_field=IntegerField()),
            "k_platform": Coalesce("platform_id", Value(0), output_field=IntegerField())}
    if per_case:
        keys = {"k_case_id": F("pk"), **keys}
    return figures.annotated(qs.order_by()).values(**keys).annotate(**figures.stored_aggregates()).order_by()


def _select(qs: QuerySet, keys: tuple[str, ...]) -> Sql:
    """The grouped queryset as a SELECT of the counter tables' column names."""
    sql, params = qs.query.sql_with_params()
    cols = ", ".join([*(f"x.{q('k_' + k)} AS {q(k)}" for k in keys), *(f"x.{q(v)} AS {q(v)}" for v in CASE_VALUES)])
    return f"SELECT {cols} FROM ({sql}) x", list(params)


def _opened_in(date_from: date | None, date_to: date | None) -> QuerySet:
    from ..metrics.filters import day_start

    qs = RectificationCase.objects.all()
    if date_from:
        qs = qs.filter(opened_at__gte=day_start(date_from))
    if date_to:
        qs = qs.filter(opened_at__lt=day_start(date_to + timedelta(days=1)))
    return qs


# --- writes ----------------------------------------------------------------------------------------------------------


_UPSERTS: dict[tuple, str] = {}


def _upsert_sql(model, keys: tuple[str, ...], rows: int, *, add: bool) -> str:
    if rows > _CURRENT_CACHED_UP_TO:
        return _new_upsert_sql(model, keys, rows, add=add)
    key = (connection.vendor, model, keys, rows, add)
    if key not in _UPSERTS:
        _UPSERTS[key] = _new_upsert_sql(model, keys, rows, add=add)
    return _UPSERTS[key]


def _new_upsert_sql(model, keys: tuple[str, ...], rows: int, *, add: bool) -> str:
    table = q(model._meta.db_table)
    cols = (*keys, *CASE_VALUES)
    marks = ", ".join(["(" + ", ".join(["%s"] * len(cols)) + ")"] * rows)
    if add:
        sets = ", ".join(f"{q(v)} = {table}.{q(v)} + EXCLUDED.{q(v)}" for v in CASE_VALUES)
        conflict = ", ".join(q(k) for k in keys)
    else:  # the tally: the case's part replaced
        sets = ", ".join(f"{q(c)} = EXCLUDED.{q(c)}" for c in cols if c != "case_id")
        conflict = q("case_id")
    return (f"INSERT INTO {table} ({', '.join(q(c) for c in cols)}) VALUES {marks} "
            f"ON CONFLICT ({conflict}) DO UPDATE SET {sets}")


def _lock_tally(ids: list[int]) -> dict[int, tuple]:
    """The cases' parts as last counted, their tally rows locked. On PostgreSQL an UPDATE, so the statement takes
    the table lock a rebuild waits for (ROW EXCLUSIVE) before any row: a writer never holds a tally row while
    waiting for a table the rebuild holds (which would deadlock against the rebuild's DELETE of that row)."""
    table = q(CaseTally._meta.db_table)
    cols = ", ".join(q(c) for c in (*TALLY_KEYS, *CASE_VALUES))
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"UPDATE {table} SET {q('case_id')} = {q('case_id')} WHERE {q('case_id')} IN ({marks}) "
                           f"RETURNING {cols}", ids)
        else:  # SQLite: one writer at a time
            cursor.execute(f"SELECT {cols} FROM {table} WHERE {q('case_id')} IN ({marks})", ids)
        rows = cursor.fetchall()
    n = len(CASE_KEYS)
    return {r[0]: (_day(r[1]), *r[2:n + 1], *r[n + 1:]) for r in rows}


def _day(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


_CURRENT: dict[tuple, tuple[str, list, dict[int, int]]] = {}
_PLACEHOLDER = -(2**40)  # no case has a negative id


def _current_sql(count: int) -> tuple[str, list, dict[int, int]]:
    """The SELECT of :func:`_current` for ``count`` case ids, compiled once per process and count (the ORM
    compiled these aggregates on every 差评 a submit opened a case for, and that cost most of the case's opening):
    its SQL, its parameters with placeholders for the ids, and where each id goes (parameter index → id index)."""
    key = (connection.vendor, count, timezone.get_current_timezone_name())
    if key not in _CURRENT:
        placeholders = [_PLACEHOLDER - i for i in range(count)]
        sql, params = _select(_keyed(RectificationCase.objects.filter(pk__in=placeholders), per_case=True),
                              TALLY_KEYS)
        slots = {n: _PLACEHOLDER - p for n, p in enumerate(params) if isinstance(p, int) and p in placeholders}
        if len(slots) != count:  # a compiler that does not pass the ids as they were given: do not cache
            return sql, params, {}
        _CURRENT[key] = (sql, params, slots)
    return _CURRENT[key]


def _current(ids: list[int]) -> dict[int, tuple]:
    """Each case's key and STORED part, as it is now in this transaction."""
    n = len(CASE_KEYS)
    if len(ids) <= _CURRENT_CACHED_UP_TO:
        sql, template, slots = _current_sql(len(ids))
        if slots:
            params = list(template)
            for at, which in slots.items():
                params[at] = ids[which]
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return {r[0]: (_day(r[1]), *r[2:n + 1], *r[n + 1:]) for r in cursor.fetchall()}
    rows = _keyed(RectificationCase.objects.filter(pk__in=ids), per_case=True)
    return {r["k_case_id"]: (_day(r["k_day"]), r["k_region"], r["k_department"], r["k_agency"], r["k_platform"],
                             *(r[v] for v in CASE_VALUES)) for r in rows}


def count_cases(case_ids, *, new: bool = False) -> None:
    """Bring the counters in step with the cases ``case_ids`` as they are now in this transaction (call it after
    writing a case, its appeal or its 台账, inside the writing transaction). ``new``: cases just created, which have
    no tally yet. A case whose part did not change costs two reads; one that changed one more statement (the day,
    month and tally rows: one statement on PostgreSQL, three on SQLite). A new case: one read and one write."""
    ids = sorted({int(i) for i in case_ids if i is not None})
    if not ids:
        return
    old = {} if new else _lock_tally(ids)  # first: see _lock_tally
    current = _current(ids)
    n = len(CASE_KEYS)
    deltas: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(CASE_VALUES))
    for parts, sign in ((old, -1), (current, 1)):
        for part in parts.values():
            cell = deltas[tuple(part[:n])]
            for i, v in enumerate(part[n:]):
                cell[i] += sign * int(v)
    changed = {k: v for k, v in deltas.items() if any(v)}
    months: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(CASE_VALUES))
    for key, values in changed.items():
        cell = months[(key[0].replace(day=1), *key[1:])]
        for i, v in enumerate(values):
            cell[i] += v
    # In MODELS order, tally first: one statement locks its tables in the order it names them, and a new case's
    # writer has not locked the tally yet (_lock_tally). Day rows before the tally's would deadlock against a rebuild
    # that holds the tally and waits for the day table.
    statements: list[tuple[str, list]] = []
    rewrite = [(i, part) for i, part in sorted(current.items()) if old.get(i) != part]
    if rewrite:
        statements.append((_upsert_sql(CaseTally, TALLY_KEYS, len(rewrite), add=False),
                           [x for i, part in rewrite for x in (i, *part)]))
    gone = [i for i in old if i not in current]
    if gone:
        statements.append((f"DELETE FROM {q(CaseTally._meta.db_table)} WHERE {q('case_id')} IN "
                           f"({', '.join(['%s'] * len(gone))})", gone))
    for model, cells in ((CaseDayCounter, changed), (CaseMonthCounter, months)):
        cells = {k: v for k, v in cells.items() if any(v)}
        if cells:
            ordered = sorted(cells.items(), key=lambda kv: tuple(str(x) for x in kv[0]))
            statements.append((_upsert_sql(model, CASE_KEYS, len(ordered), add=True),
                               [x for k, v in ordered for x in (*k, *v)]))
    _run(statements)


def _run(statements: list[tuple[str, list]]) -> None:
    """The statements in order; on PostgreSQL as one (data-modifying CTEs, each changing rows of its own), which
    locks their tables in the order given."""
    if not statements:
        return
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql" or len(statements) == 1:
            for sql, params in statements:
                cursor.execute(sql, params)
            return
        ctes = ", ".join(f"s{i} AS ({sql})" for i, (sql, _p) in enumerate(statements[:-1]))
        cursor.execute(f"WITH {ctes} {statements[-1][0]}", [x for _s, p in statements for x in p])


# --- reads -----------------------------------------------------------------------------------------------------------


def sums(qs_of, date_from: date | None, date_to: date | None, by: str | None = None) -> dict:
    """{group key (None without ``by``): {value: sum}} of the counter rows of [date_from, date_to]: the whole
    months from CaseMonthCounter, the days at the edges from CaseDayCounter. ``qs_of(model)`` gives the model's rows
    already scoped and filtered (by units)."""
    from .monthly import split

    edges, months = split(date_from, date_to)
    parts = [(CaseDayCounter, lo, hi) for lo, hi in edges]
    if months is not None:
        parts.append((CaseMonthCounter, *months))
    out: dict = defaultdict(lambda: dict.fromkeys(CASE_VALUES, 0))
    for model, lo, hi in parts:
        qs = qs_of(model).in_days(lo, hi).order_by()
        aggregates = {f"s_{v}": Sum(v) for v in CASE_VALUES}
        rows = qs.values(by).annotate(**aggregates) if by else [qs.aggregate(**aggregates)]
        for r in rows:
            cell = out[r[by] if by else None]
            for v in CASE_VALUES:
                cell[v] += r[f"s_{v}"] or 0
    if by is None and None not in out:
        out[None] = dict.fromkeys(CASE_VALUES, 0)
    return dict(out)


# --- rebuild ---------------------------------------------------------------------------------------------------------


def want_day_sql(date_from: date | None, date_to: date | None) -> Sql:
    return _select(_keyed(_opened_in(date_from, date_to), per_case=False), CASE_KEYS)


def want_tally_sql(date_from: date | None, date_to: date | None) -> Sql:
    return _select(_keyed(_opened_in(date_from, date_to), per_case=True), TALLY_KEYS)


def _month_sql(column_sql: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(date_trunc('month', {column_sql}) AS date)"
    return f"date({column_sql}, 'start of month')"


def _month_bounds(date_from: date | None, date_to: date | None) -> tuple[date | None, date | None]:
    lo = date_from.replace(day=1) if date_from else None
    hi = ((date_to.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)) if date_to else None
    return lo, hi


def want_month_sql(date_from: date | None, date_to: date | None) -> Sql:
    """CaseMonthCounter as the stored day rows of the months touching [date_from, date_to] sum up."""
    d = q(CaseDayCounter._meta.db_table)
    where, params = recount.day_range(f"{d}.{q('day')}", *_month_bounds(date_from, date_to))
    rest = ", ".join(f"{d}.{q(k)}" for k in CASE_KEYS[1:])
    month = _month_sql(f"{d}.{q('day')}")
    cols = ", ".join([f"{month} AS {q('day')}", *(f"{d}.{q(k)} AS {q(k)}" for k in CASE_KEYS[1:]),
                      *(f"SUM({d}.{q(v)}) AS {q(v)}" for v in CASE_VALUES)])
    return f"SELECT {cols} FROM {d} WHERE {where} GROUP BY {month}, {rest}", params


def lock() -> None:
    """Hold the three tables against writers until the transaction ends (PostgreSQL; SQLite has one writer)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in MODELS:
                cursor.execute(f"LOCK TABLE {q(model._meta.db_table)} IN SHARE ROW EXCLUSIVE MODE")


def compare(date_from: date | None, date_to: date | None) -> tuple[Diff, int]:
    """How the stored rows of [date_from, date_to] differ from the cases: (the day rows' Diff, differing tally
    and month rows). The month rows are compared with the stored day rows when those agree with the cases."""
    span = (date_from, date_to)
    day = recount.compare(CaseDayCounter, CASE_KEYS, CASE_VALUES, want_day_sql(*span), *span)
    tally = recount.compare(CaseTally, TALLY_KEYS, CASE_VALUES, want_tally_sql(*span), *span)
    other = tally.rows
    if not day.rows:
        other += recount.compare(CaseMonthCounter, CASE_KEYS, CASE_VALUES, want_month_sql(*span),
                                 *_month_bounds(*span)).rows
    return day, other


def replace(date_from: date | None, date_to: date | None) -> int:
    """Rewrite the tally and day rows of [date_from, date_to] from the cases, then the month rows of the months
    touching it from the day rows; returns the month rows that differed."""
    span = (date_from, date_to)
    recount.replace(CaseTally, TALLY_KEYS, CASE_VALUES, want_tally_sql(*span), *span)
    recount.replace(CaseDayCounter, CASE_KEYS, CASE_VALUES, want_day_sql(*span), *span)
    months = _month_bounds(*span)
    differing = recount.compare(CaseMonthCounter, CASE_KEYS, CASE_VALUES, want_month_sql(*span), *months).rows
    recount.replace(CaseMonthCounter, CASE_KEYS, CASE_VALUES, want_month_sql(*span), *months)
    return differing
