"""Both key tables (core.partitions) also carry their row's partition column, ``created_at`` (issue 14 item 3).

A look-up of one 办件 by its 办件编号 or id, or of one evaluation by its receipt code, names neither the month nor the
partition key, so PostgreSQL opened every month's partition and index for it: with 40 months held, a QR page's or a
completion's read of its 办件 cost about 2.3 ms of database CPU, 0.23 ms when the month is read from the key table first.
With ``created_at`` in the key table, ``core.pruning.month_filter`` reads the row's month there first, and the look-up
names it (``ServiceRecord.objects.by_number``, ``one_by`` on both models' querysets). Nullable, as every copied column:
detaching a month clears it with the others, so an archived row is not found. The key tables' triggers copy every column
a key table has; recreating them is enough. PostgreSQL with partitions only; SQLite keeps plain tables.
"""

from django.db import migrations

TABLES = ("records_servicerecord", "evaluation_evaluation")
COLUMN = "created_at"


def _key_tables(schema_editor):
    """(table, its key table) of each table partitioned here (none on SQLite)."""
    from haochaping.core import partitions

    if not partitions.supported(schema_editor.connection):
        return []
    with schema_editor.connection.cursor() as cursor:
        return [(t, partitions.keys_table(t)) for t in TABLES if partitions.is_partitioned(cursor, t)]


def add_column(apps, schema_editor):
    from haochaping.core import partitions

    q = schema_editor.quote_name
    for table, keys in _key_tables(schema_editor):
        schema_editor.execute(f"ALTER TABLE {q(keys)} ADD COLUMN IF NOT EXISTS {q(COLUMN)} timestamp with time zone")
        with schema_editor.connection.cursor() as cursor:
            # Only the rows of attached months: a detached month's key rows keep their copies cleared (core.partitions).
            cursor.execute(f"UPDATE {q(keys)} k SET {q(COLUMN)} = t.{q(COLUMN)} FROM {q(table)} t WHERE t.id = k.id")
            rewritten = cursor.rowcount
        if rewritten:
            # Fresh statistics for the rewritten rows. Never of an empty table (a new database): the planner would
            # take it for empty until autovacuum analyses it again, and a prepared statement's generic plan made
            # meanwhile keeps the sequential scans (measured: +0.25 ms of PostgreSQL CPU per submit in make bench).
            schema_editor.execute(f"ANALYZE {q(keys)}")
        partitions.recreate_triggers(table)


def drop_column(apps, schema_editor):
    from haochaping.core import partitions

    q = schema_editor.quote_name
    for table, keys in _key_tables(schema_editor):
        schema_editor.execute(f"ALTER TABLE {q(keys)} DROP COLUMN IF EXISTS {q(COLUMN)}")
        partitions.recreate_triggers(table)


class Migration(migrations.Migration):

    dependencies = [
        ("evaluation", "0010_record_keys_submit_columns"),
    ]

    operations = [
        migrations.RunPython(add_column, drop_column, elidable=False),
    ]
