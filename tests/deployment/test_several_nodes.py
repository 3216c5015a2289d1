"""Several nodes (issue 14, item 6), with real processes: two ``haochaping serve`` processes on different loopback
ports, one database (a SQLite file both open, as two web nodes share one PostgreSQL server) and one Redis
(``CACHE_URL``, a private ``redis-server`` the test starts: tests/deployment/redisserver.py).

"Behind one address" is played by the client: one cookie jar, requests alternating between the two ports, as a
round-robin load balancer without sticky sessions sends them. Then two ``haochaping worker`` processes started for
the same period enqueue and run each periodic task once."""

from __future__ import annotations

import itertools
import json
import shutil
import sqlite3
import subprocess
import sys

import httpx
import pytest

from tests.accounts.login_support import PASSWORD
from tests.evaluation import server

from . import redisserver
from .login import csrf, login
from .pgreplica import free_port

FAILURE_LIMIT = 4
RATE_LIMIT = 6

SEED = """
import json, django
django.setup()
from haochaping.accounts.roles import Role
from haochaping.accounts.services import create_api_key
from haochaping.accounts.models import Scope
from tests import factories
from tests.accounts.login_support import make_user, enrol
org = factories.make_org()
_key, secret = create_api_key(name="测试平台", scopes=list(Scope.values), rate_limit_per_minute=RATE_LIMIT)
totp = enrol(make_user("jiandu", Role.SUPERVISOR, org))
make_user("jiandu-2", Role.SUPERVISOR, org)
print(json.dumps({"secret": secret, "totp": totp}))
""".replace("RATE_LIMIT", str(RATE_LIMIT))


@pytest.fixture(scope="module")
def redis_server():
    srv = redisserver.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return server.migrate(tmp_path_factory.mktemp("nodes-template"))


@pytest.fixture
def shared(tmp_path, template, redis_server):
    """The database file both nodes use, seeded; the environment every process of the deployment gets."""
    db = tmp_path / "shared.sqlite3"
    shutil.copyfile(template, db)
    redis_server.client().flushdb()
    env = {"DATABASE_URL": f"sqlite:///{db}", "CACHE_URL": redis_server.url(6),
           "HAOCHAPING_LOGIN_FAILURE_LIMIT": str(FAILURE_LIMIT)}
    out = subprocess.run([sys.executable, "-c", SEED], env=server.environment(tmp_path, env), cwd=server.ROOT,
                         check=True, timeout=120, capture_output=True, text=True)
    return db, env, json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def nodes(tmp_path, shared):
    db, env, seed = shared
    started = []
    try:
        for name in ("a", "b"):
            var = tmp_path / name
            var.mkdir()
            started.append(server.serve(server.ServerProcess(var, free_port(range(19660, 19700)), seed, extra_env=env)))
        yield started
    finally:
        for node in started:
            node.stop()


def test_a_session_opened_on_one_node_is_used_on_the_other(nodes, redis_server):
    a, b = nodes
    with httpx.Client(timeout=30) as browser:
        # Password on A, the TOTP step on B: even the half-finished login travels.
        r = login(browser, a.url, "jiandu", PASSWORD, a.seed["totp"], otp_base=b.url)
        assert r.headers["location"] != "/accounts/login/"
        for node in (a, b, a, b):
            r = browser.get(f"{node.url}/insight/")
            assert r.status_code == 200, (node.port, r.status_code, r.headers.get("location"))
        # The session lives in the shared cache (and in the database behind it).
        assert any(b"sessions.cached_db" in key for key in redis_server.client().keys("*"))
        # Signing out on B ends the session on A too.
        r = browser.post(f"{b.url}/accounts/logout/", data={"csrfmiddlewaretoken": csrf(browser, f"{b.url}/insight/")})
        assert r.status_code in (200, 302)
        r = browser.get(f"{a.url}/insight/")
        assert r.status_code == 302 and "/accounts/login/" in r.headers["location"]


def test_a_rate_limit_counts_requests_on_both_nodes(nodes):
    a, b = nodes
    statuses = []
    with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {a.seed['secret']}"}) as api:
        for node in itertools.islice(itertools.cycle((a, b)), 2 * RATE_LIMIT):
            statuses.append(api.get(f"{node.url}/api/v1/records/P-unknown").status_code)
    # Each node alone has seen RATE_LIMIT requests, within its own limit; together they exceed it.
    assert statuses[:RATE_LIMIT] == [404] * RATE_LIMIT
    assert statuses[RATE_LIMIT:] == [429] * RATE_LIMIT


def test_failed_logins_on_both_nodes_lock_the_account(nodes):
    a, b = nodes
    with httpx.Client(timeout=30) as browser:
        for node in itertools.islice(itertools.cycle((a, b)), FAILURE_LIMIT - 1):
            token = csrf(browser, f"{node.url}/accounts/login/")
            r = browser.post(f"{node.url}/accounts/login/", data={
                "username": "jiandu-2", "password": "wrong-password-1", "csrfmiddlewaretoken": token})
            assert r.status_code == 200 and "用户名或密码不正确" in r.text
        # The last failure allowed, on B; then the right password is refused on either node.
        token = csrf(browser, f"{b.url}/accounts/login/")
        r = browser.post(f"{b.url}/accounts/login/", data={
            "username": "jiandu-2", "password": "wrong-password-1", "csrfmiddlewaretoken": token})
        assert r.status_code == 429, r.status_code
        for node in (a, b):
            token = csrf(browser, f"{node.url}/accounts/login/")
            r = browser.post(f"{node.url}/accounts/login/", data={
                "username": "jiandu-2", "password": PASSWORD, "csrfmiddlewaretoken": token})
            assert r.status_code == 429, (node.port, r.status_code)


def test_two_workers_started_for_the_same_period_run_each_periodic_task_once(tmp_path, shared):
    db, env, _seed = shared
    workers = [
        subprocess.Popen([server.BIN / "haochaping", "worker", "--batch"], cwd=server.ROOT,
                         env=server.environment(tmp_path, env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(2)
    ]
    try:
        logs = [w.communicate(timeout=300)[0].decode(errors="replace") for w in workers]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()
    assert [w.returncode for w in workers] == [0, 0], logs
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        names = [n for (n,) in conn.execute("SELECT name FROM core_scheduledrun")]
        results = conn.execute(
            "SELECT task_path, count(*), sum(json_array_length(worker_ids)), group_concat(status)"
            " FROM django_tasks_database_dbtaskresult GROUP BY task_path").fetchall()
    finally:
        conn.close()
    assert names, "no periodic task registered"
    # Every periodic task: enqueued once for this period, run once (by one worker), finished.
    assert sorted(r[0] for r in results) == sorted(names)
    for task_path, enqueued, runs, statuses in results:
        assert (enqueued, runs) == (1, 1), (task_path, enqueued, runs)
        assert statuses in ("SUCCESSFUL", "FAILED"), (task_path, statuses)
