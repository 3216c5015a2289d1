"""evaluation_written: a receiver (the future case app) opens a case in the same transaction as the evaluation."""

import itertools

import pytest
from django.db import IntegrityError

from haochaping.evaluation import services
from haochaping.evaluation.models import Evaluation
from haochaping.evaluation.signals import evaluation_replayed, evaluation_written
from haochaping.records.models import ServiceRecord
from tests import factories
from tests.records.helpers import assert_problem, evaluation_payload, record_payload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def case_app():
    """A stand-in for the rectification app: opens a case for each bad review and remembers it. The real app's
    receivers are set aside meanwhile, so the stand-in's ids are the ones answered (tests/rectification has the real)."""
    from haochaping.rectification import receivers

    evaluation_written.disconnect(sender=Evaluation, dispatch_uid="rectification.open_case")
    evaluation_replayed.disconnect(sender=Evaluation, dispatch_uid="rectification.replayed_case")
    cases: dict[int, str] = {}
    numbers = itertools.count(1)

    def on_written(sender, evaluation, **kw):
        if evaluation.is_bad:
            cases[evaluation.pk] = f"C{next(numbers):05d}"
            return {"case_id": cases[evaluation.pk]}
        return None

    def on_replayed(sender, evaluation, **kw):
        return {"case_id": cases.get(evaluation.pk)}

    evaluation_written.connect(on_written, dispatch_uid="test-case-app")
    evaluation_replayed.connect(on_replayed, dispatch_uid="test-case-app")
    yield cases
    evaluation_written.disconnect(dispatch_uid="test-case-app")
    evaluation_replayed.disconnect(dispatch_uid="test-case-app")
    evaluation_written.connect(receivers.open_case, sender=Evaluation, dispatch_uid="rectification.open_case")
    evaluation_replayed.connect(receivers.replayed_case, sender=Evaluation, dispatch_uid="rectification.replayed_case")


@pytest.fixture
def failing_receiver():
    def connect(exc):
        def boom(sender, evaluation, **kw):
            assert Evaluation.objects.filter(pk=evaluation.pk).exists()  # inside the writing transaction
            raise exc

        evaluation_written.connect(boom, dispatch_uid="test-boom", weak=False)

    yield connect
    evaluation_written.disconnect(dispatch_uid="test-boom")


@pytest.fixture
def pushed(http, org, item):
    body = record_payload(org, item)
    assert http.post("/api/v1/records", json=body).status_code == 201
    return body


def test_case_id_from_a_receiver_is_in_the_answer_and_in_the_retry(http, pushed, case_app):
    bad = evaluation_payload(pushed["project_no"], level=1, labels=["110"])
    first = http.post("/api/v1/evaluations", json=bad)
    assert first.status_code == 201, first.text
    assert first.json()["case_id"] == "C00001"
    retry = http.post("/api/v1/evaluations", json=bad)
    assert retry.status_code == 200
    assert retry.json() == first.json()


def test_good_review_opens_no_case(http, pushed, case_app):
    r = http.post("/api/v1/evaluations", json=evaluation_payload(pushed["project_no"]))
    assert r.status_code == 201 and r.json()["case_id"] is None and r.json()["is_bad"] is False
    assert case_app == {}


def test_receiver_that_raises_rolls_the_evaluation_back(http, pushed, failing_receiver):
    failing_receiver(RuntimeError("case table unavailable"))
    body = evaluation_payload(pushed["project_no"], level=2, labels=["209"])
    r = http.post("/api/v1/evaluations", json=body)
    problem = assert_problem(r, 500)
    assert "case table" not in r.text and problem["title"] == "服务器内部错误"
    assert Evaluation.objects.count() == 0
    assert not Evaluation.labels.through.objects.exists()


def test_receiver_integrity_error_is_a_fault_not_a_duplicate(http, pushed, failing_receiver):
    # Only the evaluation's own unique constraints mean "already evaluated" (409).
    failing_receiver(IntegrityError("duplicate case number"))
    r = http.post("/api/v1/evaluations", json=evaluation_payload(pushed["project_no"], level=1, labels=["110"]))
    assert_problem(r, 500)
    assert Evaluation.objects.count() == 0


def test_service_rolls_back_when_a_receiver_raises(org, item, failing_receiver):
    record = factories.make_record(org, item)
    failing_receiver(ValueError("no handler for this unit"))
    data = services.EvaluationInput(idempotency_key="k" * 10, project_no=record.project_no, stage="complete",
                                    channel="pc", level=1, labels=["110"])
    with pytest.raises(ValueError):
        services.submit_evaluation(data, source="test")
    assert Evaluation.objects.count() == 0
    assert ServiceRecord.objects.count() == 1
