"""POST/PATCH/GET /api/v1/records over real HTTP (R2.4, R6.2)."""

from datetime import datetime, timedelta

import httpx
import pytest

from haochaping.accounts.models import Scope
from haochaping.core.models import AuditEntry
from haochaping.records.models import ServiceRecord
from tests import factories
from tests.factories import SHANGHAI

from .helpers import APPLICANT_ID, APPLICANT_NAME, APPLICANT_PHONE, assert_problem, iso, record_payload

pytestmark = pytest.mark.django_db(transaction=True)


def test_push_creates_the_record_with_masked_applicant_and_its_stages(http, org, item):
    body = record_payload(org, item)
    r = http.post("/api/v1/records", json=body)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["project_no"] == body["project_no"]
    assert out["stages"] == ["accept", "complete"]
    assert out["status_name"] == "已办结"
    assert out["applicant"] == {"type": 1, "type_name": "自然人", "name": "欧**娜", "phone": "139****4321"}
    assert APPLICANT_PHONE not in r.text and APPLICANT_ID not in r.text and APPLICANT_NAME not in r.text
    row = ServiceRecord.objects.get(project_no=body["project_no"])
    assert row.applicant_phone.reveal() == APPLICANT_PHONE
    assert row.applicant_id_number.reveal() == APPLICANT_ID
    assert row.source.startswith("apikey:")


def test_record_in_progress_has_only_the_accept_stage(http, org, item):
    r = http.post("/api/v1/records", json=record_payload(org, item, completed=False))
    assert r.status_code == 201, r.text
    assert r.json()["stages"] == ["accept"]


def test_repush_of_the_same_record_is_idempotent(http, org, item):
    body = record_payload(org, item)
    first = http.post("/api/v1/records", json=body)
    again = http.post("/api/v1/records", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert ServiceRecord.objects.count() == 1


def test_repush_with_the_same_instant_in_another_offset_is_the_same_record(http, org, item):
    # A platform that retries through a different gateway may send UTC instead of +08:00.
    body = record_payload(org, item, accepted_at=datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI))
    assert http.post("/api/v1/records", json=body).status_code == 201
    in_utc = dict(body, accepted_at="2026-11-20T01:00:00Z", completed_at="2026-11-20T02:00:00+00:00")
    r = http.post("/api/v1/records", json=in_utc)
    assert r.status_code == 200, r.text
    assert ServiceRecord.objects.count() == 1


def test_repush_with_different_content_is_a_conflict_pointing_to_patch(http, org, item):
    body = record_payload(org, item, completed=False)
    assert http.post("/api/v1/records", json=body).status_code == 201
    changed = dict(body, promised_days=10)
    problem = assert_problem(http.post("/api/v1/records", json=changed), 409, "project_no")
    assert "PATCH" in problem["detail"]
    assert ServiceRecord.objects.get().promised_days == 5


def test_status_change_by_patch_completes_the_record_and_audits_it(http, org, item):
    body = record_payload(org, item, completed=False)
    assert http.post("/api/v1/records", json=body).status_code == 201
    completed_at = iso(datetime.fromisoformat(body["accepted_at"]) + timedelta(hours=3))
    r = http.patch(f"/api/v1/records/{body['project_no']}", json={"status": 3, "completed_at": completed_at})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == 3
    assert r.json()["stages"] == ["accept", "complete"]
    audit = AuditEntry.objects.get(action="record.update", object_id=body["project_no"])
    assert audit.data["status"] == {"from": "2", "to": "3"}
    # The original push retried after the change still answers with the record as it is now.
    again = http.post("/api/v1/records", json=body)
    assert again.status_code == 200 and again.json()["status"] == 3


def test_patch_backwards_is_a_conflict_and_changes_nothing(http, org, item):
    body = record_payload(org, item)
    assert http.post("/api/v1/records", json=body).status_code == 201
    assert_problem(http.patch(f"/api/v1/records/{body['project_no']}", json={"status": 2}), 409, "status")
    assert ServiceRecord.objects.get().status == 3
    assert not AuditEntry.objects.filter(action="record.update").exists()


