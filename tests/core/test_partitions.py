"""Monthly partitions of 办件 and evaluations on PostgreSQL (core.partitions): uniqueness and idempotency across
months, a write whose month has no partition, the worker's upkeep, detaching for archive, and converting a database
that already holds data. SQLite keeps plain tables (the last test)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from haochaping.core import partitions
from haochaping.evaluation.models import Evaluation, EvaluationExclusion
from haochaping.records.models import ServiceRecord
from tests import factories

BEIJING = ZoneInfo("Asia/Shanghai")
EVALUATIONS, RECORDS = "evaluation_evaluation", "records_servicerecord"


def needs_pg():
    if connection.vendor != "postgresql":
        pytest.fail("needs PostgreSQL (marked pg_only: runs in make test-pg): run with DATABASE_URL=postgres://…")


def this_month() -> date:
    now = datetime.now(BEIJING)
    return date(now.year, now.month, 1)


def evaluation(record, *, at: datetime, type_: str = "active", key: str | None = None, receipt: str | None = None,
               stage: str = "complete"):
    ev = Evaluation(
        record=record, stage=stage, type=type_, channel="pc", level=5, is_bad=False, item_id=record.item_id,
        region_id=record.region_id, department_id=record.department_id, agency_id=record.agency_id,
        idempotency_key=key or uuid.uuid4().hex, request_hash="x" * 64,
        receipt_code=receipt or uuid.uuid4().hex[:20].upper(), leaf_hash="0" * 64, source="test", created_at=at,
    )
    with transaction.atomic():
        ev.save(force_insert=True)
    return ev


def partition_of(table: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def months_apart(n: int) -> datetime:
    """Noon on the 15th, ``n`` months after this one (Beijing time)."""
    month = partitions.add_months(this_month(), n)
    return datetime(month.year, month.month, 15, 12, tzinfo=BEIJING)


@pytest.mark.pg_only
@pytest.mark.django_db
def test_the_tables_are_partitioned_by_month_with_the_coming_months_ready(org, item):
    needs_pg()
    for table in (EVALUATIONS, RECORDS):
        months = [p.month for p in partitions.partitions(table)]
        assert months[-1] is None  # the DEFAULT partition
        assert {partitions.add_months(this_month(), n) for n in range(partitions.MONTHS_AHEAD + 1)} <= set(months)
    record = factories.make_record(org, item)
    ev = evaluation(record, at=months_apart(1))
    assert partition_of(EVALUATIONS, ev.pk) == partitions.partition_name(EVALUATIONS, partitions.add_months(this_month(), 1))
    assert partition_of(RECORDS, record.pk) == partitions.partition_name(RECORDS, this_month())


@pytest.mark.pg_only
@pytest.mark.django_db
def test_a_second_evaluation_of_the_same_stage_in_another_months_partition_is_refused(org, item):
    needs_pg()
    record = factories.make_record(org, item)
    first = evaluation(record, at=months_apart(0), key="k-first", receipt="RCPT0000000000000001")
    with pytest.raises(IntegrityError, match="one_evaluation_per_record_stage_type"):
        evaluation(record, at=months_apart(2))
    # The idempotency key and the receipt code are as unique across months as within one.
    other = factories.make_record(org, item)
    with pytest.raises(IntegrityError, match="idempotency_key"):
        evaluation(other, at=months_apart(1), key="k-first")
    with pytest.raises(IntegrityError, match="receipt_code"):
        evaluation(other, at=months_apart(-30), receipt="RCPT0000000000000001")  # lands in DEFAULT
    # The follow-up of the same stage is a different key: accepted, in whichever month.
    followup = evaluation(record, at=months_apart(2), type_="followup")
    assert partition_of(EVALUATIONS, first.pk) != partition_of(EVALUATIONS, followup.pk)
    assert Evaluation.objects.filter(record=record).count() == 2


@pytest.mark.pg_only
@pytest.mark.django_db
def test_a_submit_reads_the_key_table_not_every_months_partition(org, item):
    """Issue 14 item 1: the probe and the "first countable evaluation" checks look evaluations up in the key table
    (one index), so a submit costs the same however many months the table holds; the key table carries each
    evaluation's channel for those checks, and a 办件 rated earlier in another month is not counted rated again."""
    needs_pg()
    from django.test.utils import CaptureQueriesContext

    from haochaping.evaluation import services
    from haochaping.insight.models import DailyParticipation
    from tests.insight.helpers import completed_record

    record = completed_record(org, item)
    earlier = evaluation(record, at=months_apart(1), stage="accept")  # in next month's partition
    data = services.EvaluationInput(idempotency_key=uuid.uuid4().hex, project_no=record.project_no, stage="complete",
                                    channel="qr", level=4)
    with CaptureQueriesContext(connection) as queries:
        created = services.submit_evaluation(data, source="test")
    statements = [q["sql"] for q in queries.captured_queries]
    assert [sql for sql in statements if re.search(rf'FROM "{EVALUATIONS}"(?!_)', sql)] == []
    assert any(f'FROM "{partitions.keys_table(EVALUATIONS)}"' in sql for sql in statements)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, channel FROM {partitions.keys_table(EVALUATIONS)} WHERE record_id = %s ORDER BY id",
                       [record.pk])
        assert cursor.fetchall() == [(earlier.pk, "pc"), (created.evaluation.pk, "qr")]
    rated = dict(DailyParticipation.objects.filter(channel__in=["", "qr"]).values_list("channel", "rated"))
    assert rated.get("qr") == 1  # its first evaluation through qr
    assert rated.get("", 0) == 0  # not its first countable evaluation: the pc one in another month came first


