"""Pain-point classifier quality and cost on the development set (tests/data/painpoints_dev.tsv).

    .venv/bin/python bench/painpoints.py            # held-out purity, NMI, per-kind P/R; throughput; memory
    .venv/bin/python bench/painpoints.py --sync     # write the tune part (+ tune extra) to the package's reference.tsv

Scores two held-out sets: the held-out part of the development set and tests/data/painpoints_fresh.tsv (written in
one go and never tuned on). tests/data/painpoints_tune_extra.tsv is training data only.

Needs no database (an in-memory SQLite settings load only). Exit status 0.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "tests" / "data" / "painpoints_dev.tsv"
EXTRA = ROOT / "tests" / "data" / "painpoints_tune_extra.tsv"  # training only, never scored
FRESH = ROOT / "tests" / "data" / "painpoints_fresh.tsv"  # a second held-out set, never tuned on


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sync", action="store_true", help="write the tune part to data/reference.tsv")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haochaping.settings")
    os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from haochaping.insight.painpoints import classify, embedding, quality

    tune_rows, held = quality.load(DEV)
    extra = classify.read_reference(EXTRA)
    fresh = classify.read_reference(FRESH)
    if args.sync:
        with classify.REFERENCE.open("w", encoding="utf-8") as f:
            f.write("# The tune part of tests/data/painpoints_dev.tsv (bench/painpoints.py --sync writes it): "
                    "kind<TAB>comment.\n")
            f.writelines(f"{k}\t{c}\n" for k, c in tune_rows + extra)
        print(f"wrote {len(tune_rows) + len(extra)} reference comments to {classify.REFERENCE}")
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    clf = classify.Classifier()
    build = time.perf_counter() - t0
    rss_model = _rss_mb()
    print(f"model: {embedding.MODEL}; classifier built in {build:.1f} s "
          f"(trained on {clf.training} prototypes and reference comments)")
    for title, rows in (("held-out part of painpoints_dev.tsv", held), ("fresh set painpoints_fresh.tsv", fresh)):
        r = quality.evaluate(clf, rows)
        print(f"\n{title}: {r.comments} comments, {len(r.kinds)} kinds")
        print(f"purity {r.purity:.3f}  NMI {r.nmi:.3f}  accuracy {r.accuracy:.3f}  unclassified {r.unclassified:.1%}")
        print(f"{'kind':<12}{'n':>4}{'precision':>11}{'recall':>8}")
        for k in r.kinds:
            print(f"{k.code:<12}{k.support:>4}{k.precision:>11.2f}{k.recall:>8.2f}")
        print(f"min precision {r.min_precision:.2f}  min recall {r.min_recall:.2f}  "
              f"kinds below 0.8 in P or R: {sum(1 for k in r.kinds if min(k.precision, k.recall) < 0.8)}")
    # Throughput over the 300 distinct development comments, with the per-process memo of embeddings emptied first
    # (a repeated comment costs nothing: that is not what is measured).
    texts = [c for _k, c in tune_rows + held]
    embedding._memo.clear()
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    clf.classify(texts)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    print(f"\nthroughput: {len(texts) / elapsed:.0f} comments/s wall clock, {len(texts) / cpu:.0f} per CPU-second "
          f"({len(texts)} distinct comments, {elapsed:.2f} s, threads: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'default')})")
    print(f"memory: process RSS {rss0:.0f} MB before the model, {rss_model:.0f} MB with it and the prototypes "
          f"(+{rss_model - rss0:.0f} MB), {_rss_mb():.0f} MB after classifying")
    return 0


if __name__ == "__main__":
    sys.exit(main())
