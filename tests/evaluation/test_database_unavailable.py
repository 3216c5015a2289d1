"""A submit whose database connection is cut while it runs (a restart, a failover, an operator's
``pg_terminate_backend``): real HTTP against the live server on PostgreSQL. The caller gets 503 problem details with
Retry-After instead of a 500, nothing is written, and the retry with the same idempotency key is stored once."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from haochaping.evaluation import lookups
from haochaping.evaluation.models import Evaluation
from haochaping.rectification.models import RectificationCase
from tests import factories
from tests.records.helpers import EVALUATOR_PHONE, full_evaluation_payload

pytestmark = [pytest.mark.pg_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.fail("needs PostgreSQL (marked pg_only: runs in make test-pg): run with DATABASE_URL=postgres://…")


def _backend_waiting_for_me(cursor) -> int:
    """The live server's connection, once it waits for a lock this connection holds."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # pg_stat_activity is read once per transaction otherwise
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))")
        row = cursor.fetchone()
        if row:
            return row[0]
        time.sleep(0.01)
    raise AssertionError("the request never waited for the held lock")


def test_a_submit_cut_off_from_the_database_answers_503_and_its_retry_is_stored_once(http, org, item, caplog):
    record = factories.make_record(org, item)
    body = full_evaluation_payload(record.project_no)  # a real-name 差评: it opens a case too
    with ThreadPoolExecutor(1) as pool:
        with transaction.atomic(), connection.cursor() as cursor:
            lookups.probe("held", record.project_no, "complete", for_write=True)  # the 办件's lock, as a submit takes it
            sending = pool.submit(http.post, "/api/v1/evaluations", json=body)
            cursor.execute("SELECT pg_terminate_backend(%s)", [_backend_waiting_for_me(cursor)])
        cut = sending.result(timeout=30)

    assert cut.status_code == 503, cut.text
    assert cut.headers["Content-Type"] == "application/problem+json"
    assert cut.headers["Retry-After"] == "5"
    problem = cut.json()
    assert problem["type"] == "about:blank#unavailable" and problem["title"] == "服务暂时不可用"
    assert "重试" in problem["detail"]
    assert Evaluation.objects.count() == 0 and RectificationCase.objects.count() == 0
    assert EVALUATOR_PHONE not in caplog.text and EVALUATOR_PHONE not in cut.text

    retried = http.post("/api/v1/evaluations", json=body)
    assert retried.status_code == 201, retried.text
    again = http.post("/api/v1/evaluations", json=body)
    assert again.status_code == 200 and again.json()["id"] == retried.json()["id"]
    assert Evaluation.objects.count() == 1 and RectificationCase.objects.count() == 1


def test_the_health_endpoint_answers_503_while_the_database_is_out_of_reach(anon_http):
    """A load balancer or monitor reads 503 as "take this node out": not a 500, and the next probe is 200 again."""
    from haochaping.exchange.models import Upstream

    with ThreadPoolExecutor(1) as pool:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(Upstream._meta.db_table)} IN ACCESS EXCLUSIVE MODE")
            checking = pool.submit(anon_http.get, "/api/v1/health")
            cursor.execute("SELECT pg_terminate_backend(%s)", [_backend_waiting_for_me(cursor)])
        cut = checking.result(timeout=30)
    assert cut.status_code == 503, cut.text
    assert cut.json()["type"] == "about:blank#unavailable" and cut.headers["Retry-After"] == "5"
    again = anon_http.get("/api/v1/health")
    assert again.status_code == 200 and again.json()["database"] == "ok"


def test_a_page_cut_off_from_the_database_shows_the_busy_page_with_503(anon_http, org):
    """A citizen's page during a database restart: the site's own 系统繁忙 page in Chinese, status 503 with
    Retry-After (a load balancer retries elsewhere, a monitor counts an outage, not a bug); the next visit works."""
    from haochaping.org.models import Region

    region = org.county
    with ThreadPoolExecutor(1) as pool:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(Region._meta.db_table)} IN ACCESS EXCLUSIVE MODE")
            opening = pool.submit(anon_http.get, f"/public/regions/{region.code}/")
            cursor.execute("SELECT pg_terminate_backend(%s)", [_backend_waiting_for_me(cursor)])
        cut = opening.result(timeout=30)
    assert cut.status_code == 503, cut.text[:300]
    assert cut.headers["Retry-After"] == "5"
    assert cut.headers["Content-Type"].startswith("text/html")
    assert "系统繁忙" in cut.text and "请过几秒钟后再试" in cut.text
    assert "OperationalError" not in cut.text and "SELECT" not in cut.text
    again = anon_http.get(f"/public/regions/{region.code}/")
    assert again.status_code == 200
