"""A private Redis server on loopback for tests/deployment/test_several_nodes.py: the shared cache of two nodes.

Its own process on a free port in ``PORTS``, no persistence, removed with its directory afterwards, so the test
neither needs nor touches a Redis the machine may run. ``redis-server`` is installed with apt-get when missing
(CI runs as root on Debian/Ubuntu)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from .pgreplica import free_port

PORTS = range(19650, 19700)


@dataclass
class RedisServer:
    process: subprocess.Popen
    port: int
    directory: Path

    def url(self, db: int = 6) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 6) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, db=db)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    subprocess.run(["apt-get", "update", "-qq"], check=True, timeout=600)
    subprocess.run(["apt-get", "install", "-y", "-qq", "redis-server"], check=True, timeout=600,
                   env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("redis-server is missing and could not be installed")
    return found


def start() -> RedisServer:
    directory = Path(tempfile.mkdtemp(prefix="hcp-redis-"))
    port = free_port(PORTS)
    process = subprocess.Popen(
        [binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(directory), "--daemonize", "no", "--logfile", str(directory / "redis.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    server = RedisServer(process, port, directory)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (directory / "redis.log").read_text(errors="replace") if (directory / "redis.log").exists() else ""
            server.stop()
            raise RuntimeError(f"redis-server exited: {log[-2000:]}")
        try:
            if server.client().ping():
                return server
        except redis.ConnectionError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError("redis-server did not answer")
