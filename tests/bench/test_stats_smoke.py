"""`bench/stats.py` in miniature: a small template year copied up to two sizes, the real server on PostgreSQL
answers every dashboard question, the counters agree with the evaluations, and the report carries the latencies
and the ratio between the sizes. Always PostgreSQL, in a database of its own that it drops afterwards."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from bench.common import drop_database
from bench.stats import queries, ratios

ROOT = Path(__file__).resolve().parents[2]
QUERY_NAMES = [name for name, _path, _params in queries(date(2026, 1, 31), "370102")]


def smoke_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    parts = urlsplit(url)
    # Own name per process: `make test-pg` may run beside another run.
    return urlunsplit((parts.scheme, parts.netloc, f"/haochaping_bench_stats_smoke_{os.getpid()}", "", ""))


@pytest.mark.pg_only  # runs in `make test-pg`; `make test` needs nothing but Python
def test_stats_benchmark_measures_every_query_at_each_size_and_reports_ratios():
    url = smoke_database_url()
    try:
        run = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "stats.py"), "--template-records", "300", "--sizes", "400,1200",
             "--requests", "2", "--warmup", "1", "--database-url", url, "--no-json"],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        report = run.stdout
        assert "RESULT: OK" in report, report
        number = r"\d+(?:\.\d+)?"
        sizes = [int(n) for n in re.findall(r"^(\d+) evaluations \(", report, re.M)]
        assert len(sizes) == 2 and sizes[1] > 2 * sizes[0], report
        for name in QUERY_NAMES:
            rows = re.findall(rf"^  {re.escape(name)}\s+({number})\s+({number})\s+{number}\s+\d+\s+0$", report, re.M)
            assert len(rows) == 2 and all(float(v) > 0 for row in rows for v in row), (name, report)
            assert re.search(rf"^  {re.escape(name)}\s+p50 {number}×  p95 {number}×$", report, re.M), (name, report)
        assert re.search(rf"^ratio {sizes[1]} / {sizes[0]} evaluations", report, re.M), report

        with psycopg.connect(url) as conn:
            evaluations = conn.execute("SELECT count(*) FROM evaluation_evaluation").fetchone()[0]
            counted = conn.execute("SELECT sum(count) FROM insight_dailycounter").fetchone()[0]
            defaults = conn.execute(
                "SELECT count(*) FROM evaluation_evaluation WHERE channel = 'system_default'").fetchone()[0]
        assert evaluations == sizes[1] == counted  # the rebuilt counters count every evaluation once
        assert defaults > 0  # imported defaults are in the data, so the API's separate count is exercised
    finally:
        drop_database(url)


def test_ratios_compare_each_query_between_consecutive_sizes():
    def run(n, p50, p95):
        return {"data": {"evaluations": n}, "queries": {"q": {"p50_ms": p50, "p95_ms": p95}}}

    out = ratios([run(100, 10.0, 20.0), run(1000, 15.0, 20.0), run(10000, 15.0, 0.0)])
    assert out[0] == {"from": 100, "to": 1000, "queries": {"q": {"p50": 1.5, "p95": 1.0}}}
    assert out[1]["queries"]["q"] == {"p50": 1.0, "p95": 0.0}

