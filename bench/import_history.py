"""History import speed (issue 16 item 3: "import of 10^6 evaluations from a file finishes in minutes").

Recreates the bench database on PostgreSQL, seeds one organisation, writes COUNT 办件 and COUNT evaluations (one
per 办件, original times spread over the past year, 2 % 差评) as JSONL in this system's shape, and times
`haochaping import` of each file as a real process. Prints rows per second, the peak memory of each import process
and what 10^6 rows would take at that rate (an extrapolation, labelled as one), then checks that every row is
there once and that the counters agree with a rebuild (`rebuild_rollups --check`).

    .venv/bin/python bench/import_history.py --count 10000 [--database-url postgres://…/haochaping_bench_import]
    .venv/bin/python bench/import_history.py --count 1000000 --chunk 5000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import _django_env, _haochaping_command, migrate, recreate_database  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/haochaping_bench_import"
BEIJING = timezone(timedelta(hours=8))
SEED = """
import json, django
django.setup()
from tests import factories
org = factories.make_org()
item = factories.make_item(org)
print(json.dumps({"region_code": org.county.code, "credit_code": org.department.credit_code,
                  "agency_code": org.agency.code, "window_code": org.window.code, "staff_no": org.staff.staff_no,
                  "implementation_code": item.implementation_code,
                  "ids": {"region_id": org.county.code, "department_id": org.department.pk, "agency_id": org.agency.pk,
                          "window_id": org.window.pk, "staff_id": org.staff.pk, "item_id": item.pk}}))
"""
# --records-direct: the 办件 file goes in with bulk_create instead of `haochaping import` (not timed), so a large
# COUNT measures the evaluation import alone; the 参评率 counters are then rebuilt as the rollups module asks.
RECORDS_DIRECT = """
import json, sys, django
django.setup()
from datetime import datetime
from django.core.management import call_command
from haochaping.records.models import ServiceRecord
ids = json.loads(sys.argv[2])
rows = []
with open(sys.argv[1]) as f:
    for line in f:
        r = json.loads(line)
        rows.append(ServiceRecord(project_no=r["project_no"], applicant_type=1, record_type=r["record_type"],
                                  status=r["status"], accepted_at=datetime.fromisoformat(r["accepted_at"]),
                                  completed_at=datetime.fromisoformat(r["completed_at"]), source="import:bench",
                                  push_hash="bench", **ids))
