"""The `haochaping` console command, run as a newcomer would: a real process against a real database file."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import clock

HAOCHAPING = str(Path(sys.executable).with_name("haochaping"))


def run(args, tmp_path, **kw):
    env = {**os.environ, "HAOCHAPING_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)  # each test gets its own SQLite file under tmp_path
    env = clock.subprocess_env(env)
    return subprocess.run([HAOCHAPING, *args], env=env, capture_output=True, text=True, timeout=120, **kw)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli")
    result = run(["migrate", "-v0"], path)
    assert result.returncode == 0, result.stderr
    return path


def test_help_lists_the_commands(tmp_path):
    result = run(["--help"], tmp_path)
    assert result.returncode == 0
    for command in ("serve", "demo", "worker", "apikey create"):
        assert command in result.stdout


def test_apikey_create_prints_only_the_key_and_it_authenticates(migrated):
    result = run(["apikey", "create", "--name", "政务服务网", "--scopes", "records:write,evaluations:write"], migrated)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("hcp_")
    check = run(
        ["shell", "-c", f"from haochaping.accounts.services import authenticate_api_key as a; k=a('{lines[0]}'); print(sorted(k.scopes))"],
        migrated,
    )
    assert check.stdout.strip().splitlines()[-1] == "['evaluations:write', 'records:write']"


def test_apikey_create_refuses_an_unknown_scope_in_chinese(migrated):
    result = run(["apikey", "create", "--name", "x", "--scopes", "everything:write"], migrated)
    assert result.returncode != 0
    assert result.stdout == ""
    assert "未知的权限范围" in result.stderr


def test_passthrough_to_django_commands(migrated):
    result = run(["showmigrations", "evaluation"], migrated)
    assert result.returncode == 0
    assert "[X] 0002_seed_labels" in result.stdout


def test_worker_runs_queued_tasks(migrated):
    enqueue = run(
        ["shell", "-c", "from haochaping.core.tasks import check_calendar_coverage as t; print(t.enqueue(years_ahead=0).id)"],
        migrated,
    )
    assert enqueue.returncode == 0, enqueue.stderr
    task_id = enqueue.stdout.strip().splitlines()[-1]
    worker = run(["worker", "--batch", "--no-startup-delay"], migrated)
    assert worker.returncode == 0, worker.stderr
    status = run(
        ["shell", "-c", f"from django_tasks_db.models import DBTaskResult as R; r=R.objects.get(id='{task_id}'); print(r.status, r.return_value)"],
        migrated,
    )
    # Nothing seeded in this database, so this year has no published arrangement and the task says so.
    assert status.stdout.strip().splitlines()[-1].startswith("SUCCESSFUL [")
