import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from haochaping.accounts.models import Role, User
from haochaping.evaluation import services as evaluation_services
from tests import factories


def submit(record, level=5, *, now=None, channel="kiosk", client=None, **kw):
    """A real submit through the evaluation service (receivers run: cases, rollups)."""
    data = evaluation_services.EvaluationInput(
        idempotency_key=uuid.uuid4().hex, project_no=record.project_no, stage="complete", channel=channel,
        level=level, comment=kw.pop("comment", ""), **kw,
    )
    return evaluation_services.submit_evaluation(data, source="test", now=now, client=client).evaluation


@pytest.fixture
def burst(org, item):
    """Five 非常满意 at the county's window within eight minutes, ending a minute ago (QR codes at the window: a
    kiosk's would also be "closed hours" when the suite runs at night or on a rest day)."""
    start = timezone.now() - timedelta(minutes=9)
    return [submit(factories.make_record(org, item), now=start + timedelta(minutes=2 * i), channel="qr")
            for i in range(5)]


@pytest.fixture
def people(org):
    def user(name, role, **kw):
        return User.objects.create(username=name, role=role, is_staff=True, region=org.county, **kw)

    return {
        "handler": user("handler-1", Role.HANDLER, department=org.department),
        "supervisor": user("sup-1", Role.SUPERVISOR),
        "far_supervisor": User.objects.create(username="sup-2", role=Role.SUPERVISOR, region=org.other_county),
    }


# Assessments and appraisal (tests/supervision/test_assessments_*.py, test_appraisal_*.py).
from .appraisal_helpers import assessment_media, cast, commission  # noqa: E402,F401
