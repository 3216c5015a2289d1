"""`bench/log.py` in miniature: a small template copied up, sealed whole and then incrementally, proofs measured
and verified; every evaluation and exclusion became exactly one leaf. PostgreSQL, in a database of its own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from bench.common import drop_database

ROOT = Path(__file__).resolve().parents[2]


def smoke_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/haochaping_bench_log_smoke_{os.getpid()}", "", ""))


@pytest.mark.pg_only  # runs in `make test-pg`
def test_log_benchmark_seals_everything_once_and_its_proofs_verify():
    url = smoke_database_url()
    try:
        run = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "log.py"), "--template-records", "300", "--size", "1200",
             "--proofs", "5", "--database-url", url, "--no-json"],
            cwd=ROOT, capture_output=True, text=True, timeout=600,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        report = run.stdout
        assert "proofs failing verification: 0" in report, report
        assert re.search(r"first seal \(whole history\):\s+\d", report) and "sealed in" in report, report
        with psycopg.connect(url) as conn:
            one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
            rows = one("SELECT count(*) FROM evaluation_evaluation") + one(
                "SELECT count(*) FROM evaluation_evaluationexclusion")
            leaves = one("SELECT count(*) FROM transparency_logleaf")
            assert leaves == rows == one("SELECT max(tree_size) FROM transparency_checkpoint")
            assert one("SELECT count(*) FROM transparency_checkpoint") == 2
    finally:
        drop_database(url)
