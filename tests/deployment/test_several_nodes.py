"""Several nodes (issue 14, item 6), with real processes: two ``haochaping serve`` processes on different loopback
ports, one database (a SQLite file both open, as two web nodes share one PostgreSQL server), one Redis
(``CACHE_URL``, a private ``redis-server`` the test starts: tests/deployment/redisserver.py), and in front of them
one address: a real nginx balancing round-robin without session affinity (tests/deployment/balancer.py).

The tests talk only to the balancer's address (except where they show what a visitor reaching a node directly
cannot do). Which node answered each request is the balancer's own record (``$upstream_addr``, in its access log
and a test-only response header), so the tests show the requests did alternate. Visitors come from different
loopback addresses (127.0.0.2, 127.0.0.3 …: the client binds its socket to one), so the nodes, told there is one
trusted proxy at 127.0.0.1 (``HAOCHAPING_TRUSTED_PROXIES=1``, ``HAOCHAPING_TRUSTED_PROXY_NETWORKS``), count
lockouts and limits per visitor. Then one node is killed and the balancer goes on serving from the other; and two
``haochaping worker`` processes started for the same period enqueue and run each periodic task once."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys

import httpx
import pytest

from haochaping.evaluation.views import receipt
from tests.accounts.login_support import PASSWORD
from tests.evaluation import server

from . import balancer as nginx
from . import redisserver
from .login import csrf, login
from .pgreplica import free_port
from .testdb import primary_dsn, same_keys

FAILURE_LIMIT = 4
RATE_LIMIT = 6
PROXY = "127.0.0.1"
VISITOR, OTHER_VISITOR = "127.0.0.2", "127.0.0.3"
WRONG_RECEIPT = "ABCDEFGHJKLM"

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
           "HAOCHAPING_LOGIN_FAILURE_LIMIT": str(FAILURE_LIMIT),
           # One proxy in front (the balancer), connecting from 127.0.0.1; visitors come from other addresses.
           "HAOCHAPING_TRUSTED_PROXIES": "1", "HAOCHAPING_TRUSTED_PROXY_NETWORKS": PROXY}
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


@pytest.fixture
def balancer(nodes):
    """nginx at one address, round-robin over the two nodes."""
    lb = nginx.start([f"127.0.0.1:{node.port}" for node in nodes])
    try:
        yield lb
    finally:
        lb.stop()


def visitor(lb: nginx.Balancer, address: str = VISITOR, **kw) -> httpx.Client:
    """A browser at ``address`` (a loopback address of its own) that knows only the balancer's address."""
    return httpx.Client(base_url=lb.url, transport=httpx.HTTPTransport(local_address=address), timeout=30, **kw)


def answered_by(response: httpx.Response) -> str:
    return response.headers[nginx.UPSTREAM]


def assert_alternated(upstreams: list[str], nodes) -> None:
    """Each request went to the other node than the one before: round-robin, no affinity, both nodes used."""
    assert set(upstreams) == {f"127.0.0.1:{node.port}" for node in nodes}, upstreams
    assert all(x != y for x, y in zip(upstreams, upstreams[1:], strict=False)), upstreams


def test_a_session_opened_on_one_node_is_used_on_the_other(nodes, balancer, redis_server):
    with visitor(balancer) as browser:
        # Form, password, TOTP form, TOTP: the half-finished login travels between the nodes too.
        r = login(browser, balancer.url, "jiandu", PASSWORD, nodes[0].seed["totp"])
        assert r.headers["location"] != "/accounts/login/"
        pages = [browser.get("/insight/") for _ in range(4)]
        assert [p.status_code for p in pages] == [200] * 4, [(p.status_code, p.headers.get("location")) for p in pages]
        assert_alternated(balancer.upstreams(), nodes)
        # The session lives in the shared cache (and in the database behind it).
        assert any(b"sessions.cached_db" in key for key in redis_server.client().keys("*"))
        # Signing out on one node ends the session on both.
        r = browser.post("/accounts/logout/", data={"csrfmiddlewaretoken": csrf(browser, f"{balancer.url}/insight/")})
        assert r.status_code in (200, 302)
        after = [browser.get("/insight/") for _ in range(2)]
        assert {answered_by(r) for r in after} == {f"127.0.0.1:{node.port}" for node in nodes}
        assert all(r.status_code == 302 and "/accounts/login/" in r.headers["location"] for r in after)
    assert_alternated(balancer.upstreams(), nodes)