def record_key_row(record_id) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT status, completed_at, region_id, window_id FROM {partitions.keys_table(RECORDS)} "
                       f"WHERE id = %s", [record_id])
        return cursor.fetchone()


@pytest.mark.pg_only
@pytest.mark.django_db
def test_a_submit_finds_and_locks_its_record_in_the_key_table(org, item):
    """Issue 14 items 1 and 3: a submit (single or batch) reads and locks its 办件 in the 办件's key table, which
    carries the 办件's status, times and units (evaluation migration 0010), so the look-up does not open every
    month's partition; the copy follows a completion in the writing statement, and a detached month's 办件 is not
    found, as it was not before, until its month is attached again."""
    needs_pg()
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from haochaping.core.problems import DomainError
    from haochaping.evaluation import intake, services
    from haochaping.records import services as record_services

    def submit(record, stage="accept"):
        return services.EvaluationInput(idempotency_key=uuid.uuid4().hex, project_no=record.project_no, stage=stage,
                                        channel="pc", level=5)

    record = factories.make_record(org, item, completed=False)
    assert record_key_row(record.pk) == (record.status, None, record.region_id, record.window_id)
    with CaptureQueriesContext(connection) as queries:
        services.submit_evaluation(submit(record), source="test")
    statements = [q["sql"] for q in queries.captured_queries]
    assert [sql for sql in statements if re.search(rf'FROM "{RECORDS}"(?!_)', sql)] == []
    assert any(re.search(rf'FROM "{partitions.keys_table(RECORDS)}" WHERE .* FOR NO KEY UPDATE', sql) for sql in statements)

    done = timezone.now()
    record_services.update_record(record.project_no, {"status": 3, "completed_at": done}, actor="test")
    assert record_key_row(record.pk) == (3, done, record.region_id, record.window_id)
    # The 办结 stage is open now that the key row says the 办件 is completed (the probe read it there).
    assert services.submit_evaluation(submit(record, "complete"), source="test").case_id is None

    old = months_apart(-2)
    old_month = date(old.year, old.month, 1)
    with time_machine.travel(old, tick=False):
        call_command("partitions", "--maintain")
        archived = factories.make_record(org, item)
    call_command("partitions", "--detach", f"{old_month:%Y-%m}")
    assert record_key_row(archived.pk) == (None, None, None, None)  # its 办件编号 stays taken, its copy is cleared
    with pytest.raises(DomainError) as refused:
        services.submit_evaluation(submit(archived), source="test")
    assert (refused.value.status, refused.value.field) == (404, "project_no")
    [outcome] = intake.submit_evaluations([submit(archived)], source="test")
    assert isinstance(outcome, DomainError) and (outcome.status, outcome.field) == (404, "project_no")
    call_command("partitions", "--attach", f"{old_month:%Y-%m}")
    assert record_key_row(archived.pk) == (archived.status, archived.completed_at, archived.region_id,
                                           archived.window_id)


