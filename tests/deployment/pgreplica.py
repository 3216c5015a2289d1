"""A real streaming replica of the test PostgreSQL server, for tests/deployment/test_read_replica.py.

``start(primary_dsn)`` makes a second PostgreSQL cluster with ``pg_basebackup -R`` (a standby that streams from
the primary) on a free loopback port in ``PORTS``, starts it with ``pg_ctl`` as the ``postgres`` user, and waits
until it accepts connections. ``Replica.destroy()`` stops it (immediate) and deletes its directory; the fixture
calls it even when the test fails.

What the primary must allow (checked first; changed only when missing, idempotently, without a restart):

* ``wal_level`` ``replica`` or ``logical`` and ``max_wal_senders`` > 0 — both need a restart to change, so they are
  only checked (the Debian/Ubuntu default cluster has both);
* a ``pg_hba.conf`` line letting ``replication`` connections in from 127.0.0.1: appended when no rule matches
  (``host replication all 127.0.0.1/32 trust``, the same trust the test cluster gives every loopback connection)
  followed by ``pg_reload_conf()``. Needs write access to the hba file (CI runs as root).

The replica streams through a physical replication slot (``hcp_test_replica_<pid>_<port>``) made by
``pg_basebackup -C -S``: without one, a primary that other test legs keep busy recycles WAL before the new replica
has caught up (seen: "requested WAL segment … has already been removed"). A forgotten slot would keep WAL on the
primary forever, so ``destroy()`` drops it, and ``start()`` first drops inactive slots of this prefix whose
process is gone (a test run that was killed).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

PG_BIN = Path(os.environ.get("HAOCHAPING_PG_BIN", "/usr/lib/postgresql/15/bin"))
PORTS = range(19600, 19650)
SLOT_PREFIX = "hcp_test_replica_"
HBA_LINE = "host replication all 127.0.0.1/32 trust  # haochaping tests: streaming replicas (tests/deployment)"


def free_port(ports: range = PORTS) -> int:
    """A port in ``ports`` nobody listens on, starting at a point that depends on the process (xdist workers)."""
    n = len(ports)
    offset = (os.getpid() * 7) % n
    for i in range(n):
        port = ports[(offset + i) % n]
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


def _as_postgres(cmd: list, **kw) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *map(str, cmd)]
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)


def _admin(dsn: str) -> psycopg.Connection:
    parts = urlsplit(dsn)
    return psycopg.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
                           user=parts.username or "postgres", password=parts.password, dbname="postgres",
                           autocommit=True)


def prepare_primary(dsn: str) -> None:
    """Check (and where a reload suffices, make) the primary ready to stream to a replica on loopback."""
    with _admin(dsn) as conn:
        wal_level = conn.execute("SHOW wal_level").fetchone()[0]
        senders = int(conn.execute("SHOW max_wal_senders").fetchone()[0])
        if wal_level not in ("replica", "logical") or senders < 1:
            raise RuntimeError(
                f"the test PostgreSQL server cannot stream to a replica (wal_level={wal_level}, max_wal_senders="
                f"{senders}): set wal_level=replica and max_wal_senders>=2 and restart it before the suite"
            )
        rules = conn.execute(
            "SELECT count(*) FROM pg_hba_file_rules WHERE 'replication' = ANY(database) AND error IS NULL"
            " AND type = 'host' AND (address IS NULL OR address IN ('127.0.0.1', 'all', '0.0.0.0'))"
        ).fetchone()[0]
        if rules:
            return
        hba = Path(conn.execute("SHOW hba_file").fetchone()[0])
        text = hba.read_text()
        if HBA_LINE not in text:
            # Prepended, so it is not shadowed by a "reject" further down.
            hba.write_text(HBA_LINE + "\n" + text)
        conn.execute("SELECT pg_reload_conf()")
        for _ in range(50):
            if conn.execute(
                "SELECT count(*) FROM pg_hba_file_rules WHERE 'replication' = ANY(database) AND error IS NULL"
            ).fetchone()[0]:
                return
            time.sleep(0.1)
        raise RuntimeError(f"added a replication rule to {hba} but the server does not show it after a reload")


# A standby refuses to start with any of these lower than on its primary: copied from the primary.
HOT_STANDBY_MINIMUMS = ("max_connections", "max_worker_processes", "max_wal_senders", "max_prepared_transactions",
                        "max_locks_per_transaction")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def drop_stale_slots(dsn: str) -> None:
    """Drop inactive test replica slots whose process is gone."""
    with _admin(dsn) as conn:
        slots = conn.execute("SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE %s AND NOT active",
                             [SLOT_PREFIX + "%"]).fetchall()
        for (name,) in slots:
            pid = name[len(SLOT_PREFIX):].split("_")[0]
            if pid.isdigit() and not _alive(int(pid)):
                conn.execute("SELECT pg_drop_replication_slot(%s)", [name])


@dataclass
class Replica:
    directory: Path
    port: int
    log: Path
    settings: str = ""
    primary: str = ""
    slot: str = ""

    def dsn(self, dbname: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str) -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=dbname, autocommit=True)

    def running(self) -> bool:
        return _as_postgres([PG_BIN / "pg_ctl", "status", "-D", self.directory]).returncode == 0

    def start(self) -> None:
        # fsync=off: a throw-away replica; it also skips the start-up fsync of the whole copied data directory,
        # which takes minutes on a loaded machine.
        out = _as_postgres([PG_BIN / "pg_ctl", "start", "-W", "-D", self.directory, "-l", self.log,
                            "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory}"
                                  " -c hot_standby=on -c shared_buffers=16MB -c fsync=off" + self.settings],
                           timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"replica did not start: {out.stdout}{out.stderr}\n{self.log_text()}")
        self.wait_ready()

    def wait_ready(self, timeout: float = 900) -> None:
        """Until the replica accepts connections (it has replayed up to a consistent state). Fails early when it
        stopped, or when the primary dropped the WAL it still needs (its slot "lost": a new base backup is due)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if subprocess.run([PG_BIN / "pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port)]).returncode == 0:
                return
            if self.primary and self.slot:
                with _admin(self.primary) as conn:
                    row = conn.execute("SELECT wal_status FROM pg_replication_slots WHERE slot_name = %s",
                                       [self.slot]).fetchone()
                if row is None or row[0] == "lost":
                    raise BackupFailed(f"the primary dropped WAL the replica needs (slot {self.slot}: {row})")
            time.sleep(0.5)
            if not self.running():
                raise RuntimeError(f"replica stopped while starting:\n{self.log_text()}")
        raise RuntimeError(f"replica is not accepting connections after {timeout} s:\n{self.log_text()}")

    def stop(self, mode: str = "immediate") -> None:
        if self.directory.exists() and self.running():
            _as_postgres([PG_BIN / "pg_ctl", "stop", "-w", "-t", "60", "-m", mode, "-D", self.directory])

    def destroy(self) -> None:
        try:
            self.stop()
        finally:
            try:
                if self.primary and self.slot:
                    with _admin(self.primary) as conn:
                        conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                                     " WHERE slot_name = %s", [self.slot])
            finally:
                shutil.rmtree(self.directory.parent, ignore_errors=True)

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def wait_until_replayed(self, primary_dsn: str, dbname: str, timeout: float = 600) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        with _admin(primary_dsn) as conn:
            lsn = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        deadline = time.monotonic() + timeout
        with self.connect(dbname) as conn:
            while time.monotonic() < deadline:
                if conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn]).fetchone()[0]:
                    return
                time.sleep(0.1)
        raise TimeoutError(f"replica did not replay up to {lsn} in {timeout} s")