def test_a_rate_limit_counts_requests_on_both_nodes(nodes, balancer):
    with visitor(balancer, headers={"Authorization": f"Bearer {nodes[0].seed['secret']}"}) as api:
        answers = [api.get("/api/v1/records/P-unknown") for _ in range(2 * RATE_LIMIT)]
    # Each node alone has seen RATE_LIMIT requests, within its own limit; together they exceed it.
    assert [r.status_code for r in answers] == [404] * RATE_LIMIT + [429] * RATE_LIMIT
    assert_alternated([answered_by(r) for r in answers], nodes)
    assert sorted(balancer.served().values()) == [RATE_LIMIT, RATE_LIMIT]


def sign_in(browser: httpx.Client, token: str, username: str, password: str, **headers) -> httpx.Response:
    return browser.post("/accounts/login/", headers=headers,
                        data={"username": username, "password": password, "csrfmiddlewaretoken": token})


def test_failed_logins_on_both_nodes_lock_the_account_for_that_visitor_only(nodes, balancer):
    with visitor(balancer) as browser:
        # One form, then only POSTs: they alternate between the nodes (a failed login keeps the CSRF token).
        token = csrf(browser, "/accounts/login/")
        failures = [sign_in(browser, token, "jiandu-2", "wrong-password-1") for _ in range(FAILURE_LIMIT)]
        assert [r.status_code for r in failures[:-1]] == [200] * (FAILURE_LIMIT - 1)
        assert all("用户名或密码不正确" in r.text for r in failures[:-1])
        assert failures[-1].status_code == 429  # the last failure allowed
        # The right password is refused now, on either node; writing another address in X-Forwarded-For does not
        # help (nginx appends the address it saw; the node takes that one).
        refused = [sign_in(browser, token, "jiandu-2", PASSWORD) for _ in range(2)]
        refused.append(sign_in(browser, token, "jiandu-2", PASSWORD, **{"X-Forwarded-For": OTHER_VISITOR}))
        assert [r.status_code for r in refused] == [429] * 3
        assert_alternated([answered_by(r) for r in failures + refused], nodes)
    assert_alternated(balancer.upstreams(), nodes)
    # The balancer's log: what the nodes received (the visitor's forged entry left of the one nginx appended).
    assert f'xff="{OTHER_VISITOR}, {VISITOR}"' in balancer.log()
    # A visitor who reaches a node's port directly, past the balancer, and writes a header is not believed either:
    # the node trusts X-Forwarded-For only from the proxy's address.
    with httpx.Client(transport=httpx.HTTPTransport(local_address=VISITOR), timeout=30) as direct:
        for node in nodes:
            token = csrf(direct, f"{node.url}/accounts/login/")
            r = direct.post(f"{node.url}/accounts/login/", headers={"X-Forwarded-For": OTHER_VISITOR}, data={
                "username": "jiandu-2", "password": PASSWORD, "csrfmiddlewaretoken": token})
            assert r.status_code == 429, (node.port, r.status_code)
    # The owner at another address, through the same balancer, signs in (on to binding an authenticator).
    with visitor(balancer, OTHER_VISITOR) as browser:
        r = sign_in(browser, csrf(browser, "/accounts/login/"), "jiandu-2", PASSWORD)
        assert r.status_code == 302 and r.headers["location"].endswith("/accounts/login/enrol/"), r.headers


def test_receipt_guessing_is_limited_per_visitor_across_both_nodes(nodes, balancer):
    def guess(browser: httpx.Client, token: str) -> httpx.Response:
        return browser.post("/r/", data={"code": WRONG_RECEIPT, "csrfmiddlewaretoken": token})

    with visitor(balancer) as browser:
        token = csrf(browser, "/r/")
        guesses = [guess(browser, token) for _ in range(receipt.FAILURE_LIMIT + 2)]
    assert [r.status_code for r in guesses] == [404] * receipt.FAILURE_LIMIT + [429, 429]
    assert_alternated([answered_by(r) for r in guesses], nodes)
    with visitor(balancer, OTHER_VISITOR) as browser:
        # Someone else behind the same balancer is not blocked, on either node.
        token = csrf(browser, "/r/")
        assert [guess(browser, token).status_code for _ in range(2)] == [404, 404]
    assert_alternated(balancer.upstreams(), nodes)


