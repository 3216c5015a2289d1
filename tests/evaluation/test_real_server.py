"""Against a real `haochaping serve` process on a file SQLite database (the embedded deployment):
personal data never reaches the database file or the log in clear, and concurrent writers on separate
connections still get one row per idempotency key and one active evaluation per (办件, stage).

(pytest-django's live server shares one connection among its threads when SQLite is in memory, which
is not how SQLite is deployed; test_concurrency.py covers the configured database, e.g. PostgreSQL.)"""

from types import SimpleNamespace

import httpx

from tests.records.helpers import (
    APPLICANT_ID,
    APPLICANT_NAME,
    APPLICANT_PHONE,
    EVALUATOR_NAME,
    EVALUATOR_PHONE,
    evaluation_payload,
    full_evaluation_payload,
    record_payload,
)

from . import server as server_mod
from .concurrent import (
    assert_one_created_rest_conflict,
    assert_one_row_same_id,
    different_key_bodies,
    same_key_bodies,
    simultaneously,
)

SECRETS = {
    "applicant phone": APPLICANT_PHONE,
    "applicant id number": APPLICANT_ID,
    "applicant name": APPLICANT_NAME,
    "evaluator phone": EVALUATOR_PHONE,
    "evaluator name": EVALUATOR_NAME,
}


def payload(seed: dict, **kw) -> dict:
    org = SimpleNamespace(
        county=SimpleNamespace(code=seed["region_code"]),
        department=SimpleNamespace(credit_code=seed["credit_code"]),
        agency=SimpleNamespace(code=seed["agency_code"]),
        window=SimpleNamespace(code=seed["window_code"]),
        staff=SimpleNamespace(staff_no=seed["staff_no"]),
    )
    return record_payload(org, SimpleNamespace(implementation_code=seed["implementation_code"]), **kw)


def push(server) -> str:
    body = payload(server.seed)
    with server.client() as client:
        r = client.post("/api/v1/records", json=body)
    assert r.status_code == 201, r.text
    return body["project_no"]


def test_personal_data_is_not_in_the_database_file_nor_in_the_log(start_sqlite_server):
    server = start_sqlite_server()
    project_no = push(server)
    with server.client() as client:
        r = client.post("/api/v1/evaluations", json=full_evaluation_payload(project_no))
        assert r.status_code == 201, r.text
        # Refused requests carrying the same data must not leak it either.
        assert client.post("/api/v1/evaluations", json=full_evaluation_payload(project_no, level=9)).status_code == 422
        assert client.post("/api/v1/evaluations", json=full_evaluation_payload(project_no, labels=[APPLICANT_PHONE])).status_code == 422
        assert client.post("/api/v1/records", json=payload(server.seed, region_code="37010")).status_code == 422
        # The data did arrive: the server shows it masked.
        shown = client.get(f"/api/v1/records/{project_no}").json()["applicant"]
        assert shown["phone"] == "139****4321"
    with httpx.Client(base_url=server.url) as anon:
        assert anon.post("/api/v1/evaluations", json=full_evaluation_payload(project_no)).status_code == 401
    server.stop()

    files = sorted(server.var_dir.glob("haochaping.sqlite3*"))
    leaks = {(f.name, what) for f in files for what, value in SECRETS.items() if value.encode() in f.read_bytes()}
    server_mod.checkpoint(server.db_path)
    files = sorted(server.var_dir.glob("haochaping.sqlite3*"))
    assert server.db_path in files
    leaks |= {(f.name, what) for f in files for what, value in SECRETS.items() if value.encode() in f.read_bytes()}
    assert leaks == set()

    log = server.log()
    assert "POST /api/v1/evaluations" in log  # the access log was captured
    assert [what for what, value in SECRETS.items() if value in log] == []


def test_simultaneous_retries_with_one_key_write_one_row_on_sqlite(start_sqlite_server):
    server = start_sqlite_server()
    project_no = push(server)
    responses = simultaneously(server.client, same_key_bodies(project_no, n=4))
    evaluation_id = assert_one_row_same_id(responses)
    with server.client() as client:
        receipt = client.get(f"/api/v1/evaluations/receipt/{responses[0].json()['receipt_code']}")
    assert receipt.status_code == 200
    assert evaluation_id == responses[0].json()["id"]


def test_simultaneous_active_evaluations_of_one_stage_one_wins_on_sqlite(start_sqlite_server):
    server = start_sqlite_server()
    project_no = push(server)
    assert_one_created_rest_conflict(simultaneously(server.client, different_key_bodies(project_no, n=3)))
    followup = evaluation_payload(project_no, type="followup", level=3, labels=[], comment="补充")
    with server.client() as client:
        assert client.post("/api/v1/evaluations", json=followup).status_code == 201


def test_overlong_query_strings_get_a_problem_document_from_the_application_and_from_gunicorn(start_sqlite_server):
    server = start_sqlite_server()
    with server.client() as client:
        for length in (6_000, 12_000):  # past the application's limit; past gunicorn's request-line limit
            r = client.get("/api/v1/records", params={"cursor": "x" * length})
            assert r.status_code == 414, (length, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["status"] == 414 and r.json()["field"] == "query" and "过长" in r.json()["detail"]
        assert client.get("/api/v1/labels").status_code == 200  # the worker serves on
