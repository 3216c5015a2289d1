"""`haochaping demo` loads once, and the same seed gives the same data in any fresh database."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from haochaping.core import calendar
from haochaping.demo import generator
from haochaping.evaluation.models import Evaluation
from haochaping.org.models import Department, Staff
from haochaping.records.models import ServiceRecord

pytestmark = pytest.mark.django_db
RECORDS = 2000


def content_digest() -> tuple[str, dict[int, int]]:
    """A digest of the demo content by natural keys (row ids and SM4 nonces differ between databases)."""
    h = hashlib.sha256()
    for row in Department.objects.order_by("credit_code").values_list("credit_code", "name", "region_id"):
        h.update(repr(row).encode())
    for row in Staff.objects.order_by("staff_no").values_list("staff_no", "name", "window__code", "agency__code"):
        h.update(repr(row).encode())
    for r in ServiceRecord.objects.select_related("item").order_by("project_no"):
        h.update(repr((r.project_no, r.item.implementation_code, r.region_id, r.status, r.record_type, r.accepted_at,
                       r.completed_at, r.due_date, r.overdue_explanation, r.push_hash, r.applicant_name.reveal(),
                       r.applicant_phone.reveal(), r.applicant_id_number.reveal(), r.applicant_phone_index)).encode())
    levels: dict[int, int] = {}
    for e in Evaluation.objects.select_related("record").prefetch_related("labels").order_by("idempotency_key"):
        labels = sorted(label.code for label in e.labels.all())
        phone = e.evaluator_phone.reveal() if e.evaluator_phone else ""
        h.update(repr((e.idempotency_key, e.receipt_code, e.record.project_no, e.stage, e.type, e.channel, e.level,
                       labels, e.comment, e.questionnaire, e.created_at, e.leaf_hash, e.request_hash, phone)).encode())
        levels[e.level] = levels.get(e.level, 0) + 1
    return h.hexdigest(), levels


def build_in_fresh_database(today):
    """Build inside a transaction and roll it back: the next build starts from the same empty database."""
    with transaction.atomic():
        calendar.invalidate()
        generator.build(RECORDS, today=today)
        result = content_digest()
        transaction.set_rollback(True)
    calendar.invalidate()
    return result


def test_same_seed_same_data_in_two_fresh_databases():
    assert not ServiceRecord.objects.exists()
    today = timezone.localdate()
    first_digest, first_levels = build_in_fresh_database(today)
    assert not ServiceRecord.objects.exists()
    second_digest, second_levels = build_in_fresh_database(today)
    assert first_levels == second_levels and sum(first_levels.values()) > 1000
    assert first_digest == second_digest


def test_loads_once_and_says_so_in_chinese():
    first = io.StringIO()
    call_command("demo", records=RECORDS, stdout=first)
    assert "演示数据已载入" in first.getvalue()
    counts = (ServiceRecord.objects.count(), Evaluation.objects.count(), Department.objects.count())
    second = io.StringIO()
    call_command("demo", records=RECORDS, stdout=second)
    assert "演示数据已存在" in second.getvalue()
    assert (ServiceRecord.objects.count(), Evaluation.objects.count(), Department.objects.count()) == counts


def test_rejects_a_non_positive_record_count():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="正整数"):
        call_command("demo", records=0, stdout=io.StringIO())
    assert not ServiceRecord.objects.exists()