def test_patch_completion_without_completion_time_names_the_field(http, org, item):
    body = record_payload(org, item, completed=False)
    assert http.post("/api/v1/records", json=body).status_code == 201
    assert_problem(http.patch(f"/api/v1/records/{body['project_no']}", json={"status": 3}), 422, "completed_at")
    assert ServiceRecord.objects.get().status == 2


@pytest.mark.parametrize("field", ["status", "promised_days", "overdue_explanation"])
def test_patch_with_null_for_a_required_field_is_refused_not_a_crash(http, org, item, field):
    body = record_payload(org, item, completed=False)
    assert http.post("/api/v1/records", json=body).status_code == 201
    assert_problem(http.patch(f"/api/v1/records/{body['project_no']}", json={field: None}), 422, field)
    row = ServiceRecord.objects.get()
    assert (row.status, row.promised_days, row.overdue_explanation) == (2, 5, "")


def test_patch_of_an_unknown_record_is_404(http, db):
    assert_problem(http.patch("/api/v1/records/NO-SUCH-RECORD", json={"status": 3}), 404)


def test_get_returns_the_record_and_unknown_is_404(http, org, item):
    body = record_payload(org, item)
    http.post("/api/v1/records", json=body)
    r = http.get(f"/api/v1/records/{body['project_no']}")
    assert r.status_code == 200 and r.json()["project_no"] == body["project_no"]
    assert_problem(http.get("/api/v1/records/NO-SUCH-RECORD"), 404, "project_no")


def test_promised_record_accepted_on_a_friday_is_due_the_next_friday(http, org, item):
    friday = datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI)
    on_time = record_payload(org, item, accepted_at=friday, completed_at=iso(datetime(2026, 11, 27, 17, 0, tzinfo=SHANGHAI)))
    late = record_payload(org, item, accepted_at=friday, completed_at=iso(datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)))
    r1, r2 = http.post("/api/v1/records", json=on_time), http.post("/api/v1/records", json=late)
    assert r1.json()["due_date"] == r2.json()["due_date"] == "2026-11-27"
    assert (r1.json()["is_overdue"], r2.json()["is_overdue"]) == (False, True)


def test_immediate_record_is_due_the_same_day(http, org, item):
    body = record_payload(org, item, record_type="immediate", promised_days=0,
                          accepted_at=datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI))
    r = http.post("/api/v1/records", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["due_date"] == "2026-11-20"


def test_open_record_past_its_due_date_is_overdue(http, org, item):
    long_ago = datetime.now(SHANGHAI) - timedelta(days=60)
    r = http.post("/api/v1/records", json=record_payload(org, item, accepted_at=long_ago, completed=False))
    assert r.status_code == 201 and r.json()["is_overdue"] is True


def test_region_scoped_key_cannot_see_or_claim_records_of_another_region(live_server, http, org, item):
    body = record_payload(org, item)
    assert http.post("/api/v1/records", json=body).status_code == 201
    _key, secret = factories.make_api_key(region=org.other_county)
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}) as other:
        assert_problem(other.get(f"/api/v1/records/{body['project_no']}"), 404)
        assert_problem(other.patch(f"/api/v1/records/{body['project_no']}", json={"overdue_explanation": "x"}), 404)
        # Re-pushing the other region's record must not hand its (masked) applicant data back.
        r = other.post("/api/v1/records", json=body)
        assert r.status_code in (403, 409), r.text
        assert "applicant" not in r.json()
        assert_problem(other.post("/api/v1/records", json=record_payload(org, item)), 403, "region_code")
    assert ServiceRecord.objects.count() == 1


def test_read_only_key_cannot_push(live_server, db, org, item):
    _key, secret = factories.make_api_key(scopes=[Scope.RECORDS_READ])
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}) as client:
        assert_problem(client.post("/api/v1/records", json=record_payload(org, item)), 403, "Authorization")
    assert ServiceRecord.objects.count() == 0
