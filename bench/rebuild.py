"""Maintenance benchmark: wall time and peak memory (RSS) of ``haochaping rebuild_rollups`` and of
``rebuild_rollups --check`` at growing numbers of evaluations, on PostgreSQL with the monthly partitions.

    python bench/rebuild.py [--sizes 100000,1000000] [--template-records 5000] [--database-url postgres://…bench…]
    python bench/rebuild.py --reuse --database-url postgres://…bench…     # measure only, on the data already there

1. Drops and recreates the bench database, ``haochaping migrate`` (办件 and evaluations partitioned by month), and
   builds a template year with the demo generator, as bench/stats.py does (its seed, template and copy
   statements: INSERT … SELECT over generate_series, each copy of a 办件 moved by whole days within the year).
2. For each size: grows the database to about SIZE evaluations (one 差评 in twenty excluded), ANALYZE, then runs
   ``haochaping partitions --maintain`` (the copies spread over the past year landed in the DEFAULT partitions:
   the worker's upkeep moves them into monthly partitions, timed), then ``rebuild_rollups`` (writes every counter: the copies were inserted without them) and ``rebuild_rollups --check``
   as separate processes; the peak RSS of each is its own ``ru_maxrss`` (os.wait4), the time its wall time.
3. Prints a table and writes bench/results/rebuild-<timestamp>.json. ``--check`` must agree after the rebuild:
   the exit status is non-zero otherwise.

``--reuse`` skips steps 1–2: the two commands are measured on the database as it is (one built earlier, e.g. the
10^7 database of ``make bench-large``), which is left as it was apart from the counters the rebuild rewrites.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import stats  # noqa: E402 - after the path fix above
from bench.common import (  # noqa: E402
    RESULTS_DIR,
    _dbname,
    _django_env,
    _haochaping_command,
    migrate,
    recreate_database,
    server_facts,
)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hcp_bench_partitions"


def measured(database_url: str, *args: str) -> dict:
    """Run ``haochaping rebuild_rollups *args``; its wall time, peak RSS and exit status."""
    started = time.perf_counter()
    proc = subprocess.Popen([*_haochaping_command(), "rebuild_rollups", *args], env=_django_env(database_url),
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"seconds": round(time.perf_counter() - started, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024),
            "exit": proc.returncode, "output": output.strip()[-600:],
            "load_average_after": [round(x, 2) for x in os.getloadavg()]}


def partitions_of(database_url: str) -> int:
    import psycopg

    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'evaluation_evaluation'::regclass"
                            ).fetchone()[0]


def run(sizes: list[int], template_records: int, database_url: str, say=print) -> dict:
    t0 = time.perf_counter()
    recreate_database(database_url)
    migrate(database_url)
    say(f"building the template year ({template_records} demo 办件) …")
    stats.seed(database_url, template_records)
    t, e_t = stats.prepare_template(database_url)
    runs, slots = [], t
    for size in sizes:
        want = max(t, round(size * t / e_t))
        say(f"size {size}: growing to {want} 办件 …")
        g0 = time.perf_counter()
        if want > slots:
            stats.grow(database_url, t, slots, want, say=say)
            slots = want
        stats.finish(database_url)
        grow_s = time.perf_counter() - g0
        # The copies spread over the past year, older than the partitions the migration made: they landed in the
        # DEFAULT partitions, and the worker's upkeep gives each month its partition (timed: it moves the rows).
        m0 = time.perf_counter()
        subprocess.run([*_haochaping_command(), "partitions", "--maintain"], env=_django_env(database_url),
                       cwd=ROOT, check=True, timeout=7200)
        maintain_s = time.perf_counter() - m0
        subprocess.run(["psql", database_url, "-qc", "ANALYZE"], check=True)
        facts = stats.database_facts(database_url)
        say(f"  {facts['evaluations']} evaluations; rebuild_rollups …")
        rebuild = measured(database_url, "-v", "0")
        say(f"  rebuild {rebuild['seconds']} s, {rebuild['peak_rss_mb']} MB; --check …")
        check = measured(database_url, "--check", "-v", "0")
        say(f"  check {check['seconds']} s, {check['peak_rss_mb']} MB")
        runs.append({"size": size, "grow_s": round(grow_s, 1), "maintain_s": round(maintain_s, 1), "database": facts,
                     "partitions": partitions_of(database_url), "rebuild": rebuild, "check": check})
    return {
        "benchmark": "rebuild",
        "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average": [round(x, 2) for x in os.getloadavg()]} | server_facts(database_url),
        "database": _dbname(database_url),
        "template": {"records": t, "evaluations": e_t},
        "runs": runs,
        "ok": all(r["rebuild"]["exit"] == 0 and r["check"]["exit"] == 0 for r in runs),
        "total_s": round(time.perf_counter() - t0, 1),
    }


def reuse(database_url: str, say=print) -> dict:
    """Measure ``rebuild_rollups`` and ``--check`` on the database as it is (no drop, no growing)."""
    t0 = time.perf_counter()
    facts = stats.database_facts(database_url)
    say(f"  {facts['evaluations']} evaluations; rebuild_rollups …")
    rebuild = measured(database_url, "-v", "0")
    say(f"  rebuild {rebuild['seconds']} s, {rebuild['peak_rss_mb']} MB; --check …")
    check = measured(database_url, "--check", "-v", "0")
    say(f"  check {check['seconds']} s, {check['peak_rss_mb']} MB")
    run = {"size": facts["evaluations"], "grow_s": 0, "maintain_s": 0, "database": facts,
           "partitions": partitions_of(database_url), "rebuild": rebuild, "check": check}
    return {
        "benchmark": "rebuild", "reuse": True,
        "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average": [round(x, 2) for x in os.getloadavg()]} | server_facts(database_url),
        "database": _dbname(database_url), "runs": [run], "ok": rebuild["exit"] == 0 and check["exit"] == 0,
        "total_s": round(time.perf_counter() - t0, 1),
    }


def report(result: dict) -> str:
    lines = [f"{'evaluations':>12} {'partitions':>10} {'maintain s':>10} {'rebuild s':>10} {'rebuild MB':>11} {'check s':>8} {'check MB':>9}"]
    for r in result["runs"]:
        lines.append(f"{r['database']['evaluations']:>12} {r['partitions']:>10} {r['maintain_s']:>10} {r['rebuild']['seconds']:>10} "
                     f"{r['rebuild']['peak_rss_mb']:>11} {r['check']['seconds']:>8} {r['check']['peak_rss_mb']:>9}")
    lines.append(f"total {result['total_s']} s; ok: {result['ok']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    env = os.environ
    p = argparse.ArgumentParser(description="rebuild_rollups time and peak RSS at growing numbers of evaluations.")
    p.add_argument("--sizes", default=env.get("BENCH_REBUILD_SIZES", "100000,1000000"))
    p.add_argument("--template-records", type=int, default=int(env.get("BENCH_REBUILD_TEMPLATE", 5000)))
    p.add_argument("--database-url", default=env.get("BENCH_REBUILD_DATABASE_URL", DEFAULT_URL),
                   help="PostgreSQL URL of the bench database; it is dropped and recreated (name must contain bench)")
    p.add_argument("--reuse", action="store_true",
                   help="measure on the database as it is: no drop, no growing (--sizes is ignored)")
    a = p.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in a.sizes.split(",") if s.strip()]
    say = lambda m: print(m, flush=True)  # noqa: E731
    result = reuse(a.database_url, say=say) if a.reuse else run(sizes, a.template_records, a.database_url, say=say)
    print(report(result))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"rebuild-{datetime.now().strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(f"written: {path.relative_to(ROOT)}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
