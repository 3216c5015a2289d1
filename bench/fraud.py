"""Fraud-detection benchmark (issue 19 item 6): recall per planted pattern and false positives on untouched units.

    python bench/fraud.py [--records 60000] [--database-url postgres://…/haochaping_bench]

1. Drops and recreates the bench database and runs ``haochaping migrate``.
2. Builds the demo province with RECORDS 办件 and their evaluations (``haochaping.demo.generator.build``: a year
   of honest background), then plants every pattern of ``haochaping.demo.fraud.STRENGTHS`` at each of its
   strengths, each at a hall unit of its own, through the live services (``push_record``, ``submit_evaluation``).
3. Runs the detectors as the worker does (``supervision.fraud.services.detect``) and prints, per pattern, which
   strengths were flagged at their unit, the overall recall and the share of untouched units (handling units with
   evaluations in the period, none planted) that got any finding; writes bench/results/fraud-<timestamp>.json.

Targets: at least 95 % of plants flagged, at most 1 % of untouched units flagged; the exit status is 1 when a
target is missed. docs/fraud-detection.md explains the patterns, thresholds and the last figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/fraud.py` puts bench/, not the checkout, on the path
    sys.path.insert(0, str(ROOT))

from bench.common import RESULTS_DIR, migrate, recreate_database  # noqa: E402 - after the path fix above

DEFAULT_RECORDS = 60_000
RECALL_TARGET = 0.95
FALSE_POSITIVE_TARGET = 0.01


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=int(os.environ.get("BENCH_FRAUD_RECORDS", DEFAULT_RECORDS)),
                        help="办件 in the demo province (default %(default)s)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                                 "postgres://postgres@127.0.0.1:5432/haochaping_bench"))
    args = parser.parse_args(argv)

    recreate_database(args.database_url)
    migrate(args.database_url)
    os.environ.update(DATABASE_URL=args.database_url, DJANGO_SETTINGS_MODULE="haochaping.settings",
                      HAOCHAPING_LOG_LEVEL="WARNING")
    import django

    django.setup()
    from haochaping.demo import fraud, generator

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    started = time.perf_counter()
    summary = generator.build(args.records, today=today)
    built = time.perf_counter()
    plants = fraud.plant_all(today)
    planted = time.perf_counter()
    m = fraud.measure(plants, today=today)
    detected = time.perf_counter()

    print(f"fraud detection on a demo province of {summary.records} 办件 / {summary.evaluations} evaluations "
          f"({today.isoformat()}): build {built - started:.1f} s, plant {planted - built:.1f} s, "
          f"detect {detected - planted:.1f} s")
    for line in fraud.report(m):
        print(line)
    ok = m.total_recall >= RECALL_TARGET and m.false_positive_rate <= FALSE_POSITIVE_TARGET
    print(f"targets (recall >= {RECALL_TARGET:.0%}, false positives <= {FALSE_POSITIVE_TARGET:.0%}): "
          f"{'met' if ok else 'MISSED'}")
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"fraud-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps({
        "records": summary.records, "evaluations": summary.evaluations, "today": today.isoformat(),
        "recall": {p: {"flagged": h, "planted": n} for p, (h, n) in m.recall.items()},
        "by_strength": [{"pattern": p, "strength": s, "flagged": hit} for (p, s), hit in m.by_strength.items()],
        "total_recall": m.total_recall, "untouched_units": m.untouched,
        "untouched_flagged": len(m.untouched_flagged), "false_positive_rate": m.false_positive_rate,
        "findings": m.findings, "seconds": {"build": built - started, "plant": planted - built,
                                            "detect": detected - planted},
    }, indent=2, ensure_ascii=False))
    print(f"results: {out.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
