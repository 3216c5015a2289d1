"""Request bodies for the 办件 and evaluation API, shared by the records and evaluation tests."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.utils import timezone

from tests.factories import SHANGHAI

# Personal data the privacy tests look for everywhere: it must only ever exist encrypted or masked.
APPLICANT_NAME = "欧阳娜娜"
APPLICANT_PHONE = "13987654321"
APPLICANT_ID = "370102199003077713"
EVALUATOR_NAME = "司马相如"
EVALUATOR_PHONE = "15811112222"


def iso(moment: datetime) -> str:
    """ISO 8601 with the +08:00 offset, as provincial platforms send it."""
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


def record_payload(org, item, *, accepted_at: datetime | None = None, completed: bool = True, **kw) -> dict:
    """A complete, valid 办件 push, accepted two hours ago and completed an hour later unless told otherwise."""
    accepted_at = accepted_at or (timezone.now() - timedelta(hours=2))
    body = {
        "project_no": f"P-{uuid.uuid4().hex[:12]}",
        "implementation_code": item.implementation_code,
        "region_code": org.county.code,
        "department_credit_code": org.department.credit_code,
        "agency_code": org.agency.code,
        "window_code": org.window.code,
        "staff_no": org.staff.staff_no,
        "applicant": {"type": 1, "name": APPLICANT_NAME, "phone": APPLICANT_PHONE, "id_number": APPLICANT_ID},
        "record_type": "promised",
        "promised_days": 5,
        "status": 3 if completed else 2,
        "accepted_at": iso(accepted_at),
        "completed_at": iso(accepted_at + timedelta(hours=1)) if completed else None,
    }
    body.update(kw)
    return body


def evaluation_payload(project_no: str, **kw) -> dict:
    body = {
        "idempotency_key": uuid.uuid4().hex,
        "project_no": project_no,
        "stage": "complete",
        "channel": "mobile",
        "level": 5,
        "labels": ["510"],
    }
    body.update(kw)
    return body


def full_evaluation_payload(project_no: str, **kw) -> dict:
    """Every optional part filled in: questionnaire, real-name evaluator, comment."""
    body = evaluation_payload(
        project_no,
        level=2,
        labels=["209"],
        comment="材料交了三次，超过承诺时间才办结",
        questionnaire={
            "guide_clear": True,
            "process_convenient": False,
            "materials_simplified": False,
            "interface_friendly": True,
            "suggestions": "希望一次告知所需材料",
        },
        evaluator={"name": EVALUATOR_NAME, "phone": EVALUATOR_PHONE},
    )
    body.update(kw)
    return body


def assert_problem(response, status: int, field: str | None = None) -> dict:
    """An RFC 9457 problem: the status, the media type, a Chinese title and detail, and the field named."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert _has_chinese(body["title"]), body
    assert _has_chinese(body.get("detail", "")), body
    if field is not None:
        assert body.get("field") == field, body
    return body


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
