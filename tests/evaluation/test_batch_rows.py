"""The batch intake's plain-row path (evaluation.rows, issue 16 item 6) writes what the single submit writes: the same
stored columns, counters, outbox entries and cases for the same evaluations — compared in the database."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta

import pydantic
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from haochaping.core import crypto
from haochaping.evaluation import intake, services
from haochaping.evaluation.api import EvaluationIn, EvaluationInPlain
from haochaping.evaluation.models import Evaluation
from haochaping.exchange.models import OutboxEntry, Upstream
from haochaping.insight import rollups
from haochaping.insight.models import QuestionnaireCounter, RegionDayMix, Suggestion
from haochaping.rectification.models import CaseTransition, RectificationCase
from tests import factories
from tests.factories import SHANGHAI

pytestmark = pytest.mark.django_db

# What differs between two evaluations of the same content on two 办件: their own ids, keys and random receipt, and
# what covers those (the request's digest, the leaf hash); the ciphertext of personal data (a fresh nonce each).
OWN = {"id", "record_id", "idempotency_key", "request_hash", "receipt_code", "leaf_hash", "evaluator_name",
       "evaluator_phone"}
SHAPES = [
    {"level": 5},
    {"level": 4, "comment": "服务热情", "evaluator_phone": "13912345678", "evaluator_name": "王小二"},
    {"level": 3, "channel": "qr", "questionnaire": {"guide_clear": True, "suggestions": "多设几个窗口"}},
    {"level": 2, "labels": ["209", "207"], "comment": "等了很久"},
    {"level": 1, "labels": ["110"], "comment": "态度差", "evaluator_phone": "13800000000"},
    {"level": 5, "stage": "accept", "channel": "mobile"},
]


def inputs(records) -> list[services.EvaluationInput]:
    return [services.EvaluationInput(**{"idempotency_key": uuid.uuid4().hex, "project_no": r.project_no,
                                        "stage": "complete", "channel": "pc", **shape})
            for r, shape in zip(records, SHAPES, strict=True)]


def stored_rows(evaluation_ids) -> list[dict]:
    """The evaluations' columns as the database holds them, in the order of ``evaluation_ids``."""
    table = connection.ops.quote_name(Evaluation._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")
        names = [c[0] for c in cursor.description]
        rows = {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}
    return [rows[pk] for pk in evaluation_ids]


def cases_of(evaluation_ids) -> list[tuple]:
    out = []
    for pk in evaluation_ids:
        case = RectificationCase.objects.filter(evaluation_id=pk).first()
        if case is None:
            out.append(None)
            continue
        steps = list(CaseTransition.objects.filter(case=case).values_list("action", "from_state", "to_state", "at"))
        out.append((case.kind, case.state, case.region_id, case.department_id, case.agency_id, case.platform_id,
                    case.is_real_name, case.opened_at, case.callback_due, case.fix_now_due, case.rectify_due,
                    case.appeal_due, case.summary, steps))
    return out


def audit_of(case_ids) -> list:
    from haochaping.core.models import AuditEntry

    return [list(AuditEntry.objects.filter(object_type="rectification.RectificationCase", object_id=str(pk))
                 .values_list("actor", "action", "data")) for pk in case_ids]


def mix_cells() -> Counter:
    from haochaping.insight.models import RegionDayMix

    key = RegionDayMix.key_fields
    return Counter({tuple(row[:-1]): row[-1] for row in RegionDayMix.objects.exclude(count=0)
                    .values_list(*key, "count")})


def questionnaire_cells() -> Counter:
    from haochaping.insight.models import QUESTIONNAIRE_KEY_FIELDS, QUESTIONNAIRE_VALUES, QuestionnaireCounter

    out: Counter = Counter()
    for row in QuestionnaireCounter.objects.values(*QUESTIONNAIRE_KEY_FIELDS, *QUESTIONNAIRE_VALUES):
        for column in QUESTIONNAIRE_VALUES:
            if row[column]:
                out[(tuple(row[f] for f in QUESTIONNAIRE_KEY_FIELDS), column)] += row[column]
    return out


# A Wednesday of an ordinary week: the 办件 accepted on Monday, both ways rated inside every window (not a test of
# the calendar: the same timing rules answer both ways).
@time_machine.travel(datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI), tick=True)
def test_the_batch_writes_the_rows_counters_outbox_and_cases_the_single_submit_writes(org, item):
    upstream = Upstream(name="上级", url="http://127.0.0.1:9", profile=Upstream.Profile.INTERNAL, app_id="lower")
    upstream.set_api_key("hcp_test_secret")
    upstream.set_payload_key("")
    upstream.save()
    accepted = timezone.now() - timedelta(days=2)  # rated the day after: 补充评价 on both paths
    singles = [factories.make_record(org, item, accepted_at=accepted) for _ in SHAPES]
    batched = [factories.make_record(org, item, accepted_at=accepted) for _ in SHAPES]
    now = timezone.now()
    one_by_one = [services.submit_evaluation(data, source="apikey:test", now=now, by_api_key=True)
                  for data in inputs(singles)]
    counters = (Counter(rollups.stored()), mix_cells(), questionnaire_cells())
    together = intake.submit_evaluations(inputs(batched), source="apikey:test", now=now, by_api_key=True)
    assert all(isinstance(o, intake.Created) for o in together)

    single_ids = [o.evaluation.pk for o in one_by_one]
    batch_ids = [o.row.id for o in together]
    for a, b, data in zip(stored_rows(single_ids), stored_rows(batch_ids), inputs(batched), strict=True):
        assert {k: v for k, v in a.items() if k not in OWN} == {k: v for k, v in b.items() if k not in OWN}
        for column in ("evaluator_name", "evaluator_phone"):  # both encrypted (or both NULL), to the same text
            assert (a[column] is None) == (b[column] is None)
            if b[column] is not None:
                assert crypto.sm4_decrypt(a[column]) == crypto.sm4_decrypt(b[column]) == getattr(data, column)
    # The leaf hash verifies on the stored row and its labels, as a verifier recomputes it.
    for ev in Evaluation.objects.filter(pk__in=batch_ids).select_related("record").prefetch_related("labels"):
        assert ev.leaf_hash == crypto.sm3_hex(services.canonical_bytes(ev, [x.code for x in ev.labels.all()]))
        assert ev.leaf_hash == next(o.row.leaf_hash for o in together if o.row.id == ev.pk)
    assert [sorted(Evaluation.objects.get(pk=pk).labels.values_list("code", flat=True)) for pk in single_ids] == \
        [sorted(Evaluation.objects.get(pk=pk).labels.values_list("code", flat=True)) for pk in batch_ids]

    # Counters: the same evaluations again, so every cell exactly doubles — and agrees with a rebuild.
    after = (Counter(rollups.stored()), mix_cells(), questionnaire_cells())
    for before, now_ in zip(counters, after, strict=True):
        assert now_ == Counter({k: 2 * n for k, n in before.items()})
    assert QuestionnaireCounter.objects.exists() and RegionDayMix.objects.filter(kind="label").exists()
    assert rollups.rebuild(apply=False).agrees

    # Outbox: one pending entry per evaluation and upstream, alike but for the evaluation's id and 办件 (and the
    # time each was queued).
    def outbox(ids):
        return [list(OutboxEntry.objects.filter(kind="evaluation", object_id=pk)
                     .values_list("upstream_id", "status", "attempts", "next_attempt_at", "last_error", "sent_at"))
                for pk in ids]
    assert outbox(single_ids) == outbox(batch_ids) == [[(upstream.pk, "pending", 0, None, "", None)]] * len(SHAPES)
    assert list(OutboxEntry.objects.filter(kind="evaluation", object_id__in=batch_ids).order_by("id").values_list("project_no", flat=True)) == \
        [r.project_no for r in batched]

    # Cases for the 差评: the same case, open step and audit entry; the answer carries the case id.
    assert cases_of(single_ids) == cases_of(batch_ids)
    assert [o.case_id for o in together] == [
        RectificationCase.objects.filter(evaluation_id=pk).values_list("pk", flat=True).first() for pk in batch_ids]
    assert audit_of([o.case_id for o in one_by_one if o.case_id]) == audit_of([o.case_id for o in together
                                                                               if o.case_id])
    # The model instance a caller may still ask for is the stored row.
    assert together[1].evaluation.pk == batch_ids[1] and together[1].evaluation.is_real_name


