"""Signs of manufactured good reviews (疑似刷好评), R5.2: explainable heuristics over valid 5-star reviews. Pure: the
callers (reports.lists) load the rows; no I/O here. Each sign names a window or a staff member and counts — never an
evaluator: the evaluator is only ever a blind index (HMAC of the phone) used to tell people apart.

1. 同一评价人反复好评 (REPEAT): one evaluator (the same phone blind index) gave at least ``REPEAT_MIN`` valid 五星
   reviews to the same window (or staff member) in the period. A citizen rarely needs the same window three times
   in a month and praises it every time; a colleague or an acquaintance asked to rate does.
2. 短时集中好评 (BURST): at least ``BURST_MIN`` valid 五星 reviews at one window within ``BURST_MINUTES`` minutes.
   A window serves one applicant at a time, so five finished and rated 办件 in ten minutes are unusual; reviews
   keyed in one after another (e.g. on the window's own 评价器) look like this.

Both are leads for a supervisor to look at, not findings: docs/metrics.md "统计报告" states them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

REPEAT_MIN = 3  # 五星 reviews from one evaluator to one window or staff member in the period
BURST_MIN = 5  # 五星 reviews at one window …
BURST_MINUTES = 10  # … within this many minutes

REPEAT, BURST = "repeat", "burst"


@dataclass(frozen=True)
class RepeatSign:
    target: int  # window or staff id
    evaluators: int  # evaluators (distinct blind indexes) with at least REPEAT_MIN 五星 reviews of the target
    reviews: int  # their 五星 reviews of the target
    most: int  # the most any one of them gave


@dataclass(frozen=True)
class BurstSign:
    target: int  # window id
    bursts: int  # non-overlapping runs of BURST_MIN or more reviews within BURST_MINUTES
    reviews: int  # reviews in those runs
    largest: int  # the most reviews in one run
    first_at: datetime  # when the first run began


def repeat_signs(counts: Iterable[tuple[int, str, int]], minimum: int = REPEAT_MIN) -> list[RepeatSign]:
    """From (target, evaluator blind index, 五星 reviews) triples, the targets some evaluator praised ``minimum``
    times or more; most reviews first. Empty blind indexes (no phone given) are nobody in particular and ignored."""
    per_target: dict[int, list[int]] = defaultdict(list)
    for target, evaluator, n in counts:
        if target and evaluator and n >= minimum:
            per_target[target].append(n)
    signs = [RepeatSign(t, len(ns), sum(ns), max(ns)) for t, ns in per_target.items()]
    return sorted(signs, key=lambda s: (-s.reviews, -s.evaluators, s.target))


def _runs(times: list[datetime], minimum: int, span: timedelta) -> list[tuple[datetime, int]]:
    """Greedy, earliest first: a run starts at a review and takes every review within ``span`` of it; when it has
    ``minimum`` or more, it is a burst and the scan continues after it, else the scan moves one review on."""
    runs, i, n = [], 0, len(times)
    j = 0
    while i < n:
        j = max(j, i)
        while j + 1 < n and times[j + 1] - times[i] <= span:
            j += 1
        size = j - i + 1
        if size >= minimum:
            runs.append((times[i], size))
            i = j + 1
        else:
            i += 1
    return runs


def burst_signs(rows: Iterable[tuple[int, datetime]], minimum: int = BURST_MIN,
                minutes: int = BURST_MINUTES) -> list[BurstSign]:
    """From (window, time) of 五星 reviews (any order), the windows with bursts; most reviews in bursts first."""
    per_target: dict[int, list[datetime]] = defaultdict(list)
    for target, at in rows:
        if target:
            per_target[target].append(at)
    signs = []
    for target, times in per_target.items():
        runs = _runs(sorted(times), minimum, timedelta(minutes=minutes))
        if runs:
            signs.append(BurstSign(target, len(runs), sum(s for _t, s in runs), max(s for _t, s in runs), runs[0][0]))
    return sorted(signs, key=lambda s: (-s.reviews, -s.largest, s.target))
