"""A real load balancer on loopback for tests/deployment/test_several_nodes.py: Debian's nginx, installed with
apt-get when missing (CI runs as root on Debian/Ubuntu; nothing is skipped there), in front of the web nodes.

Its own configuration in a temporary directory: one listening address on 127.0.0.1, round-robin over the nodes
without session affinity, its own pid file, logs and temporary directories, ``daemon off`` under a subprocess,
one worker process (so round-robin alternates strictly, request by request). The ``upstream`` and ``location``
are those of the example in docs/operations.md ("nginx 在两个节点前"), without TLS. Under root the whole nginx runs as
``nobody`` (it needs no privilege: the port is above 1024), so the test never runs a root master.

What the balancer adds for the tests, and what a production config should too (docs/operations.md):

* ``X-Forwarded-For $proxy_add_x_forwarded_for`` — the nodes count lockouts and limits against the address nginx
  saw (``HAOCHAPING_TRUSTED_PROXIES=1``);
* a failed node is skipped: ``proxy_next_upstream error timeout`` (connection refused is "error"; a request nginx
  could not send to a node is sent to the next one, even a POST) and ``max_fails=1 fail_timeout=…``;
* the access log records ``$upstream_addr`` of each request, and each response carries it in ``X-Test-Upstream``
  (a test-only header: which node answered, as the balancer knows it);
* ``/balancer-ready`` is answered by nginx itself, not logged: the readiness probe, and a barrier before reading
  the access log (``Balancer.barrier``).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

from .pgreplica import free_port

PORTS = range(19650, 19700)
UPSTREAM = "X-Test-Upstream"

CONFIG = """\
daemon off;
master_process on;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log notice;

events {{
    worker_connections 256;
}}

http {{
    # xff: the X-Forwarded-For the node received (the client's own header, if any, with $remote_addr appended).
    log_format balancer '$remote_addr "$request" $status upstream=$upstream_addr xff="$proxy_add_x_forwarded_for"';
    access_log {root}/access.log balancer;
    client_body_temp_path {root}/temp/body;
    proxy_temp_path {root}/temp/proxy;
    fastcgi_temp_path {root}/temp/fastcgi;
    uwsgi_temp_path {root}/temp/uwsgi;
    scgi_temp_path {root}/temp/scgi;
    client_max_body_size 6m;

    upstream haochaping {{
{servers}
    }}

    server {{
        listen 127.0.0.1:{port};
        location = /balancer-ready {{
            access_log off;
            return 204;
        }}
        location / {{
            proxy_pass http://haochaping;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_next_upstream error timeout;
            proxy_connect_timeout 2s;
            proxy_read_timeout 120s;
            add_header {upstream_header} $upstream_addr always;
        }}
    }}
}}
"""


def binary() -> str:
    found = shutil.which("nginx") or (os.path.exists("/usr/sbin/nginx") and "/usr/sbin/nginx")
    if found:
        return found
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, timeout=600, env=env)
    # Debian's plain "nginx" package: the core server with the upstream and proxy modules, nothing else.
    subprocess.run(["apt-get", "install", "-y", "-qq", "nginx"], check=True, timeout=600, env=env)
    found = shutil.which("nginx", path=env["PATH"])
    if not found:
        raise RuntimeError("nginx is missing and could not be installed")
    return found


@dataclass
class Balancer:
    process: subprocess.Popen
    port: int
    root: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def barrier(self) -> None:
        """Until every request answered so far is in the access log. nginx writes a request's log line after the
        response's last byte, so a client can read the log before the line is there; the single worker handles a
        later request only after that, so once the probe (not logged) is answered, the earlier lines are written."""
        assert httpx.get(f"{self.url}/balancer-ready", timeout=10).status_code == 204

    def upstreams(self) -> list[str]:
        """The node (host:port) of each request in the access log, in order; "a, b" when nginx tried two."""
        self.barrier()
        lines = (self.root / "access.log").read_text(errors="replace").splitlines()
        return [line.split(" upstream=", 1)[1].split(" xff=", 1)[0] for line in lines if " upstream=" in line]

    def served(self) -> Counter:
        """How many requests each node answered (the last node nginx tried)."""
        return Counter(u.split(",")[-1].strip() for u in self.upstreams())

    def log(self) -> str:
        if self.process.poll() is None:
            self.barrier()
        return "".join(
            (self.root / name).read_text(errors="replace")[-3000:] for name in ("error.log", "access.log")
            if (self.root / name).exists()
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # SIGTERM: nginx's fast shutdown, the workers end with the master
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def start(nodes: list[str], *, fail_timeout: int = 10) -> Balancer:
    """nginx on a free loopback port, round-robin over ``nodes`` ("127.0.0.1:port" each), answering."""
    nginx = binary()
    root = Path(tempfile.mkdtemp(prefix="hcp-nginx-"))
    (root / "temp").mkdir()
    port = free_port(PORTS)
    servers = "\n".join(f"        server {node} max_fails=1 fail_timeout={fail_timeout}s;" for node in nodes)
    (root / "nginx.conf").write_text(CONFIG.format(root=root, port=port, servers=servers, upstream_header=UPSTREAM))
    account = {}
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        for path in (root, root / "temp", root / "nginx.conf"):
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
        account = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
    # -e: nginx opens its compiled-in error log (/var/log/nginx) before reading the config unless told otherwise.
    process = subprocess.Popen([nginx, "-p", f"{root}/", "-c", str(root / "nginx.conf"), "-e", str(root / "error.log")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **account)
    balancer = Balancer(process, port, root)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
            text = stderr + balancer.log()
            balancer.stop()
            raise RuntimeError(f"nginx exited: {text[-3000:]}")
        try:
            # Answered by nginx itself: the probe reaches no node and leaves round-robin where it starts.
            if httpx.get(f"{balancer.url}/balancer-ready", timeout=5).status_code == 204:
                return balancer
        except httpx.TransportError:
            time.sleep(0.1)
    text = balancer.log()
    balancer.stop()
    raise RuntimeError(f"nginx did not answer: {text[-3000:]}")
