"""The single submit's one write (issue 14 item 1): the row, its counters, its 参评率, its questionnaire summary and
its outbox rows go in together — one statement on PostgreSQL — and read back exactly; a receiver's statement that
fails is a fault, not a duplicate."""

from __future__ import annotations

import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from haochaping.evaluation import lookups, services
from haochaping.evaluation.models import Evaluation
from haochaping.evaluation.signals import evaluation_writing
from haochaping.exchange.models import OutboxEntry, Upstream
from haochaping.insight import rollups
from haochaping.insight.models import DailyParticipation, RegionDayCounter, Suggestion
from tests.insight.helpers import completed_record

pytestmark = pytest.mark.django_db


def _submit(record, level=5, *, stage="complete", channel="pc", labels=(), questionnaire=None, phone=""):
    data = services.EvaluationInput(
        idempotency_key=uuid.uuid4().hex, project_no=record.project_no, stage=stage, channel=channel, level=level,
        labels=list(labels), comment="太慢" if level <= 2 else "", questionnaire=questionnaire or {},
        evaluator_phone=phone,
    )
    return services.submit_evaluation(data, source="test")


@pytest.fixture
def upstream(db):
    up = Upstream(name="上级", url="http://127.0.0.1:9", profile=Upstream.Profile.INTERNAL, app_id="lower")
    up.set_api_key("hcp_test_secret")
    up.set_payload_key("")
    up.save()
    return up


def test_counters_and_participation_exact_when_evaluated_on_the_completion_day(org, item, upstream):
    # The evaluation's day is its 办件's completion day: both add to the same wide rows, in one statement.
    record = completed_record(org, item)
    _submit(record, 5, questionnaire={"guide_clear": True, "suggestions": "希望增加自助机"}, phone="13800001234")
    _submit(record, 4, stage="accept", channel="qr")
    bad = completed_record(org, item)
    _submit(bad, 2, labels=["209"])
    assert rollups.rebuild(apply=False).agrees
    overall = DailyParticipation.objects.filter(channel="").values_list("completed", "rated")
    # Each 办件 completed once and rated once, whatever its number of evaluations.
    assert [sum(c for c, _r in overall), sum(r for _c, r in overall)] == [2, 2]
    assert sum(RegionDayCounter.objects.values_list("rated", flat=True)) == 2
    assert Suggestion.objects.count() == 1
    assert OutboxEntry.objects.filter(kind=OutboxEntry.Kind.EVALUATION).count() == 3


@pytest.mark.pg_only
def test_a_good_evaluation_is_one_probe_and_one_write_on_postgresql(org, item, upstream):
    if connection.vendor != "postgresql":
        pytest.fail("needs PostgreSQL (marked pg_only: runs in make test-pg)")
    record = completed_record(org, item)
    with CaptureQueriesContext(connection) as queries:
        _submit(record, 5, questionnaire={"guide_clear": True})
    # Besides the test's savepoint and the calendar/policy reads (cached per process in production): the probe
    # and one write.
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    writes = [s for s in statements if s.lstrip().upper().startswith(("WITH", "INSERT", "UPDATE", "DELETE"))]
    assert len(writes) == 1 and writes[0].startswith("WITH "), writes
    assert len([s for s in statements if lookups.RECORD_LOCK in s]) == 1
    assert rollups.rebuild(apply=False).agrees
    assert OutboxEntry.objects.filter(kind=OutboxEntry.Kind.EVALUATION).count() == 1


def test_a_receivers_failing_statement_is_a_fault_not_a_duplicate(org, item):
    record = completed_record(org, item)
    table = connection.ops.quote_name(Evaluation._meta.db_table)

    def failing(sender, evaluation, **kwargs):
        # Not the evaluation's own constraint: a NOT NULL violation in another table.
        return [(f"INSERT INTO {connection.ops.quote_name(Suggestion._meta.db_table)} (evaluation_id) VALUES (%s)",
                 [evaluation.pk or 0])]

    evaluation_writing.connect(failing, dispatch_uid="test-failing", weak=False)
    try:
        with pytest.raises(IntegrityError):
            _submit(record, 5)
    finally:
        evaluation_writing.disconnect(dispatch_uid="test-failing")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        assert cursor.fetchone()[0] == 0
    assert rollups.rebuild(apply=False).agrees


@pytest.mark.pg_only
def test_the_probe_and_the_write_are_prepared_once_and_survive_a_refused_submit(org, item, upstream):
    # PostgreSQL parses and plans them once per connection (core.prepared), not on every submit; after a refused
    # submit (rolled back) the next ones, 差评 included, still write and count exactly.
    if connection.vendor != "postgresql":
        pytest.fail("needs PostgreSQL (marked pg_only: runs in make test-pg)")

    def prepared():
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
            return [row[0] for row in cursor.fetchall()]

    for _ in range(3):
        _submit(completed_record(org, item), 5)
    statements = prepared()
    assert len([s for s in statements if s.startswith("WITH ")]) == 1, statements
    assert len([s for s in statements if lookups.RECORD_LOCK in s]) == 1, statements
    data = services.EvaluationInput(idempotency_key=uuid.uuid4().hex, project_no="NO-SUCH-RECORD", stage="complete",
                                    channel="pc", level=5)
    with pytest.raises(services.DomainError):
        with transaction.atomic():
            services.submit_evaluation(data, source="test")
    _submit(completed_record(org, item), 4)
    _submit(completed_record(org, item), 2, labels=["209"])
    assert Evaluation.objects.count() == 5
    assert rollups.rebuild(apply=False).agrees
    assert OutboxEntry.objects.filter(kind=OutboxEntry.Kind.EVALUATION).count() == 5
