"""Bad input to the 办件 and evaluation API: the right status, a Chinese RFC 9457 problem naming the field,
nothing written, and never an echo of personal data."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from haochaping.accounts.models import Scope
from haochaping.accounts.services import revoke_api_key
from haochaping.evaluation.models import Evaluation
from haochaping.records.models import ServiceRecord
from tests import factories
from tests.records.helpers import (
    APPLICANT_ID,
    APPLICANT_PHONE,
    EVALUATOR_PHONE,
    assert_problem,
    evaluation_payload,
    full_evaluation_payload,
    record_payload,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pushed(http, org, item):
    body = record_payload(org, item)
    assert http.post("/api/v1/records", json=body).status_code == 201
    return body


def counts():
    return ServiceRecord.objects.count(), Evaluation.objects.count()


def test_unknown_project_no_is_404(http, pushed):
    assert_problem(http.post("/api/v1/evaluations", json=evaluation_payload("NO-SUCH-RECORD")), 404, "project_no")
    assert Evaluation.objects.count() == 0


def test_second_active_evaluation_of_a_stage_is_409(http, pushed):
    assert http.post("/api/v1/evaluations", json=evaluation_payload(pushed["project_no"])).status_code == 201
    problem = assert_problem(http.post("/api/v1/evaluations", json=evaluation_payload(pushed["project_no"], level=4, labels=[])), 409)
    assert "追加评价" in problem["detail"]
    assert Evaluation.objects.count() == 1


def test_same_idempotency_key_with_different_content_is_409(http, pushed):
    body = evaluation_payload(pushed["project_no"])
    assert http.post("/api/v1/evaluations", json=body).status_code == 201
    assert_problem(http.post("/api/v1/evaluations", json=dict(body, level=4, labels=[])), 409, "idempotency_key")
    assert Evaluation.objects.count() == 1


EVALUATION_CASES = [
    ("level 0", {"level": 0, "labels": []}, "level"),
    ("level 6", {"level": 6, "labels": []}, "level"),
    ("level true", {"level": True, "labels": []}, "level"),
    ("level as text", {"level": "5", "labels": []}, "level"),
    ("level fraction", {"level": 4.5, "labels": []}, "level"),
    ("unknown label", {"level": 2, "labels": ["299"]}, "labels"),
    ("label of another level", {"level": 5, "labels": ["209"]}, "labels"),
    ("malformed label", {"level": 2, "labels": ["2O9"]}, "labels.0"),
    ("bad review without reason", {"level": 1, "labels": [], "comment": "  "}, "labels"),
    ("comment over 1000 characters", {"comment": "慢" * 1001}, "comment"),
    ("unknown channel", {"channel": "fax"}, "channel"),
    ("system default channel", {"channel": "system_default"}, "channel"),
    ("unknown stage", {"stage": "review"}, "stage"),
    ("unknown type", {"type": "second"}, "type"),
    ("malformed project_no", {"project_no": "办件 1/2"}, "project_no"),
    ("short idempotency key", {"idempotency_key": "abc"}, "idempotency_key"),
    ("missing level", {"level": None}, "level"),
    ("unknown questionnaire question", {"questionnaire": {"is_fast": True}}, "questionnaire.is_fast"),
    ("questionnaire answer not yes/no", {"questionnaire": {"guide_clear": "maybe"}}, "questionnaire.guide_clear"),
    ("malformed evaluator phone", {"evaluator": {"phone": "1581111222"}}, "evaluator.phone"),
    ("followup before active", {"type": "followup"}, "type"),
]


@pytest.mark.parametrize(("case", "change", "field"), EVALUATION_CASES, ids=[c[0] for c in EVALUATION_CASES])
def test_invalid_evaluation_is_422_naming_the_field(http, pushed, case, change, field):
    body = evaluation_payload(pushed["project_no"])
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    before = counts()
    assert_problem(http.post("/api/v1/evaluations", json=body), 422, field)
    assert counts() == before


def test_stage_not_reached_yet_is_422(http, org, item):
    body = record_payload(org, item, completed=False)
    assert http.post("/api/v1/records", json=body).status_code == 201
    assert_problem(http.post("/api/v1/evaluations", json=evaluation_payload(body["project_no"])), 422, "stage")
    assert Evaluation.objects.count() == 0


@pytest.mark.parametrize(
    "labels",
    [[APPLICANT_PHONE], [APPLICANT_ID], ["209", EVALUATOR_PHONE]],
    ids=["phone as label", "id number as label", "phone after a good label"],
)
def test_422_never_echoes_a_phone_or_id_number(http, pushed, labels):
    body = full_evaluation_payload(pushed["project_no"], labels=labels)
    r = http.post("/api/v1/evaluations", json=body)
    assert_problem(r, 422)
    for secret in (APPLICANT_PHONE, APPLICANT_ID, EVALUATOR_PHONE):
        assert secret not in r.text
    assert Evaluation.objects.count() == 0


def test_422_on_malformed_phone_does_not_echo_it(http, org, item):
    near_phone = "1398765432x"
    body = record_payload(org, item, applicant={"type": 1, "name": "欧阳娜娜", "phone": near_phone, "id_number": APPLICANT_ID})
    r = http.post("/api/v1/records", json=body)
    assert_problem(r, 422, "applicant.phone")
    assert near_phone not in r.text and APPLICANT_ID not in r.text
    assert ServiceRecord.objects.count() == 0


RECORD_CASES = [
    ("time without timezone", {"accepted_at": "2026-11-20T09:00:00"}, "accepted_at"),
    ("date only", {"accepted_at": "2026-11-20"}, "accepted_at"),
    ("not a time", {"accepted_at": "昨天上午"}, "accepted_at"),
    ("unix timestamp", {"accepted_at": 1763600000}, "accepted_at"),
    ("unix timestamp as text", {"completed_at": "1763600000"}, "completed_at"),
    ("slashed date", {"completed_at": "2026/11/20 10:00:00+08:00"}, "completed_at"),
    ("malformed region code", {"region_code": "37010"}, "region_code"),
    ("unknown region code", {"region_code": "990000"}, "region_code"),
    ("malformed credit code", {"department_credit_code": "12345"}, "department_credit_code"),
    ("unknown implementation code", {"implementation_code": "NOPE"}, "implementation_code"),
    ("malformed project_no", {"project_no": "P 1"}, "project_no"),
    ("unknown status", {"status": 4}, "status"),
    ("unknown applicant type", {"applicant": {"type": 7}}, "applicant.type"),
    ("unknown record type", {"record_type": "urgent"}, "record_type"),
    ("completed before accepted", {"completed_at": "2000-01-01T00:00:00+08:00"}, "completed_at"),
    ("promised without days", {"promised_days": 0}, "promised_days"),
    ("nobody handled it", {"agency_code": None, "window_code": None, "staff_no": None}, "agency_code"),
]


@pytest.mark.parametrize(("case", "change", "field"), RECORD_CASES, ids=[c[0] for c in RECORD_CASES])
def test_invalid_record_is_422_naming_the_field(http, org, item, case, change, field):
    body = record_payload(org, item)
    body.update(change)
    assert_problem(http.post("/api/v1/records", json=body), 422, field)
    assert ServiceRecord.objects.count() == 0


@pytest.mark.parametrize("path", ["/api/v1/records", "/api/v1/evaluations"])
@pytest.mark.parametrize("raw", ['{"project_no": "P-1",', "level=5&stage=accept", "\xff\xfe"], ids=["truncated", "form", "binary"])
def test_malformed_json_is_422_naming_the_body(http, pushed, path, raw):
    before = counts()
    r = http.post(path, content=raw.encode("latin-1"), headers={"Content-Type": "application/json"})
    problem = assert_problem(r, 422, "body")
    assert "JSON" in problem["detail"]
    assert counts() == before


# --- authentication: API keys with scopes ---------------------------------------------------------------


def client_with(live_server, secret=None):
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return httpx.Client(base_url=live_server.url, headers=headers)


def expect_401(response):
    assert_problem(response, 401, "Authorization")
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("path", ["/api/v1/records", "/api/v1/evaluations"])
def test_missing_or_wrong_key_is_401(live_server, org, item, pushed, api_key, path):
    _key, secret = api_key
    before = counts()
    body = evaluation_payload(pushed["project_no"]) if "evaluations" in path else record_payload(org, item)
    with client_with(live_server) as anon:
        expect_401(anon.post(path, json=body))
    for wrong in (secret[:-2] + "xx", "hcp_deadbeef_" + "x" * 43, "not-a-key", secret.upper()):
        with client_with(live_server, wrong) as client:
            expect_401(client.post(path, json=body))
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Basic {secret}"}) as basic:
        expect_401(basic.post(path, json=body))
    assert counts() == before


def test_revoked_and_expired_keys_are_401(live_server, pushed):
    revoked, revoked_secret = factories.make_api_key()
    revoke_api_key(revoked)
    _expired, expired_secret = factories.make_api_key()
    _expired.expires_at = timezone.now() - timedelta(seconds=1)
    _expired.save()
    for secret in (revoked_secret, expired_secret):
        with client_with(live_server, secret) as client:
            expect_401(client.post("/api/v1/evaluations", json=evaluation_payload(pushed["project_no"])))
            expect_401(client.get(f"/api/v1/records/{pushed['project_no']}"))
    assert Evaluation.objects.count() == 0


@pytest.mark.parametrize(
    ("scopes", "method", "path"),
    [
        ([Scope.RECORDS_WRITE], "post", "/api/v1/evaluations"),
        ([Scope.EVALUATIONS_WRITE], "post", "/api/v1/records"),
        ([Scope.EVALUATIONS_WRITE], "get", "/api/v1/records/{project_no}"),
        ([Scope.RECORDS_READ], "patch", "/api/v1/records/{project_no}"),
    ],
)
def test_key_without_the_scope_is_403(live_server, org, item, pushed, scopes, method, path):
    _key, secret = factories.make_api_key(scopes=scopes)
    body = evaluation_payload(pushed["project_no"]) if "evaluations" in path else record_payload(org, item)
    if method == "patch":
        body = {"overdue_explanation": "材料补正"}
    before = counts()
    with client_with(live_server, secret) as client:
        r = client.request(method.upper(), path.format(project_no=pushed["project_no"]), json=body)
    problem = assert_problem(r, 403, "Authorization")
    assert "权限" in problem["title"]
    assert counts() == before
    assert ServiceRecord.objects.get().overdue_explanation == ""


def test_evaluation_with_a_key_of_another_region_is_404(live_server, org, pushed):
    _key, secret = factories.make_api_key(region=org.other_county)
    with client_with(live_server, secret) as client:
        assert_problem(client.post("/api/v1/evaluations", json=evaluation_payload(pushed["project_no"])), 404, "project_no")
    assert Evaluation.objects.count() == 0


def test_public_endpoints_need_no_key(anon_http, db):
    assert anon_http.get("/api/v1/labels").status_code == 200
    assert_problem(anon_http.get("/api/v1/evaluations/receipt/NOSUCHCODE22"), 404, "code")
