"""On PostgreSQL: 办件 and evaluations become tables partitioned by month, with their unique keys in key tables
(core.partitions, docs/operations.md "分区维护与归档"). An existing database is converted with its rows; SQLite
keeps plain tables (no-op).

It runs after every migration that creates a foreign key to either table (the apps above evaluation included): a
foreign key added later must reference the key table (``records_servicerecord_keys`` / ``evaluation_evaluation_keys``),
which Django's schema editor does not know — see docs/operations.md."""

from django.db import migrations


def forwards(apps, schema_editor):
    from haochaping.core import partitions

    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in partitions.TABLES.items():  # 办件 first: evaluations refer to them
        partitions.convert(table, column)


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0006_evaluation_client_address_index_and_more"),
        ("records", "0002_servicerecord_record_status_completed"),
        ("rectification", "0004_reply_link"),
        ("exchange", "0001_initial"),
        ("supervision", "0006_join_complaints"),
        ("insight", "0007_pain_point_assigned_at_index"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)]
