"""Verifiable-log benchmark: sealing 10^6 evaluations into the Merkle log, an incremental seal, and the cost of
inclusion and consistency proofs at that size (docs/verifiable-log.md, "Cost").

    python bench/log.py [--size 1000000] [--proofs 200] [--database-url postgres://…/haochaping_bench]

1. Drops and recreates the bench database, migrates, builds a template year with the demo generator and copies it
   inside PostgreSQL up to SIZE evaluations (the same machinery as bench/stats.py; one 差评 in twenty excluded).
2. Times ``haochaping seal_log`` (a fresh process: every evaluation and exclusion becomes a leaf, tiles are
   written, the head is signed) — the first seal of the whole history.
3. Adds about 0.1 % more evaluations and times the next, incremental seal.
4. In a Django subprocess: PROOFS inclusion proofs of random leaves against the latest checkpoint and PROOFS
   consistency proofs between the two checkpoints, each verified, with latency and SQL queries per proof.
5. Prints a table and writes bench/results/log-<timestamp>.json. Exit status 1 only if a proof failed to verify.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
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
    DEFAULT_DATABASE_URL,
    RESULTS_DIR,
    _dbname,
    _django_env,
    _haochaping_command,
    migrate,
    percentile,
    recreate_database,
    server_facts,
)


def timed_seal(database_url: str) -> tuple[float, str]:
    """Wall time of `haochaping seal_log` and its output, which adds the process's own CPU seconds (the machine is
    shared: wall time depends on the load, CPU time much less)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run([*_haochaping_command(), "seal_log"], env=_django_env(database_url), check=True,
                         timeout=7200, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, f"{out.stdout.strip()}; process CPU {cpu:.1f} s"


def _proofs_main(count: int) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from haochaping.transparency import proofs, rules
    from haochaping.transparency.models import Checkpoint

    rng = random.Random(19)
    sizes = sorted(Checkpoint.objects.values_list("tree_size", flat=True))
    latest = sizes[-1]
    out: dict = {"tree_size": latest, "checkpoints": sizes, "inclusion": [], "consistency": [], "failed": 0}
    root = bytes.fromhex(proofs.latest().root_hash)
    for _ in range(count):
        index = rng.randrange(latest)
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            proof = proofs.inclusion(index)
            elapsed = time.perf_counter() - started
        ok = rules.verify_inclusion(index, latest, rules.leaf_hash(proof.leaf.body.encode()),
                                    [bytes.fromhex(h) for h in proof.path], root)
        out["failed"] += not ok
        out["inclusion"].append((elapsed, len(queries), len(proof.path)))
    first = sizes[0]
    for _ in range(count):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            answer = proofs.consistency(first, latest)
            elapsed = time.perf_counter() - started
        ok = rules.verify_consistency(first, latest, bytes.fromhex(answer["first"]["root_hash"]), root,
                                      [bytes.fromhex(h) for h in answer["consistency_path"]])
        out["failed"] += not ok
        out["consistency"].append((elapsed, len(queries), len(answer["consistency_path"])))
    print(json.dumps(out))


def measure_proofs(database_url: str, count: int) -> dict:
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "_proofs", str(count)],
                         env=_django_env(database_url), check=True, timeout=3600, cwd=ROOT, capture_output=True,
                         text=True)
    raw = json.loads(out.stdout.strip().splitlines()[-1])

    def summary(rows):
        ms = [r[0] * 1000 for r in rows]
        return {"count": len(rows), "p50_ms": round(percentile(ms, 50), 2), "p95_ms": round(percentile(ms, 95), 2),
                "max_queries": max(r[1] for r in rows), "max_path": max(r[2] for r in rows)}

    return {"tree_size": raw["tree_size"], "checkpoints": raw["checkpoints"], "failed": raw["failed"],
            "inclusion": summary(raw["inclusion"]), "consistency": summary(raw["consistency"])}


