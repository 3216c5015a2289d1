"""The web workers' bounded lock waits (settings.HAOCHAPING_LOCK_TIMEOUT, set by `haochaping serve`); the behaviour
itself, a request behind a held lock answering 503, is tests/deployment/test_lock_timeout.py on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from haochaping import __main__ as cli

SHOW_OPTIONS = "from django.conf import settings; print(settings.DATABASES['default'].get('OPTIONS', {}).get('options'))"


def _settings(env: dict) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("HAOCHAPING_LOCK")} | env
    full["DJANGO_SETTINGS_MODULE"] = "haochaping.settings"
    return subprocess.run([sys.executable, "-c", SHOW_OPTIONS], env=full, capture_output=True, text=True, timeout=60)


def _served_environment(monkeypatch, env: dict) -> tuple[str | None, str | None]:
    """What `haochaping serve` leaves in the environment for its gunicorn workers, and what its worker child saw."""
    import gunicorn.app.wsgiapp

    for name in ("HAOCHAPING_HOST", "HAOCHAPING_PORT", "HAOCHAPING_LOCK_TIMEOUT", "HAOCHAPING_WEB_LOCK_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    seen = {}

    def run_gunicorn(*args, **kwargs) -> int:
        seen["web"] = os.environ.get("HAOCHAPING_LOCK_TIMEOUT")
        return 0

    def start_worker_child():
        seen["worker"] = os.environ.get("HAOCHAPING_LOCK_TIMEOUT")

    monkeypatch.setattr(gunicorn.app.wsgiapp, "run", run_gunicorn)
    monkeypatch.setattr(cli, "start_worker", start_worker_child)
    monkeypatch.setattr(cli, "stop_worker", lambda process: None)
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    cli.serve(["--port", "8999", "--worker"])
    return seen["web"], seen["worker"]


def test_serve_bounds_its_web_workers_lock_waits_at_10s_and_not_its_worker_childs(monkeypatch):
    assert _served_environment(monkeypatch, {}) == ("10s", None)


def test_the_operator_chooses_the_web_lock_timeout_or_none(monkeypatch):
    assert _served_environment(monkeypatch, {"HAOCHAPING_WEB_LOCK_TIMEOUT": "3s"}) == ("3s", None)
    assert _served_environment(monkeypatch, {"HAOCHAPING_WEB_LOCK_TIMEOUT": "0"})[0] == "0"


@pytest.mark.parametrize(("value", "options"), [("2s", "-c jit=off -c lock_timeout=2s"), ("0", "-c jit=off"),
                                                ("", "-c jit=off")])
def test_postgresql_connections_carry_the_lock_timeout(value, options):
    done = _settings({"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/never_connected", "HAOCHAPING_LOCK_TIMEOUT": value})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == options


def test_a_malformed_lock_timeout_stops_the_process_naming_the_variable():
    done = _settings({"HAOCHAPING_LOCK_TIMEOUT": "ten seconds"})
    assert done.returncode != 0
    assert "HAOCHAPING_WEB_LOCK_TIMEOUT" in done.stderr and "'ten seconds'" in done.stderr
