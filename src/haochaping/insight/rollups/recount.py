"""The rebuild's SQL: every counter table recomputed and compared inside the database, so the process running
``rebuild_rollups`` holds no row of the data — its memory is the same at 10^5 evaluations as at 10^7.

Each rollup module says what its table should hold for a period as one SELECT (``want_sql``: the table's key
columns and value columns, by name); this module compares such a SELECT with the stored rows (:func:`compare`: one
statement, ``UNION ALL`` of the two sides summed per key, the stored side negated) and replaces the stored rows with
it (:func:`replace`: ``DELETE`` + ``INSERT … SELECT``). The same SQL runs on PostgreSQL and SQLite; the few vendor
differences (the local day of a time, JSON, regular expressions) are the helpers below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import connection
from django.utils import timezone

from haochaping.evaluation.models import EvaluationExclusion

from ..metrics.filters import day_start

Sql = tuple[str, list]


def q(name: str) -> str:
    return connection.ops.quote_name(name)


def column(model, name: str) -> str:
    """A model field's column, qualified by its table."""
    return f"{q(model._meta.db_table)}.{q(model._meta.get_field(name).column)}"


def excluded_sql(evaluation_id_sql: str) -> str:
    """Whether the evaluation (its id column given) has been excluded from statistics."""
    x = q(EvaluationExclusion._meta.db_table)
    return f"EXISTS (SELECT 1 FROM {x} WHERE {x}.{q('evaluation_id')} = {evaluation_id_sql})"


def unit_columns(model, names=("region", "department", "agency", "window", "staff", "item", "platform")) -> str:
    """The units copied onto an evaluation or a 办件, as the counters' key columns (a missing unit is 0)."""
    nullable = {"agency", "window", "staff", "platform"}
    return ", ".join(f"COALESCE({column(model, n)}, 0) AS {q(n)}" if n in nullable else f"{column(model, n)} AS {q(n)}"
                     for n in names)


def local_day(column_sql: str) -> Sql:
    """The local (北京时间) calendar day of a timestamp column, as TruncDate computes it."""
    sql, params = connection.ops.datetime_cast_date_sql(column_sql, (), timezone.get_current_timezone_name())
    return sql, list(params)


def time_range(column_sql: str, date_from: date | None, date_to: date | None) -> Sql:
    """``column`` within the local days [date_from, date_to] (None = open), as a condition on the timestamp (so
    PostgreSQL prunes the monthly partitions)."""
    conditions, params = ["1 = 1"], []
    # Adapted as the ORM adapts a DateTimeField's value: SQLite stores UTC text, and sqlite3's own adapter would pass
    # an aware time as local text with an offset ('… 00:00:00+08:00'), which compares as text with the stored UTC
    # and put the first eight hours of a month into the month before.
    adapt = connection.ops.adapt_datetimefield_value
    if date_from:
        conditions.append(f"{column_sql} >= %s")
        params.append(adapt(day_start(date_from)))
    if date_to:
        conditions.append(f"{column_sql} < %s")
        params.append(adapt(day_start(date_to + timedelta(days=1))))
    return " AND ".join(conditions), params


def day_range(column_sql: str, date_from: date | None, date_to: date | None) -> Sql:
    """A counter table's ``day`` column within [date_from, date_to] (None = open)."""
    conditions, params = ["1 = 1"], []
    if date_from:
        conditions.append(f"{column_sql} >= %s")
        params.append(date_from)
    if date_to:
        conditions.append(f"{column_sql} <= %s")
        params.append(date_to)
    return " AND ".join(conditions), params


def json_is(column_sql: str, key: str, value: bool) -> str:
    """``column``'s JSON object has ``key`` set to the JSON boolean ``value`` (``key`` is a fixed identifier)."""
    assert key.isidentifier()
    if connection.vendor == "postgresql":
        return f"({column_sql} -> '{key}') = '{'true' if value else 'false'}'::jsonb"
    return f"json_type({column_sql}, '$.{key}') = '{'true' if value else 'false'}'"


# Python's str.strip() strips the characters for which str.isspace() holds; a text is "not blank" when it has any
# other character. The class below lists exactly those characters (tests/insight compare it with str.isspace over
# every code point), written with escapes that PostgreSQL's and Python's regular expressions (SQLite's REGEXP is
# Python's re, registered by Django) read alike.
WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + (
    "\u2028\u2029\u202f\u205f\u3000")
NOT_BLANK = "[^" + "".join(f"\\u{ord(c):04x}" for c in WHITESPACE) + "]"


