"""What the benchmarks share: the bench database, the production server in a subprocess, percentiles.
`bench/ingest.py` and `bench/stats.py` build on it (bench/README.md)."""

from __future__ import annotations

import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/haochaping_bench"
SERVER_START_TIMEOUT = 60.0
SERVER_STOP_TIMEOUT = 15.0


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (no interpolation: the value some request really took)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def _with_dbname(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _dbname(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def recreate_database(url: str) -> None:
    """Drop and create the database named in ``url``. Refuses names without "bench": this drops data."""
    import psycopg

    name = _dbname(url)
    if "bench" not in name or not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing to drop database {name!r}: the bench database name must contain 'bench'")
    with psycopg.connect(_with_dbname(url, "postgres"), autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    name = _dbname(url)
    if "bench" not in name:
        return
    with psycopg.connect(_with_dbname(url, "postgres"), autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _django_env(database_url: str) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="haochaping.settings",
        HAOCHAPING_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    # The pytest run that may have started us sets these; the server must use the settings as deployed.
    env.pop("SQLITE_TEST_NAME", None)
    return env


def _haochaping_command() -> list[str]:
    script = Path(sys.executable).parent / "haochaping"
    if script.exists():
        return [str(script)]
    found = shutil.which("haochaping")
    return [found] if found else [sys.executable, "-m", "haochaping"]


def migrate(database_url: str) -> None:
    subprocess.run(
        [*_haochaping_command(), "migrate", "--no-input", "-v", "0"],
        env=_django_env(database_url), check=True, timeout=300, cwd=ROOT,
    )


class Server:
    """``haochaping serve`` in a subprocess, always stopped within a bounded time."""

    def __init__(self, database_url: str, workers: int, threads: int):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="haochaping-bench-server-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [*_haochaping_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(workers), "--threads", str(threads)],
            env=_django_env(database_url), cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping it reaches the workers and nothing else
        )

    def wait_ready(self, timeout: float = SERVER_START_TIMEOUT) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/api/v1/levels", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=SERVER_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=SERVER_STOP_TIMEOUT)
        self.log.close()

    def log_tail(self, lines: int = 30) -> str:
        self.log.flush()
        text = Path(self.log.name).read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def remove_log(self) -> None:
        Path(self.log.name).unlink(missing_ok=True)


def _free_port() -> int:
    if os.environ.get("BENCH_PORT"):  # a shared machine may hand each user a range of ports
        return int(os.environ["BENCH_PORT"])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_facts(database_url: str) -> dict:
    import psycopg

    with psycopg.connect(database_url) as conn:
        facts = {"postgresql": conn.execute("SHOW server_version").fetchone()[0]}
        for setting in ("synchronous_commit", "fsync", "shared_buffers"):
            facts[setting] = conn.execute(f"SHOW {setting}").fetchone()[0]
    return facts


class CpuMeter:
    """CPU seconds used between start() and stop(), by whom: this process (the clients), the server's process
    tree, the PostgreSQL processes serving the bench database (its backends and the shared background writers),
    and whatever else ran on the machine. Linux only (/proc); elsewhere ``stop()`` returns None. The few cores
    are shared by all of them, so this tells where the time went and whether something else competed."""

    def __init__(self, database_url: str, server_pid: int | None = None):
        self.database_url = database_url
        self.server_pid = server_pid
        self.ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.begin: dict | None = None

    def _machine(self) -> float:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
        idle = values[3] + values[4]  # idle + iowait
        return (sum(values) - idle) / self.ticks

    def _process(self, pid: int) -> tuple[float, list[int]]:
        """(CPU seconds, child pids) of one process, all its threads; (0, []) when it is gone.

        schedstat counts nanoseconds, where /proc/<pid>/stat counts 10 ms ticks: too coarse for a PostgreSQL
        backend that spends microseconds per INSERT."""
        try:
            cpu_ns, children = 0, []
            for task in Path(f"/proc/{pid}/task").iterdir():
                cpu_ns += int((task / "schedstat").read_text().split()[0])
                children += [int(c) for c in (task / "children").read_text().split()]
            return cpu_ns / 1e9, children
        except (OSError, ValueError, IndexError):
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
                fields = stat[stat.rindex(")") + 2 :].split()
                return (int(fields[11]) + int(fields[12])) / self.ticks, []
            except (OSError, ValueError, IndexError):
                return 0.0, []

    def _tree(self, pid: int) -> dict[int, float]:
        found: dict[int, float] = {}
        todo = [pid]
        while todo and len(found) < 1000:
            p = todo.pop()
            if p not in found:
                found[p], children = self._process(p)
                todo += children
        return found

    def _pg_pids(self) -> list[int]:
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True, connect_timeout=10) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE (datname = current_database() OR datname IS NULL) "
                "AND pid <> pg_backend_pid()"
            ).fetchall()
        return [r[0] for r in rows]

    def _sample(self) -> dict:
        return {
            "machine": self._machine(),
            "clients": time.process_time(),
            "server": self._tree(self.server_pid) if self.server_pid else {},
            "postgresql": {pid: self._process(pid)[0] for pid in self._pg_pids()},
        }

    def start(self) -> None:
        try:
            self.begin = self._sample()
        except Exception:  # noqa: BLE001 - accounting is best effort, never a reason to fail the benchmark
            self.begin = None

    def stop(self) -> dict | None:
        if self.begin is None:
            return None
        try:
            end = self._sample()
        except Exception:  # noqa: BLE001
            return None
        b = self.begin

        def grown(key: str) -> float:
            # A process that appeared during the phase counts whole; one that vanished is lost (rare: the
            # server keeps its connections, the reference holds its own).
            return sum(max(0.0, t - b[key].get(pid, 0.0)) for pid, t in end[key].items())

        used = {
            "machine": end["machine"] - b["machine"],
            "clients": end["clients"] - b["clients"],
            "server": grown("server"),
            "postgresql": grown("postgresql"),
        }
        used["other"] = max(0.0, used["machine"] - used["clients"] - used["server"] - used["postgresql"])
        return used
