"""The wide counters (RegionDayCounter, UnitDayCounter): every change to DailyCounter and to the "" rows of
DailyParticipation, applied again to the wide rows of the same day and coarser key, in the same transaction.

Also the statement runner: on PostgreSQL the upserts of one change are joined into ONE statement (data-modifying
CTEs, ``WITH a AS (INSERT …), b AS (INSERT …) <last>``), so the wide counters add no statement to the write path;
SQLite runs them one after the other (one writer at a time).
"""

from __future__ import annotations

from collections import defaultdict

from django.db import connection

from haochaping.evaluation.lookups import lookup_table
from haochaping.evaluation.models import Channel, EvaluationType

from .. import rules
from ..models import MONTHLY, WIDE_VALUES, DailyCounter, DailyParticipation, RegionDayCounter, UnitDayCounter
from . import monthly, recount

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
    key = (connection.vendor, model, "rated", lookup_table())
    if key not in _SQL:
        table = _q(model._meta.db_table)
        marks = ", ".join(_mark(model, c) for c in model.key_fields)
        _SQL[key] = (
            f"INSERT INTO {table} ({', '.join(_q(c) for c in (*model.key_fields, *WIDE_VALUES))}) "
            f"SELECT {marks}, {', '.join('1' if c == 'rated' else '0' for c in WIDE_VALUES)} WHERE NOT EXISTS (SELECT 1 FROM {_q(lookup_table())} WHERE "
            f"{_q('record_id')} = %s AND {_q('id')} <> %s AND {_q('channel')} <> %s) "
            f"ON CONFLICT ({', '.join(_q(c) for c in model.key_fields)}) DO UPDATE SET "
            f"{_q('rated')} = {table}.{_q('rated')} + EXCLUDED.{_q('rated')}"
        )
    return _SQL[key]


def upserts_with_rated(changes: Changes, units: tuple, record_id, evaluation_id) -> list[Statement]:
    """:func:`upserts` of ``changes`` and :func:`rated_if_first` of ``units`` as ONE upsert per wide table, for a
    statement that may not change a row twice (the single submit's one write: the evaluation's day is often its
    办件's completion day, so both add to the same row). The rows are summed per key (GROUP BY) before the upsert;
    the rated row is there only when the 办件 has no other countable evaluation."""
    month = monthly.month_key(units)
    targets = []
    for model in MODELS:
        cells = {key: values for (m, key), values in changes.items() if m is model}
        targets.append((model, model, units, cells))
    # Every day table before any month table, as every other writer and the rebuild lock them (rollups.monthly):
    # the month rows in between the day rows deadlocked against a concurrent exclusion.
    for model, _day, _units, cells in list(targets):
        targets.append((MONTHLY[model], model, month, monthly.summed(cells)))
    out = []
    for target, model, target_units, target_cells in targets:
        rows = [[*key, *(values.get(c, 0) for c in WIDE_VALUES)]
                for key, values in target_cells.items() if any(values.values())]
        out.append((_merged_sql(target, len(rows)),
                    [*target_units[: len(model.key_fields)], record_id, evaluation_id, Channel.SYSTEM_DEFAULT,
                     *(p for row in rows for p in row)]))
    return out


def _merged_sql(model, rows: int) -> str:
    key = (connection.vendor, model, "merged", rows, lookup_table())
    if key not in _SQL:
        table = _q(model._meta.db_table)
        keys = [_q(c) for c in model.key_fields]
        integer = "%s::integer" if connection.vendor == "postgresql" else "%s"
        plain = ", ".join([*(_mark(model, c) for c in model.key_fields), *([integer] * len(WIDE_VALUES))])
        # The rated branch comes first and names the columns (SQLite takes no column list after a derived table).
        named = ", ".join([*(f"{_mark(model, c)} AS {_q(c)}" for c in model.key_fields),
                           *(f"{'1' if c == 'rated' else '0'} AS {_q(c)}" for c in WIDE_VALUES)])
        rated = (f"SELECT {named} WHERE NOT EXISTS (SELECT 1 FROM {_q(lookup_table())} WHERE "
                 f"{_q('record_id')} = %s AND {_q('id')} <> %s AND {_q('channel')} <> %s)")
        branches = " UNION ALL ".join([rated, *([f"SELECT {plain}"] * rows)])
        cols = ", ".join(_q(c) for c in (*model.key_fields, *WIDE_VALUES))
        sums = ", ".join(f"SUM({_q(c)})" for c in WIDE_VALUES)
        _SQL[key] = (
            f"INSERT INTO {table} ({cols}) SELECT {', '.join(keys)}, {sums} FROM ({branches}) {_q('v')} WHERE TRUE "
            f"GROUP BY {', '.join(keys)} "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
            + ", ".join(f"{_q(c)} = {table}.{_q(c)} + EXCLUDED.{_q(c)}" for c in WIDE_VALUES)
        )
    return _SQL[key]


