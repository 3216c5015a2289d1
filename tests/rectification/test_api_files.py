"""Evidence files downloaded over the real API: the 整改佐证 and the 申诉证据 come back byte for byte as downloads,
to those who may read the case and to nobody else (out of scope reads like missing)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest

from haochaping.accounts.models import Role, Scope, User
from haochaping.rectification.models import CaseAttachment
from tests import factories

from .api_helpers import PDF, callback_body, keyed, open_case, person, problem

pytestmark = pytest.mark.django_db(transaction=True)



@pytest.fixture
def rectified(record, live_server, people):
    """A case under 限期整改 completed with one evidence file, through the API."""
    case = open_case(record)
    with person(live_server, people["handler"]) as http:
        assert http.post(f"/api/v1/cases/{case.pk}/callback", json=callback_body()).status_code == 200
        r = http.post(f"/api/v1/cases/{case.pk}/outcome", json={
            "outcome": "deadline", "problem": "材料清单不统一", "measures": "统一并公示材料清单",
            "responsible_person": "王科长", "deadline": case.rectify_due.isoformat()})
        assert r.status_code == 200, r.text
        r = http.post(f"/api/v1/cases/{case.pk}/complete", data={"evidence": "新清单已公示"},
                      files=[("files", ("公示照片.pdf", PDF, "application/pdf"))])
        assert r.status_code == 200, r.text
    return case, r.json()["attachments"][0]


def assert_download(r, name: str, content: bytes) -> None:
    assert r.status_code == 200, r.text
    assert r.content == content
    assert r.headers["content-type"] == "application/pdf"
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "filename*=utf-8''" in disposition.lower()
    assert name.encode("utf-8") in unquote_to_bytes(disposition)
    assert r.headers["cache-control"] == "private, no-store"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_the_handler_and_the_supervisor_download_the_evidence_from_the_url_in_the_case(live_server, rectified, people):
    case, attachment = rectified
    assert attachment["url"] == f"/api/v1/cases/{case.pk}/files/{attachment['id']}"
    for who in ("handler", "supervisor"):
        with person(live_server, people[who], csrf=False) as http:  # a read needs no CSRF token
            assert_download(http.get(attachment["url"]), "公示照片.pdf", PDF)


def test_out_of_scope_reads_like_missing_and_keys_need_cases_read(live_server, rectified, people, org, anon_http):
    case, attachment = rectified
    for who in ("other_handler", "far_supervisor"):
        with person(live_server, people[who]) as http:
            problem(http.get(attachment["url"]), 404, "case_id")
    with keyed(live_server, [Scope.CASES_READ], region=org.county) as http:
        assert_download(http.get(attachment["url"]), "公示照片.pdf", PDF)
        problem(http.get(f"/api/v1/cases/{case.pk}/files/99999999"), 404, "file_id")
    with keyed(live_server, [Scope.CASES_READ], region=org.other_county) as http:
        problem(http.get(attachment["url"]), 404, "case_id")
    with keyed(live_server, [Scope.RECORDS_READ]) as http:
        problem(http.get(attachment["url"]), 403)
    assert anon_http.get(attachment["url"]).status_code == 401


def test_a_file_of_another_case_is_not_reached_through_this_case(live_server, rectified, people, org, item):
    case, attachment = rectified
    other = open_case(factories.make_record(org, item))
    with person(live_server, people["supervisor"]) as http:
        problem(http.get(f"/api/v1/cases/{other.pk}/files/{attachment['id']}"), 404, "file_id")


def test_a_stored_file_that_has_gone_is_a_404_naming_the_file(live_server, rectified, people, settings):
    case, attachment = rectified
    Path(settings.MEDIA_ROOT, CaseAttachment.objects.get(pk=attachment["id"]).file.name).unlink()
    with person(live_server, people["supervisor"]) as http:
        body = problem(http.get(attachment["url"]), 404, "file_id")
    assert "公示照片" not in body["detail"]


def test_the_appeal_evidence_downloads_through_its_case(live_server, record, people, org):
    case = open_case(record)
    rated = User.objects.create(username="staff-rated", role=Role.STAFF, region=org.county, staff=org.staff)
    with person(live_server, rated) as http:
        r = http.post("/api/v1/appeals", data={"case_id": str(case.pk), "explanation": "评价人所述材料要求系法定要求"},
                      files=[("files", ("法规依据.pdf", PDF, "application/pdf"))])
    assert r.status_code == 201, r.text
    url = r.json()["attachments"][0]["url"]
    with person(live_server, people["supervisor"]) as http:
        assert_download(http.get(url), "法规依据.pdf", PDF)
        detail = http.get(f"/api/v1/cases/{case.pk}").json()
        assert [a["url"] for a in detail["attachments"]] == [url]
