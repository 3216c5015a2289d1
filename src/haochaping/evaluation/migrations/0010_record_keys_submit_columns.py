"""The 办件 key table (core.partitions) also carries the columns a submit reads of its 办件 (issue 14 items 1 and 3).

A submit finds its 办件 by 办件编号 and locks it. 办件编号 is not the partition key, so asked of the partitioned 办件
table the look-up opened and probed every month's partition (a prepared statement's generic plan cannot prune, and
PostgreSQL 15 locks every partition of such a plan on each run): with 40 months held, the submit's probe cost twice
what it cost with 5. The key table is one table whatever the months: it gets the 办件's status, 受理/办结 times and
units, and the submit (and batch intake, and the 参评率 counters' lock) read and lock the 办件 there
(evaluation.lookups.record_table). The key table's triggers copy every column it has, on insert and on every change,
so a completion or a corrected time reaches it in the writing statement, under the key row's lock. PostgreSQL with
partitions only; SQLite keeps plain tables.
"""

from django.db import migrations

TABLE = "records_servicerecord"
# What evaluation.lookups.RECORD_FIELDS reads besides id and project_no (the key table's own columns), as they are now.
COLUMNS = ("status", "accepted_at", "completed_at", "item_id", "region_id", "department_id", "agency_id", "window_id",
           "staff_id", "platform_id")


def _keys(schema_editor) -> str | None:
    """The key table's name, or None where there is none (SQLite, or a 办件 table not partitioned)."""
    from haochaping.core import partitions

    if not partitions.supported(schema_editor.connection):
        return None
    with schema_editor.connection.cursor() as cursor:
        if not partitions.is_partitioned(cursor, TABLE):
            return None
    return partitions.keys_table(TABLE)


def add_columns(apps, schema_editor):
    from haochaping.core import partitions

    keys = _keys(schema_editor)
    if keys is None:
        return
    q = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                       "to_regclass(%s) AND attnum > 0 AND NOT attisdropped", [TABLE])
        types = dict(cursor.fetchall())
    # Nullable, whatever the 办件 table says: detached months keep their key rows (core.partitions) and the rows
    # are filled below; the triggers copy NOT NULL values from then on.
    schema_editor.execute(f"ALTER TABLE {q(keys)} " + ", ".join(
        f"ADD COLUMN IF NOT EXISTS {q(c)} {types[c]}" for c in COLUMNS))
    sets = ", ".join(f"{q(c)} = r.{q(c)}" for c in COLUMNS)
    schema_editor.execute(f"UPDATE {q(keys)} k SET {sets} FROM {q(TABLE)} r WHERE r.id = k.id")
    schema_editor.execute(f"ANALYZE {q(keys)}")  # every row was rewritten: fresh statistics for the planner
    partitions.recreate_triggers(TABLE)


def drop_columns(apps, schema_editor):
    from haochaping.core import partitions

    keys = _keys(schema_editor)
    if keys is None:
        return
    q = schema_editor.quote_name
    schema_editor.execute(f"ALTER TABLE {q(keys)} " + ", ".join(f"DROP COLUMN IF EXISTS {q(c)}" for c in COLUMNS))
    partitions.recreate_triggers(TABLE)


class Migration(migrations.Migration):

    dependencies = [
        ("evaluation", "0009_evaluation_keys_channel"),
        ("records", "0002_servicerecord_record_status_completed"),
    ]

    operations = [
        migrations.RunPython(add_columns, drop_columns, elidable=False),
    ]
