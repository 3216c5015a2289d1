"""Over the real API: a 差评 opens exactly one case in the same transaction and the answer carries its id."""

from __future__ import annotations

import pytest

from haochaping.evaluation.models import Evaluation
from haochaping.rectification import services
from haochaping.rectification.models import CaseTransition, RectificationCase
from tests.records.helpers import assert_problem, evaluation_payload, record_payload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pushed(http, org, item):
    body = record_payload(org, item)
    assert http.post("/api/v1/records", json=body).status_code == 201
    return body


def bad(project_no):
    return evaluation_payload(project_no, level=1, labels=[], comment="要求提供办事指南之外的材料")


def test_bad_review_opens_one_case_and_a_retry_gets_the_same_id(http, pushed, org):
    body = bad(pushed["project_no"])
    first = http.post("/api/v1/evaluations", json=body)
    assert first.status_code == 201, first.text
    case = RectificationCase.objects.get()
    assert first.json()["case_id"] == case.pk
    assert case.evaluation_id == first.json()["id"] and case.department_id == org.window.department_id
    retry = http.post("/api/v1/evaluations", json=body)
    assert retry.status_code == 200 and retry.json()["case_id"] == case.pk
    assert RectificationCase.objects.count() == 1 and CaseTransition.objects.count() == 1


def test_good_review_opens_no_case(http, pushed):
    r = http.post("/api/v1/evaluations", json=evaluation_payload(pushed["project_no"], level=5, labels=[]))
    assert r.status_code == 201, r.text
    assert r.json()["case_id"] is None
    retry = http.post("/api/v1/evaluations", json=evaluation_payload(pushed["project_no"], level=4, labels=[],
                                                                     type="followup"))
    assert retry.json()["case_id"] is None
    assert not RectificationCase.objects.exists()


def test_a_failure_opening_the_case_rolls_the_evaluation_back(http, pushed, monkeypatch):
    real_step = services._step

    def step_then_fail(case, **kw):
        real_step(case, **kw)  # the case row and its first step are written …
        raise RuntimeError("audit table unavailable")  # … and then the writing transaction fails

    monkeypatch.setattr(services, "_step", step_then_fail)
    r = http.post("/api/v1/evaluations", json=bad(pushed["project_no"]))
    assert_problem(r, 500)
    assert "audit table" not in r.text
    assert Evaluation.objects.count() == 0
    assert RectificationCase.objects.count() == 0 and CaseTransition.objects.count() == 0
    monkeypatch.undo()
    # Nothing half-written: the same submit now succeeds and opens its case.
    again = http.post("/api/v1/evaluations", json=bad(pushed["project_no"]))
    assert again.status_code == 201 and again.json()["case_id"] == RectificationCase.objects.get().pk
