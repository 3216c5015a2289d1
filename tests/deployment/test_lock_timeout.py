"""A web request behind a lock that `rebuild_rollups` holds for a whole month (its counter tables, SHARE ROW
EXCLUSIVE) gives up after the web workers' lock timeout (settings.HAOCHAPING_LOCK_TIMEOUT, set by `haochaping serve`
from HAOCHAPING_WEB_LOCK_TIMEOUT): 503 with Retry-After, nothing written, and the node's threads stay free for
everything else. Without it, every submit would wait out the month and the node's 8 threads would fill with them
until gunicorn killed the worker. A real `haochaping serve` process on the test's PostgreSQL database."""

from __future__ import annotations

import time

import pytest
from django.db import connection, transaction

from haochaping.evaluation.models import Evaluation
from haochaping.insight.rollups.pending import PendingCount
from tests import factories
from tests.evaluation import server
from tests.records.helpers import evaluation_payload, record_payload

from .pgreplica import free_port
from .testdb import primary_dsn, same_keys

pytestmark = [pytest.mark.pg_only, pytest.mark.django_db(transaction=True)]

LOCK_TIMEOUT_S = 1


@pytest.fixture
def node(tmp_path):
    if connection.vendor != "postgresql":
        pytest.fail("needs PostgreSQL (marked pg_only: runs in make test-pg): run with DATABASE_URL=postgres://…")
    org = factories.make_org()
    item = factories.make_item(org)
    _key, secret = factories.make_api_key()
    process = server.ServerProcess(tmp_path, free_port(range(19700, 19750)), {"secret": secret, "org": org, "item": item},
                                   extra_env={"DATABASE_URL": primary_dsn(), **same_keys(),
                                              "HAOCHAPING_WEB_LOCK_TIMEOUT": f"{LOCK_TIMEOUT_S}s"})
    server.serve(process)
    try:
        yield process
    finally:
        process.stop()


def test_a_submit_behind_a_rebuilds_lock_answers_503_after_the_lock_timeout_and_the_node_stays_responsive(node):
    record = record_payload(node.seed["org"], node.seed["item"])
    body = evaluation_payload(record["project_no"])
    with node.client() as api:
        assert api.post("/api/v1/records", json=record).status_code == 201
        with transaction.atomic(), connection.cursor() as cursor:
            # What rebuild_rollups takes first, for the whole month it recounts (insight.rollups.rebuilding).
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(PendingCount._meta.db_table)} IN SHARE ROW EXCLUSIVE MODE")
            started = time.monotonic()
            held = api.post("/api/v1/evaluations", json=body)
            waited = time.monotonic() - started
            # Meanwhile the node answers what does not need the lock.
            assert api.get("/api/v1/labels").status_code == 200
        assert held.status_code == 503, held.text
        assert held.headers["Retry-After"] == "5" and held.json()["type"] == "about:blank#unavailable"
        assert LOCK_TIMEOUT_S <= waited < LOCK_TIMEOUT_S + 10, waited
        assert Evaluation.objects.count() == 0
        assert "SQLSTATE 55P03" in node.log()  # lock_not_available: what docs/operations.md tells the operator

        retried = api.post("/api/v1/evaluations", json=body)
        assert retried.status_code == 201, retried.text
    assert Evaluation.objects.count() == 1
