"""The set-based intake (evaluation.intake, issue 16 item 6): many evaluations answered as if submitted one after
the other through the single service, with the same rows, leaf hashes, counters, outbox entries and cases."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db.models import Q
from django.utils import timezone

from haochaping.core import crypto
from haochaping.core.problems import DomainError
from haochaping.evaluation import intake, services
from haochaping.evaluation.models import Evaluation
from haochaping.exchange.models import OutboxEntry, Upstream
from haochaping.insight import rollups
from haochaping.rectification.models import RectificationCase
from tests import factories

pytestmark = pytest.mark.django_db


def data(record, level=5, **kw) -> services.EvaluationInput:
    defaults = {"idempotency_key": uuid.uuid4().hex, "project_no": record.project_no, "stage": "complete",
                "channel": "pc", "level": level}
    if level <= 2:
        defaults.update(labels=["110" if level == 1 else "209"], comment="等了很久")
    return services.EvaluationInput(**{**defaults, **kw})


@pytest.fixture
def records(org, item):
    return [factories.make_record(org, item) for _ in range(6)]


@pytest.fixture
def upstream(db):
    up = Upstream(name="上级", url="http://127.0.0.1:9", profile=Upstream.Profile.INTERNAL, app_id="lower")
    up.set_api_key("hcp_test_secret")
    up.set_payload_key("")
    up.save()
    return up


def test_a_batch_is_answered_item_by_item_as_single_submits_would_be(records, upstream):
    a, b, c, d, e, f = records
    first = data(a, level=2, questionnaire={"guide_clear": True, "suggestions": "多设几个窗口"})
    items = [
        first,
        data(b, level=4, evaluator_phone="13912345678"),
        data(c, labels=["999"]),  # refused: no such label
        data(c, channel="qr"),  # the same stage again, after a refused item: created, as one after the other
        data(d),
        data(d, type="followup", comment="补充：办事很顺利"),  # a follow-up after the active one of this batch
        data(d),  # a second active evaluation of the same stage: refused
        first,  # a retry inside the batch: the first answer
        services.EvaluationInput(**{**first.__dict__, "level": 5, "labels": [], "comment": ""}),  # key reused
        data(e, project_no="NO-SUCH-办件"),
        data(f, channel="kiosk"),  # an API key may not claim the kiosk channel
    ]
    out = intake.submit_evaluations(items, source="apikey:test", by_api_key=True)
    created = [o for o in out if not isinstance(o, DomainError) and not o.replayed]
    assert len(created) == 5 and Evaluation.objects.count() == 5
    assert out[0].case_id == RectificationCase.objects.get(evaluation=out[0].evaluation).pk  # the 差评's case
    assert (out[2].field, out[2].status) == ("labels", 422)
    assert not isinstance(out[3], DomainError) and out[3].evaluation.channel == "qr"
    assert out[5].evaluation.type == "followup"
    assert (out[6].field, out[6].status) == ("type", 409)
    assert out[7].replayed and out[7].evaluation.pk == out[0].evaluation.pk and out[7].case_id == out[0].case_id
    assert (out[8].field, out[8].status) == ("idempotency_key", 409)
    assert (out[9].field, out[9].status) == ("project_no", 404)
    assert (out[10].field, out[10].status) == ("channel", 403)
    # Every row as the single service writes it: labels, verifiable leaf, encrypted phone with its blind index.
    for ev in Evaluation.objects.prefetch_related("labels").select_related("record"):
        assert ev.leaf_hash == crypto.sm3_hex(services.canonical_bytes(ev, [x.code for x in ev.labels.all()]))
    real = Evaluation.objects.get(record=b)
    assert real.is_real_name and real.evaluator_phone_index == crypto.blind_index("13912345678", kind="phone")
    assert set(Evaluation.objects.get(record=a).labels.values_list("code", flat=True)) == {"209"}
    # Exactly the counters a rebuild computes; one outbox row per new evaluation, in the order written.
    assert rollups.rebuild(apply=False).agrees
    queued = list(OutboxEntry.objects.filter(kind="evaluation").order_by("id").values_list("object_id", flat=True))
    assert queued == sorted(o.evaluation.pk for o in created)
    # The single service sees what the batch wrote: a retry is a replay of the same row.
    again = services.submit_evaluation(items[1], source="apikey:test", by_api_key=True)
    assert again.replayed and again.evaluation.pk == out[1].evaluation.pk


def test_counters_match_single_submits_of_the_same_evaluations(org, item):
    singles = [factories.make_record(org, item) for _ in range(8)]
    batched = [factories.make_record(org, item) for _ in range(8)]
    levels = [5, 4, 3, 2, 1, 5, 4, 5]
    for record, level in zip(singles, levels, strict=True):
        services.submit_evaluation(data(record, level), source="apikey:test")
    intake.submit_evaluations([data(r, lv) for r, lv in zip(batched, levels, strict=True)], source="apikey:test")
    assert rollups.rebuild(apply=False).agrees
    assert RectificationCase.objects.filter(Q(evaluation__record__in=batched)).count() == 2


def test_history_keeps_each_items_own_time_and_opens_no_case(org, item):
    quiet, bad = (factories.make_record(org, item, accepted_at=timezone.now() - timedelta(days=3)) for _ in range(2))
    when = quiet.completed_at + timedelta(hours=2)
    default, old_bad = intake.submit_evaluations(
        [data(quiet, 5, channel="system_default"), data(bad, 1)], source="import:old", times=[when, when],
        imported=True)
    assert default.evaluation.created_at == when and default.evaluation.channel == "system_default"
    assert old_bad.evaluation.is_bad and old_bad.case_id is None
    assert not RectificationCase.objects.exists()  # history was handled by the former system
    assert rollups.rebuild(apply=False).agrees