def test_with_one_node_killed_the_balancer_goes_on_serving(nodes, balancer):
    a, b = nodes
    with visitor(balancer) as browser:
        login(browser, balancer.url, "jiandu", PASSWORD, a.seed["totp"])
        assert browser.get("/insight/").status_code == 200
        a.crash()  # SIGKILL, server and its workers: a node that dies, not one that is shut down
        pages = [browser.get("/insight/") for _ in range(4)]
        assert [p.status_code for p in pages] == [200] * 4
        # Every request ends on B. Round-robin's turn for A came once: nginx tried A, failed to connect and passed
        # the request to B in the same request ("A, B"); then it leaves A out for fail_timeout.
        assert {answered_by(p).split(",")[-1].strip() for p in pages} == {f"127.0.0.1:{b.port}"}
        assert f"127.0.0.1:{a.port}, 127.0.0.1:{b.port}" in [answered_by(p) for p in pages]
        # A write, too (nginx had not sent it to A: a refused connection is retried on the next node).
        r = browser.post("/accounts/logout/", data={"csrfmiddlewaretoken": csrf(browser, f"{balancer.url}/insight/")})
        assert r.status_code in (200, 302)
        r = browser.get("/insight/")
        assert r.status_code == 302 and "/accounts/login/" in r.headers["location"]
        assert browser.get("/api/v1/health").status_code == 200


def run_workers(tmp_path, env: dict, count: int = 2) -> None:
    """``count`` ``haochaping worker --batch`` processes started at once for the same period; all must exit 0."""
    workers = [
        subprocess.Popen([server.BIN / "haochaping", "worker", "--batch"], cwd=server.ROOT,
                         env=server.environment(tmp_path, env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(count)
    ]
    try:
        logs = [w.communicate(timeout=600)[0].decode(errors="replace") for w in workers]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()
    assert [w.returncode for w in workers] == [0] * count, logs


def assert_each_periodic_task_ran_once(names: list[str], results: list[tuple[str, int, int, str]]) -> None:
    """``results``: per task path, how many times enqueued, how many worker runs, and the statuses."""
    assert names, "no periodic task registered"
    # Every periodic task: enqueued once for this period, run once (by one worker), finished.
    assert sorted(r[0] for r in results) == sorted(names)
    for task_path, enqueued, runs, statuses in results:
        assert (enqueued, runs) == (1, 1), (task_path, enqueued, runs)
        assert statuses in ("SUCCESSFUL", "FAILED"), (task_path, statuses)


def test_two_workers_started_for_the_same_period_run_each_periodic_task_once(tmp_path, shared):
    db, env, _seed = shared
    run_workers(tmp_path, env)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        names = [n for (n,) in conn.execute("SELECT name FROM core_scheduledrun")]
        results = conn.execute(
            "SELECT task_path, count(*), sum(json_array_length(worker_ids)), group_concat(status)"
            " FROM django_tasks_database_dbtaskresult GROUP BY task_path").fetchall()
    finally:
        conn.close()
    assert_each_periodic_task_ran_once(names, results)


@pytest.mark.pg_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_on_postgresql_run_each_periodic_task_once(tmp_path):
    """The same on PostgreSQL, where it rests on row locks (the schedule row, the queue's SKIP LOCKED), not on
    SQLite's one writer at a time: three workers on the test database."""
    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    from haochaping.core.models import ScheduledRun

    if connection.vendor != "postgresql":
        pytest.fail("needs PostgreSQL (marked pg_only: runs in make test-pg): run with DATABASE_URL=postgres://…")
    assert not DBTaskResult.objects.exists()
    run_workers(tmp_path, {"DATABASE_URL": primary_dsn(), **same_keys()}, count=3)
    names = list(ScheduledRun.objects.values_list("name", flat=True))
    grouped: dict[str, list[DBTaskResult]] = {}
    for result in DBTaskResult.objects.all():
        grouped.setdefault(result.task_path, []).append(result)
    assert_each_periodic_task_ran_once(names, [
        (path, len(rows), sum(len(r.worker_ids) for r in rows), ",".join(r.status for r in rows))
        for path, rows in grouped.items()
    ])
