"""A cheaper evaluation row to write (issue 16 item 6; docs/operations.md "评价表的外键与索引").

- The seven org foreign keys (item, region, department, agency, window, staff, platform) are no longer checked by the
  database on every evaluation row: they are copies of the 办件's own columns, which the database checks on the 办件
  and which never change, and the evaluation's ``record`` key stays checked (the model says why).
- Indexes nothing reads are dropped: ``record_id`` alone (the (record_id, stage, type) index starts with it) and
  the ``varchar_pattern_ops`` twins Django adds for LIKE 'prefix%' on ``idempotency_key``, ``receipt_code`` and
  ``evaluator_phone_index`` (all three are only ever compared whole). On PostgreSQL's partitioned table each
  index is one per month, and every evaluation row paid for each. ``region_id``'s twin stays: scoping by region
  is ``region_id LIKE '<prefix>%'`` (core.scoping).
- On PostgreSQL the key tables of both partitioned tables (core.partitions) take a statement's new rows at once
  (a statement-level trigger with a transition table) instead of one PL/pgSQL call and INSERT per row.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "evaluation_evaluation"
RECORD_INDEX = ("record_id", "")
LIKE_TWINS = [("idempotency_key", "_like"), ("receipt_code", "_like"), ("evaluator_phone_index", "_like")]


def _name(schema_editor, column, suffix):
    # Django's own naming (the hash of table and column): the names the original migrations gave these indexes.
    return schema_editor._create_index_name(TABLE, [column], suffix=suffix)


def drop_indexes(apps, schema_editor):
    qn = schema_editor.quote_name
    twins = LIKE_TWINS if schema_editor.connection.vendor == "postgresql" else []  # SQLite never had them
    for column, suffix in [RECORD_INDEX, *twins]:
        # On a partitioned table this drops the index of every month's partition with it.
        schema_editor.execute(f"DROP INDEX IF EXISTS {qn(_name(schema_editor, column, suffix))}")


def statement_triggers(apps, schema_editor):
    from haochaping.core import partitions

    for table in partitions.TABLES:
        partitions.recreate_triggers(table)


def create_indexes(apps, schema_editor):
    qn = schema_editor.quote_name
    column, suffix = RECORD_INDEX
    schema_editor.execute(f"CREATE INDEX {qn(_name(schema_editor, column, suffix))} ON {qn(TABLE)} ({qn(column)})")
    if schema_editor.connection.vendor == "postgresql":
        for column, suffix in LIKE_TWINS:
            schema_editor.execute(f"CREATE INDEX {qn(_name(schema_editor, column, suffix))} ON {qn(TABLE)} "
                                  f"({qn(column)} varchar_pattern_ops)")


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0001_initial'),
        ('evaluation', '0007_monthly_partitions'),
        ('org', '0004_public_service_enterprises'),
        ('records', '0002_servicerecord_record_status_completed'),
    ]

    operations = [
        migrations.AlterField(
            model_name='evaluation',
            name='agency',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.serviceagency', verbose_name='政务服务机构'),
        ),
        migrations.AlterField(
            model_name='evaluation',
            name='department',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.department', verbose_name='部门'),
        ),
        migrations.AlterField(
            model_name='evaluation',
            name='item',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='catalog.serviceitem', verbose_name='事项'),
        ),
        migrations.AlterField(
            model_name='evaluation',
            name='platform',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.platform', verbose_name='平台'),
        ),
        migrations.AlterField(
            model_name='evaluation',
            name='region',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.region', verbose_name='行政区划'),
        ),
        migrations.AlterField(
            model_name='evaluation',
            name='staff',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.staff', verbose_name='工作人员'),
        ),
        migrations.AlterField(
            model_name='evaluation',
            name='window',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.window', verbose_name='窗口'),
        ),
        # The record key stays checked (and references the key table on PostgreSQL, which AlterField does not know):
        # only its separate index goes, by hand.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='evaluation',
                    name='record',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='evaluations', to='records.servicerecord', verbose_name='办件'),
                ),
            ],
            database_operations=[migrations.RunPython(drop_indexes, create_indexes)],
        ),
        # The new triggers keep the key tables exactly as the old ones did (reversing leaves them: either works).
        migrations.RunPython(statement_triggers, migrations.RunPython.noop, elidable=False),
    ]
