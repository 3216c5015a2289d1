"""A real ``haochaping serve`` process on a file SQLite database, for what only a real deployment shows:
the bytes in the database file, the server's own log output, concurrent writers on separate connections."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests import clock

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

SEED = """
import json, django
django.setup()
from tests import factories
org = factories.make_org()
item = factories.make_item(org)
_key, secret = factories.make_api_key()
print(json.dumps({
    "secret": secret, "region_code": org.county.code, "credit_code": org.department.credit_code,
    "agency_code": org.agency.code, "window_code": org.window.code, "staff_no": org.staff.staff_no,
    "implementation_code": item.implementation_code,
}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ServerProcess:
    var_dir: Path
    port: int
    seed: dict
    process: subprocess.Popen | None = None
    extra_env: dict = field(default_factory=dict)
    worker: bool = False
    log_path: Path = field(init=False)

    def __post_init__(self):
        self.log_path = self.var_dir / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> Path:
        return self.var_dir / "haochaping.sqlite3"

    def client(self, **kw) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.seed['secret']}"}, timeout=30, **kw)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def crash(self) -> None:
        """SIGKILL the server and its workers at once (a power cut, not a shutdown)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def environment(var_dir: Path, extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_TEST_NAME")}
    env.update(
        HAOCHAPING_VAR_DIR=str(var_dir),
        HAOCHAPING_SECRET_KEY="test-server-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        DJANGO_SETTINGS_MODULE="haochaping.settings",
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra or {})
    return clock.subprocess_env(env)


def migrate(var_dir: Path) -> Path:
    """A migrated, empty database file (copied by each server instead of migrating again)."""
    env = environment(var_dir)
    subprocess.run([BIN / "haochaping", "migrate", "--no-input", "-v", "0"], env=env, cwd=ROOT, check=True, timeout=180)
    db = var_dir / "haochaping.sqlite3"
    checkpoint(db)
    return db


def start(var_dir: Path, template: Path, extra_env: dict | None = None, *, worker: bool = False,
          port: int | None = None, env_extra: dict | None = None) -> ServerProcess:
    """``haochaping serve`` on a copy of ``template``; without the worker unless asked (``serve`` runs it by default
    on SQLite: these tests look at the web process alone). ``extra_env`` stays with the server across restarts."""
    extra = {**(extra_env or {}), **(env_extra or {})}
    env = environment(var_dir, extra)
    shutil.copyfile(template, var_dir / "haochaping.sqlite3")
    out = subprocess.run([sys.executable, "-c", SEED], env=env, cwd=ROOT, check=True, timeout=60, capture_output=True, text=True)
    server = ServerProcess(var_dir, port or free_port(), json.loads(out.stdout.strip().splitlines()[-1]), extra_env=extra,
                           worker=worker)
    return serve(server)


def serve(server: ServerProcess) -> ServerProcess:
    """Start (or start again, on the same database and port) the server process."""
    env = environment(server.var_dir, server.extra_env)
    log = open(server.log_path, "ab")  # noqa: SIM115 - closed with the process
    server.process = subprocess.Popen(
        [BIN / "haochaping", "serve", "--host", "127.0.0.1", "--port", str(server.port), "--workers", "1", "--threads", "8",
         "--worker" if server.worker else "--no-worker"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.log()}")
        try:
            if httpx.get(f"{server.url}/api/v1/labels", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"server did not start:\n{server.log()}")


def checkpoint(db_path: Path) -> None:
    """Fold the WAL back into the database file, as a backup would see it."""
    conn = sqlite3.connect(db_path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