def scanned(queryset, table: str) -> set[str]:
    """The partitions of ``table`` PostgreSQL's plan for ``queryset`` reads."""
    return set(re.findall(rf"\b{table}_(?:p\d{{6}}|default)\b", queryset.explain()))


@pytest.mark.pg_only
@pytest.mark.django_db
def test_a_record_or_evaluation_looked_up_by_a_unique_key_reads_its_own_months_partition_only(org, item):
    """Issue 14 item 3: a look-up of one 办件 by 办件编号 (QR, hotline, kiosk, the 办件 API, a completion) or of one
    evaluation by receipt code or idempotency key names the row's month, read from the key table (evaluation
    migration 0011), so PostgreSQL reads one month's partition instead of opening every month's; a completion's UPDATE
    names it too, and a row's month cannot be changed (its key row would be lost); an archived (detached) month's
    rows are not found, as before."""
    needs_pg()
    from django.test.utils import CaptureQueriesContext

    from haochaping.core.problems import DomainError
    from haochaping.evaluation import services
    from haochaping.records import services as record_services

    old = months_apart(-2)
    old_month = date(old.year, old.month, 1)
    with time_machine.travel(old, tick=False):
        call_command("partitions", "--maintain")
        archived = factories.make_record(org, item)
    record = factories.make_record(org, item, completed=False)
    assert len(partitions.partitions(RECORDS)) > 2

    found = ServiceRecord.objects.by_number(record.project_no)
    assert found.get() == record
    assert scanned(found, RECORDS) == {partition_of(RECORDS, record.pk)}
    assert len(scanned(ServiceRecord.objects.filter(project_no=record.project_no), RECORDS)) > 1  # what it was
    assert scanned(ServiceRecord.objects.by_number(archived.project_no), RECORDS) == {partition_of(RECORDS, archived.pk)}
    with CaptureQueriesContext(connection) as queries:
        assert ServiceRecord.objects.by_number("NO-SUCH-NUMBER").first() is None
    assert [q["sql"] for q in queries.captured_queries if f'"{RECORDS}"' in q["sql"]] == []  # the key table said so

    # A completion: found by number, and its UPDATE names the month too.
    done = record.accepted_at + timedelta(minutes=30)
    with CaptureQueriesContext(connection) as queries:
        record_services.update_record(record.project_no, {"status": 3, "completed_at": done}, actor="test")
    [update] = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(f'UPDATE "{RECORDS}"')]
    assert f'"{RECORDS}"."created_at" = ' in update
    record.refresh_from_db()
    assert (record.status, record.completed_at) == (3, done)
    # A row's month never changes: moving it would drop its key row (and with it the look-ups above), so it is refused.
    record.created_at = old
    with pytest.raises(IntegrityError), transaction.atomic():
        record.save()
    assert ServiceRecord.objects.by_number(record.project_no).get().created_at != old

    ev = evaluation(archived, at=months_apart(0), stage="complete")
    lookup = Evaluation.objects.one_by(receipt_code=ev.receipt_code)
    assert scanned(lookup, EVALUATIONS) == {partition_of(EVALUATIONS, ev.pk)}
    assert scanned(Evaluation.objects.one_by(idempotency_key=ev.idempotency_key), EVALUATIONS) == {
        partition_of(EVALUATIONS, ev.pk)}
    shown = services.find_by_receipt(ev.receipt_code.lower())
    assert (shown, shown.record) == (ev, archived)
    assert services.evaluation_with_record(id=ev.pk).record == archived  # the receipt page, by the session's id
    assert services.followup_taken(ev) is False
    followup = evaluation(archived, at=months_apart(1), type_="followup", stage="complete")  # next month's partition
    assert services.followup_taken(ev) is True
    stage_key = Evaluation.objects.one_by(record_id=archived.pk, stage="complete", type="followup")
    assert scanned(stage_key, EVALUATIONS) == {partition_of(EVALUATIONS, followup.pk)} != {partition_of(EVALUATIONS, ev.pk)}

    call_command("partitions", "--detach", f"{old_month:%Y-%m}")
    assert ServiceRecord.objects.by_number(archived.project_no).first() is None
    assert ServiceRecord.objects.by_number(record.project_no).get() == record  # of this month: still found
    with pytest.raises(DomainError) as refused:
        services.find_by_receipt(ev.receipt_code)  # its evaluation is live, its 办件 archived
    assert (refused.value.status, refused.value.field) == (404, "code")
    call_command("partitions", "--attach", f"{old_month:%Y-%m}")
    assert ServiceRecord.objects.by_number(archived.project_no).get() == archived


