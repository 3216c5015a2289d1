"""Plain rows for the set-based intake (evaluation.intake, issue 16 item 6): no Django model instance per item.

A batch item costs what Python does for it, and building a model instance (and converting it back to column
values for COPY) was most of that. Here the 办件 are read into :class:`RecordRow` and the new evaluations are
:class:`EvaluationRow`: plain attributes named exactly like :class:`~haochaping.evaluation.models.Evaluation`'s
fields (``record_id``, ``region_id``, ``created_at``, …, ``pk``, ``record.project_no``), which is all the receivers
of ``evaluations_written`` read. :func:`write` turns them into column values with the model fields' own conversions
(:class:`haochaping.core.bulk.Inserter`: personal data encrypted with SM4, JSON, choices), so the stored rows are
the ones ``save()`` writes; ``as_model()`` gives the model instance where one is needed (the few 差评's cases).
"""

from __future__ import annotations

import json
from datetime import date
from operator import attrgetter

from django.db import connection, models
from django.utils import timezone

from haochaping.core.bulk import Inserter, any_of, insert_rows
from haochaping.core.fields import PersonalDataField
from haochaping.records.models import ServiceRecord

from . import lookups
from .models import Evaluation

# What a new evaluation needs of its 办件 (the checks, the row, the receivers): as evaluation.lookups.RECORD_FIELDS.
RECORD_ATTNAMES = ("id", "project_no", "status", "accepted_at", "completed_at", "item_id", "region_id",
                   "department_id", "agency_id", "window_id", "staff_id", "platform_id")
ATTNAMES = tuple(f.attname for f in Evaluation._meta.concrete_fields)


class RecordRow:
    """The columns of a 办件 a new evaluation needs (no personal data: nothing decrypted)."""

    __slots__ = RECORD_ATTNAMES

    def __init__(self, values):
        for name, value in zip(RECORD_ATTNAMES, values, strict=True):
            setattr(self, name, value)

    @property
    def pk(self):
        return self.id

    # The model's own rule (it reads only status, accepted_at and completed_at, which a RecordRow has).
    stage_time = ServiceRecord.stage_time


class EvaluationRow:
    """A new evaluation as plain attributes, named as Evaluation's (``id`` set once written); ``record`` is its
    :class:`RecordRow`, ``label_codes`` its labels, ``local_day`` the local (北京时间) day of ``created_at``. What
    ``evaluations_written`` carries."""

    __slots__ = (*ATTNAMES, "record", "label_codes", "local_day", "_model")

    @property
    def pk(self):
        return self.id

    def as_model(self) -> Evaluation:
        """The saved Evaluation instance of this row (built once, without a query)."""
        model = getattr(self, "_model", None)
        if model is None:
            model = Evaluation(**{name: getattr(self, name) for name in ATTNAMES})
            model._state.adding = False
            model._state.db = connection.alias
            self._model = model
        return model


def local_day(ev) -> date:
    """The local (北京时间) day of an evaluation's ``created_at``: carried by a batch's rows (the time zone look-up
    of ``timezone.localtime`` was the largest cost of counting a batch), computed for a model instance."""
    day = getattr(ev, "local_day", None)
    return day if day is not None else timezone.localtime(ev.created_at).date()


_CACHE: dict[tuple, object] = {}


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _record_plan():
    key = ("records", connection.vendor, lookups.record_table())
    if key not in _CACHE:
        fields = [ServiceRecord._meta.get_field(n.removesuffix("_id") if n != "id" else n) for n in RECORD_ATTNAMES]
        table = ServiceRecord._meta.db_table
        converters = []
        for n, f in enumerate(fields):
            col = f.get_col(table)
            funcs = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if funcs:  # SQLite's text times; nothing on PostgreSQL
                converters.append((n, funcs))
        # The key table on PostgreSQL with partitions (one index, not one per month; lookups.record_table).
        sql = (f"SELECT {', '.join(_q(f.column) for f in fields)} FROM {_q(lookups.record_table())} "
               f"WHERE TRUE{lookups.record_live()} AND ")
        _CACHE[key] = (sql, converters)
    return _CACHE[key]


