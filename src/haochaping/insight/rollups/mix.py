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
from datetime import timedelta

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from haochaping.core.bulk import insert_rows
from haochaping.evaluation.models import Channel, Evaluation, EvaluationExclusion

from ..metrics.filters import day_start
from ..models import RegionDayMix, RegionMonthMix
from . import monthly

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


def _changes(ev: Evaluation, sign: int) -> list[Statement]:
    """The cells one valid evaluation counts in (its channel; for a 差评 each label too), each ``sign``."""
    if ev.channel == Channel.SYSTEM_DEFAULT:
        return []
    unit = (timezone.localtime(ev.created_at).date(), ev.region_id, ev.department_id)
    cells = [(CHANNEL, ev.channel)]
    if ev.is_bad:  # one indexed read, only for a 差评 (the labels were set before the write's signal)
        cells += [(LABEL, code) for code in ev.labels.order_by("pk").values_list("pk", flat=True)]
    sql, month_sql, month = _upsert_sql(), _upsert_sql(RegionMonthMix), monthly.month_key(unit)
    # The month row of each cell after all the day rows (rollups.monthly: day tables locked first).
    return [*((sql, [*unit, kind, key, sign]) for kind, key in cells),
            *((month_sql, [*month, kind, key, sign]) for kind, key in cells)]


def written(ev: Evaluation) -> list[Statement]:
    """A new evaluation (never excluded yet): +1 in its channel cell, and in each label cell for a 差评."""
    return _changes(ev, 1)


def excluded(ev: Evaluation) -> list[Statement]:
    """An evaluation left statistics (exclusions are never revoked): −1 where :func:`written` added 1."""
    return _changes(ev, -1)


def count_written_many(evaluations: list[Evaluation]) -> None:
    """:func:`written` for many new evaluations of this transaction (batch intake, history import): the cells summed
    in Python, the 差评's labels read in one query, one upsert per cell."""
    valid = [ev for ev in evaluations if ev.channel != Channel.SYSTEM_DEFAULT]
    labels: dict[int, list[str]] = {}
    bad = [ev.pk for ev in valid if ev.is_bad]
    if bad:
        through = Evaluation.labels.through.objects.filter(evaluation_id__in=bad).order_by("evaluation_id", "label_id")
        for evaluation_id, code in through.values_list("evaluation_id", "label_id"):
            labels.setdefault(evaluation_id, []).append(code)
    cells: Counter = Counter()
    for ev in valid:
        unit = (timezone.localtime(ev.created_at).date(), ev.region_id, ev.department_id)
        cells[(*unit, CHANNEL, ev.channel)] += 1
        for code in labels.get(ev.pk, ()):
            cells[(*unit, LABEL, code)] += 1
    if cells:
        months = monthly.summed(dict(cells))
        with connection.cursor() as cursor:
            cursor.executemany(_upsert_sql(), [[*cell, n] for cell, n in sorted(cells.items(), key=str)])
            cursor.executemany(_upsert_sql(RegionMonthMix), [[*cell, n] for cell, n in sorted(months.items(), key=str)])


# --- rebuild ------------------------------------------------------------------------------------------------------


def _days(qs, column: str, date_from, date_to):
    if date_from:
        qs = qs.filter(**{f"{column}__gte": day_start(date_from)})
    if date_to:
        qs = qs.filter(**{f"{column}__lt": day_start(date_to + timedelta(days=1))})
    return qs


def expected(date_from=None, date_to=None) -> Counter:
    """The cells as the evaluations of [date_from, date_to] say they should be: two grouped queries."""
    valid = (Evaluation.objects.exclude(channel=Channel.SYSTEM_DEFAULT)
             .exclude(Exists(EvaluationExclusion.objects.filter(evaluation=OuterRef("pk")))))
    out: Counter = Counter()
    channels = (_days(valid, "created_at", date_from, date_to).order_by().annotate(d=TruncDate("created_at"))
                .values_list("d", "region_id", "department_id", "channel").annotate(n=Count("pk")))
    for d, region, dept, channel, n in channels:
        out[(d, region, dept, CHANNEL, channel)] += n
    through = Evaluation.labels.through
    bad = _days(valid.filter(is_bad=True), "created_at", date_from, date_to).values("pk")
    labels = (through.objects.filter(Q(evaluation__in=bad)).order_by().annotate(d=TruncDate("evaluation__created_at"))
              .values_list("d", "evaluation__region_id", "evaluation__department_id", "label_id").annotate(n=Count("pk")))
    for d, region, dept, label, n in labels:
        out[(d, region, dept, LABEL, label)] += n
    return out


def stored(date_from=None, date_to=None) -> Counter:
    out: Counter = Counter()
    for row in RegionDayMix.objects.in_days(date_from, date_to).exclude(count=0).values_list(*KEY_FIELDS, "count"):
        out[tuple(row[:-1])] += row[-1]
    return out


def differing(want: Counter, have: Counter) -> int:
    """Cells whose stored count differs from the recomputed one."""
    return sum(1 for k in set(want) | set(have) if want.get(k, 0) != have.get(k, 0))


def replace(date_from, date_to, want: Counter) -> None:
    RegionDayMix.objects.in_days(date_from, date_to).delete()
    insert_rows(RegionDayMix, (*KEY_FIELDS, "count"), ((*k, n) for k, n in want.items() if n))
