"""Shared set-up of the assessments and appraisal tests: people, an assessor organisation and a commission,
uploads, and a real evaluation submit."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from haochaping.accounts.models import Role, User
from haochaping.evaluation import services as evaluation_services
from haochaping.supervision.assessments import services as assessments
from tests import factories

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"0" * 32


def png(name="现场照片.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def pdf(name="评估报告.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def submit(record, level=5, *, now=None, channel="qr"):
    """A real submit through the evaluation service (receivers run: a 差评 opens its case)."""
    data = evaluation_services.EvaluationInput(idempotency_key=uuid.uuid4().hex, project_no=record.project_no,
                                               stage="complete", channel=channel, level=level,
                                               comment="窗口人员态度差，材料要求反复变" if level <= 2 else "")
    return evaluation_services.submit_evaluation(data, source="test", now=now).evaluation


@pytest.fixture
def assessment_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def cast(org, assessment_media):
    """A supervisor of the county (whose agency commissions), one of another county, a handler, and two members
    of an assessor organisation (one of them not a member)."""
    def user(name, role, region=org.county, **kw):
        return User.objects.create(username=name, role=role, is_staff=True, region=region, **kw)

    people = {
        "supervisor": user("sup-a", Role.SUPERVISOR),
        "far_supervisor": user("sup-b", Role.SUPERVISOR, region=org.other_county),
        "handler": user("handler-a", Role.HANDLER, department=org.department),
        "assessor": user("assessor-a", Role.ASSESSOR),
        "outsider": user("assessor-b", Role.ASSESSOR),
    }
    people["organisation"] = assessments.register_organisation(
        actor=people["supervisor"], name="山东某评估研究院", region=org.county, members=[people["assessor"]])
    return people


def this_period():
    """A period that holds everything a test creates now: the last 30 days to today (site calendar)."""
    today = timezone.localdate()
    return today - timedelta(days=30), today


@pytest.fixture
def commission(org, cast):
    start, end = this_period()
    return assessments.create_commission(actor=cast["supervisor"], title="2026年度政务服务第三方评估",
                                         organisation=cast["organisation"], scope_region=org.county,
                                         start=start, end=end)


def second_department(org, name="历下区人力资源和社会保障局"):
    return factories.department(org.county, name)
