"""The ``haochaping`` command.

    haochaping serve [--host H] [--port P] [--workers N] [--worker|--no-worker]
                                                           server (gunicorn); on the embedded SQLite database
                                                           it runs the worker too
    haochaping demo [--records N]                          load demo data once
    haochaping worker                                      background tasks
    haochaping apikey create --name N --scopes a,b         print a new API key alone on stdout
    haochaping import FILE --kind records|evaluations      history import (docs/exchange.md)
    haochaping <django command> ...                        any Django management command
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import sys

from gunicorn import util as _gunicorn_util
from gunicorn.glogging import Logger as _GunicornLogger
from gunicorn.http.errors import LimitRequestLine
from gunicorn.workers.gthread import ThreadWorker

from haochaping.core.problems import PROBLEM_CONTENT_TYPE, problem_body

# Paths whose last part is a bearer token: the SMS invitation link, the signed 办件 link and the answer SMS's
# link. Whoever reads such a path from a log can rate the 办件 or open the receipt, so every log line shows them
# redacted.
_TOKEN_PATH = re.compile(r'(^|[\s"]|//[^/\s"]+)(/(?:i|q/r|a)/)[^/?#\s"]+')
REDACTED = "[redacted]"


def redact_tokens(text: str) -> str:
    """``text`` with the token of every /i/<token>/, /q/r/<token>/ and /a/<token>/ path replaced by ``[redacted]``."""
    return _TOKEN_PATH.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


class AccessLogger(_GunicornLogger):
    """gunicorn's logger with bearer tokens redacted from every access-log atom (path, request line, Referer,
    environ and header atoms alike), whatever ``--access-logformat`` says."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {k: redact_tokens(v) if isinstance(v, str) else v for k, v in atoms.items()}