@pytest.mark.pg_only
@pytest.mark.django_db
def test_a_project_number_is_unique_across_months(org, item):
    needs_pg()
    factories.make_record(org, item, project_no="P-ONE")
    with time_machine.travel(months_apart(3), tick=False), pytest.raises(IntegrityError, match="project_no"):
        with transaction.atomic():
            factories.make_record(org, item, project_no="P-ONE")


@pytest.mark.pg_only
@pytest.mark.django_db
def test_a_write_whose_month_has_no_partition_succeeds_and_the_worker_moves_it(org, item):
    needs_pg()
    far = months_apart(partitions.MONTHS_AHEAD + 6)
    far_month = date(far.year, far.month, 1)
    with time_machine.travel(far, tick=False):
        record = factories.make_record(org, item)  # 办件 created that month: no partition yet
    ev = evaluation(record, at=far)
    assert partition_of(EVALUATIONS, ev.pk) == partitions.default_partition(EVALUATIONS)
    assert partition_of(RECORDS, record.pk) == partitions.default_partition(RECORDS)

    done = partitions.maintain()  # the worker's daily task
    assert set(done.created) >= {partitions.partition_name(EVALUATIONS, far_month),
                                 partitions.partition_name(RECORDS, far_month)}
    assert done.moved == 2
    assert partition_of(EVALUATIONS, ev.pk) == partitions.partition_name(EVALUATIONS, far_month)
    assert partition_of(RECORDS, record.pk) == partitions.partition_name(RECORDS, far_month)
    # Moved rows keep their keys: the stage is still taken, the 办件 still referable.
    with pytest.raises(IntegrityError, match="one_evaluation_per_record_stage_type"):
        evaluation(record, at=months_apart(0))
    EvaluationExclusion.objects.create(evaluation=ev, reason="mistaken", source="case:1", at=far)
    assert partitions.maintain().created == []  # idempotent


@pytest.mark.pg_only
@pytest.mark.django_db
def test_the_worker_creates_next_months_partitions_as_time_passes():
    needs_pg()
    later = months_apart(partitions.MONTHS_AHEAD + 2)
    with time_machine.travel(later, tick=False):
        done = partitions.maintain()
    ahead = partitions.add_months(date(later.year, later.month, 1), partitions.MONTHS_AHEAD)
    assert partitions.partition_name(EVALUATIONS, ahead) in done.created
    assert partitions.partition_name(RECORDS, ahead) in done.created


