"""Two real nodes on loopback (issue 16, "Proof"): a provincial node reports a burst to its upper node through the
outbox; the upper node is killed mid-stream and started again; the sender retries with backoff, and the daily
reconciliation finds every row there exactly once. Each node is its own `haochaping serve` process on its own
SQLite file with its own SM2 key; the sender and the reconciliation run as `haochaping` commands."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from haochaping.core import signing
from tests.evaluation import server
from tests.records.helpers import iso

LABELS = {1: ["110"], 2: ["209"], 4: [], 5: ["510"]}
BURST = 120  # 办件, each with one evaluation: 240 outbox rows, in batches of 10
UPPER_KEY, LOWER_KEY = signing.new_private_key(), signing.new_private_key()

REGISTER_LOWER = """
import json, sys, django
django.setup()
from haochaping.accounts.services import create_api_key
from haochaping.exchange.models import LowerNode
from haochaping.org.models import Region
args = json.loads(sys.argv[1])
key, secret = create_api_key(name="济南市节点", scopes=["records:write", "evaluations:write"],
                             region=Region.objects.get(code="370100"))
LowerNode.objects.create(name="济南市节点", app_id="jinan", api_key=key, public_key=args["public_key"])
print(secret)
"""

CONFIGURE_UPSTREAM = """
import json, sys, django
django.setup()
from haochaping.exchange.models import Upstream
args = json.loads(sys.argv[1])
u = Upstream(name="山东省节点", url=args["url"], profile="internal", app_id="jinan", batch_size=10, timeout_seconds=5)
u.set_api_key(args["secret"])
u.save()
"""


def run(node: server.ServerProcess, *args, code: str | None = None, timeout=300) -> subprocess.CompletedProcess:
    env = server.environment(node.var_dir, node.extra_env)
    cmd = [sys.executable, "-c", code, *args] if code else [server.BIN / "haochaping", *args]
    return subprocess.run(cmd, env=env, cwd=server.ROOT, capture_output=True, text=True, timeout=timeout)


def query(node: server.ServerProcess, sql: str) -> list[tuple]:
    conn = sqlite3.connect(f"file:{node.db_path}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return server.migrate(tmp_path_factory.mktemp("two-nodes-template"))


@pytest.fixture
def nodes(tmp_path_factory, template):
    env = {"HAOCHAPING_OUTBOX_BACKOFF_SECONDS": "1"}
    upper = server.start(tmp_path_factory.mktemp("upper"), template, {**env, "HAOCHAPING_SM2_PRIVATE_KEY": UPPER_KEY})
    lower = server.start(tmp_path_factory.mktemp("lower"), template, {**env, "HAOCHAPING_SM2_PRIVATE_KEY": LOWER_KEY})
    yield upper, lower
    upper.stop()
    lower.stop()


def burst(lower: server.ServerProcess) -> list[str]:
    seed = lower.seed
    accepted = timezone.now() - timedelta(hours=3)
    records, evaluations = [], []
    for n in range(BURST):
        project_no = f"JN-{uuid.uuid4().hex[:10]}"
        records.append({
            "project_no": project_no, "implementation_code": seed["implementation_code"],
            "region_code": seed["region_code"], "department_credit_code": seed["credit_code"],
            "agency_code": seed["agency_code"], "window_code": seed["window_code"], "staff_no": seed["staff_no"],
            "applicant": {"type": 1, "name": "欧阳娜娜", "phone": "13987654321"}, "record_type": "immediate",
            "status": 3, "accepted_at": iso(accepted), "completed_at": iso(accepted + timedelta(minutes=20)),
        })
        level = (5, 4, 5, 2, 1)[n % 5]
        evaluations.append({"idempotency_key": uuid.uuid4().hex, "project_no": project_no, "stage": "complete",
                            "channel": "mobile", "level": level, "labels": LABELS[level]})
    with lower.client() as http:
        for path, items in (("/api/v1/batch/records", records), ("/api/v1/batch/evaluations", evaluations)):
            answer = http.post(path, json={"items": items}).json()
            assert answer["created"] == BURST, [r["problem"] for r in answer["results"] if r["problem"]][:2]
    return [r["project_no"] for r in records]


def test_a_burst_reaches_the_upper_node_exactly_once_across_its_crash(nodes):
    upper, lower = nodes
    registered = run(upper, json.dumps({"public_key": signing.public_key_of(LOWER_KEY)}), code=REGISTER_LOWER)
    assert registered.returncode == 0, registered.stderr
    configured = run(lower, json.dumps({"url": upper.url, "secret": registered.stdout.strip()}), code=CONFIGURE_UPSTREAM)
    assert configured.returncode == 0, configured.stderr
    project_nos = burst(lower)
    assert query(lower, "SELECT count(*) FROM exchange_outboxentry WHERE status = 'pending'") == [(2 * BURST,)]

    env = server.environment(lower.var_dir, lower.extra_env)
    sending = subprocess.Popen([server.BIN / "haochaping", "send_outbox", "--until-empty", "--timeout", "240"],
                               env=env, cwd=server.ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # Mid-stream: some batches are in, most are not.
        deadline = time.monotonic() + 120
        while query(lower, "SELECT count(*) FROM exchange_outboxentry WHERE status = 'sent'")[0][0] < 30:
            assert time.monotonic() < deadline, "the sender sent nothing"
            assert sending.poll() is None, sending.stdout.read()
            time.sleep(0.05)
        upper.crash()
        sent_at_crash = query(lower, "SELECT count(*) FROM exchange_outboxentry WHERE status = 'sent'")[0][0]
        assert sent_at_crash < 2 * BURST
        # The sender meets a dead upstream: it backs off and keeps the rest waiting, in order.
        deadline = time.monotonic() + 60
        while not query(lower, "SELECT count(*) FROM exchange_outboxentry WHERE attempts > 0 AND status = 'pending'")[0][0]:
            assert sending.poll() is None, sending.stdout.read()
            assert time.monotonic() < deadline, "the sender never noticed the upper node was gone"
            time.sleep(0.1)
        errors = query(lower, "SELECT DISTINCT last_error FROM exchange_outboxentry WHERE status = 'pending' AND last_error != ''")
        assert errors and all("上级节点" in e for (e,) in errors)
        server.serve(upper)  # the same database and port
        out, _ = sending.communicate(timeout=240)
    finally:
        if sending.poll() is None:
            sending.kill()
    assert sending.returncode == 0, out
    assert query(lower, "SELECT status, count(*) FROM exchange_outboxentry GROUP BY status") == [("sent", 2 * BURST)]

    # Exactly once on the upper node, and no personal data travelled.
    assert query(upper, "SELECT count(*), count(DISTINCT project_no) FROM records_servicerecord "
                        "WHERE source = 'node:济南市节点'") == [(BURST, BURST)]
    assert query(upper, "SELECT count(*) FROM evaluation_evaluation WHERE source = 'node:济南市节点'") == [(BURST,)]
    assert query(upper, "SELECT count(*) FROM records_servicerecord WHERE applicant_phone_index != ''") == [(0,)]
    assert query(upper, "SELECT count(*) FROM rectification_rectificationcase") == [(0,)]
    assert {p for (p,) in query(upper, "SELECT project_no FROM records_servicerecord WHERE source LIKE 'node:%'")} == set(project_nos)
    # The upper node's figures span the lower node's region: its statistics count the relayed evaluations.
    with upper.client() as http:
        total = http.get("/api/v1/stats", params={"region_code": "370100"}).json()["total"]
    assert total["evaluations"] == BURST and total["bad"] == 2 * BURST // 5
    # The evaluations keep the lower node's times: the same per-day, per-region counts on both sides.
    reconciled = run(lower, "reconcile")
    assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr
    assert "一致" in reconciled.stdout
    assert query(lower, "SELECT sum(local_evaluations), sum(upstream_evaluations) FROM exchange_reconciliation") == [(BURST, BURST)]

    # A row lost upstream (deleted behind the system's back) is what reconciliation is for: it names the day and region.
    upper.stop()
    conn = sqlite3.connect(upper.db_path)
    try:
        conn.execute("DELETE FROM evaluation_evaluation_labels WHERE evaluation_id = (SELECT max(id) FROM evaluation_evaluation)")
        conn.execute("DELETE FROM evaluation_evaluation WHERE id = (SELECT max(id) FROM evaluation_evaluation)")
        conn.commit()
    finally:
        conn.close()
    server.serve(upper)
    differing = run(lower, "reconcile")
    assert differing.returncode == 1
    assert f"{lower.seed['region_code']} 评价：本节点 {BURST}，上级 {BURST - 1}" in differing.stdout