class RedactTokensFilter(logging.Filter):
    """For Django's log handlers: ``django.request`` logs the path of every 4xx/5xx ("Not Found: /i/<token>/")."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


# gunicorn's maximum: a request line (method, path and query string) up to this many bytes reaches the application,
# which refuses query strings over core.middleware.MAX_QUERY_STRING itself; only longer lines are gunicorn's.
LIMIT_REQUEST_LINE = 8190
# PostgreSQL lock_timeout of the web workers unless HAOCHAPING_WEB_LOCK_TIMEOUT says otherwise (settings.py).
WEB_LOCK_TIMEOUT = "10s"


class ProblemThreadWorker(ThreadWorker):
    """gunicorn's threaded worker, answering a request line over LIMIT_REQUEST_LINE with a problem document like
    every other refusal under /api/ (the path is unknown at that point, so pages get it too), not an HTML page."""

    def handle_error(self, req, client, addr, exc):
        if not isinstance(exc, LimitRequestLine):
            return super().handle_error(req, client, addr, exc)
        self.log.warning("Invalid request from ip=%s: request line too long", (addr or ("", -1))[0])
        body = problem_body(
            status=414, detail=f"请求地址（含查询参数）过长（请求行不超过 {LIMIT_REQUEST_LINE} 字节）", field="query",
            code="uri_too_long",
        )
        payload = json.dumps(body, ensure_ascii=False).encode()
        head = (
            f"HTTP/1.1 414 URI Too Long\r\nConnection: close\r\nContent-Type: {PROBLEM_CONTENT_TYPE}\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        ).encode()
        try:
            _gunicorn_util.write_nonblock(client, head + payload)
        except Exception:
            self.log.debug("Failed to send error message.")


def _django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haochaping.settings")
    import django

    django.setup()


def embedded_database(database_url: str | None) -> bool:
    """Whether the site runs on the embedded SQLite database (no DATABASE_URL, or a sqlite: one)."""
    return not database_url or database_url.strip().lower().startswith("sqlite")


def wants_worker(flag: bool | None, env_value: str | None, database_url: str | None) -> bool:
    """Whether ``haochaping serve`` runs the worker beside the web server: ``--worker``/``--no-worker`` decide;
    else HAOCHAPING_SERVE_WORKER (1/0); else yes on the embedded database (one node: `make run` is the whole
    system) and no on PostgreSQL, where production runs ``haochaping worker`` as its own service."""
    if flag is not None:
        return flag
    value = (env_value or "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    return embedded_database(database_url)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    # Linux: the worker gets SIGTERM if the server process dies without stopping it (kill -9), so no worker is
    # left behind holding the database.
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: the server still stops the worker on every normal exit
        pass


def start_worker():
    """``haochaping worker`` as a child process (its own django-tasks signal handling needs a main thread)."""
    import subprocess

    print("后台任务进程已随服务一同启动（定时提醒、逾期上报、短信邀请、定期报告）", file=sys.stderr)
    return subprocess.Popen([sys.executable, "-m", "haochaping", "worker"], preexec_fn=_die_with_parent)  # noqa: S603,PLW1509


def stop_worker(process, timeout: float = 20) -> None:
    """Stop the worker child: SIGTERM (it finishes the task in hand), then SIGKILL after ``timeout`` seconds."""
    import subprocess

    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def serve(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="haochaping serve", description="Serve the site with gunicorn.")
    parser.add_argument("--host", default=os.environ.get("HAOCHAPING_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("HAOCHAPING_PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("HAOCHAPING_WORKERS", "2")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("HAOCHAPING_THREADS", "4")))
    parser.add_argument(
        "--worker", action=argparse.BooleanOptionalAction, default=None,
        help="also run the background and scheduled work (default: yes on the embedded SQLite database, "
             "no on PostgreSQL, where `haochaping worker` runs as its own service; HAOCHAPING_SERVE_WORKER=1/0)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haochaping.settings")
    # Settings (in the gunicorn workers and the worker child alike) read the address from here: links in SMS
    # follow --host/--port unless HAOCHAPING_PUBLIC_URL says otherwise.
    os.environ["HAOCHAPING_HOST"], os.environ["HAOCHAPING_PORT"] = args.host, str(args.port)
    from gunicorn.app.wsgiapp import run

    sys.argv = [
        "gunicorn",
        "haochaping.wsgi:application",
        "--bind", f"{args.host}:{args.port}",
        "--workers", str(args.workers),
        "--threads", str(args.threads),
        "--worker-class", "haochaping.__main__.ProblemThreadWorker",
        "--limit-request-line", str(LIMIT_REQUEST_LINE),
        "--access-logfile", "-",
        # Query strings stay out of the access log: they could carry tokens (never personal data, by design).
        "--access-logformat", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
        # The path itself may carry a bearer token (/i/<token>/): AccessLogger redacts it.
        "--logger-class", "haochaping.__main__.AccessLogger",
        "--timeout", "60",
    ]
    print(f"好差评系统已启动： http://{args.host}:{args.port}/", file=sys.stderr)
    worker = None
    if wants_worker(args.worker, os.environ.get("HAOCHAPING_SERVE_WORKER"), os.environ.get("DATABASE_URL")):
        worker = start_worker()
    # The web workers' lock waits are bounded (settings.HAOCHAPING_LOCK_TIMEOUT); set after the worker child has
    # started, so its tasks keep waiting as long as they must.
    os.environ["HAOCHAPING_LOCK_TIMEOUT"] = os.environ.get("HAOCHAPING_WEB_LOCK_TIMEOUT", WEB_LOCK_TIMEOUT)
    try:
        return run() or 0
    finally:
        # gunicorn exits through sys.exit on Ctrl-C or SIGTERM: the worker stops with it (one command, one Ctrl-C).
        stop_worker(worker)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "serve":
        return serve(rest)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haochaping.settings")
    from django.core.management import execute_from_command_line

    if command == "worker":
        return execute_from_command_line(["haochaping", "worker", *rest]) or 0
    if command == "manage":
        rest_argv = rest
    else:
        rest_argv = [command, *rest]
    execute_from_command_line(["haochaping", *rest_argv])
    return 0


if __name__ == "__main__":
    sys.exit(main())
