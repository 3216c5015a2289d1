import uuid

import pytest

from haochaping.accounts.models import Role, User
from haochaping.evaluation import services as evaluation_services
from tests import factories


def submit(record, level=1, **kw):
    """A real submit through the evaluation service (so the rectification receiver runs)."""
    data = evaluation_services.EvaluationInput(
        idempotency_key=kw.pop("idempotency_key", uuid.uuid4().hex), project_no=record.project_no, stage="complete",
        channel="kiosk", level=level, comment=kw.pop("comment", "窗口要求提供指南外的材料"), **kw,
    )
    return evaluation_services.submit_evaluation(data, source="test")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Evidence files (and the worker's reports) go to a temporary MEDIA_ROOT, returned for tests that look."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path / "media"


@pytest.fixture
def sms_file(settings, tmp_path):
    """SMS written to a file (evaluation.sms.read_file_messages), links on the public address."""
    settings.HAOCHAPING_SMS_BACKEND = "haochaping.evaluation.sms.FileSender"
    settings.HAOCHAPING_SMS_FILE = str(tmp_path / "sms.jsonl")
    settings.HAOCHAPING_PUBLIC_URL = "https://hcp.example.gov.cn"
    return tmp_path / "sms.jsonl"


@pytest.fixture
def record(org, item):
    return factories.make_record(org, item)


@pytest.fixture
def people(org):
    def user(name, role, **kw):
        return User.objects.create(username=name, role=role, is_staff=True, region=org.county, **kw)

    return {
        "handler": user("handler-1", Role.HANDLER, department=org.department),
        "other_handler": user("handler-2", Role.HANDLER, department=factories.department(org.other_county, "市中区人社局")),
        "supervisor": user("sup-1", Role.SUPERVISOR),
        "far_supervisor": User.objects.create(username="sup-2", role=Role.SUPERVISOR, region=org.other_county),
    }
