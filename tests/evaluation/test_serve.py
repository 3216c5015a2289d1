"""`make run` is the whole system: `haochaping serve` on the embedded SQLite database runs the worker too (one
command, one Ctrl-C), PostgreSQL keeps them apart, and links in SMS follow --host/--port."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from haochaping.__main__ import embedded_database, wants_worker
from haochaping.core.addresses import default_public_url
from tests.evaluation import server as server_mod
from tests.evaluation.test_real_server import payload


@pytest.mark.parametrize(("host", "port", "url"), [
    ("127.0.0.1", 8101, "http://127.0.0.1:8101"),
    ("localhost", "9000", "http://localhost:9000"),
    ("0.0.0.0", 9000, "http://127.0.0.1:9000"),
    ("::", 9000, "http://127.0.0.1:9000"),
    ("::1", 9000, "http://[::1]:9000"),
    ("hcp.example.gov.cn", 80, "http://hcp.example.gov.cn:80"),
    (None, None, "http://127.0.0.1:8000"),
])
def test_the_public_url_follows_the_address_served(host, port, url):
    assert default_public_url(host, port) == url


@pytest.mark.parametrize(("flag", "env", "database_url", "expected"), [
    (None, None, None, True),  # make run: embedded SQLite, the worker comes along
    (None, "", "sqlite:////srv/hcp.sqlite3", True),
    (None, None, "postgres://db/hcp", False),  # production: `haochaping worker` is its own service
    (None, "1", "postgres://db/hcp", True),
    (None, "0", None, False),
    (True, "0", "postgres://db/hcp", True),
    (False, "1", None, False),
])
def test_serve_runs_the_worker_on_the_embedded_database_unless_told(flag, env, database_url, expected):
    assert wants_worker(flag, env, database_url) is expected


def test_embedded_database():
    assert embedded_database(None) and embedded_database("SQLITE:///x") and not embedded_database("postgresql://h/d")


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (task / "children").read_text().split()
        found |= {int(p) for p in text}
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.split(")")[-1].split()[0] != "Z"


def _successful_tasks(db: Path) -> set[str]:
    conn = sqlite3.connect(db, timeout=5)
    try:
        rows = conn.execute("SELECT task_path FROM django_tasks_database_dbtaskresult WHERE status = 'SUCCESSFUL'")
        return {r[0] for r in rows}
    except sqlite3.OperationalError:
        return set()
    finally:
        conn.close()


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads child processes from /proc (Linux)")
def test_serve_on_sqlite_runs_scheduled_and_background_work_and_stops_with_one_ctrl_c(tmp_path_factory, sqlite_template):
    # HAOCHAPING_TEST_PORT pins the port (engineers sharing a machine each have a range); else any free port.
    port = int(os.environ.get("HAOCHAPING_TEST_PORT") or server_mod.free_port())
    # HAOCHAPING_PUBLIC_URL unset: the SMS link must name the port served.
    server = server_mod.start(tmp_path_factory.mktemp("serve"), sqlite_template, worker=True, port=port,
                              env_extra={"HAOCHAPING_PUBLIC_URL": ""})
    try:
        children = _children(server.process.pid)
        assert len(children) >= 2  # gunicorn's worker and the background worker
        # Background work: a completed 办件 with a phone gets its SMS invitation, sent by the worker.
        body = payload(server.seed)
        with server.client() as client:
            assert client.post("/api/v1/records", json=body).status_code == 201
        sms = server.var_dir / "sms.jsonl"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not (sms.exists() and sms.read_text(encoding="utf-8").strip()):
            time.sleep(0.5)
        assert sms.exists(), server.log()
        message = json.loads(sms.read_text(encoding="utf-8").strip().splitlines()[0])
        assert f"http://127.0.0.1:{port}/i/" in json.dumps(message, ensure_ascii=False)
        # Scheduled work: the periodic tasks were enqueued at start and ran.
        while time.monotonic() < deadline and "haochaping.rectification.tasks.escalate_overdue_cases" not in _successful_tasks(server.db_path):
            time.sleep(0.5)
        done = _successful_tasks(server.db_path)
        assert {"haochaping.rectification.tasks.escalate_overdue_cases", "haochaping.evaluation.tasks.send_invitation"} <= done
        assert httpx.get(f"{server.url}/api/v1/labels", timeout=5).status_code == 200
    finally:
        # One Ctrl-C: the server and the worker it started are gone.
        server.process.send_signal(signal.SIGINT)
        server.process.wait(timeout=40)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(pid) for pid in children):
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in children)
    assert "后台任务进程已随服务一同启动" in server.log()
