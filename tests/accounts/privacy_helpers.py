"""Builders shared by the personal-data access tests (test_privacy*.py)."""

from __future__ import annotations

import uuid

from django.contrib.auth import get_user_model

from haochaping.accounts.roles import Role
from haochaping.core import crypto
from haochaping.evaluation.services import EvaluationInput, submit_evaluation

from .. import factories

NAME, PHONE, ID_NUMBER = "欧阳春花", "13912345678", "370102199001011234"
EVALUATOR_NAME, EVALUATOR_PHONE = "司马秋月", "13700001111"


def user(username: str, role: str, region=None, **kw):
    return get_user_model().objects.create_user(username, password=None, role=role, region=region, is_staff=True, **kw)


def record_in(org, item, region=None, **kw):
    """A 办件 with a full applicant in ``region`` (default: the org's county A), blind indexes as the service sets them."""
    kw.setdefault("applicant_phone_index", crypto.blind_index(PHONE, kind="phone"))
    kw.setdefault("applicant_id_index", crypto.blind_index(ID_NUMBER, kind="id_number"))
    if region is None or region == org.county:
        return factories.make_record(org, item, applicant_name=NAME, applicant_phone=PHONE, applicant_id_number=ID_NUMBER, **kw)
    dept = factories.department(region, name="市中区市场监督管理局（演示）")
    other_item = factories.make_item(org, department=dept, region=region)
    return factories.make_record(
        org, other_item, region=region, department=dept, agency=None, window=None, staff=None,
        applicant_name=NAME, applicant_phone=PHONE, applicant_id_number=ID_NUMBER, **kw,
    )


def evaluation_of(record):
    data = EvaluationInput(
        idempotency_key=str(uuid.uuid4()), project_no=record.project_no, stage="accept", channel="pc", level=5,
        evaluator_name=EVALUATOR_NAME, evaluator_phone=EVALUATOR_PHONE,
    )
    return submit_evaluation(data, source="test").evaluation


def supervisor(region, username=None):
    return user(username or f"sup-{region.code}", Role.SUPERVISOR, region)


SECRETS = (NAME, PHONE, ID_NUMBER, EVALUATOR_NAME, EVALUATOR_PHONE)
