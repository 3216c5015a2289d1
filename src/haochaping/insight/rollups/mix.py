"""RegionDayMix: valid evaluations per channel and valid 差评 per label, per day × region × department — what the
dashboard's channel and 差评标签 charts read instead of the fine counters and the 差评 themselves (docs/metrics.md
"汇总计数").

Write side: :func:`written` / :func:`excluded` return the upserts of one evaluation's change (statements for
``wide.run``, so on PostgreSQL they join the write's single counter statement). Rebuild side: :func:`expected`,
:func:`stored`, :func:`differing` and :func:`replace` take a day range [date_from, date_to] (None = open), like the
other rollups, so a month-by-month rebuild can call them per month.
"""

from __future__ import annotations

from collections import Counter

from django.db import connection

from haochaping.evaluation.models import Channel, Evaluation
from haochaping.evaluation.rows import local_day

from ..models import RegionDayMix, RegionMonthMix
from . import monthly, recount

CHANNEL, LABEL = "channel", "label"
KEY_FIELDS = RegionDayMix.key_fields
Statement = tuple[str, list]

_SQL: dict[tuple, str] = {}


def _upsert_sql(model=RegionDayMix) -> str:
    """The upsert of one cell of ``model`` (RegionDayMix, or its month table RegionMonthMix)."""
    if (connection.vendor, model) not in _SQL:
        q = connection.ops.quote_name
        table = q(model._meta.db_table)
        cols = ", ".join(q(c) for c in (*KEY_FIELDS, "count"))
        _SQL[(connection.vendor, model)] = (
            f"INSERT INTO {table} ({cols}) VALUES (%s, %s, %s, %s, %s, %s) "
            f"ON CONFLICT ({', '.join(q(c) for c in KEY_FIELDS)}) DO UPDATE SET {q('count')} = {table}.{q('count')} "
            f"+ EXCLUDED.{q('count')}"
        )
    return _SQL[(connection.vendor, model)]


def _changes(ev: Evaluation, sign: int, labels: list[str] | None = None) -> list[Statement]:
    """The cells one valid evaluation counts in (its channel; for a 差评 each label too), each ``sign``.
    ``labels``: its label codes when known (the single submit's write, before the labels are stored)."""
    if ev.channel == Channel.SYSTEM_DEFAULT:
        return []
    unit = (local_day(ev), ev.region_id, ev.department_id)
    cells = [(CHANNEL, ev.channel)]
    if ev.is_bad:  # one indexed read, only for a 差评 (the labels were set before the write's signal)
        codes = sorted(labels) if labels is not None else ev.labels.order_by("pk").values_list("pk", flat=True)
        cells += [(LABEL, code) for code in codes]
    sql, month_sql, month = _upsert_sql(), _upsert_sql(RegionMonthMix), monthly.month_key(unit)
    # The month row of each cell after all the day rows (rollups.monthly: day tables locked first).
    return [*((sql, [*unit, kind, key, sign]) for kind, key in cells),
            *((month_sql, [*month, kind, key, sign]) for kind, key in cells)]


def written(ev: Evaluation, labels: list[str] | None = None) -> list[Statement]:
    """A new evaluation (never excluded yet): +1 in its channel cell, and in each label cell for a 差评."""
    return _changes(ev, 1, labels)


def excluded(ev: Evaluation) -> list[Statement]:
    """An evaluation left statistics (exclusions are never revoked): −1 where :func:`written` added 1."""
    return _changes(ev, -1)


def count_written_many(evaluations: list[Evaluation], labels: dict[int, list[str]] | None = None) -> None:
    """:func:`written` for many new evaluations of this transaction (batch intake, history import): the cells summed
    in Python, the 差评's labels read in one query (unless given: evaluation id → label codes), one upsert per
    cell."""
    valid = [ev for ev in evaluations if ev.channel != Channel.SYSTEM_DEFAULT]
    bad = [ev.pk for ev in valid if ev.is_bad] if labels is None else []
    labels = {} if labels is None else labels
    if bad:
        through = Evaluation.labels.through.objects.filter(evaluation_id__in=bad).order_by("evaluation_id", "label_id")
        for evaluation_id, code in through.values_list("evaluation_id", "label_id"):
            labels.setdefault(evaluation_id, []).append(code)
    cells: Counter = Counter()
    for ev in valid:
        unit = (local_day(ev), ev.region_id, ev.department_id)
        cells[(*unit, CHANNEL, ev.channel)] += 1
        for code in labels.get(ev.pk, ()):
            cells[(*unit, LABEL, code)] += 1
    if cells:
        months = monthly.summed(dict(cells))
        with connection.cursor() as cursor:
            cursor.executemany(_upsert_sql(), [[*cell, n] for cell, n in sorted(cells.items(), key=str)])
            cursor.executemany(_upsert_sql(RegionMonthMix), [[*cell, n] for cell, n in sorted(months.items(), key=str)])


# --- rebuild ------------------------------------------------------------------------------------------------------


def want_sql(date_from=None, date_to=None) -> recount.Sql:
    """The cells as the valid evaluations of [date_from, date_to] say they should be: per channel, and per label of
    the 差评 (the through table joined to its evaluation)."""
    q = recount.q
    e = q(Evaluation._meta.db_table)
    through = Evaluation.labels.through
    t = q(through._meta.db_table)
    day, day_params = recount.local_day(recount.column(Evaluation, "created_at"))
    where, params = recount.time_range(recount.column(Evaluation, "created_at"), date_from, date_to)
    valid = (f"{recount.column(Evaluation, 'channel')} <> %s AND NOT {recount.excluded_sql(recount.column(Evaluation, 'id'))} "
             f"AND {where}")
    units = f"{day} AS {q('day')}, {recount.unit_columns(Evaluation, ('region', 'department'))}"
    keys = ", ".join(q(c) for c in KEY_FIELDS)
    sql = (
        f"SELECT {keys}, COUNT(*) AS {q('count')} FROM ("
        f"SELECT {units}, %s AS {q('kind')}, {recount.column(Evaluation, 'channel')} AS {q('key')} FROM {e} WHERE {valid} "
        f"UNION ALL SELECT {units}, %s AS {q('kind')}, {t}.{q('label_id')} AS {q('key')} FROM {t} JOIN {e} ON "
        f"{recount.column(Evaluation, 'id')} = {t}.{q('evaluation_id')} WHERE {recount.column(Evaluation, 'is_bad')} AND {valid}"
        f") c GROUP BY {keys}"
    )
    one = [*day_params, CHANNEL, Channel.SYSTEM_DEFAULT, *params]
    return sql, [*one, *day_params, LABEL, Channel.SYSTEM_DEFAULT, *params]


def compare(date_from=None, date_to=None) -> int:
    """Cells whose stored count differs from the recomputed one."""
    return recount.compare(RegionDayMix, KEY_FIELDS, ("count",), want_sql(date_from, date_to), date_from, date_to).rows


def replace(date_from=None, date_to=None) -> None:
    recount.replace(RegionDayMix, KEY_FIELDS, ("count",), want_sql(date_from, date_to), date_from, date_to)