def _mark(model, field_name: str) -> str:
    # In INSERT … SELECT PostgreSQL cannot infer a parameter's type from the target column: cast it.
    if connection.vendor != "postgresql":
        return "%s"
    return f"%s::{model._meta.get_field(field_name).db_type(connection)}"


# --- rebuild ------------------------------------------------------------------------------------------------------


def _literal(value: str) -> str:
    assert value.replace("_", "").isalnum()  # a code constant, never data
    return f"'{value}'"


def _want_sql(model, fine: recount.Sql, part: recount.Sql) -> recount.Sql:
    """``model``'s rows as DailyCounter rows ``fine`` and DailyParticipation rows ``part`` (SELECTs with those tables'
    columns) imply: the columns evaluation_values adds to, summed, and the "" rows' (completed, rated)."""
    q = recount.q
    keys = ", ".join(q(c) for c in model.key_fields)
    valid = f"f.{q('channel')} <> {_literal(Channel.SYSTEM_DEFAULT)} AND NOT f.{q('excluded')}"
    counted = f"f.{q('channel')} <> {_literal(Channel.SYSTEM_DEFAULT)} AND f.{q('excluded')}"
    cases = {
        **{f"level{lv}": f"{valid} AND f.{q('level')} = {lv}" for lv in rules.LEVELS},
        "followups": f"{valid} AND f.{q('type')} = {_literal(EvaluationType.FOLLOWUP)}",
        "real_name": f"{valid} AND f.{q('is_real_name')}",
        "excluded": counted,
        "excluded_bad": f"{counted} AND f.{q('level')} IN ({', '.join(str(lv) for lv in sorted(rules.BAD_LEVELS))})",
        "system_default": f"f.{q('channel')} = {_literal(Channel.SYSTEM_DEFAULT)}",
    }
    from_fine = ", ".join(
        f"CASE WHEN {cases[c]} THEN f.{q('count')} ELSE 0 END AS {q(c)}" if c in cases else f"0 AS {q(c)}"
        for c in WIDE_VALUES)
    from_part = ", ".join(f"p.{q(c)}" if c in ("completed", "rated") else f"0 AS {q(c)}" for c in WIDE_VALUES)
    sums = ", ".join(f"SUM({q(c)}) AS {q(c)}" for c in WIDE_VALUES)
    sql = (
        f"SELECT {keys}, {sums} FROM ("
        f"SELECT {', '.join(f'f.{q(c)}' for c in model.key_fields)}, {from_fine} FROM ({fine[0]}) f "
        f"UNION ALL SELECT {', '.join(f'p.{q(c)}' for c in model.key_fields)}, {from_part} FROM ({part[0]}) p "
        f"WHERE p.{q('channel')} = '') u GROUP BY {keys}"
    )
    return sql, [*fine[1], *part[1]]


def want_from_tables(date_from=None, date_to=None):
    """The wide counters' sources: the DailyCounter and DailyParticipation rows of [date_from, date_to]."""
    out = []
    for model in (DailyCounter, DailyParticipation):
        table = recount.q(model._meta.db_table)
        where, params = recount.day_range(f"{table}.{recount.q('day')}", date_from, date_to)
        out.append((f"SELECT * FROM {table} WHERE {where}", params))
    return tuple(out)


def want_from_sql(fine: recount.Sql, part: recount.Sql):
    """The wide counters' sources: recomputed DailyCounter and DailyParticipation rows (a comparison only)."""
    return fine, part


def compare(sources, date_from=None, date_to=None) -> int:
    """Wide counter rows whose stored values differ from the ones ``sources`` imply."""
    return sum(recount.compare(model, model.key_fields, WIDE_VALUES, _want_sql(model, *sources), date_from,
                               date_to).rows for model in MODELS)


def rebuild(sources, date_from=None, date_to=None) -> int:
    """Compare, then replace the wide counters of the period with the ones ``sources`` imply; the rows that
    differed."""
    differing = compare(sources, date_from, date_to)
    for model in MODELS:
        recount.replace(model, model.key_fields, WIDE_VALUES, _want_sql(model, *sources), date_from, date_to)
    return differing
