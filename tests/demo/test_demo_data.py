"""`haochaping demo --records 2000`: what a newcomer sees after loading the demo data set.

The data set is built once for this module (inside a transaction rolled back at the end) and every test
reads it; building costs a few seconds.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from haochaping.catalog.models import ServiceGuide, ServiceItem
from haochaping.core import calendar, crypto
from haochaping.evaluation.models import Channel, Evaluation
from haochaping.evaluation.services import RECEIPT_ALPHABET, canonical_bytes
from haochaping.org import policy
from haochaping.org.models import (
    Department,
    ManagementAgency,
    Platform,
    Region,
    RegionPolicy,
    ServiceAgency,
    Staff,
    Window,
)
from haochaping.records.models import RecordStatus, ServiceRecord
from tests.demo.building import demo_built

RECORDS = 2000
SHANGHAI = ZoneInfo("Asia/Shanghai")
DEMO_REGIONS = {"370000": None, "370100": "370000", "370200": "370000", "370102": "370100", "370103": "370100",
                "370112": "370100", "370202": "370200", "370203": "370200"}


@pytest.fixture(scope="module")
def demo_output(django_db_setup, django_db_blocker):
    with demo_built(django_db_blocker, RECORDS) as output:
        yield output


@pytest.fixture
def demo(demo_output, db):
    return demo_output


def evaluations():
    return list(Evaluation.objects.select_related("record").prefetch_related("labels").order_by("id"))


def test_summary_is_chinese_and_counts_what_was_built(demo):
    assert "演示数据已载入" in demo and "用时" in demo
    assert f"办件 {RECORDS} 件" in demo
    assert ServiceRecord.objects.count() == RECORDS
    assert f"评价 {Evaluation.objects.count()} 条" in demo


def test_real_region_subtree_with_agencies_and_policy(demo):
    regions = dict(Region.objects.filter(code__in=DEMO_REGIONS).values_list("code", "parent_id"))
    assert regions == DEMO_REGIONS
    assert Region.objects.get(code="370102").name == "历下区"
    assert set(ManagementAgency.objects.filter(region_id__in=DEMO_REGIONS).values_list("region_id", flat=True)) == set(DEMO_REGIONS)
    assert RegionPolicy.objects.get(region_id="370000").supplementary_days == 5


def test_organisations_are_marked_as_demo(demo):
    for model in (Department, ServiceAgency, Window, Staff, Platform):
        names = list(model.objects.values_list("name", flat=True))
        assert names, model
        assert all("演示" in n for n in names), model
    assert Platform.objects.filter(kind="hotline").exists() and Platform.objects.filter(kind="mobile").exists()


def test_at_least_200_items_each_with_a_complete_guide(demo):
    assert ServiceItem.objects.count() >= 200
    guides = {g.item_id: g for g in ServiceGuide.objects.all()}
    assert set(guides) == set(ServiceItem.objects.values_list("id", flat=True))
    for guide in guides.values():
        for element in ServiceGuide.ELEMENTS:
            text = getattr(guide, element)
            assert text.strip(), (guide.item_id, element)
            assert any("\u4e00" <= ch <= "\u9fff" for ch in text), (guide.item_id, element)


def test_records_and_evaluations_cover_the_last_twelve_months(demo):
    anchor = datetime.combine(timezone.localdate(), time(), SHANGHAI)
    first = anchor - timedelta(days=366)
    times = list(Evaluation.objects.values_list("created_at", flat=True))
    assert min(times) >= first and max(times) < anchor
    months = {t.astimezone(SHANGHAI).strftime("%Y-%m") for t in times}
    assert len(months) >= 12
    accepted = ServiceRecord.objects.exclude(accepted_at=None).values_list("accepted_at", flat=True)
    assert min(accepted) >= first and max(accepted) < anchor


def test_channel_mix_looks_like_a_real_province(demo):
    mix = Counter(Evaluation.objects.values_list("channel", flat=True))
    total = sum(mix.values())
    share = {c: n / total for c, n in mix.items()}
    # Guangdong, July 2023: web 41 %, hall 37 %, app 18 %, hotline 2 %, self-service < 1 %.
    assert 0.33 < share[Channel.PC] < 0.50
    assert 0.28 < share.get(Channel.KIOSK, 0) + share.get(Channel.QR, 0) + share.get(Channel.PAPER, 0) < 0.46
    assert 0.12 < share[Channel.MOBILE] < 0.25
    assert 0 < share[Channel.PHONE] < 0.05 and 0 < share[Channel.SMS] < 0.05
    assert Channel.SYSTEM_DEFAULT not in mix


def test_every_evaluation_keeps_the_rules(demo):
    evs = evaluations()
    seen = Counter((e.record_id, e.stage, e.type) for e in evs)
    assert max(seen.values()) == 1
    actives = {(e.record_id, e.stage): e for e in evs if e.type == "active"}
    receipts = set()
    for e in evs:
        codes = sorted(label.code for label in e.labels.all())
        assert e.is_bad == (e.level <= 2)
        assert all(int(c[0]) == e.level for c in codes), (e.receipt_code, codes, e.level)
        if e.is_bad:
            assert codes or e.comment.strip(), e.receipt_code
        record = e.record
        stage_time = record.accepted_at if e.stage == "accept" else record.completed_at
        if e.stage == "complete":
            assert record.status == RecordStatus.COMPLETED
        assert stage_time is not None and stage_time <= e.created_at
        stage_day = timezone.localtime(stage_time).date()
        day = timezone.localtime(e.created_at).date()
        last_day = calendar.add_working_days(stage_day, policy.supplementary_days(record.region_id), record.region_id)
        assert day <= last_day, e.receipt_code
        assert e.is_supplementary == (day > stage_day)
        if e.type == "followup":
            first = actives[(e.record_id, e.stage)]
            assert first.created_at < e.created_at
        assert (e.item_id, e.region_id, e.department_id, e.agency_id, e.window_id, e.staff_id, e.platform_id) == (
            record.item_id, record.region_id, record.department_id, record.agency_id, record.window_id,
            record.staff_id, record.platform_id,
        )
        assert e.is_real_name == bool(e.evaluator_phone)
        assert e.leaf_hash == crypto.sm3_hex(canonical_bytes(e, codes))
        assert len(e.receipt_code) == 12 and set(e.receipt_code) <= set(RECEIPT_ALPHABET)
        assert len(e.request_hash) == 64
        receipts.add(e.receipt_code)
    assert len(receipts) == len(evs)


def test_statistics_are_honest(demo):
    evs = Evaluation.objects.all()
    total = evs.count()
    bad = evs.filter(is_bad=True).count()
    assert 0.01 <= bad / total <= 0.03
    completed = ServiceRecord.objects.filter(status=RecordStatus.COMPLETED)
    evaluated = completed.filter(evaluations__isnull=False).distinct().count()
    # Unevaluated 办件 exist and are not silently counted as satisfied (R8.4).
    assert 0.5 < evaluated / completed.count() < 1
    assert evs.filter(type="followup").exists()
    real = evs.filter(is_real_name=True).count()
    assert 0.03 < real / total < 0.4  # mostly anonymous
    late = [r for r in ServiceRecord.objects.filter(record_type="promised").exclude(due_date=None) if r.is_overdue()]
    assert late
    assert any(r.overdue_explanation for r in late)
    assert ServiceRecord.objects.filter(status=RecordStatus.IN_PROGRESS).exists()


def test_personal_data_is_encrypted_at_rest(demo):
    real = list(Evaluation.objects.filter(is_real_name=True).order_by("id")[:50])
    assert real
    with connection.cursor() as cursor:
        for e in real:
            phone = e.evaluator_phone.reveal()
            assert len(phone) == 11 and phone.isdigit()
            assert e.evaluator_phone_index == crypto.blind_index(phone, kind="phone")
            cursor.execute("SELECT evaluator_phone FROM evaluation_evaluation WHERE id = %s", [e.id])
            raw = bytes(cursor.fetchone()[0])
            assert phone.encode() not in raw
    for r in ServiceRecord.objects.order_by("id")[:50]:
        name, phone = r.applicant_name.reveal(), r.applicant_phone.reveal()
        assert name and phone and str(r.applicant_phone) != phone  # shown masked unless revealed
        with connection.cursor() as cursor:
            cursor.execute("SELECT applicant_name, applicant_phone FROM records_servicerecord WHERE id = %s", [r.id])
            raw_name, raw_phone = (bytes(v) for v in cursor.fetchone())
        assert name.encode() not in raw_name and phone.encode() not in raw_phone
        assert r.applicant_phone_index == crypto.blind_index(phone, kind="phone")


def test_demo_rows_work_with_the_real_evaluation_services(demo):
    from haochaping.core.problems import DomainError
    from haochaping.evaluation.services import EvaluationInput, find_by_receipt, submit_evaluation

    ev = Evaluation.objects.select_related("record").filter(type="active").order_by("-created_at").first()
    assert find_by_receipt(ev.receipt_code.lower()).pk == ev.pk
    # The database's one-active-per-stage rule holds for demo rows too: a second active rating is refused.
    again = EvaluationInput(idempotency_key="demo-test-second", project_no=ev.record.project_no, stage=ev.stage,
                            channel="pc", level=5)
    with pytest.raises(DomainError) as refused:
        submit_evaluation(again, source="test", now=ev.created_at)
    assert refused.value.field == "type"
    # Replaying the demo's own request (same idempotency key, same content) returns the stored row.
    labels = sorted(label.code for label in ev.labels.all())
    replay = EvaluationInput(
        idempotency_key=ev.idempotency_key, project_no=ev.record.project_no, stage=ev.stage, channel=ev.channel,
        level=ev.level, type=ev.type, labels=labels, comment=ev.comment, questionnaire=ev.questionnaire,
        evaluator_name=ev.evaluator_name.reveal() if ev.evaluator_name else "",
        evaluator_phone=ev.evaluator_phone.reveal() if ev.evaluator_phone else "",
    )
    result = submit_evaluation(replay, source="test")
    assert result.replayed and result.evaluation.pk == ev.pk
