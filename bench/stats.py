"""Statistics benchmark: GET /api/v1/stats latency at growing numbers of evaluations (dashboards must not slow down
as the data grows).

    python bench/stats.py [--sizes 100000,1000000] [--requests 20] [--database-url postgres://…/haochaping_bench]

1. Drops and recreates the bench database, runs ``haochaping migrate``, and in a Django subprocess builds a
   *template* year with the demo generator (``haochaping.demo.generator.build``: the demo regions, departments,
   halls, windows, staff, items, platforms, and TEMPLATE 办件 with their evaluations) plus an API key with
   ``stats:read``. A third of the completed 办件 left unrated get an imported system-default evaluation.
2. For each size: copies the template's 办件 and evaluations inside PostgreSQL (INSERT … SELECT over
   generate_series, explicit ids) until the database holds about SIZE evaluations. Each copy of a 办件 moves by a
   pseudo-random whole number of days within the year (wrapping, never into the future), so the days, units,
   items, channels and levels keep the demo's spread while the per-day counters grow as they would. One 差评 in
   twenty is excluded (appeal upheld). Then ANALYZE, ``haochaping rebuild_rollups`` (timed) and the pain-point
   snapshots the worker would have built (``haochaping painpoint_snapshots``, timed; bench/pages.py ``prepare``).
3. Starts ``haochaping serve`` (gunicorn, as deployed) and measures typical dashboard queries: after a warm-up,
   REQUESTS sequential requests each from one keep-alive client; p50/p95 per query. Then the dashboard pages with
   a signed-in supervisor's session (bench/pages.py; ``--no-pages`` skips them).
4. Prints a table per size and the ratio of each query's p50 (p95) between consecutive sizes, and writes
   bench/results/stats-<timestamp>.json. Ratios are measured in one run and never asserted; the exit status is
   non-zero only when a request failed or the figures disagree with the database.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/stats.py` puts bench/, not the checkout, on the path
    sys.path.insert(0, str(ROOT))

from bench import pages  # noqa: E402 - after the path fix above
from bench.common import (  # noqa: E402
    DEFAULT_DATABASE_URL,
    RESULTS_DIR,
    Server,
    _dbname,
    _django_env,
    migrate,
    percentile,
    recreate_database,
    server_facts,
)
from bench.grow import (  # noqa: E402 - the data; re-exported for bench/log.py and bench/rebuild.py
    analyze,
    database_facts,
    finish,
    grow,
    maintain_partitions,
    prepare_template,
    rebuild_rollups,
    seed,
)

REQUEST_TIMEOUT = 120.0


@dataclass
class Config:
    sizes: list[int] = field(default_factory=lambda: [100_000, 1_000_000])
    requests: int = 20
    warmup: int = 3
    template_records: int = 20_000
    workers: int = 2
    threads: int = 4
    database_url: str = DEFAULT_DATABASE_URL
    write_json: bool = True
    pages: bool = True
    sql_rollups_from: int | None = None  # sizes from this on: counters by bench/fill_rollups.py, not rebuild_rollups
    cases: bool = False  # open rectification cases for the 差评 at each size (bench/grow_cases.py)


def queries(today: date, county: str) -> list[tuple[str, str, dict]]:
    """(name, path, params) of the dashboard's typical questions."""
    month = {"from": str(today - timedelta(days=30)), "to": str(today)}
    year = {"from": str(today - timedelta(days=365)), "to": str(today)}
    return [
        ("province, last 30 days", "/api/v1/stats", {"region_code": "370000"} | month),
        ("by department, last 30 days", "/api/v1/stats", {"group_by": "department"} | month),
        ("by day, last 365 days", "/api/v1/stats", {"group_by": "day"} | year),
        ("one county, last 30 days", "/api/v1/stats", {"region_code": county} | month),
        ("county by staff, last 30 days", "/api/v1/stats", {"region_code": county, "group_by": "staff"} | month),
        ("rankings by window, last 30 days", "/api/v1/stats/rankings", {"by": "window"} | month),
    ]


# ---------------------------------------------------------------------------------------------------------------
# Data




