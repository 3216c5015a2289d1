"""Read replicas (issue 14, item 5) against a real streaming replica: a second PostgreSQL cluster made with
``pg_basebackup -R`` from the test server (tests/deployment/pgreplica.py), and a real ``haochaping serve`` process
with ``DATABASE_URL`` on the primary and ``DATABASE_REPLICA_URL`` on the replica.

What a user sees: the dashboard's evaluation list is read from the replica — while the replica's replay is paused it
shows the replica's state, not an evaluation the API has just written to the primary; the user who just wrote
something sees the primary for a few seconds; writes (API, forms) go to the primary; a replica that is down is
replaced by the primary without an error, and the health endpoint says so and shows the lag."""

from __future__ import annotations

import re
import time

import httpx
import psycopg
import pytest
from django.db import connection

from haochaping.accounts.roles import Role
from haochaping.core import schedule
from tests import factories
from tests.accounts.login_support import PASSWORD, enrol, make_user
from tests.evaluation import server
from tests.records.helpers import evaluation_payload, record_payload

from . import pgreplica
from .login import login
from .testdb import primary_dsn, same_keys

pytestmark = [pytest.mark.pg_only, pytest.mark.django_db(transaction=True)]

STICKY_SECONDS = 3
EVALUATIONS = "/insight/evaluations/"
READ_FROM = "X-Haochaping-Read-From"


@pytest.fixture(scope="module")
def streaming_replica(django_db_setup, django_db_blocker):
    """One base backup per module (it copies the whole test cluster): the tests share the replica."""
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.fail("needs PostgreSQL (marked pg_only: runs in make test-pg): run with DATABASE_URL=postgres://…")
        dsn = primary_dsn("postgres")
    replica = pgreplica.start(dsn)
    try:
        yield replica
    finally:
        replica.destroy()


@pytest.fixture
def deployment(tmp_path, streaming_replica):
    replica = streaming_replica
    if not replica.running():
        replica.start()
    org = factories.make_org()
    item = factories.make_item(org)
    _key, secret = factories.make_api_key()
    user = make_user("jiandu-fuben", Role.SUPERVISOR, org)
    totp = enrol(user)
    dbname = connection.settings_dict["NAME"]
    node = None
    try:
        seed = {"secret": secret, "org": org, "item": item, "username": user.username, "totp": totp}
        node = server.ServerProcess(tmp_path, pgreplica.free_port(range(19650, 19700)), seed, extra_env={
            "DATABASE_URL": primary_dsn(), "DATABASE_REPLICA_URL": replica.dsn(dbname),
            "HAOCHAPING_REPLICA_STICKY_SECONDS": str(STICKY_SECONDS), "HAOCHAPING_REPLICA_RETRY_SECONDS": "1",
            **same_keys(),
        })
        server.serve(node)
        yield node, replica, dbname
    finally:
        if node is not None:
            node.stop()
        if replica.running():
            with replica.connect("postgres") as conn:  # a test that failed while replay was paused
                if conn.execute("SELECT pg_is_wal_replay_paused()").fetchone()[0]:
                    conn.execute("SELECT pg_wal_replay_resume()")


def submit(node) -> str:
    """A 办件 and its evaluation through the API (a service write: always the primary); the 办件's number."""
    org, item = node.seed["org"], node.seed["item"]
    body = record_payload(org, item)
    with node.client() as api:
        r = api.post("/api/v1/records", json=body)
        assert r.status_code == 201, r.text
        r = api.post("/api/v1/evaluations", json=evaluation_payload(body["project_no"]))
        assert r.status_code == 201, r.text
    return body["project_no"]


def counted_by_the_worker() -> None:
    """What every running worker does every few seconds (core.schedule.frequent): count the submits whose counting
    is pending (insight.rollups.pending) into the counters, on the primary, whence they replicate."""
    schedule.run_frequent()


def listed(browser: httpx.Client, node) -> tuple[int, str]:
    """The evaluation list's "共 N 条" and where the page was read from."""
    r = browser.get(f"{node.url}{EVALUATIONS}")
    assert r.status_code == 200, r.text[:500]
    found = re.search(r"共 (\d+) 条", r.text)
    assert found, r.text[:2000]
    return int(found.group(1)), r.headers[READ_FROM]


