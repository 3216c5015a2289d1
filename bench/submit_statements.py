"""Where PostgreSQL's CPU goes in one single submit, per statement (issue 14 item 1).

    DATABASE_URL=postgres://…/x_bench DJANGO_SETTINGS_MODULE=haochaping.settings \\
        .venv/bin/python bench/submit_statements.py [--count 200] [--bad-every 10]

Run it on a database `bench/ingest.py` left behind (its name must contain ``bench``: rows are added). It copies
COUNT fresh completed 办件 from the first one, then submits one evaluation to each in this process
(``services.submit_evaluation``, as the API does, one connection), every BAD_EVERY-th a 差评 (which opens a case),
and reads the database backend's CPU time from /proc (same machine only) around every statement. Prints the
backend's CPU per submit, split by statement (first 40 characters), the rest being BEGIN/COMMIT, and the
statements PostgreSQL holds prepared with their generic/custom plan counts. CPU figures from /proc tick at 10 ms:
use a few hundred submits. Compare two checkouts with ``PYTHONPATH=<checkout>/src``.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--bad-every", type=int, default=10, help="every N-th submit is a 差评 (0: none)")
    args = p.parse_args(argv)
    if "bench" not in os.environ.get("DATABASE_URL", ""):
        print("DATABASE_URL must name a bench database (rows are added)", file=sys.stderr)
        return 2
    import django

    django.setup()
    from django.db import connection, transaction

    from haochaping.evaluation import services
    from haochaping.records.models import ServiceRecord

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    tick = os.sysconf("SC_CLK_TCK")

    def cpu() -> float:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    spent: collections.Counter = collections.Counter()
    runs: collections.Counter = collections.Counter()

    def measure(execute, sql, params, many, context):
        before = cpu()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[sql[:40]] += cpu() - before
            runs[sql[:40]] += 1

    template = ServiceRecord.objects.order_by("pk").first()
    records = []
    with transaction.atomic():
        for _ in range(args.count):
            record = ServiceRecord.objects.get(pk=template.pk)
            record.pk, record.project_no = None, f"STMT{time.time_ns()}"
            record.save()
            records.append(record)
    start, wall = cpu(), time.perf_counter()
    with connection.execute_wrapper(measure):
        for i, record in enumerate(records):
            bad = args.bad_every and i % args.bad_every == args.bad_every // 2
            data = services.EvaluationInput(
                idempotency_key=f"stmt-{time.time_ns()}", project_no=record.project_no, stage="complete",
                channel="qr", level=2 if bad else 5, labels=["209"] if bad else [], comment="等了很久" if bad else "")
            services.submit_evaluation(data, source="bench:statements", by_api_key=True)
    total = cpu() - start
    n = args.count
    print(f"{n} submits (every {args.bad_every or '—'}th a 差评): PostgreSQL backend CPU {1000 * total / n:.2f} ms "
          f"per submit, wall {1000 * (time.perf_counter() - wall) / n:.2f} ms per submit")
    for sql, seconds in spent.most_common():
        if seconds:
            print(f"  {1000 * seconds / n:6.2f} ms  ×{runs[sql]:<5} {sql!r}")
    print(f"  {1000 * (total - sum(spent.values())) / n:6.2f} ms  outside the statements (BEGIN, COMMIT)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT left(statement, 40), generic_plans, custom_plans FROM pg_prepared_statements")
        prepared = cursor.fetchall()
    print("prepared statements (generic/custom plans):", prepared or "none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
