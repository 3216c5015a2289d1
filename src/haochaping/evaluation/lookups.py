"""The single submit's statements, built once per process (issue 14 item 1: on this path compiling an ORM query
cost ten times running it).

``probe`` answers in ONE statement everything a submit must know before it writes: whether the idempotency key
is taken, the 办件 (without its personal data) and which evaluations of the stage it already has. ``insert``
writes the row with a prepared ``INSERT … RETURNING id``, values converted exactly as ``save()`` converts them
(personal data encrypted)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import IntegrityError, connection

from haochaping.core import partitions, prepared
from haochaping.core.bulk import Inserter
from haochaping.records.models import ServiceRecord

from .models import Evaluation, EvaluationType

# What a new evaluation needs of its 办件 (services.new_evaluation, the checks, the receivers).
RECORD_FIELDS = ("id", "project_no", "status", "accepted_at", "completed_at", "item_id", "region_id",
                 "department_id", "agency_id", "window_id", "staff_id", "platform_id")

_SQL: dict[tuple, object] = {}


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def record_fields() -> list:
    """RECORD_FIELDS in the model's column order (from_db() fills the fields not read with DEFERRED in that order)."""
    wanted = {ServiceRecord._meta.get_field(f).attname for f in RECORD_FIELDS}
    return [f for f in ServiceRecord._meta.concrete_fields if f.attname in wanted]


def _converters(fields: list) -> list:
    key = ("converters", connection.vendor)
    if key not in _SQL:
        cols = [f.get_col(ServiceRecord._meta.db_table) for f in fields]
        _SQL[key] = [(n, funcs) for n, col in enumerate(cols)
                     if (funcs := connection.ops.get_db_converters(col) + col.get_db_converters(connection))]
    return _SQL[key]


def record_from_row(fields: list, values) -> ServiceRecord:
    """A ServiceRecord of RECORD_FIELDS read by hand, converted as the ORM converts them (SQLite's text times)."""
    values = list(values)
    for n, funcs in _converters(fields):
        for func in funcs:
            values[n] = func(values[n], None, connection)
    return ServiceRecord.from_db(connection.alias, [f.attname for f in fields], values)


def lookup_table() -> str:
    """Where evaluations are looked up by key: on PostgreSQL with monthly partitions the key table core.partitions
    keeps (id, idempotency_key, receipt_code, record_id, stage, type, each unique, and channel: migration 0009) —
    one index per look-up, where the partitioned table has one per month and a prepared statement's generic plan
    opens every month's (issue 14: a submit's probe and first-evaluation checks paid for each month held); the
    evaluation table itself otherwise. Looked up once per database."""
    return _key_table_if_partitioned(Evaluation._meta.db_table, "keys")


def record_table() -> str:
    """Where a 办件 is looked up by 办件编号 or id, read and locked on the write path: on PostgreSQL with monthly
    partitions the 办件's key table, which carries RECORD_FIELDS (migration 0010; its triggers keep them in step in
    the writing statement, and a change of them updates the key row, so a lock there serialises an evaluation with
    the 办件's completion) — one index whatever the months held, where the partitioned table opens every month's
    (issue 14). The 办件 table itself otherwise. Rows of a detached month stay in the key table with RECORD_FIELDS
    cleared: a reader adds ``record_live()``. Looked up once per database."""
    return _key_table_if_partitioned(ServiceRecord._meta.db_table, "records", lambda: [f.column for f in record_fields()])


def _key_table_if_partitioned(table: str, kind: str, needs=lambda: []) -> str:
    """``table``'s key table when ``table`` is partitioned (PostgreSQL) and its key table has the columns ``needs()``
    (a key table converted after the migration that added them lacks them); ``table`` otherwise. Once per database:
    the submit asks on every call, so nothing but the memo look-up runs then (``needs`` only on a miss)."""
    memo = (kind, connection.vendor, connection.settings_dict["NAME"])
    if memo not in _SQL:
        needs = needs()
        lookup = table
        if partitions.supported(connection):
            with connection.cursor() as cursor:
                if partitions.is_partitioned(cursor, table):
                    keys = partitions.keys_table(table)
                    cursor.execute("SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 "
                                   "AND NOT attisdropped AND attname = ANY(%s)", [keys, list(needs)])
                    if cursor.fetchone()[0] == len(needs):
                        lookup = keys
        _SQL[memo] = lookup
    return _SQL[memo]