# ---------------------------------------------------------------------------------------------------------------
# Measurement


def measure(base_url: str, api_key: str, plan: list[tuple[str, str, dict]], requests: int, warmup: int) -> dict:
    """Sequential requests from one keep-alive client: each latency is one dashboard question on an idle server."""
    import httpx

    out = {}
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=REQUEST_TIMEOUT) as c:
        for name, path, params in plan:
            latencies, errors, sample, body = [], 0, None, {}
            for i in range(warmup + requests):
                started = time.perf_counter()
                r = c.get(path, params=params)
                elapsed = (time.perf_counter() - started) * 1000
                if r.status_code != 200:
                    errors += 1
                    sample = f"{r.status_code} {r.text[:200]}"
                    continue
                if i >= warmup:
                    latencies.append(elapsed)
                body = r.json()
            total = body.get("total", {})
            out[name] = {
                "path": path, "params": params, "requests": requests, "errors": errors, "error_sample": sample,
                "p50_ms": round(percentile(latencies, 50), 1), "p95_ms": round(percentile(latencies, 95), 1),
                "max_ms": round(max(latencies), 1) if latencies else 0.0,
                "groups": len(body.get("groups", body.get("ranked", []))) + len(body.get("apart", [])),
                "total": {k: total.get(k) for k in ("evaluations", "excluded", "system_default", "total", "completed")},
            }
    return out


def one_size(cfg: Config, size: int, api_key: str, plan, t: int, e_t: int, have_slots: int, say=print,
             county: str = "") -> tuple[dict, int]:
    want_slots = max(t, round(size / e_t * t))
    started = time.perf_counter()
    phases = {}
    if want_slots > have_slots:
        phases = grow(cfg.database_url, t, have_slots, want_slots, say)
    f0 = time.perf_counter()
    finish(cfg.database_url)
    phases["finish_s"] = round(time.perf_counter() - f0, 1)
    grow_s = time.perf_counter() - started
    sql = cfg.sql_rollups_from is not None and size >= cfg.sql_rollups_from
    say(f"  data written in {grow_s:.1f} s ({phases}); {'counters by SQL' if sql else 'rebuild_rollups'} …")
    if sql:  # rebuild_rollups would take hours at 10^7 on the shared machine (bench/README.md)
        from bench import fill_rollups

        started = time.perf_counter()
        fill_rollups.fill(cfg.database_url, say)
        rebuild_s = time.perf_counter() - started
    else:
        rebuild_s = rebuild_rollups(cfg.database_url)
    if cfg.cases:  # the 差评's cases and their counters, set-wise (the copies have none)
        c0 = time.perf_counter()
        subprocess.run([sys.executable, str(Path(__file__).with_name("grow_cases.py")), "--database-url",
                        cfg.database_url], check=True, env=_django_env(cfg.database_url))
        phases["cases_s"] = round(time.perf_counter() - c0, 1)
    analyze(cfg.database_url)  # the rebuilt counter tables too, as autovacuum would soon after
    # The worker's pain-point snapshots, as a deployment has them (the page reads them: issue 14).
    snapshots_s = pages.prepare(cfg.database_url) if cfg.pages else 0.0
    if cfg.pages:
        say(f"  pain-point snapshots in {snapshots_s:.1f} s")
    facts = database_facts(cfg.database_url)
    say(f"  {facts['evaluations']} evaluations, {facts['counters']} counters; rebuild_rollups {rebuild_s:.1f} s")
    load = [round(x, 2) for x in os.getloadavg()]
    m0 = time.perf_counter()
    server = Server(cfg.database_url, cfg.workers, cfg.threads)
    ok = False
    try:
        server.wait_ready()
        results = measure(server.url, api_key, plan, cfg.requests, cfg.warmup)
        if cfg.pages:  # the dashboard pages, over HTTP with a signed-in supervisor (bench/pages.py)
            results |= pages.measure(server.url, pages.session(cfg.database_url), pages.plan(county),
                                     cfg.requests, cfg.warmup)
        ok = True
    finally:
        server.stop()
        if ok:
            server.remove_log()
        else:
            print(f"server log kept at {server.log.name}", file=sys.stderr)
    return {"size": size, "data": facts, "grow_s": round(grow_s, 1), "grow_phases": phases,
            "rebuild_rollups_s": round(rebuild_s, 1), "rollups_by": "sql" if sql else "rebuild_rollups",
            "painpoint_snapshots_s": round(snapshots_s, 1),
            "measure_s": round(time.perf_counter() - m0, 1),
            "load_average_at_measure": load, "queries": results}, want_slots


