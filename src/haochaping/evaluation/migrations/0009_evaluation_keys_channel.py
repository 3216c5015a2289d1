"""The evaluation key table (core.partitions) also carries each evaluation's ``channel`` (issue 14 item 1).

A submit asks whether its 办件 already has a countable evaluation, overall or through the same channel, to count the
办件 as rated once (insight.rollups.participation and wide). Asked of the partitioned evaluation table, each such
question opened an index of every month's partition (the 办件's id is not the partition key, and a prepared
statement's generic plan cannot prune); asked of the key table, it is one index look-up whatever the number of
months. A channel never changes, and the key table's triggers copy every column it has, so the new column follows
inserts by itself once the triggers are recreated. PostgreSQL with partitions only; SQLite keeps plain tables.
"""

from django.db import migrations

TABLE = "evaluation_evaluation"


def _keys(schema_editor) -> str | None:
    """The key table's quoted name, or None where there is none (SQLite, or an evaluation table not partitioned)."""
    from haochaping.core import partitions

    if not partitions.supported(schema_editor.connection):
        return None
    with schema_editor.connection.cursor() as cursor:
        if not partitions.is_partitioned(cursor, TABLE):
            return None
    return schema_editor.quote_name(partitions.keys_table(TABLE))


def add_channel(apps, schema_editor):
    from haochaping.core import partitions

    keys = _keys(schema_editor)
    if keys is None:
        return
    schema_editor.execute(f"ALTER TABLE {keys} ADD COLUMN IF NOT EXISTS channel varchar(20) NOT NULL DEFAULT ''")
    # Detached months keep their key rows (core.partitions): their channel is no longer readable and stays ''.
    schema_editor.execute(f"UPDATE {keys} k SET channel = e.channel FROM {schema_editor.quote_name(TABLE)} e "
                          f"WHERE e.id = k.id AND k.channel <> e.channel")
    partitions.recreate_triggers(TABLE)


def drop_channel(apps, schema_editor):
    from haochaping.core import partitions

    keys = _keys(schema_editor)
    if keys is None:
        return
    schema_editor.execute(f"ALTER TABLE {keys} DROP COLUMN IF EXISTS channel")
    partitions.recreate_triggers(TABLE)


class Migration(migrations.Migration):

    dependencies = [
        ("evaluation", "0008_evaluation_lean_write"),
    ]

    operations = [
        migrations.RunPython(add_channel, drop_channel, elidable=False),
    ]
