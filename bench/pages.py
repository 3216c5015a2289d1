"""Dashboard pages benchmark: the pages a supervisor opens (数据看板 本月 / 上月 / 本年, one county, 评价明细, 痛点分析),
requested over real HTTP with a signed-in supervisor's session through ``haochaping serve``.

`bench/stats.py` calls :func:`measure` at every size beside the stats API (so `make bench` and `make bench-large`
measure both). Alone, against a bench database that stats.py left behind (its largest size):

    python bench/pages.py --database-url postgres://…/haochaping_bench [--requests 10] [--warmup 2]

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
from datetime import date, datetime
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


def _session_main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from haochaping.accounts.models import User
    from haochaping.accounts.roles import Role
    from haochaping.org.models import Region

    user, _created = User.objects.get_or_create(
        username=SUPERVISOR, defaults={"role": Role.SUPERVISOR, "region": Region.objects.get(code=PROVINCE)})
    client = Client()
    client.force_login(user)
    print(json.dumps({"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value}))


def measure(base_url: str, cookie: dict, pages: list[tuple[str, str, dict, str]], requests: int, warmup: int) -> dict:
    """Sequential GETs from one keep-alive client with the session cookie; p50/p95 per page (nearest rank)."""
    import httpx

    out = {}
    with httpx.Client(base_url=base_url, cookies={cookie["name"]: cookie["value"]}, timeout=REQUEST_TIMEOUT,
                      follow_redirects=False) as c:
        for name, path, params, must in pages:
            latencies, errors, sample, size = [], 0, None, 0
            for i in range(warmup + requests):
                started = time.perf_counter()
                r = c.get(path, params=params)
                elapsed = (time.perf_counter() - started) * 1000
                if r.status_code != 200 or must not in r.text:
                    errors += 1
                    sample = f"{r.status_code} {r.headers.get('location', '')} {r.text[:200]}"
                    continue
                if i >= warmup:
                    latencies.append(elapsed)
                size = len(r.content)
            out[name] = {
                "path": path, "params": params, "requests": requests, "errors": errors, "error_sample": sample,
                "p50_ms": round(percentile(latencies, 50), 1), "p95_ms": round(percentile(latencies, 95), 1),
                "max_ms": round(max(latencies), 1) if latencies else 0.0, "bytes": size,
            }
    return out


def county_of(database_url: str) -> str:
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT code FROM org_region WHERE code LIKE '37%%' AND code NOT LIKE '%%00' "
                           "ORDER BY code LIMIT 1").fetchone()
    return row[0] if row else PROVINCE


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_session"]:
        _session_main()
        return 0
    p = argparse.ArgumentParser(description="Dashboard page latency against an existing bench database.")
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    p.add_argument("--requests", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--only", default="", help="comma-separated substrings of page names to measure")
    a = p.parse_args(argv)
    pages = [pg for pg in plan(county_of(a.database_url))
             if not a.only or any(s in pg[0] for s in a.only.split(","))]
    server = Server(a.database_url, a.workers, 4)
    try:
        server.wait_ready()
        result = measure(server.url, session(a.database_url), pages, a.requests, a.warmup)
    finally:
        server.stop()
    print(f"{datetime.now(SHANGHAI):%Y-%m-%d %H:%M} today {date.today()}, load average {os.getloadavg()[0]:.2f}")
    print(f"  {'page':34}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'KB':>7}{'errors':>8}")
    for name, q in result.items():
        print(f"  {name:34}{q['p50_ms']:>9.1f}{q['p95_ms']:>9.1f}{q['max_ms']:>9.1f}{q['bytes'] // 1024:>7}{q['errors']:>8}")
        if q["errors"]:
            print(f"    e.g. {q['error_sample']}")
    return 1 if any(q["errors"] for q in result.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