# How the write path locks a 办件 (PostgreSQL): as strong as the completion's UPDATE, which it must queue with, but not
# against the FOR KEY SHARE of a foreign-key check: a case or an invitation written for the same 办件 elsewhere is
# not held up by a submit in flight.
RECORD_LOCK = "FOR NO KEY UPDATE"


def record_live(alias: str = "") -> str:
    """The condition (``AND …``) that keeps a live 办件 among record_table()'s rows (a detached month's are not)."""
    if record_table() == ServiceRecord._meta.db_table:
        return ""
    column = _q("status")
    return f" AND {alias + '.' if alias else ''}{column} IS NOT NULL"


@dataclass
class Probe:
    existing_id: int | None  # the evaluation that already holds the idempotency key
    record: ServiceRecord | None
    active_key: str | None  # idempotency key of the 办件's active evaluation of the stage, if any
    followup_key: str | None
    new_id: int | None = None  # PostgreSQL, for a write: the new evaluation's id, drawn from the sequence


def probe(idempotency_key: str, project_no: str, stage: str, *, for_write: bool = False) -> Probe:
    """``for_write`` (inside the writing transaction): on PostgreSQL also lock the 办件's row (RECORD_LOCK, held to
    the commit) and draw the new evaluation's id from its sequence (``Probe.new_id``), so the write that follows
    is one statement (:func:`write`). The row lock serialises the 办件's evaluations and its completion
    (insight.rollups.participation): the 办件's columns come back as the lock holder left them, and every statement
    after this one sees what was committed before the lock was granted."""
    postgres = connection.vendor == "postgresql"
    lock = for_write and postgres
    keys, records = lookup_table(), record_table()
    key = ("probe", connection.vendor, lock, keys, records)
    if key not in _SQL:
        ev, rec, live = _q(keys), _q(records), record_live()
        columns = [f.column for f in record_fields()]
        cols = ", ".join(f"{_q('r')}.{_q(c)}" for c in columns)
        taken = (f"(SELECT {_q('e')}.{_q('idempotency_key')} FROM {ev} {_q('e')} WHERE {_q('e')}.{_q('record_id')} = "
                 f"{_q('r')}.{_q('id')} AND {_q('e')}.{_q('stage')} = %s AND {_q('e')}.{_q('type')} = %s)")
        if lock:
            # FOR UPDATE cannot lock the nullable side of an outer join: lock in the derived table instead.
            drawn = f"nextval({_sequence()}::regclass)"
            joined = (f"LEFT JOIN (SELECT {', '.join(_q(c) for c in columns)} FROM {rec} WHERE {_q('project_no')} = %s"
                      f"{live} {RECORD_LOCK}) {_q('r')} ON TRUE")
        else:
            drawn = "NULL"
            joined = f"LEFT JOIN {rec} {_q('r')} ON {_q('r')}.{_q('project_no')} = %s{record_live('r')}"
        _SQL[key] = (
            f"SELECT (SELECT {_q('e')}.{_q('id')} FROM {ev} {_q('e')} WHERE {_q('e')}.{_q('idempotency_key')} = %s), "
            f"{taken}, {taken}, {drawn}, {cols} FROM (SELECT 1 AS {_q('one')}) {_q('one')} {joined}"
        )
    with prepared.cursor() as cursor:
        cursor.execute(_SQL[key], [idempotency_key, stage, EvaluationType.ACTIVE, stage, EvaluationType.FOLLOWUP,
                                   project_no])
        row = cursor.fetchone()
    existing_id, active_key, followup_key, new_id, *record_values = row
    fields = record_fields()
    record = None if record_values[0] is None else record_from_row(fields, record_values)
    return Probe(existing_id, record, active_key, followup_key, new_id if record is not None else None)


