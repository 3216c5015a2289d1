"""The wide counters (RegionDayCounter, UnitDayCounter): every change to DailyCounter and to the "" rows of
DailyParticipation, applied again to the wide rows of the same day and coarser key, in the same transaction.

Also the statement runner: on PostgreSQL the upserts of one change are joined into ONE statement (data-modifying
CTEs, ``WITH a AS (INSERT …), b AS (INSERT …) <last>``), so the wide counters add no statement to the write path;
SQLite runs them one after the other (one writer at a time).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from django.db import connection

from haochaping.core.bulk import insert_rows
from haochaping.evaluation.models import Channel, Evaluation, EvaluationType

from .. import rules
from ..models import MONTHLY, WIDE_VALUES, RegionDayCounter, UnitDayCounter
from . import monthly

MODELS = (RegionDayCounter, UnitDayCounter)
Statement = tuple[str, list]
Changes = dict  # (model, key) -> {value column: delta}


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def run(statements: list[Statement]):
    """Execute the statements in order; return the last one's first row (or None)."""
    statements = [s for s in statements if s]
    if not statements:
        return None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(statements) > 1:
            head = ", ".join(f"w{i} AS ({sql})" for i, (sql, _p) in enumerate(statements[:-1]))
            cursor.execute(f"WITH {head} {statements[-1][0]}", [p for _s, params in statements for p in params])
        else:
            for sql, params in statements:
                cursor.execute(sql, params)
        return cursor.fetchone() if cursor.description else None


def evaluation_values(channel: str, level: int, type_: str, real_name: bool, excluded: bool) -> dict[str, int]:
    """Which wide columns one evaluation adds 1 to — exactly rules.Tally.add."""
    if channel == Channel.SYSTEM_DEFAULT:
        return {"system_default": 1}
    if excluded:
        return {"excluded": 1, **({"excluded_bad": 1} if level in rules.BAD_LEVELS else {})}
    out = {f"level{level}": 1}
    if type_ == EvaluationType.FOLLOWUP:
        out["followups"] = 1
    if real_name:
        out["real_name"] = 1
    return out


def _add(changes: Changes, units: tuple, values: dict[str, int], sign: int) -> None:
    for model in MODELS:
        cell = changes.setdefault((model, tuple(units[: len(model.key_fields)])), defaultdict(int))
        for column, n in values.items():
            cell[column] += sign * n


def from_evaluations(fine: list[tuple[tuple, int]]) -> Changes:
    """Wide changes for DailyCounter changes [(key of rollups.KEY_FIELDS, delta)]."""
    changes: Changes = {}
    for key, delta in fine:
        channel, level, type_, real, excluded = key[8:]
        _add(changes, key, evaluation_values(channel, level, type_, real, excluded), delta)
    return changes


def from_participation(part: dict[tuple, tuple[int, int]]) -> Changes:
    """Wide changes for DailyParticipation changes (only the "" rows count here: they hold completed and rated)."""
    changes: Changes = {}
    for key, (completed, rated) in part.items():
        if key[-1] == "":
            _add(changes, key, {"completed": completed, "rated": rated}, 1)
    return changes


def upserts(changes: Changes) -> list[Statement]:
    """One multi-row upsert per wide table (all its value columns added), then one per month table
    (rollups.monthly: the same changes summed per month, after the day tables)."""
    by_month: dict = defaultdict(dict)
    for (model, key), values in changes.items():
        by_month[MONTHLY[model]][key] = values
    changes = {**changes, **{(month_model, key): values for month_model, cells in by_month.items()
                             for key, values in monthly.summed(cells).items()}}
    by_model: dict = defaultdict(list)
    for (model, key), values in changes.items():
        if any(values.values()):
            by_model[model].append([*key, *(values.get(c, 0) for c in WIDE_VALUES)])
    return [(_upsert_sql(model, len(rows)), [p for row in rows for p in row]) for model, rows in by_model.items()]


_SQL: dict[tuple, str] = {}  # built once per process: the write path should not pay for string building


