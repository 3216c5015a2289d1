"""Bearer tokens in paths (/i/<token>/ invitation links, /q/r/<token>/ 办件 links, /a/<token>/ answer links) never
reach a log line:
neither gunicorn's access log nor Django's request log."""

from __future__ import annotations

import io
import logging
import sys
from datetime import timedelta
from types import SimpleNamespace

import pytest

from haochaping import __main__ as cli
from haochaping.evaluation import invitations
from tests import factories

TOKEN = "Zq3vN8sXk1Lr0pYtWm5cHb7aQe2uDg9f"


def _served_argv(monkeypatch) -> list[str]:
    import gunicorn.app.wsgiapp

    monkeypatch.setattr(gunicorn.app.wsgiapp, "run", lambda *a, **k: 0)
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    # serve() sets these for its gunicorn workers: undone after the test, so later server processes do not inherit them.
    for name in ("HAOCHAPING_HOST", "HAOCHAPING_PORT", "HAOCHAPING_LOCK_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    cli.serve(["--port", "8999"])
    return list(sys.argv)


def _access_line(monkeypatch, tmp_path, path: str, referer: str = "-") -> str:
    """One access-log line written by the logger and format `haochaping serve` configures for gunicorn."""
    from gunicorn.config import Config

    argv = _served_argv(monkeypatch)
    cfg = Config()
    parsed = cfg.parser().parse_args(argv[1:])
    for name, value in vars(parsed).items():
        if name != "args" and value is not None:
            cfg.set(name.lower(), value)
    log_file = tmp_path / "access.log"
    cfg.set("accesslog", str(log_file))
    logger = cfg.logger_class(cfg)
    environ = {
        "REQUEST_METHOD": "GET", "RAW_URI": path, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.1.2.3", "HTTP_REFERER": referer,
    }
    resp = SimpleNamespace(status="200 OK", sent=123, headers=[])
    req = SimpleNamespace(headers=[("REFERER", referer)])
    logger.access(resp, req, environ, timedelta(milliseconds=7))
    for handler in logger.access_log.handlers:
        handler.flush()
    return log_file.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", [f"/i/{TOKEN}/", f"/q/r/{TOKEN}/", f"/a/{TOKEN}/"])
def test_access_log_never_holds_a_link_token(monkeypatch, tmp_path, path):
    line = _access_line(monkeypatch, tmp_path, path)
    assert TOKEN not in line
    assert "[redacted]" in line and "GET" in line and " 200 " in line


def test_access_log_keeps_ordinary_paths(monkeypatch, tmp_path):
    line = _access_line(monkeypatch, tmp_path, "/q/w/windowtoken/")
    assert "/q/w/windowtoken/" in line  # a window's QR token is printed on a public sign, not a bearer secret


def test_redaction_covers_request_line_and_referer():
    assert TOKEN not in cli.redact_tokens(f"GET /i/{TOKEN}/ HTTP/1.1")
    assert TOKEN not in cli.redact_tokens(f"https://hcp.example.gov.cn/i/{TOKEN}/")
    assert cli.redact_tokens("/items/42/") == "/items/42/"
    assert cli.redact_tokens("/api/v1/items/") == "/api/v1/items/"


def _django_console_handler() -> logging.Handler:
    for handler in logging.getLogger().handlers:
        if any(isinstance(f, cli.RedactTokensFilter) for f in handler.filters):
            return handler
    raise AssertionError("the project's console log handler has no token filter")


@pytest.mark.django_db
def test_django_request_log_of_a_refused_invitation_post_hides_the_token(client, org, item, settings, tmp_path):
    settings.HAOCHAPING_SMS_BACKEND = "haochaping.evaluation.sms.FileSender"
    settings.HAOCHAPING_SMS_FILE = str(tmp_path / "sms.jsonl")
    record = factories.make_record(org, item)
    outcome = invitations.send(record.pk)
    assert outcome.status == "sent"
    handler = _django_console_handler()
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        # A 4xx on a working link: django.request logs the path at WARNING.
        response = client.post(f"/i/{outcome.token}/", {"form_token": "forged", "level": "5"})
    finally:
        handler.setStream(previous)
    assert response.status_code == 400
    logged = stream.getvalue()
    assert "/i/[redacted]/" in logged
    assert outcome.token not in logged