@pytest.mark.parametrize("body", [
    {"idempotency_key": "k" * 12, "project_no": "P1", "stage": "complete", "channel": "pc", "level": 5},
    {"idempotency_key": "k" * 12, "project_no": "P1", "stage": "accept", "channel": "qr", "level": 2,
     "labels": ["209"], "comment": "慢", "type": "followup", "evaluator": {"name": "王", "phone": "13912345678"},
     "questionnaire": {"guide_clear": False, "suggestions": "好"}},
    {"idempotency_key": "k" * 12, "project_no": "P1", "stage": "complete", "channel": "pc", "level": 9},
    {"idempotency_key": "short", "project_no": "P 1", "stage": "later", "channel": "kiosk", "level": "5"},
    {"idempotency_key": "k" * 12, "project_no": "P1", "stage": "complete", "channel": "pc", "level": 5, "x": 1},
    {"idempotency_key": "k" * 12, "project_no": "P1", "stage": "complete", "channel": "pc", "level": 5,
     "labels": ["1234"], "questionnaire": {"guide_clear": "maybe", "other": 1}, "evaluator": {"phone": "123"}},
    {"idempotency_key": "k" * 12, "project_no": "P1", "stage": "complete", "channel": "pc", "level": True},
    {"idempotency_key": "k" * 12, "project_no": "P1", "stage": "complete", "channel": "pc", "level": 5,
     "comment": "长" * 1001, "evaluator": None, "questionnaire": None},
    {},
])
def test_the_plain_twin_validates_as_the_schema_does(body):
    def outcome(schema):
        try:
            return ("ok", schema.model_validate(body).model_dump())
        except pydantic.ValidationError as exc:
            return ("refused", exc.errors(include_url=False))
    assert outcome(EvaluationInPlain) == outcome(EvaluationIn)


