"""Input no view could handle is refused before any view runs (haochaping.core.middleware), over real HTTP:
NUL characters anywhere, bodies over the limit, overlong query strings, and every error under /api/ is an
RFC 9457 problem document. Nothing is written, and the submitted value is never echoed."""

from __future__ import annotations

import re

import pytest

from haochaping.evaluation.models import Evaluation
from haochaping.records.models import ServiceRecord
from tests import factories
from tests.records.helpers import evaluation_payload, record_payload

pytestmark = pytest.mark.django_db(transaction=True)

SECRET_TEXT = "可识别的提交内容"


def problem(r, status: int, field: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers["content-type"]
    body = r.json()
    assert body["status"] == status and re.search(r"[\u4e00-\u9fff]", body["title"] + body.get("detail", ""))
    assert SECRET_TEXT not in r.text and "Traceback" not in r.text
    if field is not None:
        assert body["field"] == field, body
    return body


@pytest.fixture
def completed(org, item):
    return factories.make_record(org, item)


def test_a_nul_in_any_query_parameter_is_refused_naming_it(http):
    body = problem(http.get("/api/v1/records", params={"window": "a\x00b"}), 422, "window")
    assert body["errors"] == [{"field": "window", "message": "不能包含空字符（NUL）"}]
    problem(http.get("/api/v1/stats/rankings", params={"by": "department", "department": "\x00"}), 422, "department")
    # Also a parameter no operation declares: nothing below the guard ever sees it.
    problem(http.get("/api/v1/labels?whatever=%00"), 422, "whatever")


def test_a_nul_anywhere_in_a_json_body_is_refused_naming_the_field_and_nothing_is_written(http, org, item, completed):
    push = record_payload(org, item)
    push["applicant"]["name"] = SECRET_TEXT + "\x00"
    problem(http.post("/api/v1/records", json=push), 422, "applicant.name")
    assert not ServiceRecord.objects.filter(project_no=push["project_no"]).exists()

    rate = evaluation_payload(completed.project_no, level=1, labels=[], comment=SECRET_TEXT + "\x00")
    problem(http.post("/api/v1/evaluations", json=rate), 422, "comment")
    rate = evaluation_payload(completed.project_no, labels=["510", "5\x0010"])
    problem(http.post("/api/v1/evaluations", json=rate), 422, "labels.1")
    assert not Evaluation.objects.exists()


def test_a_nul_in_a_page_form_or_query_is_a_chinese_error_page_and_nothing_is_written(live_server, completed):
    import httpx

    with httpx.Client(base_url=live_server.url, timeout=30) as browser:
        r = browser.get("/e/", params={"project_no": "a\x00b"})
        assert r.status_code == 422 and "project_no：不能包含空字符" in r.text and "<html" in r.text
        # A form post is refused the same way, whatever the form (the CSRF check comes after the guard).
        r = browser.post("/i/sometoken/", data={"level": "1", "comment": SECRET_TEXT + "\x00"})
        assert r.status_code == 422 and "comment：不能包含空字符" in r.text and SECRET_TEXT not in r.text
    assert not Evaluation.objects.exists()


@pytest.mark.parametrize("megabytes", [3, 5])
def test_a_body_over_the_upload_limit_is_413_with_problem_details(http, completed, megabytes):
    rate = evaluation_payload(completed.project_no, level=1, labels=[], comment="长" * (megabytes * 1024 * 1024 // 3))
    body = problem(http.post("/api/v1/evaluations", json=rate), 413, "body")
    assert "过大" in body["title"]
    assert not Evaluation.objects.exists()


def test_an_overlong_query_string_is_414_with_problem_details(http):
    problem(http.get("/api/v1/records", params={"cursor": "x" * 5000}), 414, "query")


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/api/v1/no-such-thing", 404),
    ("GET", "/api/v1/evaluations/-1", 404),
    ("GET", "/api/v1/evaluations/abc", 404),
    ("GET", "/api/v2/records", 404),
    ("DELETE", "/api/v1/records", 405),
    ("PUT", "/api/v1/labels", 405),
])
def test_every_error_under_api_is_a_problem_document(http, method, path, status):
    r = http.request(method, path)
    problem(r, status)
    if status == 405:
        assert r.headers["Allow"]


def test_a_body_that_is_not_json_is_415(http, org, item):
    push = record_payload(org, item)
    problem(http.post("/api/v1/records", content=str(push), headers={"Content-Type": "text/plain"}), 415, "Content-Type")
    problem(http.post("/api/v1/records", data={"project_no": "P1"}), 415, "Content-Type")
    # The cases API reads its body itself (JSON or multipart with files): the same answer.
    problem(http.post("/api/v1/cases", content=b"summary=x", headers={"Content-Type": "text/plain"}), 415, "Content-Type")
    assert not ServiceRecord.objects.exists()


@pytest.mark.parametrize("body", [[1, 2], "x", 3, None])
def test_patching_a_record_with_a_body_that_is_not_an_object_is_422(http, completed, body):
    problem(http.patch(f"/api/v1/records/{completed.project_no}", json=body), 422, "body")


@pytest.mark.parametrize(("where", "field"), [
    (lambda b: b.update(colour="red"), "colour"),
    (lambda b: b["applicant"].update(nickname="小欧"), "applicant.nickname"),
])
def test_unknown_fields_in_a_push_are_refused_naming_them(http, org, item, where, field):
    push = record_payload(org, item)
    where(push)
    problem(http.post("/api/v1/records", json=push), 422, field)
    assert not ServiceRecord.objects.exists()


def test_unknown_fields_in_an_evaluation_are_refused_naming_them(http, completed):
    rate = evaluation_payload(completed.project_no, evaluator={"name": "司马", "phone": "", "email": "a@b.c"})
    problem(http.post("/api/v1/evaluations", json=rate), 422, "evaluator.email")
    problem(http.post("/api/v1/evaluations", json={**evaluation_payload(completed.project_no), "star": 5}), 422, "star")
    assert not Evaluation.objects.exists()


def test_times_outside_the_plausible_range_are_refused_naming_the_field(http, org, item, completed):
    push = record_payload(org, item, accepted_at=None)
    push["accepted_at"] = "0832-09-08T22:43:04+08:00"
    body = problem(http.post("/api/v1/records", json=push), 422, "accepted_at")
    assert "合理范围" in body["detail"]
    r = http.patch(f"/api/v1/records/{completed.project_no}", json={"completed_at": "2150-01-01T00:00:00+08:00"})
    problem(r, 422, "completed_at")
    problem(http.get("/api/v1/stats", params={"from": "0832-09-08"}), 422, "from")
    assert not ServiceRecord.objects.filter(project_no=push["project_no"]).exists()


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def test_times_come_back_in_rfc_3339_with_the_local_offset(http, org, item):
    push = record_payload(org, item)
    push["accepted_at"], push["completed_at"] = "2026-11-30T06:30:00+05:30", "2026-11-30T02:00:00Z"
    r = http.post("/api/v1/records", json=push)
    assert r.status_code == 201, r.text
    assert (r.json()["accepted_at"], r.json()["completed_at"]) == ("2026-11-30T09:00:00+08:00", "2026-11-30T10:00:00+08:00")
    for moment in (r.json()["accepted_at"], r.json()["completed_at"]):
        assert RFC3339.match(moment)
