"""The month rows (RegionMonthCounter, UnitMonthCounter, RegionMonthMix): each the exact sum of the day rows of
its month and key (models.MONTHLY), so a wide period reads one row per month and unit (metrics).

Write side: rollups.wide and rollups.mix add the month rows' upserts to the statements of the day rows, after them
(a writer locks the day tables first, the rebuild too, so the two never wait on each other crosswise). Rebuild side:
:func:`replace` recomputes the months touching a period from the day rows (call it after the day rows are
replaced), :func:`differing` compares them — both a grouped read of the day rows, never of the evaluations.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.db import connection
from django.db.models import Q, Sum
from django.db.models.functions import TruncMonth

from haochaping.core.bulk import insert_rows

from ..models import MONTHLY, WIDE_VALUES, RegionDayMix


def month_of(day: date) -> date:
    return day.replace(day=1)


def month_key(key: tuple) -> tuple:
    """A day row's key (day first) → its month row's key."""
    return (month_of(key[0]), *key[1:])


def summed(cells: dict) -> dict:
    """Day-keyed cells {key: {column: delta}} (or {key: delta}) → the month cells they add to, summed: two days of
    one month in one write are one upsert row (an upsert may not touch a row twice)."""
    out: dict = {}
    for key, value in cells.items():
        mk = month_key(key)
        if isinstance(value, dict):
            cell = out.setdefault(mk, defaultdict(int))
            for column, n in value.items():
                cell[column] += n
        else:
            out[mk] = out.get(mk, 0) + value
    return out


# --- the periods a read splits into ----------------------------------------------------------------------------------


def split(date_from: date | None, date_to: date | None) -> tuple[list[tuple[date | None, date | None]],
                                                                  tuple[date | None, date | None] | None]:
    """[date_from, date_to] (None = open) → (day ranges to read from the day rows, month range to read from the
    month rows or None): the whole months inside the period from the month rows, the partial months at its
    edges from the day rows. Month range bounds are months' first days (None = open)."""
    first = date_from if date_from is None or date_from.day == 1 else _next_month(date_from)
    if date_to is None:
        last = None  # open: every month from ``first`` on
    else:
        following = date_to + timedelta(days=1)
        last = month_of(date_to) if following.day == 1 else _previous_month(month_of(date_to))
    if first is not None and last is not None and first > last:
        return [(date_from, date_to)], None
    edges = []
    if date_from is not None and first is not None and date_from < first:
        edges.append((date_from, first - timedelta(days=1)))
    if date_to is not None and last is not None and date_to > _next_month(last) - timedelta(days=1):
        edges.append((_next_month(last), date_to))
    return edges, (first, last)


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _previous_month(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


# --- rebuild ---------------------------------------------------------------------------------------------------------


def _values(day_model) -> tuple[str, ...]:
    return ("count",) if day_model is RegionDayMix else WIDE_VALUES


def _bounds(date_from: date | None, date_to: date | None) -> tuple[date | None, date | None]:
    """The whole months touching [date_from, date_to]: (first day of the first, last day of the last)."""
    return (month_of(date_from) if date_from else None,
            _next_month(date_to) - timedelta(days=1) if date_to else None)


def expected(day_model, date_from: date | None, date_to: date | None, within: dict | None = None) -> dict:
    """{month key: values} summed from the stored day rows of the months touching [date_from, date_to]; with
    ``within`` ({day key: values tuple}, the period's day rows as recomputed), the days of the period are taken
    from it instead of from the stored rows."""
    lo, hi = _bounds(date_from, date_to)
    values = _values(day_model)
    rest = day_model.key_fields[1:]
    qs = day_model.objects.in_days(lo, hi)
    if within is not None:
        period = Q(**{k: v for k, v in (("day__gte", date_from), ("day__lte", date_to)) if v is not None})
        qs = qs.none() if date_from is None and date_to is None else qs.exclude(period)
    rows = (qs.order_by().annotate(m=TruncMonth("day")).values("m", *rest)
            .annotate(**{f"s_{c}": Sum(c) for c in values}))
    out: dict = {}
    for row in rows.iterator(chunk_size=5000):
        m = row["m"]
        out[(m.date() if hasattr(m, "date") else m, *(row[c] for c in rest))] = tuple(row[f"s_{c}"] or 0 for c in values)
    for key, sums in (within or {}).items():
        mk = month_key(key)
        out[mk] = tuple(a + b for a, b in zip(out.get(mk, (0,) * len(values)), sums, strict=True))
    return {k: v for k, v in out.items() if any(v)}


def stored(month_model, date_from: date | None, date_to: date | None) -> dict:
    lo, hi = _bounds(date_from, date_to)
    values = ("count",) if month_model is MONTHLY[RegionDayMix] else WIDE_VALUES
    n = len(month_model.key_fields)
    out = {}
    for row in month_model.objects.in_days(lo, hi).values_list(*month_model.key_fields, *values).iterator(
            chunk_size=5000):
        if any(row[n:]):
            out[tuple(row[:n])] = tuple(row[n:])
    return out


def differing(date_from: date | None, date_to: date | None, want_wide: dict, want_mix: dict) -> int:
    """Month rows (of the months touching the period) that differ from what they should be: the sum of the
    recomputed day rows of the period (``want_wide``: model → {key: values}, as rollups.wide.expected;
    ``want_mix``: {key: count}, as rollups.mix.expected) and of the stored day rows of the rest of those months."""
    within = {**{m: want_wide.get(m, {}) for m in MONTHLY if m is not RegionDayMix},
              RegionDayMix: {k: (n,) for k, n in want_mix.items() if n}}
    count = 0
    for day_model, month_model in MONTHLY.items():
        want = expected(day_model, date_from, date_to, within[day_model])
        have = stored(month_model, date_from, date_to)
        count += sum(1 for k in set(want) | set(have) if want.get(k) != have.get(k))
    return count


def differing_stored(date_from: date | None, date_to: date | None) -> int:
    """Month rows (of the months touching the period) that differ from the sum of the stored day rows of their
    month: a grouped read of the day rows, bounded by the number of units, not by the data."""
    count = 0
    for day_model, month_model in MONTHLY.items():
        want = expected(day_model, date_from, date_to)
        have = stored(month_model, date_from, date_to)
        count += sum(1 for k in set(want) | set(have) if want.get(k) != have.get(k))
    return count


def replace(date_from: date | None = None, date_to: date | None = None) -> None:
    """Recompute the month rows of the months touching [date_from, date_to] from the day rows (inside the rebuild's
    transaction, after it replaced the day rows of the period)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for month_model in MONTHLY.values():
                cursor.execute(f"LOCK TABLE {connection.ops.quote_name(month_model._meta.db_table)} "
                               "IN SHARE ROW EXCLUSIVE MODE")
    lo, hi = _bounds(date_from, date_to)
    for day_model, month_model in MONTHLY.items():
        want = expected(day_model, date_from, date_to)
        month_model.objects.in_days(lo, hi).delete()
        insert_rows(month_model, (*month_model.key_fields, *_values(day_model)), ((*k, *v) for k, v in want.items()))

