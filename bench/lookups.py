"""One row looked up by a unique key, with many months of partitions held (issue 14 item 3).

    DATABASE_URL=postgres://…/x_bench DJANGO_SETTINGS_MODULE=haochaping.settings \\
        .venv/bin/python bench/lookups.py [--months 40] [--count 2000]

Run it on a database `bench/ingest.py` left behind (its name must contain ``bench``). ``--months N`` first adds empty
monthly partitions before the oldest one held until each partitioned table holds N months (as a database a few years
old does; bench/ingest.py's holds 4, and a DEFAULT partition); a table already holding N or more is left as it is. Then it times, one after the other in this process, each way of finding one 办件 or
evaluation: wall time per call (median), this process's CPU and the PostgreSQL backend's CPU (from /proc) per call.
Compare two checkouts with ``PYTHONPATH=<checkout>/src`` (a checkout without ``by_number`` skips that line).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--months", type=int, default=0, help="add empty past months until each table holds this many")
    p.add_argument("--count", type=int, default=2000)
    args = p.parse_args(argv)
    if "bench" not in os.environ.get("DATABASE_URL", ""):
        print("DATABASE_URL must name a bench database (partitions are added)", file=sys.stderr)
        return 2
    import django

    django.setup()
    from django.db import connection

    from haochaping.core import partitions as P
    from haochaping.evaluation import services
    from haochaping.evaluation.models import Evaluation
    from haochaping.records.models import ServiceRecord

    with connection.cursor() as cursor:
        for table in P.TABLES:
            months = [p.month for p in P.partitions(table) if p.month]
            for n in range(1, args.months - len(months) + 1):
                P._create_partition(cursor, table, P.add_months(min(months), -n))
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]

    def backend_ms() -> float:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")

    record = ServiceRecord.objects.order_by("-id").first()
    evaluation = Evaluation.objects.order_by("-id").first()
    if record is None or evaluation is None:
        print("the database holds no 办件 or no evaluation: run bench/ingest.py on it first", file=sys.stderr)
        return 2
    number = record.project_no
    ways = [("filter(project_no=…).first()", lambda: ServiceRecord.objects.filter(project_no=number).first())]
    if hasattr(ServiceRecord.objects, "by_number"):
        ways.append(("by_number(…).first()", lambda: ServiceRecord.objects.by_number(number).first()))
    ways += [
        ("a 办件 read, then save() (as a completion)", lambda: record.save(update_fields=["overdue_explanation"])),
        ("find_by_receipt (evaluation and its 办件)", lambda: services.find_by_receipt(evaluation.receipt_code)),
    ]
    print(f"{len(P.partitions('records_servicerecord'))} partitions of 办件, "
          f"{len(P.partitions('evaluation_evaluation'))} of evaluations; {args.count} calls each")
    for name, call in ways:
        for _ in range(20):
            call()
        walls, cpu, backend = [], time.process_time(), backend_ms()
        for _ in range(args.count):
            start = time.perf_counter()
            call()
            walls.append(time.perf_counter() - start)
        cpu, backend = (time.process_time() - cpu) * 1000 / args.count, (backend_ms() - backend) / args.count
        print(f"    {name:44} wall p50 {statistics.median(walls) * 1000:.2f} ms, Python CPU {cpu:.2f} ms, "
              f"PostgreSQL CPU {backend:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
