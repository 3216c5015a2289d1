"""Fire the same moment's requests from several threads, over real HTTP."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.records.helpers import evaluation_payload


def simultaneously(make_client, bodies: list[dict]) -> list[httpx.Response]:
    """POST each body to /api/v1/evaluations from its own thread and connection, released together."""
    barrier = threading.Barrier(len(bodies))

    def send(body):
        with make_client() as client:
            client.get("/api/v1/levels")  # open the connection before the race starts
            barrier.wait(timeout=30)
            return client.post("/api/v1/evaluations", json=body)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(send, bodies))


def same_key_bodies(project_no: str, n: int = 4) -> list[dict]:
    body = evaluation_payload(project_no, level=1, labels=["110"], idempotency_key=uuid.uuid4().hex)
    return [dict(body) for _ in range(n)]


def different_key_bodies(project_no: str, n: int = 2) -> list[dict]:
    return [evaluation_payload(project_no, level=4, labels=[]) for _ in range(n)]


def assert_one_row_same_id(responses: list[httpx.Response]) -> int:
    assert all(r.status_code in (200, 201) for r in responses), [(r.status_code, r.text) for r in responses]
    assert sorted(r.status_code for r in responses)[-1] == 201
    assert [r.status_code for r in responses].count(201) == 1
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 1
    assert len({r.json()["receipt_code"] for r in responses}) == 1
    return ids.pop()


def assert_one_created_rest_conflict(responses: list[httpx.Response]) -> None:
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * (len(responses) - 1), [(r.status_code, r.text) for r in responses]
    for r in responses:
        if r.status_code == 409:
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["field"] == "type"
