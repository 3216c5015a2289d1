"""`make bench-import` in miniature: 20 办件 and 20 evaluations through `haochaping import` on PostgreSQL, every row
stored once, the report carries the rates and the extrapolation (labelled as one)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from bench.common import drop_database

from tests.bench.test_ingest_smoke import smoke_database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.pg_only
def test_import_benchmark_imports_every_row_once_and_reports_rates():
    url = smoke_database_url().replace("haochaping_bench_smoke_", "haochaping_bench_import_smoke_")
    try:
        run = subprocess.run([sys.executable, str(ROOT / "bench" / "import_history.py"), "--count", "20",
                              "--database-url", url], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
        for kind in ("办件", "evaluations"):  # each file timed, with its peak memory and the command's own summary
            assert re.search(rf"^{kind}\s+\d+\.\d s\s+\d+\.\d rows/s\s+peak RSS\s+\d+ MiB .*新增 20 行", run.stdout,
                             re.M), run.stdout
        assert "rebuild_rollups --check: agrees" in run.stdout
        assert "extrapolated, not run" in run.stdout and "RESULT: OK" in run.stdout
    finally:
        drop_database(url)