def _upsert_sql(model, rows: int) -> str:
    key = (connection.vendor, model, rows)
    if key not in _SQL:
        table = _q(model._meta.db_table)
        cols = ", ".join(_q(c) for c in (*model.key_fields, *WIDE_VALUES))
        one = "(" + ", ".join(["%s"] * (len(model.key_fields) + len(WIDE_VALUES))) + ")"
        sets = ", ".join(f"{_q(c)} = {table}.{_q(c)} + EXCLUDED.{_q(c)}" for c in WIDE_VALUES)
        _SQL[key] = (f"INSERT INTO {table} ({cols}) VALUES {', '.join([one] * rows)} "
                     f"ON CONFLICT ({', '.join(_q(c) for c in model.key_fields)}) DO UPDATE SET {sets}")
    return _SQL[key]


def rated_if_first(units: tuple, record_id, evaluation_id) -> list[Statement]:
    """rated +1 in the wide rows of a completed 办件's ``units`` unless it has another countable evaluation."""
    day_rows = [(_rated_sql(model), [*units[: len(model.key_fields)], record_id, evaluation_id, Channel.SYSTEM_DEFAULT])
                for model in MODELS]
    month = monthly.month_key(units)
    return [*day_rows, *((_rated_sql(MONTHLY[model]), [*month[: len(model.key_fields)], record_id, evaluation_id,
                                                         Channel.SYSTEM_DEFAULT]) for model in MODELS)]


def _rated_sql(model) -> str:
    key = (connection.vendor, model, "rated")
    if key not in _SQL:
        table = _q(model._meta.db_table)
        marks = ", ".join(_mark(model, c) for c in model.key_fields)
        _SQL[key] = (
            f"INSERT INTO {table} ({', '.join(_q(c) for c in (*model.key_fields, *WIDE_VALUES))}) "
            f"SELECT {marks}, {', '.join('1' if c == 'rated' else '0' for c in WIDE_VALUES)} WHERE NOT EXISTS (SELECT 1 FROM {_q(Evaluation._meta.db_table)} WHERE "
            f"{_q('record_id')} = %s AND {_q('id')} <> %s AND {_q('channel')} <> %s) "
            f"ON CONFLICT ({', '.join(_q(c) for c in model.key_fields)}) DO UPDATE SET "
            f"{_q('rated')} = {table}.{_q('rated')} + EXCLUDED.{_q('rated')}"
        )
    return _SQL[key]


def _mark(model, field_name: str) -> str:
    # In INSERT … SELECT PostgreSQL cannot infer a parameter's type from the target column: cast it.
    if connection.vendor != "postgresql":
        return "%s"
    return f"%s::{model._meta.get_field(field_name).db_type(connection)}"


# --- rebuild ------------------------------------------------------------------------------------------------------


def expected(fine: Counter, part: Counter) -> dict:
    """model → {key: values tuple} derived from the recomputed fine and participation counters."""
    changes = from_evaluations(list(fine.items()))
    for (model, key), values in from_participation(dict(part)).items():
        cell = changes.setdefault((model, key), defaultdict(int))
        for c, n in values.items():
            cell[c] += n
    out: dict = {m: {} for m in MODELS}
    for (model, key), values in changes.items():
        row = tuple(values.get(c, 0) for c in WIDE_VALUES)
        if any(row):
            out[model][key] = row
    return out


def stored(date_from=None, date_to=None) -> dict:
    out: dict = {}
    for model in MODELS:
        rows = {}
        for row in model.objects.in_days(date_from, date_to).values_list(*model.key_fields, *WIDE_VALUES).iterator(chunk_size=5000):
            n = len(model.key_fields)
            if any(row[n:]):
                rows[tuple(row[:n])] = tuple(row[n:])
        out[model] = rows
    return out


def differing(want: dict, have: dict) -> int:
    return sum(1 for m in MODELS for k in set(want[m]) | set(have[m]) if want[m].get(k) != have[m].get(k))


def replace(date_from, date_to, want: dict) -> None:
    for model in MODELS:
        model.objects.in_days(date_from, date_to).delete()
        insert_rows(model, (*model.key_fields, *WIDE_VALUES), ((*k, *v) for k, v in want[model].items()))
