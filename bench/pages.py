"""Dashboard pages benchmark: the pages a supervisor opens (数据看板 本月 / 上月 / 本年, one county, 评价明细, 痛点分析),
requested over real HTTP with a signed-in supervisor's session through ``haochaping serve``.

`bench/stats.py` calls :func:`measure` at every size beside the stats API (so `make bench` and `make bench-large`
measure both). Alone, against a bench database that stats.py left behind (its largest size):

    python bench/pages.py --database-url postgres://…/haochaping_bench [--requests 10] [--warmup 2]
    python bench/pages.py --database-url postgres://…/small_bench --database-url postgres://…/big_bench
    python bench/pages.py --prepare --only pain --database-url …   # first builds the pain-point snapshots

With several databases (smallest first) it starts one server per database and requests each page from them in
turn, so every size sees the same load, and prints the ratio largest/smallest per page.

The session: a Django subprocess creates (or reuses) the supervisor ``bench-supervisor`` for the whole province
(山东省 370000, the demo's root) and signs it in with Django's test client (``force_login``: the same session row a
password + TOTP sign-in leaves); the benchmark sends that session cookie. A fresh session per measurement, because
sessions expire after 30 idle minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import DEFAULT_DATABASE_URL, Server, _django_env, percentile  # noqa: E402

SHANGHAI = ZoneInfo("Asia/Shanghai")
REQUEST_TIMEOUT = 300.0
SUPERVISOR = "bench-supervisor"
PROVINCE = "370000"


def plan(county: str) -> list[tuple[str, str, dict, str]]:
    """(name, path, params, text the page must contain) of the pages a supervisor opens."""
    return [
        ("page: month", "/insight/", {"period": "month"}, 'id="chart-trend"'),
        ("page: last month", "/insight/", {"period": "last_month"}, 'id="chart-trend"'),
        ("page: year", "/insight/", {"period": "year"}, 'id="chart-trend"'),
        ("page: one county, month", "/insight/", {"period": "month", "region": county}, 'id="chart-trend"'),
        ("page: evaluations list", "/insight/evaluations/", {"period": "month"}, "<table"),
        ("page: evaluations, 差评 only", "/insight/evaluations/", {"period": "year", "part": "bad"}, "<table"),
        ("page: evaluations, page 5", "/insight/evaluations/", {"period": "year", "page": "5"}, "<table"),
        ("page: pain points", "/insight/painpoints/", {}, "<form"),
    ]


def session(database_url: str) -> dict:
    """{"name": cookie name, "value": session key} of a freshly signed-in province supervisor."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "_session"], env=_django_env(database_url), check=True,
        timeout=600, cwd=ROOT, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def prepare(database_url: str) -> float:
    """What the pain-point page needs before it is measured, as a deployment has it: the bench supervisor (whose
    region is a snapshot scope) and the worker's pain-point snapshots (``haochaping painpoint_snapshots``, the task
    ``insight.tasks.build_pain_point_snapshots``), in one Django subprocess. Returns the command's seconds (the
    snapshots only, not the process start)."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "_prepare"], env=_django_env(database_url), check=True,
        timeout=7200, cwd=ROOT, capture_output=True, text=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def _prepare_main() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    _supervisor()
    started = time.perf_counter()
    call_command("painpoint_snapshots", verbosity=0)  # what the worker's task does
    print(time.perf_counter() - started)


def _supervisor():
    from haochaping.accounts.models import User
    from haochaping.accounts.roles import Role
    from haochaping.org.models import Region

    user, _created = User.objects.get_or_create(
        username=SUPERVISOR, defaults={"role": Role.SUPERVISOR, "region": Region.objects.get(code=PROVINCE)})
    return user


def _session_main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(_supervisor())
    print(json.dumps({"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value}))


def measure(base_url: str, cookie: dict, pages: list[tuple[str, str, dict, str]], requests: int, warmup: int) -> dict:
    """Sequential GETs from one keep-alive client with the session cookie; p50/p95 per page (nearest rank)."""
    return measure_interleaved([(base_url, cookie)], pages, requests, warmup)[0]


def measure_interleaved(targets: list[tuple[str, dict]], pages: list[tuple[str, str, dict, str]], requests: int,
                        warmup: int) -> list[dict]:
    """The same pages on several servers (one per database size), request by request in turn: each size sees the
    same load on a shared machine, so the ratios between sizes hold even when the absolute times do not."""
    import httpx

    clients = [httpx.Client(base_url=url, cookies={cookie["name"]: cookie["value"]}, timeout=REQUEST_TIMEOUT,
                            follow_redirects=False) for url, cookie in targets]
    out: list[dict] = [{} for _t in targets]
    try:
        for name, path, params, must in pages:
            latencies: list[list[float]] = [[] for _t in targets]
            errors, samples, sizes = [0] * len(targets), [None] * len(targets), [0] * len(targets)
            for i in range(warmup + requests):
                for t, c in enumerate(clients):
                    started = time.perf_counter()
                    r = c.get(path, params=params)
                    elapsed = (time.perf_counter() - started) * 1000
                    if r.status_code != 200 or must not in r.text:
                        errors[t] += 1
                        samples[t] = f"{r.status_code} {r.headers.get('location', '')} {r.text[:200]}"
                        continue
                    if i >= warmup:
                        latencies[t].append(elapsed)
                    sizes[t] = len(r.content)
            for t in range(len(targets)):
                lat = latencies[t]
                out[t][name] = {
                    "path": path, "params": params, "requests": requests, "errors": errors[t],
                    "error_sample": samples[t], "p50_ms": round(percentile(lat, 50), 1),
                    "p95_ms": round(percentile(lat, 95), 1), "max_ms": round(max(lat), 1) if lat else 0.0,
                    "bytes": sizes[t],
                }
    finally:
        for c in clients:
            c.close()
    return out


def county_of(database_url: str) -> str:
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT code FROM org_region WHERE code LIKE '37%%' AND code NOT LIKE '%%00' "
                           "ORDER BY code LIMIT 1").fetchone()
    return row[0] if row else PROVINCE


def evaluations_in(database_url: str) -> int:
    import psycopg

    with psycopg.connect(database_url) as conn:  # the planner's estimate: instant at any size
        return int(conn.execute("SELECT reltuples FROM pg_class WHERE relname = 'evaluation_evaluation'").fetchone()[0])


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_session"]:
        _session_main()
        return 0
    if argv[:1] == ["_prepare"]:
        _prepare_main()
        return 0
    p = argparse.ArgumentParser(description="Dashboard page latency against existing bench databases (smallest first; "
                                            "several: measured in turn, request by request, and compared).")
    p.add_argument("--database-url", action="append", help="a bench database (repeat for several sizes)")
    p.add_argument("--requests", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--only", default="", help="comma-separated substrings of page names to measure")
    p.add_argument("--prepare", action="store_true",
                   help="first build the pain-point snapshots (haochaping painpoint_snapshots) in each database, as "
                        "the worker would have; needed once a day (the snapshot is of the default period, which "
                        "ends today) and after migrating a database built before them")
    a = p.parse_args(argv)
    urls = a.database_url or [os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)]
    if a.prepare:
        for url in urls:
            print(f"pain-point snapshots of {url.rsplit('/', 1)[-1]}: {prepare(url):.1f} s "
                  f"(load average {os.getloadavg()[0]:.2f})", flush=True)
    pages = [pg for pg in plan(county_of(urls[0])) if not a.only or any(s in pg[0] for s in a.only.split(","))]
    servers = []
    port = int(os.environ.get("BENCH_PORT", "0"))
    try:
        for i, url in enumerate(urls):
            if port:
                os.environ["BENCH_PORT"] = str(port + i)
            servers.append(Server(url, a.workers, 4))
        for server in servers:
            server.wait_ready()
        results = measure_interleaved([(s.url, session(u)) for s, u in zip(servers, urls, strict=True)], pages,
                                      a.requests, a.warmup)
    finally:
        for server in servers:
            server.stop()
    sizes = [evaluations_in(u) for u in urls]
    print(f"{datetime.now(SHANGHAI):%Y-%m-%d %H:%M} (Asia/Shanghai), {a.requests} requests per page after "
          f"{a.warmup} warm-up, sizes measured in turn; load average {os.getloadavg()[0]:.2f} at the end")
    head = "".join(f"{f'p50/p95 ms @{n:.0e}':>24}" for n in sizes)
    print(f"  {'page':30}{head}" + (f"{'ratio p50 / p95':>20}" if len(urls) > 1 else ""))
    failed = False
    for name in results[0]:
        cells = "".join(f"{r[name]['p50_ms']:>13.1f} /{r[name]['p95_ms']:>8.1f}" for r in results)
        first, last = results[0][name], results[-1][name]
        ratio = (f"{last['p50_ms'] / first['p50_ms']:>11.2f}× /{last['p95_ms'] / first['p95_ms']:>5.2f}×"
                 if len(urls) > 1 and first["p50_ms"] and first["p95_ms"] else "")
        print(f"  {name:30}{cells}{ratio}")
        for r in results:
            if r[name]["errors"]:
                failed = True
                print(f"    {r[name]['errors']} errors, e.g. {r[name]['error_sample']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