def check(result: dict) -> list[str]:
    problems = []
    for run in result["runs"]:
        d = run["data"]
        if d["counted"] != d["evaluations"]:
            problems.append(f"size {run['size']}: counters hold {d['counted']} evaluations, the table {d['evaluations']}")
        for name, q in run["queries"].items():
            if q["errors"]:
                problems.append(f"size {run['size']}, {name}: {q['errors']} errors, e.g. {q['error_sample']}")
        year = run["queries"].get("by day, last 365 days", {}).get("total", {})
        if year.get("total") is not None and year["total"] > d["evaluations"]:
            problems.append(f"size {run['size']}: the year's total {year['total']} exceeds the evaluations")
    return problems


def ratios(runs: list[dict]) -> list[dict]:
    out = []
    for small, big in zip(runs, runs[1:], strict=False):
        entry = {"from": small["data"]["evaluations"], "to": big["data"]["evaluations"], "queries": {}}
        for name, q in big["queries"].items():
            s = small["queries"][name]
            entry["queries"][name] = {
                "p50": round(q["p50_ms"] / s["p50_ms"], 2) if s["p50_ms"] else None,
                "p95": round(q["p95_ms"] / s["p95_ms"], 2) if s["p95_ms"] else None,
            }
        out.append(entry)
    return out


def format_report(result: dict) -> str:
    m = result["machine"]
    lines = [
        f"haochaping stats benchmark — sizes {', '.join(str(r['data']['evaluations']) for r in result['runs'])} "
        f"evaluations; {result['config']['requests']} sequential requests per query after {result['config']['warmup']} "
        f"warm-up",
        f"server: haochaping serve (gunicorn gthread, {result['config']['workers']} workers); PostgreSQL "
        f"{m['postgresql']}; {m['cpus']} CPUs; load average at start {m['load_average_at_start'][0]}",
        f"template: {result['template']['records']} demo 办件 with {result['template']['evaluations']} evaluations "
        f"(built in {result['template']['seconds']} s)",
        "",
    ]
    for run in result["runs"]:
        d = run["data"]
        lines.append(
            f"{d['evaluations']} evaluations ({d['excluded']} excluded, {d['system_default']} system defaults), "
            f"{d['records']} 办件, {d['counters']} daily counters, database {d['database_mb']} MB; data "
            f"{run['grow_s']} s {run.get('grow_phases', {})}, counters ({run.get('rollups_by')}) "
            f"{run['rebuild_rollups_s']} s, measuring "
            f"{run.get('measure_s')} s; load average "
            f"{run['load_average_at_measure'][0]}"
        )
        lines.append(f"  {'query':34}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'groups':>8}{'errors':>8}")
        for name, q in run["queries"].items():
            lines.append(f"  {name:34}{q['p50_ms']:>9.1f}{q['p95_ms']:>9.1f}{q['max_ms']:>9.1f}{q.get('groups', ''):>8}"
                         f"{q['errors']:>8}")
        lines.append("")
    for r in result["ratios"]:
        lines.append(f"ratio {r['to']} / {r['from']} evaluations ({r['to'] / r['from']:.1f}× the data):")
        for name, q in r["queries"].items():
            lines.append(f"  {name:34}p50 {q['p50'] or 0:.2f}×  p95 {q['p95'] or 0:.2f}×")
        lines.append("")
    lines.append("RESULT: " + ("OK" if result["ok"] else "FAILED — " + "; ".join(result["problems"])))
    return "\n".join(lines)


