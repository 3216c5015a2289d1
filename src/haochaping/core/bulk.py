"""Plain INSERTs (executemany) for writing many rows at once: the demo data set and the rebuilt statistics counters.

``bulk_create`` builds a model instance and compiles an SQL string with one placeholder per value for every row;
for the hundreds of thousands of rows the demo loader or a counter rebuild writes, that compilation, not the
database, takes most of the time. Here one statement is prepared per table and the rows go through the driver's
``executemany``. Values still go through each field's own conversion for the database where it has one, so a
PersonalDataField encrypts with SM4 exactly as on ``save()``, and dates, times and JSON are adapted the same way.

Only for rows that need no signals and no ``save()`` logic; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import Enum
from itertools import islice
from types import SimpleNamespace

from django.db import connection

BATCH = 1000
_MISSING = object()


class Inserter:
    """INSERTs into one model's table, of every concrete column but the primary key."""

    def __init__(self, model):
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        qn = connection.ops.quote_name
        columns = ", ".join(qn(f.column) for f in self.fields)
        placeholders = ", ".join(["%s"] * len(self.fields))
        self.sql = f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
        self.plan = [(f.attname, self._converter(f), f) for f in self.fields]

    @staticmethod
    def _converter(f):
        ops = connection.ops
        kind = f.get_internal_type()
        if kind == "DateTimeField":
            return ops.adapt_datetimefield_value
        if kind == "DateField":
            return ops.adapt_datefield_value
        if kind in ("BinaryField", "JSONField"):
            return lambda v: f.get_db_prep_value(v, connection)
        if f.choices:  # choices members (TextChoices, IntegerChoices): the driver gets the plain value
            return lambda v: v.value if isinstance(v, Enum) else v
        return None  # numbers, text and booleans go to the driver as they are

    def row(self, obj) -> tuple:
        """The column values of an object with the fields as attributes (a missing one gets its model default)."""
        out = []
        for attname, convert, f in self.plan:
            value = getattr(obj, attname, _MISSING)
            if value is _MISSING:
                value = f.get_default()
            out.append(convert(value) if convert is not None else value)
        return tuple(out)

    def insert(self, objects: Iterable) -> int:
        """INSERT one row per object (see ``row``); returns how many."""
        return self._execute(self.row(o) for o in objects)

    def _execute(self, rows: Iterable[tuple]) -> int:
        written = 0
        rows = iter(rows)
        with connection.cursor() as cursor:
            while batch := list(islice(rows, BATCH)):
                cursor.executemany(self.sql, batch)
                written += len(batch)
        return written


_INSERTERS: dict[tuple, Inserter] = {}


def inserter(model) -> Inserter:
    """The model's :class:`Inserter`, built once per process and database vendor (a hot path's rows, e.g. the case
    of a 差评, need not compile their INSERT each time)."""
    key = (model, connection.vendor)
    if key not in _INSERTERS:
        _INSERTERS[key] = Inserter(model)
    return _INSERTERS[key]


def insert_with_ids(model, objects: list) -> None:
    """INSERT ``objects`` (unsaved instances of ``model``) with one multi-row ``INSERT … RETURNING`` and set their
    primary keys, as ``bulk_create`` does, without compiling the statement through the ORM. No signals, no
    ``save()``: the caller sends what the higher apps must hear, and owns the transaction."""
    if not objects:
        return
    if not connection.features.can_return_rows_from_bulk_insert:
        model.objects.bulk_create(objects)
        return
    plain = inserter(model)
    head, values = plain.sql.split(" VALUES ", 1)
    pk = model._meta.pk
    sql = f"{head} VALUES {', '.join([values] * len(objects))} RETURNING {connection.ops.quote_name(pk.column)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for obj in objects for value in plain.row(obj)])
        ids = cursor.fetchall()
    for obj, (new_id,) in zip(objects, ids, strict=True):
        setattr(obj, pk.attname, new_id)
        obj._state.adding = False
        obj._state.db = connection.alias


def insert_rows(model, fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """INSERT ``rows`` (value tuples in the order of ``fields``) into ``model``'s table; a column not named gets its
    model default. Returns how many rows. A row of the wrong length raises ValueError."""
    attnames = [model._meta.get_field(name).attname for name in fields]
    return Inserter(model).insert(SimpleNamespace(**dict(zip(attnames, row, strict=True))) for row in rows)


def any_of(column_sql: str, values: Sequence) -> tuple[str, list]:
    """A ``column IN (…)`` condition and its parameters. On PostgreSQL ``column = ANY(%s)`` with the list as one
    parameter: a thousand values cost one placeholder, not a thousand the driver must find in the query text."""
    values = list(values)
    if connection.vendor == "postgresql":
        return f"{column_sql} = ANY(%s)", [values]
    if not values:
        return "1 = 0", []
    return f"{column_sql} IN ({', '.join(['%s'] * len(values))})", values


def copy_with_ids(model, objects: list) -> None:
    """PostgreSQL: write ``objects`` (unsaved instances) with one ``COPY … FROM STDIN``, the fastest way in; their
    primary keys are drawn from the table's sequence first (one statement) and set on the objects. Values are
    converted as :class:`Inserter` does (personal data encrypted). No signals, no ``save()``; constraints still hold
    (a violation raises IntegrityError and the caller's transaction rolls back)."""
    if not objects:
        return
    qn = connection.ops.quote_name
    table = model._meta.db_table
    pk = model._meta.pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [table, pk.column, len(objects)])
        for obj, (new_id,) in zip(objects, cursor.fetchall(), strict=True):
            setattr(obj, pk.attname, new_id)
            obj._state.adding = False
            obj._state.db = connection.alias
        inserter = Inserter(model)
        columns = ", ".join(qn(c) for c in (pk.column, *(f.column for f in inserter.fields)))
        raw = cursor.cursor  # the driver's own cursor: Django's wrapper has no copy()
        with connection.wrap_database_errors, raw.copy(f"COPY {qn(table)} ({columns}) FROM STDIN") as copy:
            for obj in objects:
                copy.write_row((obj.pk, *inserter.row(obj)))