def json_text_not_blank(column_sql: str, key: str) -> Sql:
    """``column``'s JSON object has ``key`` set to a text that is not blank (``(value or "").strip()`` is true)."""
    assert key.isidentifier()
    if connection.vendor == "postgresql":
        return f"COALESCE(({column_sql} ->> '{key}') ~ %s, FALSE)", [NOT_BLANK]
    return (f"COALESCE(json_type({column_sql}, '$.{key}') = 'text' AND json_extract({column_sql}, '$.{key}') "
            f"REGEXP %s, 0)"), [NOT_BLANK]


@dataclass
class Diff:
    """How a recomputed table (want) and the stored one (have) compare, per value column."""

    rows: int = 0  # keys whose values differ in any column
    cells: list[int] = field(default_factory=list)  # per column: keys where it differs
    missing: list[int] = field(default_factory=list)  # per column: sum of (want − have) where positive
    surplus: list[int] = field(default_factory=list)  # per column: sum of (have − want) where positive
    want_rows: int = 0  # keys with a non-zero value recomputed
    want_sums: list[int] = field(default_factory=list)  # per column: the recomputed total


def compare(model, keys: tuple[str, ...], values: tuple[str, ...], want: Sql, date_from: date | None,
            date_to: date | None) -> Diff:
    """Compare ``want`` (a SELECT of ``keys`` and ``values`` columns by name) with ``model``'s stored rows of
    [date_from, date_to], in one statement. Rows whose values are all zero are the same as no row."""
    want_sql, want_params = want
    table = q(model._meta.db_table)
    k = ", ".join(q(c) for c in keys)
    n = len(values)
    w_cols = ", ".join(f"w.{q(c)} AS w{i}" for i, c in enumerate(values))
    zeros = ", ".join(f"0 AS s{i}" for i in range(n))
    w_zeros = ", ".join(f"0 AS w{i}" for i in range(n))
    s_cols = ", ".join(f"{table}.{q(c)} AS s{i}" for i, c in enumerate(values))
    where, where_params = day_range(f"{table}.{q('day')}", date_from, date_to)
    sums = ", ".join(f"SUM(w{i}) AS w{i}, SUM(s{i}) AS s{i}" for i in range(n))
    differs = " OR ".join(f"w{i} <> s{i}" for i in range(n))
    any_want = " OR ".join(f"w{i} <> 0" for i in range(n))
    per_column = ", ".join(
        f"SUM(CASE WHEN w{i} <> s{i} THEN 1 ELSE 0 END), SUM(CASE WHEN w{i} > s{i} THEN w{i} - s{i} ELSE 0 END), "
        f"SUM(CASE WHEN s{i} > w{i} THEN s{i} - w{i} ELSE 0 END), SUM(w{i})" for i in range(n)
    )
    sql = (
        f"SELECT SUM(CASE WHEN {differs} THEN 1 ELSE 0 END), SUM(CASE WHEN {any_want} THEN 1 ELSE 0 END), "
        f"{per_column} FROM ("
        f"SELECT {k}, {sums} FROM ("
        f"SELECT {', '.join(f'w.{q(c)}' for c in keys)}, {w_cols}, {zeros} FROM ({want_sql}) w "
        f"UNION ALL SELECT {', '.join(f'{table}.{q(c)}' for c in keys)}, {w_zeros}, {s_cols} FROM {table} "
        f"WHERE {where}) u GROUP BY {k}) g"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*want_params, *where_params])
        row = [int(v or 0) for v in cursor.fetchone()]
    per = [row[2 + 4 * i: 6 + 4 * i] for i in range(n)]
    return Diff(rows=row[0], want_rows=row[1], cells=[p[0] for p in per], missing=[p[1] for p in per],
                surplus=[p[2] for p in per], want_sums=[p[3] for p in per])


def replace(model, keys: tuple[str, ...], values: tuple[str, ...], want: Sql, date_from: date | None,
            date_to: date | None) -> None:
    """Replace ``model``'s rows of [date_from, date_to] with ``want`` (its rows with a non-zero value)."""
    want_sql, want_params = want
    table = q(model._meta.db_table)
    where, where_params = day_range(q("day"), date_from, date_to)
    cols = ", ".join(q(c) for c in (*keys, *values))
    nonzero = " OR ".join(f"w.{q(c)} <> 0" for c in values)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {where}", where_params)
        cursor.execute(
            f"INSERT INTO {table} ({cols}) SELECT {', '.join(f'w.{q(c)}' for c in (*keys, *values))} "
            f"FROM ({want_sql}) w WHERE {nonzero}", want_params)
