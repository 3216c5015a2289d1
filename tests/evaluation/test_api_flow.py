"""The evaluation core end to end over real HTTP: push a 办件, rate it, look the receipt up."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from haochaping.evaluation.models import Evaluation

pytestmark = pytest.mark.django_db(transaction=True)


def record_payload(org, item, **kw):
    # Relative to now: a fixed date would fall out of the 补充评价 period and the test would rot.
    accepted = timezone.localtime() - timedelta(hours=2)
    body = {
        "project_no": f"P-{uuid.uuid4().hex[:12]}",
        "implementation_code": item.implementation_code,
        "region_code": org.county.code,
        "department_credit_code": org.department.credit_code,
        "agency_code": org.agency.code,
        "window_code": org.window.code,
        "staff_no": org.staff.staff_no,
        "applicant": {"type": 1, "name": "王小二", "phone": "13912345678"},
        "record_type": "promised",
        "promised_days": 5,
        "status": 3,
        "accepted_at": accepted.isoformat(),
        "completed_at": (accepted + timedelta(hours=1)).isoformat(),
    }
    body.update(kw)
    return body


def test_push_rate_and_read_receipt(http, anon_http, org, item):
    rec = record_payload(org, item)
    r = http.post("/api/v1/records", json=rec)
    assert r.status_code == 201, r.text
    assert r.json()["stages"] == ["accept", "complete"]
    assert r.json()["applicant"]["phone"] == "139****5678"

    body = {"idempotency_key": uuid.uuid4().hex, "project_no": rec["project_no"], "stage": "complete",
            "channel": "pc", "level": 2, "labels": ["209"], "comment": "等了很久"}
    r = http.post("/api/v1/evaluations", json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["is_bad"] is True

    again = http.post("/api/v1/evaluations", json=body)
    assert again.status_code == 200
    assert again.json()["id"] == created["id"]
    assert Evaluation.objects.count() == 1

    receipt = anon_http.get(f"/api/v1/evaluations/receipt/{created['receipt_code']}")
    assert receipt.status_code == 200
    assert receipt.json()["labels"] == [{"code": "209", "text": "未在承诺时间内办结", "level": 2}]
    assert receipt.json()["level_text"] == "不满意"


def test_bad_review_without_reason_is_refused_in_chinese(http, org, item):
    rec = record_payload(org, item)
    assert http.post("/api/v1/records", json=rec).status_code == 201
    r = http.post("/api/v1/evaluations", json={"idempotency_key": uuid.uuid4().hex, "project_no": rec["project_no"],
                                                "stage": "complete", "channel": "pc", "level": 1})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == "labels"
    assert "差评" in r.json()["detail"]
    assert Evaluation.objects.count() == 0
