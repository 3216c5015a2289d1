"""Writing evaluations the way the system does (through the services, so the insight receivers run), and
counting them again from the raw rows, independently of the rollups."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from haochaping.evaluation import services as evaluation_services
from haochaping.evaluation.models import Channel, Evaluation, EvaluationType
from haochaping.evaluation.signals import evaluation_written
from tests import factories

BAD_LABEL = {1: ["110"], 2: ["209"]}


def rate(record, level: int, *, channel: str = "pc", type_: str = EvaluationType.ACTIVE, phone: str = "",
         now: datetime | None = None, questionnaire: dict | None = None) -> Evaluation:
    """Submit an evaluation of ``record``'s 办结 stage through the evaluation service."""
    data = evaluation_services.EvaluationInput(
        idempotency_key=uuid.uuid4().hex, project_no=record.project_no, stage="complete", channel=channel,
        level=level, type=type_, labels=BAD_LABEL.get(level, []), evaluator_phone=phone,
        questionnaire=questionnaire or {},
    )
    return evaluation_services.submit_evaluation(data, source="test", now=now).evaluation


def import_default(record, *, level: int = 5, now: datetime | None = None) -> Evaluation:
    """An imported 系统默认评价 (channel system_default), written like an importer must: row + signal in one
    transaction."""
    now = now or timezone.now()
    with transaction.atomic():
        ev = Evaluation(
            record=record, stage="complete", type=EvaluationType.ACTIVE, channel=Channel.SYSTEM_DEFAULT, level=level,
            is_bad=level <= 2, item_id=record.item_id, region_id=record.region_id, department_id=record.department_id,
            agency_id=record.agency_id, window_id=record.window_id, staff_id=record.staff_id,
            platform_id=record.platform_id, idempotency_key=uuid.uuid4().hex, request_hash="x" * 64,
            receipt_code=uuid.uuid4().hex[:20].upper(), leaf_hash="0" * 64, source="import", created_at=now,
        )
        ev.save(force_insert=True)
        evaluation_written.send(sender=Evaluation, evaluation=ev)
    return ev


def exclude(ev: Evaluation, reason: str = "appeal_upheld") -> None:
    evaluation_services.exclude_evaluation(ev.pk, reason=reason, source="appeal:1", actor=None)


def completed_record(org, item, *, completed_at: datetime | None = None, **kw):
    if completed_at is None:  # an hour ago, accepted an hour before that, both earlier today (factories.earlier_today)
        completed_at = factories.earlier_today(1)
        return factories.make_record(org, item, accepted_at=factories.earlier_today(1, before=completed_at),
                                     completed_at=completed_at, **kw)
    return factories.make_record(org, item, accepted_at=completed_at - timedelta(hours=1), **kw)
