"""Python CPU of one single submit, in process, beside an empty authenticated request (issue 14 item 1).

    DATABASE_URL=postgres://…/x_bench DJANGO_SETTINGS_MODULE=haochaping.settings \\
        .venv/bin/python bench/submit_cpu.py [--count 300] [--bad-every 50]

Run it on a database `bench/ingest.py` left behind (its name must contain ``bench``: rows are added). It copies
COUNT fresh completed 办件 from the first one (one INSERT … SELECT), creates an API key, then POSTs through Django's
test client (the whole middleware stack and django-ninja, no HTTP server): COUNT empty bodies (422), then one
evaluation to each new 办件, every BAD_EVERY-th a 差评 with a label (which opens a rectification case; 1: all of
them, 0: none). Prints this process's CPU time per request of each kind (``time.process_time``: the Python side
only, PostgreSQL's own CPU is bench/submit_statements.py's) and the wall time. Compare two checkouts with
``PYTHONPATH=<checkout>/src``. The ratio that issue 14 asks about is bench/ingest.py's, through the real server.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=300)
    p.add_argument("--bad-every", type=int, default=50, help="every N-th submit is a 差评 (1: all, 0: none)")
    args = p.parse_args(argv)
    if "bench" not in os.environ.get("DATABASE_URL", ""):
        print("DATABASE_URL must name a bench database (rows are added)", file=sys.stderr)
        return 2
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from haochaping.accounts.models import Scope
    from haochaping.accounts.services import create_api_key
    from haochaping.records.models import ServiceRecord

    _key, secret = create_api_key(name="submit_cpu", scopes=[Scope.EVALUATIONS_WRITE],
                                  rate_limit_per_minute=2_000_000_000)
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {secret}")
    prefix = f"CPU{uuid.uuid4().hex[:6]}"
    warm = 20
    table = ServiceRecord._meta.db_table
    columns = [f.column for f in ServiceRecord._meta.concrete_fields if f.column != "id"]
    quoted = connection.ops.quote_name
    select = ", ".join("%s || lpad(g::text, 7, '0')" if c == "project_no" else f"r.{quoted(c)}" for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quoted(table)} ({', '.join(quoted(c) for c in columns)}) SELECT {select} "
                       f"FROM (SELECT * FROM {quoted(table)} ORDER BY id LIMIT 1) r, generate_series(1, %s) g",
                       [prefix, args.count + warm])

    def body(i: int) -> str:
        bad = args.bad_every and i % args.bad_every == args.bad_every - 1
        item = {"idempotency_key": uuid.uuid4().hex, "project_no": f"{prefix}{i + 1:07d}", "stage": "complete",
                "channel": "pc", "level": 2 if bad else 5}
        if bad:
            item.update(labels=["209"], comment="等了很久")
        return json.dumps(item)

    def post(data: str, expect: int) -> None:
        r = client.post("/api/v1/evaluations", data=data, content_type="application/json")
        if r.status_code != expect:
            raise SystemExit(f"answered {r.status_code}, expected {expect}: {r.content[:300]!r}")

    for i in range(args.count, args.count + warm):  # imports, prepared statements, caches
        post(body(i), 201)
        post("{}", 422)
    bodies = [body(i) for i in range(args.count)]
    out = {}
    for name, items, expect in (("empty request", ["{}"] * args.count, 422), ("submit", bodies, 201)):
        cpu, wall = time.process_time(), time.perf_counter()
        for data in items:
            post(data, expect)
        out[name] = ((time.process_time() - cpu) * 1000 / len(items), (time.perf_counter() - wall) * 1000 / len(items))
    bad = f"every {args.bad_every}th a 差评" if args.bad_every else "no 差评"
    print(f"{args.count} requests of each kind ({bad}), in process:")
    for name, (cpu, wall) in out.items():
        print(f"    {name:14} Python CPU {cpu:.2f} ms, wall {wall:.2f} ms per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