@pytest.mark.pg_only
@pytest.mark.django_db
def test_detaching_an_old_month_for_archive_and_attaching_it_again(org, item, capsys):
    needs_pg()
    old = months_apart(-2)
    old_month = date(old.year, old.month, 1)
    with time_machine.travel(old, tick=False):
        call_command("partitions", "--maintain")
        record = factories.make_record(org, item)
    ev = evaluation(record, at=old)
    keep = evaluation(factories.make_record(org, item), at=months_apart(0))

    call_command("partitions", "--detach", f"{old_month:%Y-%m}")
    assert not Evaluation.objects.filter(pk=ev.pk).exists() and not ServiceRecord.objects.filter(pk=record.pk).exists()
    assert Evaluation.objects.filter(pk=keep.pk).exists()
    with connection.cursor() as cursor:  # the rows are in the detached table, for pg_dump
        cursor.execute(f"SELECT count(*) FROM {partitions.partition_name(EVALUATIONS, old_month)}")
        assert cursor.fetchone()[0] == 1
    # The archived evaluation's idempotency key stays taken.
    with pytest.raises(IntegrityError, match="idempotency_key"):
        evaluation(factories.make_record(org, item), at=months_apart(0), key=ev.idempotency_key)
    # A submit or a batch item that reuses it is refused with a 409 naming the key, not answered with a 5xx.
    from haochaping.core.problems import DomainError
    from haochaping.evaluation import intake, services

    again = services.EvaluationInput(idempotency_key=ev.idempotency_key, project_no=factories.make_record(
        org, item).project_no, stage="complete", channel="pc", level=5)
    with pytest.raises(DomainError) as refused:
        services.submit_evaluation(again, source="test")
    assert (refused.value.status, refused.value.field) == (409, "idempotency_key")
    [outcome] = intake.submit_evaluations([again], source="test")
    assert isinstance(outcome, DomainError) and (outcome.status, outcome.field) == (409, "idempotency_key")

    with pytest.raises(CommandError, match="已结束"):
        call_command("partitions", "--detach", f"{this_month():%Y-%m}")
    with pytest.raises(CommandError, match="月份格式"):
        call_command("partitions", "--detach", "2026/01")
    call_command("partitions", "--attach", f"{old_month:%Y-%m}")
    assert Evaluation.objects.get(pk=ev.pk).record_id == record.pk
    call_command("partitions")
    assert f"{old_month:%Y-%m}" in capsys.readouterr().out


ROOT = Path(__file__).resolve().parents[2]
CONVERT_SCRIPT = r"""
import json, uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo
from django.db import connection, transaction, IntegrityError
from django.db.migrations.executor import MigrationExecutor

ex = MigrationExecutor(connection)
before = [n for n in ex.loader.graph.leaf_nodes() if n[0] != "evaluation"] + [("evaluation", "0006_evaluation_client_address_index_and_more")]
ex.migrate(before)
from tests import factories
from haochaping.evaluation.models import Evaluation, EvaluationExclusion
org = factories.make_org(); item = factories.make_item(org)
tz = ZoneInfo("Asia/Shanghai")
months = [datetime(2025, 1, 15, 12, tzinfo=tz), datetime(2025, 2, 15, 12, tzinfo=tz), datetime(2025, 3, 31, 23, 30, tzinfo=tz)]
ids = []
for i, at in enumerate(months * 2):
    record = factories.make_record(org, item)
    ev = Evaluation(record=record, stage="complete", type="active", channel="pc", level=1 + i % 5, is_bad=i % 5 < 2,
                    item_id=item.pk, region_id=record.region_id, department_id=record.department_id,
                    idempotency_key=f"key-{i}", request_hash="x" * 64, receipt_code=f"R{i:019d}", leaf_hash="0" * 64,
                    created_at=at)
    ev.save(force_insert=True)
    ids.append(ev.pk)
EvaluationExclusion.objects.create(evaluation_id=ids[0], reason="mistaken", source="case:1", at=months[0])
ex = MigrationExecutor(connection)
ex.migrate(ex.loader.graph.leaf_nodes())
out = {}
with connection.cursor() as c:
    c.execute("SELECT relkind FROM pg_class WHERE relname = 'evaluation_evaluation'"); out["relkind"] = c.fetchone()[0]
    c.execute("SELECT tableoid::regclass::text, count(*) FROM evaluation_evaluation GROUP BY 1 ORDER BY 1")
    out["per_partition"] = dict(c.fetchall())
    c.execute("SELECT count(*) FROM evaluation_evaluation_keys"); out["keys"] = c.fetchone()[0]
    c.execute("SELECT count(*) FROM records_servicerecord_keys"); out["record_keys"] = c.fetchone()[0]
out["evaluations"] = sorted(Evaluation.objects.values_list("pk", flat=True)) == sorted(ids)
out["excluded"] = list(Evaluation.objects.excluded().values_list("pk", flat=True)) == [ids[0]]
first = Evaluation.objects.get(pk=ids[0])
try:
    with transaction.atomic():
        Evaluation(record_id=first.record_id, stage="complete", type="active", channel="pc", level=5, is_bad=False,
                   item_id=item.pk, region_id=first.region_id, department_id=first.department_id,
                   idempotency_key="new", request_hash="x" * 64, receipt_code="NEW", leaf_hash="0" * 64,
                   created_at=datetime(2025, 6, 1, tzinfo=tz)).save(force_insert=True)
    out["duplicate"] = "accepted"
except IntegrityError as exc:
    out["duplicate"] = "one_evaluation_per_record_stage_type" in str(exc)
new = Evaluation(record=factories.make_record(org, item), stage="complete", type="active", channel="pc", level=5,
                 is_bad=False, item_id=item.pk, region_id=first.region_id, department_id=first.department_id,
                 idempotency_key="after", request_hash="x" * 64, receipt_code="AFTER", leaf_hash="0" * 64,
                 created_at=datetime(2025, 2, 1, tzinfo=tz))
new.save(force_insert=True)
out["new_id_after_old"] = new.pk > max(ids)
print("RESULT " + json.dumps(out))
"""


