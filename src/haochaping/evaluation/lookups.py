"""The single submit's statements, built once per process (issue 14 item 1: on this path compiling an ORM query
cost ten times running it).

``probe`` answers in ONE statement everything a submit must know before it writes: whether the idempotency key
is taken, the 办件 (without its personal data) and which evaluations of the stage it already has. ``insert``
writes the row with a prepared ``INSERT … RETURNING id``, values converted exactly as ``save()`` converts them
(personal data encrypted)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

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


@dataclass
class Probe:
    existing_id: int | None  # the evaluation that already holds the idempotency key
    record: ServiceRecord | None
    active_key: str | None  # idempotency key of the 办件's active evaluation of the stage, if any
    followup_key: str | None


def probe(idempotency_key: str, project_no: str, stage: str) -> Probe:
    key = ("probe", connection.vendor)
    if key not in _SQL:
        ev, rec = _q(Evaluation._meta.db_table), _q(ServiceRecord._meta.db_table)
        cols = ", ".join(f"{_q('r')}.{_q(f.column)}" for f in record_fields())
        taken = (f"(SELECT {_q('e')}.{_q('idempotency_key')} FROM {ev} {_q('e')} WHERE {_q('e')}.{_q('record_id')} = "
                 f"{_q('r')}.{_q('id')} AND {_q('e')}.{_q('stage')} = %s AND {_q('e')}.{_q('type')} = %s)")
        _SQL[key] = (
            f"SELECT (SELECT {_q('e')}.{_q('id')} FROM {ev} {_q('e')} WHERE {_q('e')}.{_q('idempotency_key')} = %s), "
            f"{taken}, {taken}, {cols} FROM (SELECT 1 AS {_q('one')}) {_q('one')} "
            f"LEFT JOIN {rec} {_q('r')} ON {_q('r')}.{_q('project_no')} = %s"
        )
    with connection.cursor() as cursor:
        cursor.execute(_SQL[key], [idempotency_key, stage, EvaluationType.ACTIVE, stage, EvaluationType.FOLLOWUP,
                                   project_no])
        row = cursor.fetchone()
    existing_id, active_key, followup_key, *record_values = row
    fields = record_fields()
    record = None if record_values[0] is None else record_from_row(fields, record_values)
    return Probe(existing_id, record, active_key, followup_key)


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
    ev._state.adding = False
    ev._state.db = connection.alias
