"""Pure rules of the published figures (R5, R6.1): what each metric divides by what, the Wilson lower bound used
to rank units fairly (R5.3), and how region codes fold into the next level down. No I/O: callers pass counts.

docs/metrics.md states every definition in words; this module is the formula, metrics.py applies it to data.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from haochaping.org.rules import region_level

LEVELS = (1, 2, 3, 4, 5)
GOOD_LEVELS = frozenset({4, 5})  # 非常满意、满意
BAD_LEVELS = frozenset({1, 2})  # 不满意、非常不满意 (差评)

# z for a two-sided 95 % interval (the 97.5th percentile of the standard normal distribution).
Z_95 = 1.959963984540054

# Units with fewer valid evaluations than this in the period are listed apart and not ranked (R5.3): with a handful
# of evaluations one bad review moves a unit from first to last. Overridable by the setting
# HAOCHAPING_RANKING_MIN_SAMPLE (one national constant, deliberately not a region policy: rankings compare regions).
MIN_RANK_SAMPLE = 30


def rate(numerator: int, denominator: int) -> float | None:
    """A share in [0, 1], or None when there is nothing to divide by (shown as "—", never as 0 % or 100 %)."""
    return None if denominator == 0 else numerator / denominator


def satisfaction_score(levels: dict[int, int]) -> float | None:
    """满意度 on 0–100: the mean level of valid evaluations mapped linearly, 非常满意 (5) = 100, 满意 = 75,
    基本满意 = 50, 不满意 = 25, 非常不满意 (1) = 0. None without valid evaluations."""
    n = sum(levels.get(lv, 0) for lv in LEVELS)
    if n == 0:
        return None
    return sum((lv - 1) * 25 * levels.get(lv, 0) for lv in LEVELS) / n


@dataclass
class Tally:
    """The counts behind one group's figures. Every evaluation is in exactly one of three parts:
    ``levels`` (valid: counted in the rates), ``excluded`` (an upheld appeal or a confirmed 误评/恶意差评) or
    ``system_default`` (an imported 系统默认评价, excluded or not) — so total = valid + excluded + system_default."""

    levels: dict[int, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    followups: int = 0  # valid 追加评价, included in ``levels``
    real_name: int = 0  # valid 实名评价, included in ``levels``
    excluded: int = 0
    excluded_bad: int = 0  # excluded 差评 (levels 1–2): what the exclusions took out of 差评
    system_default: int = 0

    def add(self, *, level: int, count: int, excluded: bool, system_default: bool, followup: bool = False,
            real_name: bool = False) -> None:
        if system_default:
            self.system_default += count
        elif excluded:
            self.excluded += count
            if level in BAD_LEVELS:
                self.excluded_bad += count
        else:
            self.levels[level] = self.levels.get(level, 0) + count
            if followup:
                self.followups += count
            if real_name:
                self.real_name += count

    def merge(self, other: Tally) -> None:
        for lv, n in other.levels.items():
            self.levels[lv] = self.levels.get(lv, 0) + n
        self.followups += other.followups
        self.real_name += other.real_name
        self.excluded += other.excluded
        self.excluded_bad += other.excluded_bad
        self.system_default += other.system_default

    @property
    def valid(self) -> int:
        return sum(self.levels.values())

    @property
    def good(self) -> int:
        return sum(n for lv, n in self.levels.items() if lv in GOOD_LEVELS)

    @property
    def bad(self) -> int:
        return sum(n for lv, n in self.levels.items() if lv in BAD_LEVELS)

    @property
    def total(self) -> int:
        return self.valid + self.excluded + self.system_default

    @property
    def good_rate(self) -> float | None:
        return rate(self.good, self.valid)

    @property
    def bad_rate(self) -> float | None:
        return rate(self.bad, self.valid)

    @property
    def satisfaction(self) -> float | None:
        return satisfaction_score(self.levels)


def wilson_lower_bound(successes: int, n: int, z: float = Z_95) -> float | None:
    """Lower end of the Wilson score interval for a share ``successes``/``n`` (None when n is 0).

    (p + z²/2n − z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n), p = successes/n. Small samples get a low bound, so a unit
    with 3 good of 3 ranks below one with 960 good of 1000."""
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")
    p = successes / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, (centre - margin) / (1 + z2 / n))


@dataclass(frozen=True)
class RankInput:
    key: str
    good: int
    valid: int


@dataclass(frozen=True)
class Ranked:
    key: str
    rank: int  # 1 = best; equal scores share a rank (1, 2, 2, 4)
    score: float  # Wilson lower bound of the good rate
    good: int
    valid: int


def rank(units: Iterable[RankInput], min_sample: int = MIN_RANK_SAMPLE) -> tuple[list[Ranked], list[RankInput]]:
    """Rank units by the Wilson lower bound (95 %) of their good rate, best first. Units with fewer than
    ``min_sample`` valid evaluations are returned apart (second list, most evaluations first), not ranked."""
    eligible, apart = [], []
    for u in units:
        (eligible if u.valid >= max(min_sample, 1) else apart).append(u)
    scored = sorted(
        ((wilson_lower_bound(u.good, u.valid), u) for u in eligible), key=lambda su: (-su[0], -su[1].valid, su[1].key)
    )
    ranked: list[Ranked] = []
    for i, (score, u) in enumerate(scored):
        same = ranked and math.isclose(ranked[-1].score, score, rel_tol=0, abs_tol=1e-12)
        ranked.append(Ranked(u.key, ranked[-1].rank if same else i + 1, score, u.good, u.valid))
    apart.sort(key=lambda u: (-u.valid, u.key))
    return ranked, apart


# --- regions ------------------------------------------------------------------------------------------------------

# Length of the prefix every code of a region's subtree shares, by level (1 province … 5 village).
_PREFIX = {1: 2, 2: 4, 3: 6, 4: 9, 5: 12}


_level = region_level


def child_region(code: str, base: str | None) -> str:
    """The region one level below ``base`` (a region code; None = the whole country) that ``code`` lies in,
    as a code; ``code`` itself when it is ``base`` or ``base`` has no lower level.

    Used for group_by=region: a province's figures by city, a city's by county (DESIGN.md: counters are kept
    per unit region, folded here)."""
    if base is None:
        return code[:2] + "0000"
    level = _level(base)
    if level >= 5:
        return code
    length = _PREFIX[level + 1]
    prefix = code[:length]
    if len(prefix) < length:
        return code
    if length < 6:
        return prefix.ljust(6, "0")
    return prefix