def records(project_nos) -> dict[str, RecordRow]:
    """project_no → :class:`RecordRow` of the 办件 among ``project_nos`` that exist (one statement)."""
    sql, converters = _record_plan()
    condition, params = any_of(_q("project_no"), sorted(project_nos))
    with connection.cursor() as cursor:
        cursor.execute(sql + condition, params)
        rows = cursor.fetchall()
    out = {}
    for values in rows:
        if converters:
            values = list(values)
            for n, funcs in converters:
                for func in funcs:
                    values[n] = func(values[n], None, connection)
        record = RecordRow(values)
        out[record.project_no] = record
    return out


def _plan():
    """Column names, a C-speed getter of the row's values in column order, and the few conversions needed."""
    key = ("evaluations", connection.vendor)
    if key not in _CACHE:
        inserter = Inserter(Evaluation)  # every concrete column but the primary key, with save()'s conversions
        names = [attname for attname, _convert, _f in inserter.plan]
        converters = [(n + 1, _converter(f, convert))
                      for n, (_a, convert, f) in enumerate(inserter.plan) if convert is not None]
        _CACHE[key] = (inserter, attrgetter("id", *names), converters)
    return _CACHE[key]


def _converter(f, convert):
    if isinstance(f, PersonalDataField):
        return _blank_is_null(convert)
    if isinstance(f, models.JSONField) and f.encoder is None and connection.vendor == "postgresql":
        # COPY's text format takes the JSON text itself; jsonb parses and normalises it as it would the adapter's
        # (Django's Jsonb wrapper, then psycopg's json.dumps of it): the same value stored, a third of the work.
        return _json_text
    return convert


def _json_text(value) -> str:
    return "{}" if value == {} else json.dumps(value, ensure_ascii=False)  # None: "null", as Jsonb(None) writes


def _blank_is_null(convert):
    # Most evaluations are anonymous: PersonalDataField stores "" as NULL (its get_db_prep_value), without the call.
    return lambda value: None if value == "" or value is None else convert(value)


def column_values(rows: list[EvaluationRow]) -> list[list]:
    """Every row's values (id first, then Inserter's columns), converted as ``save()`` converts them."""
    _inserter, getter, converters = _plan()
    out = []
    for row in rows:
        values = list(getter(row))
        for n, convert in converters:
            values[n] = convert(values[n])
        out.append(values)
    return out


def write(rows: list[EvaluationRow]) -> None:
    """INSERT the new evaluations and their labels, setting each row's ``id``. PostgreSQL: ids drawn from the
    sequence in one statement, the rows by one ``COPY``; SQLite (tests, development): one INSERT … RETURNING each.
    Constraints hold as for ``save()`` (a violation raises IntegrityError; the caller's transaction rolls back)."""
    if not rows:
        return
    inserter, _getter, _converters = _plan()
    table = Evaluation._meta.db_table
    pk = Evaluation._meta.pk
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                           [table, pk.column, len(rows)])
            for row, (new_id,) in zip(rows, cursor.fetchall(), strict=True):
                row.id = new_id
            columns = ", ".join(_q(c) for c in (pk.column, *(f.column for f in inserter.fields)))
            raw = cursor.cursor  # the driver's own cursor: Django's wrapper has no copy()
            with connection.wrap_database_errors, raw.copy(f"COPY {_q(table)} ({columns}) FROM STDIN") as copy:
                for values in column_values(rows):
                    copy.write_row(values)
        else:
            sql = f"{inserter.sql} RETURNING {_q(pk.column)}"
            for row, values in zip(rows, column_values(rows), strict=True):
                cursor.execute(sql, values[1:])
                row.id = cursor.fetchone()[0]
    links = [(row.id, code) for row in rows for code in dict.fromkeys(row.label_codes)]
    if links:
        insert_rows(Evaluation.labels.through, ("evaluation", "label"), links)