def test_a_batch_costs_the_same_statements_however_many_suggestions_and_cases_it_holds(org, item):
    # Rows that bulk_create wrote asked the database routers once each; on PostgreSQL the first router
    # (insight.rollups.pending.FoldBeforeReading) probed for waiting evaluations every time: a query per suggestion.
    # A 差评's case read its 办件 through the ORM. Now a batch is a fixed set of statements (on SQLite but for the
    # evaluation rows themselves, one INSERT each there; one COPY on PostgreSQL).
    own_rows = f'INSERT INTO {connection.ops.quote_name(Evaluation._meta.db_table)} '

    def statements(copies: int) -> int:
        records = [factories.make_record(org, item) for _ in range(copies * len(SHAPES))]
        data = [d for n in range(copies) for d in inputs(records[n * len(SHAPES):(n + 1) * len(SHAPES)])]
        with CaptureQueriesContext(connection) as queries:
            out = intake.submit_evaluations(data, source="apikey:test", by_api_key=True)
        assert all(isinstance(o, intake.Created) for o in out)
        return sum(1 for q in queries.captured_queries
                   if connection.vendor == "postgresql" or not q["sql"].startswith(own_rows))

    statements(1)  # caches (calendar, labels, policies) warm
    assert statements(1) == statements(5)
    assert (RectificationCase.objects.count(), Suggestion.objects.count()) == (2 * 7, 7)
