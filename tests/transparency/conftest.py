"""Helpers for the verifiable log's tests: evaluations written through the real service, then sealed."""

from __future__ import annotations

import uuid

import pytest

from haochaping.evaluation import services as evaluation_services
from tests import factories

# Transactional tests (the concurrency ones) flush the label dictionary a migration seeded: put it back first.
from tests.evaluation.conftest import national_labels  # noqa: F401 - an autouse fixture, shared


def submit(record, level: int = 5, *, stage: str = "complete", channel: str = "kiosk", comment: str = "", labels=None):
    labels = labels if labels is not None else ({1: ["108"], 2: ["209"]}.get(level, []))
    data = evaluation_services.EvaluationInput(
        idempotency_key=uuid.uuid4().hex, project_no=record.project_no, stage=stage, channel=channel, level=level,
        labels=labels, comment=comment or ("窗口要求提供指南外的材料" if level <= 2 else ""),
    )
    return evaluation_services.submit_evaluation(data, source="test").evaluation


@pytest.fixture
def rate(org, item):
    """rate(level=5, **kw): a new 办件 of the test org, evaluated once."""

    def make(level: int = 5, **kw):
        return submit(factories.make_record(org, item), level, **kw)

    return make