def _sequence() -> str:
    """The evaluation id sequence's name, as an SQL literal (looked up once per process)."""
    key = ("sequence", connection.vendor)
    if key not in _SQL:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [Evaluation._meta.db_table, Evaluation._meta.pk.column])
            name = cursor.fetchone()[0]
        _SQL[key] = "'" + name.replace("'", "''") + "'"
    return _SQL[key]


def insert(ev: Evaluation) -> None:
    """INSERT the new evaluation ``ev`` and set its primary key (an IntegrityError on a unique constraint)."""
    key = ("insert", connection.vendor)
    if key not in _SQL:
        inserter = Inserter(Evaluation)
        _SQL[key] = (inserter, f"{inserter.sql} RETURNING {_q(Evaluation._meta.pk.column)}")
    inserter, sql = _SQL[key]
    with connection.cursor() as cursor:
        cursor.execute(sql, inserter.row(ev))
        ev.pk = cursor.fetchone()[0]
    _saved(ev)


def _saved(ev: Evaluation) -> None:
    ev._state.adding = False
    ev._state.db = connection.alias


Statement = tuple[str, list]


class DuplicateRow(Exception):
    """The evaluation row itself violated a unique constraint (a concurrent submit won)."""


# The evaluation's own tables on PostgreSQL: the partitioned table, its partitions and its key table (core.partitions).
_OWN_TABLE = re.compile(rf"^{re.escape(Evaluation._meta.db_table)}(_keys|_default|_p\d{{6}})?$")


def write(ev: Evaluation, label_codes: list[str], collect) -> None:
    """Write the new evaluation ``ev`` with its labels and the statements ``collect(ev)`` returns (the receivers of
    ``evaluation_writing``), in the caller's transaction. On PostgreSQL, when the probe drew ``ev``'s id, the row
    and those statements are ONE statement (data-modifying CTEs); otherwise the row first, then each statement.
    Raises :class:`DuplicateRow` when the row violates one of its unique constraints (and only then)."""
    if ev.pk is None or connection.vendor != "postgresql":
        try:
            insert(ev)
        except IntegrityError as exc:
            raise DuplicateRow from exc
        _labels(ev, label_codes)
        with connection.cursor() as cursor:
            for sql, params in collect(ev):
                cursor.execute(sql, params)
        return
    statements = [s for s in collect(ev) if s]
    key = ("insert-id", connection.vendor)
    if key not in _SQL:
        inserter = Inserter(Evaluation)
        head, values = inserter.sql.split(") VALUES (", 1)
        table_cols = head.split(" (", 1)
        _SQL[key] = (inserter, f"{table_cols[0]} ({_q(Evaluation._meta.pk.column)}, {table_cols[1]}) VALUES (%s, {values}")
    inserter, sql = _SQL[key]
    params = [ev.pk, *inserter.row(ev)]
    if statements:
        # The row's INSERT last, as the main statement: the counters (and their contended rows' locks) come first.
        sql = "WITH " + ", ".join(f"w{i} AS ({s})" for i, (s, _p) in enumerate(statements)) + " " + sql
        params = [p for _s, ps in statements for p in ps] + params
    try:
        with prepared.cursor() as cursor:
            cursor.execute(sql, params)
    except IntegrityError as exc:
        diag = getattr(exc.__cause__, "diag", None)
        if getattr(diag, "sqlstate", None) == "23505" and _OWN_TABLE.match(getattr(diag, "table_name", None) or ""):
            raise DuplicateRow from exc
        raise
    _saved(ev)
    _labels(ev, label_codes)


def _labels(ev: Evaluation, label_codes: list[str]) -> None:
    """The evaluation's labels: one multi-row INSERT into the through table (a fresh row has none)."""
    if not label_codes:
        return
    through = Evaluation.labels.through
    table = _q(through._meta.db_table)
    row = "(%s, %s)"
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({_q('evaluation_id')}, {_q('label_id')}) VALUES "
                       f"{', '.join([row] * len(label_codes))}", [p for code in label_codes for p in (ev.pk, code)])
