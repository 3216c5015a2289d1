"""Killed/total per module from `mutmut results --all true` (read on stdin): the figures docs/mutation.md records.

A mutant counts as killed when a test failed (mutmut's "killed") or ran out of time ("timeout": the mutant made the
rule loop). Everything else — survived, no tests, suspicious, skipped, not checked — counts against the module.
Exits 1 when a module is under ``--min`` percent killed.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict

LINE = re.compile(r"^\s*(?P<module>[\w.]+)\.x[_\u01c1].*?:\s*(?P<status>[\w ]+)$")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--min", type=float, default=0.0, help="fail when a module kills less (percent)")
    parser.add_argument("modules", nargs="*", help="only these modules (e.g. org.rules); default: all")
    args = parser.parse_args()
    wanted = {f"haochaping.{m}" for m in args.modules}
    statuses: dict[str, Counter] = defaultdict(Counter)
    for line in sys.stdin:
        match = LINE.match(line.rstrip("\n"))
        if match and (not wanted or match["module"] in wanted):
            statuses[match["module"]][match["status"].strip()] += 1
    if not statuses:
        print("no mutants found (run `mutmut run` first)", file=sys.stderr)
        return 1
    failed = False
    print(f"{'module':40} {'killed':>7} {'total':>6} {'%':>6}  other")
    for module in sorted(statuses):
        counts = statuses[module]
        total = sum(counts.values())
        killed = counts["killed"] + counts["timeout"]
        share = 100 * killed / total
        other = ", ".join(f"{s} {n}" for s, n in sorted(counts.items()) if s not in ("killed", "timeout"))
        print(f"{module:40} {killed:7d} {total:6d} {share:6.1f}  {other}")
        failed |= share < args.min
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