ServiceRecord.objects.bulk_create(rows, batch_size=5000)
call_command("rebuild_rollups", verbosity=0)
"""
LABELS = {1: ["110"], 2: ["209"], 3: [], 4: [], 5: ["510"]}


def write_files(directory: Path, count: int, seed: dict, rng: random.Random) -> tuple[Path, Path]:
    records, evaluations = directory / "records.jsonl", directory / "evaluations.jsonl"
    start = datetime(2025, 12, 1, 9, tzinfo=BEIJING)
    with records.open("w") as r, evaluations.open("w") as e:
        for i in range(count):
            accepted = start + timedelta(minutes=i * 525_600 // max(count, 1) % 525_000)
            completed = accepted + timedelta(minutes=30)
            project_no = f"HIST{i:09d}"
            r.write(json.dumps({
                "project_no": project_no, "implementation_code": seed["implementation_code"],
                "region_code": seed["region_code"], "department_credit_code": seed["credit_code"],
                "agency_code": seed["agency_code"], "window_code": seed["window_code"], "staff_no": seed["staff_no"],
                "applicant": {"type": 1}, "record_type": "immediate", "status": 3,
                "accepted_at": accepted.isoformat(), "completed_at": completed.isoformat(),
            }) + "\n")
            level = 2 if i % 50 == 25 else rng.choices([5, 4, 3], weights=[70, 22, 8])[0]
            e.write(json.dumps({
                "idempotency_key": f"hist-{i:09d}", "project_no": project_no, "stage": "complete",
                "channel": "mobile", "level": level, "labels": LABELS[level],
                "comment": "等了很久" if level <= 2 else "", "evaluated_at": (completed + timedelta(minutes=10)).isoformat(),
            }) + "\n")
    return records, evaluations


def timed_import(path: Path, kind: str, env: dict, chunk: int | None) -> tuple[float, str, float]:
    """(seconds, the command's summary line, peak RSS in MiB of the import process)."""
    extra = ["--chunk", str(chunk)] if chunk else []
    started = time.perf_counter()
    # wait4 gives this child's own peak RSS (RUSAGE_CHILDREN would be the largest of every child so far).
    proc = subprocess.Popen([*_haochaping_command(), "import", str(path), "--kind", kind, "--name", "旧系统", *extra],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    stdout = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"import of {path.name} failed ({proc.returncode}): {stdout}")
    return seconds, stdout.strip().splitlines()[-1], usage.ru_maxrss / 1024


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=int(os.environ.get("BENCH_IMPORT_COUNT", 10_000)))
    p.add_argument("--database-url", default=os.environ.get("BENCH_IMPORT_DATABASE_URL", DEFAULT_URL))
    p.add_argument("--chunk", type=int, default=None, help="haochaping import --chunk (default: the command's)")
    p.add_argument("--records-direct", action="store_true",
                   help="load the 办件 with bulk_create (not timed) instead of importing them: times evaluations only")
    p.add_argument("--no-check", action="store_true",
                   help="skip the closing rebuild_rollups --check (over 20 min at 10^6 on 2 cores); rows are still counted")
    a = p.parse_args(argv)
    recreate_database(a.database_url)
    migrate(a.database_url)
    env = _django_env(a.database_url) | {"PYTHONPATH": str(ROOT)}
    seed = json.loads(subprocess.run([sys.executable, "-c", SEED], env=env, cwd=ROOT, check=True, capture_output=True,
                                     text=True).stdout.strip().splitlines()[-1])
    with tempfile.TemporaryDirectory() as tmp:
        records, evaluations = write_files(Path(tmp), a.count, seed, random.Random(20261206))
        if a.records_direct:
            subprocess.run([sys.executable, "-c", RECORDS_DIRECT, str(records), json.dumps(seed["ids"])], env=env,
                           cwd=ROOT, check=True, timeout=3600)
            record_s, record_line, record_mib = float("nan"), "loaded with bulk_create, not timed (--records-direct)", 0
        else:
            load_before = os.getloadavg()[0]
            record_s, record_line, record_mib = timed_import(records, "records", env, a.chunk)
            print(f"办件 imported (load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after)", flush=True)
        load_before = os.getloadavg()[0]
        eval_s, eval_line, eval_mib = timed_import(evaluations, "evaluations", env, a.chunk)
        print(f"evaluations imported (load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after)",
              flush=True)
    import psycopg

    with psycopg.connect(a.database_url) as conn:
        stored = conn.execute("SELECT count(*), count(DISTINCT record_id) FROM evaluation_evaluation").fetchone()
        records_stored = conn.execute("SELECT count(*) FROM records_servicerecord").fetchone()[0]
    if a.no_check:
        check = subprocess.CompletedProcess([], 0)
    else:
        check = subprocess.run([*_haochaping_command(), "rebuild_rollups", "--check"], env=env, cwd=ROOT,
                               capture_output=True, text=True, timeout=3600)
    print(f"haochaping import — {a.count} 办件 then {a.count} evaluations (JSONL, this system's shape), PostgreSQL, "
          f"load average at end {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for label, seconds, line, mib in (("办件", record_s, record_line, record_mib),
                                      ("evaluations", eval_s, eval_line, eval_mib)):
        per_s = a.count / seconds
        print(f"{label:12} {seconds:8.1f} s  {per_s:8.1f} rows/s  peak RSS {mib:6.0f} MiB   ({line})")
        if a.count < 1_000_000 and seconds == seconds:
            print(f"{'':12} 10^6 at this rate (extrapolated, not run): {1_000_000 / per_s / 60:.0f} min")
    ok = stored == (a.count, a.count) and records_stored == a.count and check.returncode == 0
    print("rebuild_rollups --check: " + ("not run (--no-check)" if a.no_check else
                                         "agrees" if check.returncode == 0 else "DIFFERS"))
    print("RESULT: " + ("OK" if ok else f"FAILED — {records_stored} 办件 and {stored[0]} evaluations stored for "
                                        f"{a.count}, rebuild check {check.returncode}"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
