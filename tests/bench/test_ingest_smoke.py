"""`make bench` in miniature: the real server on PostgreSQL takes 50 evaluations from 2 clients, loses none,
duplicates none, and the report carries the numbers. Always PostgreSQL (the benchmark is about it), also under
`make test`, in a database of its own that it drops afterwards."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from bench.common import drop_database, percentile

ROOT = Path(__file__).resolve().parents[2]
COUNT = 50
CLIENTS = 2
UNITS = 3


def smoke_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    parts = urlsplit(url)
    # Own name per process: `make test` and `make test-pg` may run side by side.
    return urlunsplit((parts.scheme, parts.netloc, f"/haochaping_bench_smoke_{os.getpid()}", "", ""))


@pytest.mark.pg_only  # runs in `make test-pg`; `make test` needs nothing but Python
def test_ingest_benchmark_reports_numbers_and_stores_every_evaluation_once():
    url = smoke_database_url()
    try:
        run = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "ingest.py"), "--count", str(COUNT), "--clients", str(CLIENTS),
             "--units", str(UNITS), "--database-url", url, "--no-json"],
            cwd=ROOT, capture_output=True, text=True, timeout=180,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        report = run.stdout
        number = r"\d+(?:\.\d+)?"
        api = re.search(rf"^API POST /api/v1/evaluations\s+{COUNT}\s+0\s+({number})\s+({number})\s+({number})", report, re.M)
        ref = re.search(rf"^psycopg INSERT\+COMMIT \(reference\)\s+{COUNT}\s+0\s+({number})\s+({number})\s+({number})",
                        report, re.M)
        assert api and ref, report
        assert all(float(v) > 0 for v in (*api.groups(), *ref.groups())), report
        assert re.search(rf"^ratio reference/API throughput: {number}×", report, re.M), report
        # The empty requests and the submits alternate in 4 slices each (bench/ingest.py interleaved).
        assert re.search(rf"^  each of the 4 alternating rounds alone: ({number}×, ){{3}}{number}×$", report, re.M), report
        assert re.search(rf"^ratio API/reference latency:\s+p50 {number}×, p99 {number}×", report, re.M), report
        assert re.search(r"^retry: 5 resubmitted, 5 answered 200 with the first id; rows after retry 50$", report, re.M), report
        # Batch intake beside COPY of the same rows (issue 16 item 6): every item created, every row copied.
        batch = re.search(rf"^API batch \(1000 a request\)\s+{COUNT}\s+0\s+({number})", report, re.M)
        copied = re.search(rf"^psycopg COPY \(1000 a COPY\)\s+{COUNT}\s+0\s+({number})", report, re.M)
        assert batch and copied and float(batch.group(1)) > 0 and float(copied.group(1)) > 0, report
        assert re.search(rf"^ratio batch intake/COPY throughput: {number}×", report, re.M), report
        assert "RESULT: OK" in report
        assert f"{CLIENTS} concurrent clients, 办件 of {UNITS} unit(s)" in report, report

        with psycopg.connect(url) as conn:
            rows, keys, records = conn.execute(
                "SELECT count(*), count(DISTINCT idempotency_key), count(DISTINCT record_id) FROM evaluation_evaluation"
            ).fetchone()
            bad = conn.execute("SELECT count(*) FROM evaluation_evaluation WHERE is_bad").fetchone()[0]
            # --units: the 办件, so their evaluations, round robin over that many departments, windows and staff
            units = conn.execute("SELECT count(DISTINCT (department_id, window_id, staff_id)), min(n), max(n) FROM "
                                 "(SELECT department_id, window_id, staff_id, count(*) n FROM evaluation_evaluation "
                                 "GROUP BY 1, 2, 3) g").fetchone()
        assert (rows, keys, records) == (2 * COUNT, 2 * COUNT, 2 * COUNT)  # single submits, then the batch
        assert bad == 2  # one 差评 in every 50 submissions, in each half
        assert units == (UNITS, 2 * COUNT // UNITS, 2 * COUNT // UNITS + 1)
        assert re.search(rf"^CPU ms per operation, empty request: clients {number}, server {number}, ", report, re.M)

        # The in-process profilers of the single submit run on what the benchmark left (issue 14 item 1).
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "haochaping.settings"}
        for script, pattern in (("submit_cpu.py", rf"^\s+submit\s+Python CPU {number} ms, wall {number} ms"),
                                ("submit_statements.py", rf"^10 submits .*PostgreSQL backend CPU {number} ms")):
            args = ["--count", "10", "--bad-every", "5"]
            profiled = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], cwd=ROOT, env=env,
                                      capture_output=True, text=True, timeout=120)
            assert profiled.returncode == 0, profiled.stdout + profiled.stderr
            assert re.search(pattern, profiled.stdout, re.M), profiled.stdout
    finally:
        drop_database(url)


def test_percentiles_are_values_some_request_really_took():
    latencies = [float(n) for n in range(100, 0, -1)]
    assert percentile(latencies, 50) == 50.0
    assert percentile(latencies, 99) == 99.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) == 0.0