def leaf_count(database_url: str) -> dict:
    import psycopg

    with psycopg.connect(database_url) as conn:
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        return {"leaves": one("SELECT count(*) FROM transparency_logleaf"),
                "tiles": one("SELECT count(*) FROM transparency_logtile"),
                "exclusion_leaves": one("SELECT count(*) FROM transparency_logleaf WHERE kind = 'exclusion'"),
                "log_mb": round(one("SELECT pg_total_relation_size('transparency_logleaf') + "
                                    "pg_total_relation_size('transparency_logtile')") / 2**20)}


def run(args, say=print) -> dict:
    t0 = time.perf_counter()
    recreate_database(args.database_url)
    migrate(args.database_url)
    say(f"building the template year ({args.template_records} demo 办件) …")
    stats.seed(args.database_url, args.template_records)
    t, e_t = stats.prepare_template(args.database_url)
    want = max(t, round(args.size / e_t * t))
    stats.grow(args.database_url, t, t, want, say)
    stats.finish(args.database_url)
    facts = stats.database_facts(args.database_url)
    say(f"{facts['evaluations']} evaluations, {facts['excluded']} exclusions; sealing …")
    first_s, first_out = timed_seal(args.database_url)
    say(f"  first seal {first_s:.1f} s: {first_out}")
    more = max(1, want // 1000)
    stats.grow(args.database_url, t, want, want + more, say)
    stats.finish(args.database_url)
    second_s, second_out = timed_seal(args.database_url)
    say(f"  incremental seal {second_s:.2f} s: {second_out}")
    say("proofs …")
    proofs = measure_proofs(args.database_url, args.proofs)
    return {
        "benchmark": "log", "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "config": {"size": args.size, "proofs": args.proofs, "template_records": args.template_records,
                   "database": _dbname(args.database_url)},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average": [round(x, 2) for x in os.getloadavg()]} | server_facts(args.database_url),
        "data": stats.database_facts(args.database_url) | leaf_count(args.database_url),
        "first_seal_s": round(first_s, 1), "first_seal": first_out,
        "incremental_seal_s": round(second_s, 2), "incremental_seal": second_out, "proofs": proofs,
        "ok": proofs["failed"] == 0, "total_s": round(time.perf_counter() - t0, 1),
    }


def format_report(r: dict) -> str:
    p = r["proofs"]
    return "\n".join([
        f"verifiable log at {r['data']['leaves']} leaves ({r['data']['evaluations']} evaluations, "
        f"{r['data']['exclusion_leaves']} exclusions), {r['data']['tiles']} tiles, {r['data']['log_mb']} MB",
        f"  first seal (whole history):   {r['first_seal_s']:>8} s",
        f"  incremental seal:             {r['incremental_seal_s']:>8} s  ({r['incremental_seal']})",
        f"  inclusion proof:   p50 {p['inclusion']['p50_ms']} ms, p95 {p['inclusion']['p95_ms']} ms, "
        f"≤ {p['inclusion']['max_queries']} queries, path ≤ {p['inclusion']['max_path']}",
        f"  consistency proof: p50 {p['consistency']['p50_ms']} ms, p95 {p['consistency']['p95_ms']} ms, "
        f"≤ {p['consistency']['max_queries']} queries, path ≤ {p['consistency']['max_path']}",
        f"  proofs failing verification: {p['failed']}",
    ])


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_proofs"]:
        _proofs_main(int(argv[1]))
        return 0
    env = os.environ
    parser = argparse.ArgumentParser(description="Sealing and proof cost of the verifiable log.")
    parser.add_argument("--size", type=int, default=int(env.get("BENCH_LOG_SIZE", 1_000_000)))
    parser.add_argument("--proofs", type=int, default=200)
    parser.add_argument("--template-records", type=int, default=int(env.get("BENCH_LOG_TEMPLATE", 5000)))
    parser.add_argument("--database-url", default=env.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--no-json", action="store_true")
    args = parser.parse_args(argv)
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("the benchmark needs PostgreSQL: --database-url postgres://…")
    result = run(args, say=lambda msg: print(msg, flush=True))
    print(format_report(result))
    if not args.no_json:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = RESULTS_DIR / f"log-{datetime.now().strftime('%Y%m%dT%H%M%S')}.json"
        path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        print(f"written: {path.relative_to(ROOT)}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
