"""One row of a partitioned table by its id or a unique key, read from its own month's partition (issue 14 item 3).

core.partitions partitions the 办件 and evaluation tables by month of ``created_at``; a look-up by anything else (the
办件编号, a receipt code, the id) names no month, so PostgreSQL opens every month's partition and index for it. Both
key tables copy each row's ``created_at`` (evaluation migration 0011): :func:`month_filter` reads it there, and the
look-up names it, so PostgreSQL prunes the other months when it plans the query. SQLite, and a table that is not
partitioned, need nothing: the look-up is the plain filter.
"""

from __future__ import annotations

from django.db import connections

from .partitions import TABLES, is_partitioned, keys_table, supported

_PRUNES: dict[tuple, bool] = {}


def month_filter(connection, table: str, **unique) -> dict | None:
    """What to add to a look-up of one row of ``table`` by ``unique`` (its id, or the columns of a unique key such as
    the 办件编号 or an evaluation's 办件, stage and type, each ``column=value``) so that PostgreSQL reads that row's own
    partition only: ``{partition column: the row's value}``, read from the key table, which copies the partition
    column (evaluation migration 0011). The look-up alone opens every month's partition and index: with 40 months
    held ≈ 2.3 ms of PostgreSQL CPU, ≈ 0.23 ms with the key table's read first (bench/README "One month's partition
    for a look-up by a unique key"). ``{}`` where there is nothing to prune (SQLite, a table not partitioned, a key
    table without the copy); None where no live row has that value (none, or its month detached for archive): the
    caller then finds nothing without asking the table. The partition column never changes after the insert (a
    trigger refuses it, core.partitions), so the value read here still names the row's month when the caller reads
    it."""
    if not prunes(connection, table):
        return {}
    key, q = TABLES[table], connection.ops.quote_name
    where = " AND ".join(f"{q(column)} = %s" for column in unique)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {q(key)} FROM {q(keys_table(table))} WHERE {where}", list(unique.values()))
        row = cursor.fetchone()
    return {key: row[0]} if row and row[0] is not None else None


class MonthPruning:
    """QuerySet mixin of a partitioned model (ServiceRecord, Evaluation): one row by a unique column."""

    def one_by(self, **unique):
        """The row whose id or unique key is ``unique`` (``column=value`` each), as a queryset of at most one that
        names the row's month (:func:`month_filter`); chains like ``filter(**unique)``."""
        month = month_filter(connections[self.db], self.model._meta.db_table, **unique)
        if month is None:
            return self.none()
        return self.filter(**unique, **month)


def prunes(connection, table: str) -> bool:
    """``table`` is partitioned on this database and its key table carries the partition column. Once per database."""
    memo = (connection.vendor, connection.settings_dict["NAME"], table)
    if memo not in _PRUNES:
        found = False
        if supported(connection):
            with connection.cursor() as cursor:
                if is_partitioned(cursor, table):
                    cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) "
                                   "AND attname = %s AND NOT attisdropped)", [keys_table(table), TABLES[table]])
                    found = cursor.fetchone()[0]
        _PRUNES[memo] = found
    return _PRUNES[memo]