def run(cfg: Config, say=print) -> dict:
    t0 = time.perf_counter()
    started_at = datetime.now().astimezone().isoformat(timespec="seconds")
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    recreate_database(cfg.database_url)
    migrate(cfg.database_url)
    say(f"building the template year ({cfg.template_records} demo 办件) …")
    seeded = seed(cfg.database_url, cfg.template_records)
    maintain_partitions(cfg.database_url)  # the template year's months get their partitions; the copies go there
    t, e_t = prepare_template(cfg.database_url)
    template_s = time.perf_counter() - t0
    plan = queries(date.fromisoformat(seeded["today"]), seeded["county"])
    runs, slots = [], t
    for size in cfg.sizes:
        say(f"size {size}:")
        entry, slots = one_size(cfg, size, seeded["api_key"], plan, t, e_t, slots, say, seeded["county"])
        runs.append(entry)
    result = {
        "benchmark": "stats",
        "started_at": started_at,
        "config": {k: v for k, v in asdict(cfg).items() if k != "database_url"} | {"database": _dbname(cfg.database_url)},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_at_start": load_at_start} | server_facts(cfg.database_url),
        "template": {"records": t, "evaluations": e_t, "seconds": round(template_s, 1)},
        "runs": runs,
        "ratios": ratios(runs),
    }
    result["problems"] = check(result)
    result["ok"] = not result["problems"]
    result["total_s"] = round(time.perf_counter() - t0, 1)
    say(f"total {result['total_s']} s")
    return result


def write_json(result: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"stats-{datetime.now().strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    return path


def parse_args(argv: list[str]) -> Config:
    env = os.environ
    p = argparse.ArgumentParser(description="GET /api/v1/stats latency at growing numbers of evaluations.")
    p.add_argument("--sizes", default=env.get("BENCH_STATS_SIZES", "100000,1000000"),
                   help="evaluations at each measurement, comma-separated, ascending (e.g. 100000,1000000,10000000)")
    p.add_argument("--requests", type=int, default=int(env.get("BENCH_STATS_REQUESTS", 20)), help="requests per query")
    p.add_argument("--warmup", type=int, default=3, help="unmeasured requests per query first")
    p.add_argument("--template-records", type=int, default=int(env.get("BENCH_STATS_TEMPLATE", 20_000)),
                   help="demo 办件 in the template year that is copied up to each size")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    p.add_argument("--database-url", default=env.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
                   help="PostgreSQL URL of the bench database; it is dropped and recreated")
    p.add_argument("--no-json", action="store_true", help="do not write bench/results/stats-*.json")
    p.add_argument("--no-pages", action="store_true", help="measure only the stats API, not the dashboard pages")
    p.add_argument("--sql-rollups-from", type=int, default=None,
                   help="from this size on, recompute the counters by SQL (bench/fill_rollups.py) instead of "
                        "rebuild_rollups, which takes hours at 10^7 on a shared 2-core machine")
    p.add_argument("--cases", action="store_true",
                   help="open a rectification case for each 差评 at each size (bench/grow_cases.py), so the "
                        "dashboards' 整改与申诉 figures have cases to count")
    a = p.parse_args(argv)
    try:
        sizes = [int(s.replace("_", "")) for s in a.sizes.split(",") if s.strip()]
    except ValueError:
        p.error("--sizes takes whole numbers separated by commas")
    if not sizes or sizes != sorted(sizes) or sizes[0] < 1 or a.requests < 1 or a.template_records < 1:
        p.error("--sizes must be positive and ascending; --requests and --template-records positive")
    if not a.database_url.startswith(("postgres://", "postgresql://")):
        p.error("the benchmark needs PostgreSQL: --database-url postgres://…")
    return Config(sizes=sizes, requests=a.requests, warmup=a.warmup, template_records=a.template_records,
                  workers=a.workers, database_url=a.database_url, write_json=not a.no_json,
                  pages=not a.no_pages, sql_rollups_from=a.sql_rollups_from, cases=a.cases)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    cfg = parse_args(argv)
    result = run(cfg, say=lambda msg: print(msg, flush=True))
    print(format_report(result))
    if cfg.write_json:
        print(f"written: {write_json(result).relative_to(ROOT)}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