def evaluations_on(dsn: str) -> int:
    with psycopg.connect(dsn.replace("postgres://", "postgresql://")) as conn:
        return conn.execute("SELECT count(*) FROM evaluation_evaluation").fetchone()[0]


def health(node) -> dict:
    r = httpx.get(f"{node.url}/api/v1/health", timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def test_dashboard_reads_the_replica_and_shows_its_state_while_it_lags(deployment):
    node, replica, dbname = deployment
    submit(node)
    replica.wait_until_replayed(primary_dsn(), dbname)
    with httpx.Client(timeout=30) as browser:
        login(browser, node.url, node.seed["username"], PASSWORD, node.seed["totp"])
        assert browser.cookies.get("hcp_primary") == "1"  # signing in wrote: the primary for a few seconds
        assert listed(browser, node) == (1, "primary")
        time.sleep(STICKY_SECONDS + 0.5)  # the cookie's max-age: the browser forgets it
        assert listed(browser, node) == (1, "replica")

        with replica.connect(dbname) as conn:
            conn.execute("SELECT pg_wal_replay_pause()")
            while conn.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0] != "paused":
                time.sleep(0.05)
        submit(node)  # the API writes to the primary although the replica stands still
        assert evaluations_on(primary_dsn()) == 2
        assert evaluations_on(replica.dsn(dbname)) == 1
        # The page shows the replica's state: one evaluation, not the two the primary holds.
        assert listed(browser, node) == (1, "replica")
        state = health(node)
        assert state["replica"]["status"] == "ok" and state["replica"]["reads"] == "replica"
        assert state["replica"]["replay_paused"] is True and state["replica"]["in_recovery"] is True
        assert state["replica"]["lag_bytes"] > 0 and state["replica"]["lag_seconds"] >= 0

        # Whoever writes through a page (any POST) reads the primary for the next seconds: they see the newest.
        r = browser.post(f"{node.url}/text-size/", data={"large": "0", "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
                         headers={"Referer": f"{node.url}{EVALUATIONS}"})
        assert r.status_code == 302, r.text[:500]
        assert listed(browser, node) == (2, "primary")
        # Another browser, which wrote nothing, still sees the replica's state.
        with httpx.Client(timeout=30) as colleague:
            login(colleague, node.url, node.seed["username"], PASSWORD, node.seed["totp"], steps=1)
            time.sleep(STICKY_SECONDS + 0.5)
            assert listed(colleague, node) == (1, "replica")

            with replica.connect(dbname) as conn:
                conn.execute("SELECT pg_wal_replay_resume()")
            replica.wait_until_replayed(primary_dsn(), dbname)
            assert listed(colleague, node) == (2, "replica")
        # (Its lag in bytes or seconds is the whole cluster's: other databases on the test server write too.)
        assert health(node)["replica"]["replay_paused"] is False


def test_a_replica_that_is_down_is_replaced_by_the_primary_and_health_says_so(deployment):
    node, replica, dbname = deployment
    submit(node)
    counted_by_the_worker()  # no page has read the figures on the primary yet
    replica.wait_until_replayed(primary_dsn(), dbname)
    with httpx.Client(timeout=30) as browser:
        login(browser, node.url, node.seed["username"], PASSWORD, node.seed["totp"])
        time.sleep(STICKY_SECONDS + 0.5)
        assert listed(browser, node) == (1, "replica")
        state = health(node)
        assert state["replica"]["status"] == "ok" and state["replica"]["reads"] == "replica"

        replica.stop()
        # The same page, answered by the primary: no error, the current figures.
        submit(node)
        assert listed(browser, node) == (2, "primary")
        state = health(node)
        assert state["status"] == "degraded"
        assert state["replica"] == {"status": "down", "reads": "primary", "lag_seconds": None, "lag_bytes": None,
                                    "replay_paused": False, "in_recovery": None}
        assert any("只读副本不可用" in p for p in state["problems"])
        # The public portal too (no login).
        r = httpx.get(f"{node.url}/public/", timeout=30, follow_redirects=True)
        assert r.status_code == 200 and r.headers[READ_FROM] == "primary"

        replica.start()
        replica.wait_until_replayed(primary_dsn(), dbname)
        time.sleep(1.1)  # HAOCHAPING_REPLICA_RETRY_SECONDS
        assert health(node)["replica"]["status"] == "ok"
        assert listed(browser, node) == (2, "replica")
