"""Keeping the 参评率 counters (DailyParticipation) in step with 办件 and evaluations, and recomputing them
(docs/metrics.md "汇总计数").

A 办件 counts on its completion day (北京时间) under its own units: ``completed`` +1 in the channel "" row, and
``rated`` +1 there and in each channel row through which it has an evaluation that is not a system default.
Three writes change that:

- a 办件 saved completed, or with a corrected completion time or units (``record_saved``, from the model's
  save signals: pushes, PATCH corrections, and anything else that saves a ServiceRecord);
- the first countable evaluation of a completed 办件, overall or through its channel (``evaluation_written``);
- a completed 办件 deleted (possible only while it has no evaluation).

Evaluations and completion changes of one 办件 are serialised by the 办件's row lock: records.services locks it
(SELECT … FOR UPDATE) before changing it, and ``rollups.count_written`` locks it before looking for other
evaluations, in an earlier statement (the single submit: its probe, evaluation.lookups.probe), so the look-up sees
every evaluation committed before the lock was granted. With monthly partitions (PostgreSQL) the evaluation side
locks the 办件's key row (evaluation.lookups.record_table), which the completion's UPDATE changes in the same
statement through the key table's trigger: the same serialisation, on one row of one table. Two simultaneous first
evaluations of one 办件 therefore count it once, and an evaluation racing the 办件's completion is counted by
whichever of the two commits second. (SQLite has one writer at a time: no lock needed.)
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from django.db import connection
from django.db.models import Count, Exists, OuterRef
from django.db.models.functions import TruncDate
from django.utils import timezone

from haochaping.core.bulk import any_of
from haochaping.evaluation.lookups import RECORD_LOCK, lookup_table, record_table
from haochaping.evaluation.models import Channel, Evaluation
from haochaping.records.models import RecordStatus, ServiceRecord

from ..metrics.filters import day_start
from ..models import PARTICIPATION_KEY_FIELDS, DailyParticipation
from . import recount, wide

Key = tuple  # values of PARTICIPATION_KEY_FIELDS, in order
UNIT_COLUMNS = ("region_id", "department_id", "agency_id", "window_id", "staff_id", "item_id", "platform_id")
# What a record's row says about its participation counters: its status, completion time and units.
STATE_COLUMNS = ("status", "completed_at", *UNIT_COLUMNS)


def state_key(state: tuple | None) -> tuple | None:
    """(day, units…) a record in ``state`` (values of STATE_COLUMNS) is counted under, None when not completed."""
    if state is None or state[0] != RecordStatus.COMPLETED or state[1] is None:
        return None
    region, dept, agency, window, staff, item, platform = state[2:]
    return (timezone.localtime(state[1]).date(), region, dept, agency or 0, window or 0, staff or 0, item,
            platform or 0)


def state_of(record: ServiceRecord) -> tuple:
    return tuple(getattr(record, c) for c in STATE_COLUMNS)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _mark(field_name: str) -> str:
    # In INSERT … SELECT PostgreSQL cannot infer a parameter's type from the target column: cast it.
    if connection.vendor != "postgresql":
        return "%s"
    return f"%s::{DailyParticipation._meta.get_field(field_name).db_type(connection)}"


_SQL: dict[tuple, str] = {}


def _upsert_sql(rows: int) -> str:
    key = ("upsert", connection.vendor, rows)
    if key not in _SQL:
        table = _q(DailyParticipation._meta.db_table)
        cols = ", ".join(_q(c) for c in (*PARTICIPATION_KEY_FIELDS, "completed", "rated"))
        one = "(" + ", ".join(["%s"] * (len(PARTICIPATION_KEY_FIELDS) + 2)) + ")"
        _SQL[key] = (
            f"INSERT INTO {table} ({cols}) VALUES {', '.join([one] * rows)} "
            f"ON CONFLICT ({', '.join(_q(c) for c in PARTICIPATION_KEY_FIELDS)}) DO UPDATE SET "
            f"{_q('completed')} = {table}.{_q('completed')} + EXCLUDED.{_q('completed')}, "
            f"{_q('rated')} = {table}.{_q('rated')} + EXCLUDED.{_q('rated')}"
        )
    return _SQL[key]


def bump(changes: dict[Key, tuple[int, int]]) -> None:
    """Add (completed, rated) deltas to their counters and the wide counters (keys are distinct: one row each);
    one statement on PostgreSQL."""
    changes = {k: v for k, v in changes.items() if v != (0, 0)}
    if not changes:
        return
    params = [p for key, (completed, rated) in changes.items() for p in (*key, completed, rated)]
    wide.run([(_upsert_sql(len(changes)), params), *wide.upserts(wide.from_participation(changes))])


def _rated_channels(record_id) -> list[str]:
    return list(
        Evaluation.objects.filter(record_id=record_id).exclude(channel=Channel.SYSTEM_DEFAULT).order_by()
        .values_list("channel", flat=True).distinct()
    )


def record_saved(record_id, before: tuple | None, after: tuple | None, *, new: bool = False) -> None:
    """A 办件 went from state ``before`` to ``after`` (None: not there): move its counts. ``new``: just inserted,
    so it has no evaluation yet (no look-up)."""
    old, now = state_key(before), state_key(after)
    if old == now:
        return
    channels = [] if new else _rated_channels(record_id)
    changes: dict[Key, tuple[int, int]] = {}
    for units, sign in ((old, -1), (now, 1)):
        if units is None:
            continue
        changes[(*units, "")] = (sign, sign if channels else 0)
        for channel in channels:
            changes[(*units, channel)] = (0, sign)
    bump(changes)


def records_created(records: list[ServiceRecord]) -> None:
    """:func:`record_saved` (``new``) for many 办件 just inserted together: each completed one +1 ``completed``
    under its day and units, the deltas summed per key (one upsert)."""
    changes: Counter = Counter()
    for record in records:
        units = state_key(state_of(record))
        if units is not None:
            changes[(*units, "")] += 1
    bump({key: (n, 0) for key, n in changes.items()})


def lock_sql() -> str:
    """PostgreSQL: lock a 办件's row and read its STATE_COLUMNS (parameter: the id), where the submit's probe locks it
    (evaluation.lookups.record_table: the key table, with partitions)."""
    key = ("lock", connection.vendor, record_table())
    if key not in _SQL:
        cols = ", ".join(_q(ServiceRecord._meta.get_field(c.removesuffix("_id")).column) for c in STATE_COLUMNS)
        _SQL[key] = f"SELECT {cols} FROM {_q(record_table())} WHERE {_q('id')} = %s {RECORD_LOCK}"
    return _SQL[key]


def read_state(record_id) -> tuple | None:
    return ServiceRecord.objects.filter(pk=record_id).order_by().values_list(*STATE_COLUMNS).first()


def _first_sql() -> str:
    """+1 rated in the "" row unless the 办件 has another countable evaluation, and in the channel's row unless it
    has another one through that channel: one statement, so an evaluation adds at most one to the write path."""
    key = ("first", connection.vendor, lookup_table())
    if key not in _SQL:
        table = _q(DailyParticipation._meta.db_table)
        evaluations = _q(lookup_table())  # the key table on PostgreSQL (evaluation.lookups)
        cols = ", ".join(_q(c) for c in (*PARTICIPATION_KEY_FIELDS, "completed", "rated"))
        values = ", ".join(_mark(c) for c in PARTICIPATION_KEY_FIELDS)
        other = f"SELECT 1 FROM {evaluations} WHERE {_q('record_id')} = %s AND {_q('id')} <> %s AND {_q('channel')}"
        _SQL[key] = (
            f"INSERT INTO {table} ({cols}) "
            f"SELECT {values}, 0, 1 WHERE NOT EXISTS ({other} <> %s) "
            f"UNION ALL SELECT {values}, 0, 1 WHERE NOT EXISTS ({other} = %s) "
            f"ON CONFLICT ({', '.join(_q(c) for c in PARTICIPATION_KEY_FIELDS)}) DO UPDATE SET "
            f"{_q('rated')} = {table}.{_q('rated')} + EXCLUDED.{_q('rated')}"
        )
    return _SQL[key]


def first_statements(ev: Evaluation, units: tuple, wide_changes: dict) -> list[wide.Statement]:
    """:func:`count_first` for a 办件 counted under ``units`` (completed), joined with the evaluation's own wide
    ``wide_changes`` (wide.upserts_with_rated): statements for one write that changes no row twice."""
    return [
        (_first_sql(), [*units, "", ev.record_id, ev.pk, Channel.SYSTEM_DEFAULT,
                        *units, ev.channel, ev.record_id, ev.pk, ev.channel]),
        *wide.upserts_with_rated(wide_changes, units, ev.record_id, ev.pk),
    ]


def count_first(ev: Evaluation, state: tuple | None) -> None:
    """A new evaluation (not a system default) of a 办件 in ``state`` — read under the 办件's lock by
    :func:`lock_sql` in an earlier statement of the same transaction (rollups.count_written): if the 办件 is
    completed and this is its first countable evaluation (overall, or through this channel), the 办件 becomes
    rated there. One conditional upsert, none when the 办件 is not completed (its completion will count it)."""
    units = state_key(state)
    if units is None:
        return
    wide.run([
        (_first_sql(), [*units, "", ev.record_id, ev.pk, Channel.SYSTEM_DEFAULT,
                        *units, ev.channel, ev.record_id, ev.pk, ev.channel]),
        *wide.rated_if_first(units, ev.record_id, ev.pk),
    ])


def count_first_many(evaluations: list[Evaluation]) -> None:
    """:func:`count_first` for many new evaluations (none a system default), written in this transaction: the 办件
    are locked and read in one statement (PostgreSQL; in id order, so two writers never deadlock on them), their
    other evaluations in a second, and every 办件 that becomes rated — overall or through a channel — is counted in
    one upsert. Evaluations of one 办件 count in the order given, as if written one after the other."""
    if not evaluations:
        return
    record_ids = sorted({ev.record_id for ev in evaluations})
    states = _states(record_ids)
    new_ids = [ev.pk for ev in evaluations]
    seen: dict = {}
    new_ids = set(new_ids)
    condition, params = any_of(_q("record_id"), record_ids)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_q('id')}, {_q('record_id')}, {_q('channel')} FROM "
                       f"{_q(lookup_table())} WHERE {condition}", params)
        for pk, record_id, channel in cursor.fetchall():
            if pk not in new_ids:
                seen.setdefault(record_id, set()).add(channel)
    changes: Counter = Counter()
    for ev in evaluations:
        channels = seen.setdefault(ev.record_id, set())
        units = state_key(states.get(ev.record_id))
        if units is not None:
            if not channels - {Channel.SYSTEM_DEFAULT}:
                changes[(*units, "")] += 1
            if ev.channel not in channels:
                changes[(*units, ev.channel)] += 1
        channels.add(ev.channel)
    bump({key: (0, n) for key, n in changes.items()})


def _states(record_ids: list) -> dict:
    cols = ", ".join(_q(ServiceRecord._meta.get_field(c.removesuffix("_id")).column) for c in STATE_COLUMNS)
    condition, params = any_of(_q("id"), record_ids)
    # SQLite: one writer at a time, and this transaction already wrote the evaluations, so a plain read.
    lock = f" {RECORD_LOCK}" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_q('id')}, {cols} FROM {_q(record_table())} WHERE {condition} "
                       f"ORDER BY {_q('id')}{lock}", params)
        rows = cursor.fetchall()
    col = ServiceRecord._meta.get_field("completed_at").get_col(ServiceRecord._meta.db_table)
    convert = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
    out = {}
    for row in rows:
        values = list(row[1:])
        for func in convert:  # SQLite gives the time as text
            values[1] = func(values[1], None, connection)
        out[row[0]] = tuple(values)
    return out


# --- rebuild ------------------------------------------------------------------------------------------------------


def _completed(date_from: date | None, date_to: date | None):
    qs = ServiceRecord.objects.filter(status=RecordStatus.COMPLETED, completed_at__isnull=False)
    if date_from:
        qs = qs.filter(completed_at__gte=day_start(date_from))
    if date_to:
        qs = qs.filter(completed_at__lt=day_start(date_to + timedelta(days=1)))
    return qs


def _key(day, units, channel) -> Key:
    region, dept, agency, window, staff, item, platform = units
    return (day, region, dept, agency or 0, window or 0, staff or 0, item, platform or 0, channel)


def expected(date_from: date | None = None, date_to: date | None = None) -> Counter:
    """key → (completed, rated) as the 办件 and evaluations say, for the completion days [date_from, date_to]."""
    records = _completed(date_from, date_to)
    countable = Evaluation.objects.filter(record=OuterRef("pk")).exclude(channel=Channel.SYSTEM_DEFAULT)
    rows = (
        records.order_by().annotate(d=TruncDate("completed_at"), has=Exists(countable))
        .values_list("d", *UNIT_COLUMNS, "has").annotate(n=Count("pk"))
    )
    out: dict[Key, list[int]] = {}
    for d, *rest in rows.iterator(chunk_size=5000):
        units, has, n = rest[:7], rest[7], rest[8]
        cell = out.setdefault(_key(d, units, ""), [0, 0])
        cell[0] += n
        cell[1] += n if has else 0
    by_channel = (
        Evaluation.objects.exclude(channel=Channel.SYSTEM_DEFAULT).filter(record__in=records.values("pk")).order_by()
        .annotate(d=TruncDate("record__completed_at"))
        .values_list("d", *(f"record__{c}" for c in UNIT_COLUMNS), "channel")
        .annotate(n=Count("record_id", distinct=True))
    )
    for d, *rest in by_channel.iterator(chunk_size=5000):
        units, channel, n = rest[:7], rest[7], rest[8]
        out.setdefault(_key(d, units, channel), [0, 0])[1] += n
    return Counter({k: tuple(v) for k, v in out.items() if v != [0, 0]})


def stored(date_from: date | None = None, date_to: date | None = None) -> Counter:
    """key → (completed, rated) as stored (all-zero rows are the same as none)."""
    out: Counter = Counter()
    for row in DailyParticipation.objects.in_days(date_from, date_to).values_list(*PARTICIPATION_KEY_FIELDS, "completed", "rated").iterator(
            chunk_size=5000):
        if row[-2:] != (0, 0):
            out[tuple(row[:-2])] = tuple(row[-2:])
    return out


def want_sql(date_from: date | None = None, date_to: date | None = None) -> recount.Sql:
    """DailyParticipation as the 办件 completed in [date_from, date_to] and their evaluations say it should be (the
    SQL of :func:`expected`): the "" rows (completed, rated) per completion day and units, and per channel the
    completed 办件 rated through it."""
    q = recount.q
    r = q(ServiceRecord._meta.db_table)
    e = q(Evaluation._meta.db_table)
    day, day_params = recount.local_day(recount.column(ServiceRecord, "completed_at"))
    where, params = recount.time_range(recount.column(ServiceRecord, "completed_at"), date_from, date_to)
    where = f"{recount.column(ServiceRecord, 'status')} = %s AND {recount.column(ServiceRecord, 'completed_at')} IS NOT NULL AND {where}"
    params = [RecordStatus.COMPLETED, *params]
    units = ", ".join(q(c) for c in PARTICIPATION_KEY_FIELDS[:-1])
    records = f"SELECT {day} AS {q('day')}, {recount.unit_columns(ServiceRecord)} FROM {r} WHERE {where}"
    # Each completed 办件 once per channel it was rated through (not by a system default): its channel rows, and
    # its "" row as rated when it has any. One join, no look-up per 办件 (the evaluations are partitioned by month).
    through = (f"SELECT DISTINCT {day} AS {q('day')}, {recount.unit_columns(ServiceRecord)}, {e}.{q('channel')} AS "
               f"{q('channel')}, {e}.{q('record_id')} AS record_id FROM {e} JOIN {r} ON "
               f"{recount.column(ServiceRecord, 'id')} = {e}.{q('record_id')} WHERE {e}.{q('channel')} <> %s AND {where}")
    sql = (
        f"WITH rated AS ({through}) "
        f"SELECT {units}, '' AS {q('channel')}, SUM(c) AS {q('completed')}, SUM(n) AS {q('rated')} FROM ("
        f"SELECT {units}, COUNT(*) AS c, 0 AS n FROM ({records}) a GROUP BY {units} "
        f"UNION ALL SELECT {units}, 0 AS c, COUNT(DISTINCT record_id) AS n FROM rated GROUP BY {units}"
        f") b GROUP BY {units} "
        f"UNION ALL SELECT {units}, {q('channel')}, 0 AS {q('completed')}, COUNT(*) AS {q('rated')} "
        f"FROM rated GROUP BY {units}, {q('channel')}"
    )
    return sql, [*day_params, Channel.SYSTEM_DEFAULT, *params, *day_params, *params]


VALUES = ("completed", "rated")


def compare(want: recount.Sql, date_from: date | None = None, date_to: date | None = None) -> recount.Diff:
    return recount.compare(DailyParticipation, PARTICIPATION_KEY_FIELDS, VALUES, want, date_from, date_to)


def replace(want: recount.Sql, date_from: date | None = None, date_to: date | None = None) -> None:
    """Store ``want`` (:func:`want_sql`) as the counters of the period (inside the rebuild's transaction)."""
    recount.replace(DailyParticipation, PARTICIPATION_KEY_FIELDS, VALUES, want, date_from, date_to)