@pytest.mark.pg_only
def test_the_migration_converts_a_database_that_holds_data():
    """A database migrated up to before the conversion, with evaluations in three months, then migrated: its rows,
    exclusion and keys are where they belong and the next write gets the next id."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.fail("needs PostgreSQL (marked pg_only: runs in make test-pg): run with DATABASE_URL=postgres://…")
    base, name = url.rsplit("/", 1)
    scratch = f"{name}_convert_{os.getpid()}"
    admin = f"{base}/postgres"
    subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {scratch}", "-c", f"CREATE DATABASE {scratch}"],
                   check=True, capture_output=True)
    try:
        env = {**os.environ, "DATABASE_URL": f"{base}/{scratch}", "PYTHONPATH": str(ROOT)}
        run = subprocess.run([sys.executable, "-m", "haochaping", "shell", "-c", CONVERT_SCRIPT], env=env, cwd=ROOT,
                             capture_output=True, text=True, timeout=600)
        line = next((x for x in run.stdout.splitlines() if x.startswith("RESULT ")), None)
        assert line, run.stderr[-3000:]
        out = json.loads(line[len("RESULT "):])
    finally:
        subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {scratch}"], capture_output=True)
    assert out["relkind"] == "p"
    # 2025-03-31 23:30 Beijing is 15:30 UTC: March's partition, by the Beijing month.
    assert out["per_partition"] == {"evaluation_evaluation_p202501": 2, "evaluation_evaluation_p202502": 2,
                                    "evaluation_evaluation_p202503": 2}
    assert out["keys"] == 6 and out["record_keys"] == 6
    assert out["evaluations"] and out["excluded"]
    assert out["duplicate"] is True
    assert out["new_id_after_old"]


@pytest.mark.django_db
def test_sqlite_keeps_plain_tables(org, item):
    if connection.vendor == "postgresql":
        needs_pg()  # the PostgreSQL side is the tests above
        assert partitions.partitions(EVALUATIONS)
        return
    assert partitions.maintain().created == []
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("partitions")
    ev = evaluation(factories.make_record(org, item), at=months_apart(40))
    assert Evaluation.objects.filter(pk=ev.pk).exists()