def start(primary_dsn: str, attempts: int = 3) -> Replica:
    """A streaming replica of the primary at ``primary_dsn`` (its host, port and user), running. A base backup that
    the primary cut off (a busy primary: e.g. a checkpoint forced by CREATE DATABASE elsewhere invalidating the new
    slot) is taken again, up to ``attempts`` times."""
    for attempt in range(1, attempts + 1):
        try:
            return _start(primary_dsn)
        except BackupFailed:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


class BackupFailed(RuntimeError):
    pass


def _start(primary_dsn: str) -> Replica:
    for tool in ("pg_basebackup", "pg_ctl"):
        if not (PG_BIN / tool).exists():
            raise RuntimeError(f"{PG_BIN / tool} is missing: install postgresql-15 (or set HAOCHAPING_PG_BIN)")
    prepare_primary(primary_dsn)
    drop_stale_slots(primary_dsn)
    with _admin(primary_dsn) as conn:
        minimums = "".join(f" -c {name}={conn.execute(f'SHOW {name}').fetchone()[0]}" for name in HOT_STANDBY_MINIMUMS)
    parts = urlsplit(primary_dsn)
    base = Path(tempfile.mkdtemp(prefix="hcp-replica-"))
    data = base / "data"
    postgres = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    if postgres:
        os.chown(base, postgres.pw_uid, postgres.pw_gid)
    port = free_port()
    replica = Replica(data, port, base / "replica.log", minimums, primary_dsn, f"{SLOT_PREFIX}{os.getpid()}_{port}")
    try:
        out = _as_postgres([PG_BIN / "pg_basebackup", "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432),
                            "-U", parts.username or "postgres", "-D", data, "-R", "-X", "stream", "-c", "fast", "-C", "-S", replica.slot,
                            "--no-sync"], timeout=1200)
        if out.returncode != 0:
            raise BackupFailed(f"pg_basebackup failed: {out.stderr}")
        # Debian keeps postgresql.conf and pg_hba.conf in /etc, outside the data directory the backup copies.
        for name, text in (("postgresql.conf", "# haochaping test replica: settings on the pg_ctl command line\n"),
                           ("pg_hba.conf", "local all all trust\nhost all all 127.0.0.1/32 trust\n"),
                           ("pg_ident.conf", "")):
            path = data / name
            if not path.exists():
                path.write_text(text)
                if postgres:
                    os.chown(path, postgres.pw_uid, postgres.pw_gid)
        replica.start()
        return replica
    except BaseException:
        replica.destroy()
        raise
