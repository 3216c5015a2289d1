"""The rules of callback sampling, pure (no ORM, no clock): how many evaluations of each level a unit's sample
takes, which ones (a seeded draw that gives the same sample every time), the period a scheduled draw covers, and
which call outcomes are mismatches for the supervisor."""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _

LEVELS = (1, 2, 3, 4, 5)
BAD_LEVELS = (1, 2)  # 差评 (非常不满意、不满意)
DEFAULT_RATIO = 0.05  # 5% of a unit's evaluations of the period
DEFAULT_MINIMUM = 1  # at least this many of every level the unit has (so 差评 and 好评 are both checked)
MAX_RATIO = 1.0


class RuleError(ValueError):
    """A parameter outside its range; ``field`` names it."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def check_ratio(ratio: float) -> float:
    if not isinstance(ratio, (int, float)) or math.isnan(ratio) or not 0 < ratio <= MAX_RATIO:
        raise RuleError(_("抽样比例应大于0且不超过100%"), "ratio")
    return float(ratio)


def allocate(counts: dict[int, int], ratio: float, minimum: int = DEFAULT_MINIMUM) -> dict[int, int]:
    """How many evaluations of each level to draw: ``ceil(count × ratio)``, at least ``minimum`` for every level
    that has evaluations, never more than the level has. Levels without evaluations get 0."""
    ratio = check_ratio(ratio)
    if minimum < 0:
        raise RuleError(_("每个等级的最少抽样数不能为负数"), "minimum")
    out = {}
    for level in sorted(counts):
        n = counts[level]
        if n <= 0:
            out[level] = 0
            continue
        # round() first: 0.05 × 20 is 1.0000000000000002 in floating point, which ceil would make 2.
        out[level] = min(n, max(minimum, math.ceil(round(n * ratio, 9))))
    return out


def seed_for(unit_id: int, start: date, end: date) -> int:
    """The draw's seed, from the unit and the period alone: a redraw gets the same seed, another unit or period
    another one. SHA-256, so it does not depend on Python's hash randomisation."""
    digest = hashlib.sha256(f"callback:{unit_id}:{start.isoformat()}:{end.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass(frozen=True)
class Candidate:
    evaluation_id: int
    level: int


def draw(candidates: Iterable[Candidate], ratio: float, seed: int,
         minimum: int = DEFAULT_MINIMUM) -> list[Candidate]:
    """The stratified sample: for each level, ``allocate``'s number of candidates drawn without replacement by a
    generator seeded with ``seed`` and the level, from the candidates sorted by id (so the input's order does not
    matter). Returned sorted by level, then id."""
    by_level: dict[int, list[Candidate]] = {}
    for c in candidates:
        by_level.setdefault(c.level, []).append(c)
    sizes = allocate({lv: len(cs) for lv, cs in by_level.items()}, ratio, minimum)
    picked: list[Candidate] = []
    for level in sorted(by_level):
        pool = sorted(by_level[level], key=lambda c: c.evaluation_id)
        rng = random.Random(seed * 10 + level)
        picked += sorted(rng.sample(pool, sizes[level]), key=lambda c: c.evaluation_id)
    return picked


def previous_month(today: date) -> tuple[date, date]:
    """The calendar month before ``today``'s: (first day, last day)."""
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def check_period(start: date, end: date, today: date) -> None:
    if end < start:
        raise RuleError(_("结束日期不能早于开始日期"), "end")
    if end >= today:
        raise RuleError(_("只能对已结束的期间抽样（结束日期应早于今天）"), "end")


# ---- a call's outcome --------------------------------------------------------------------------------------

class Answer:
    YES = "yes"
    NO = "no"
    UNSURE = "unsure"
    ALL = (YES, NO, UNSURE)


class Mismatch:
    NEVER_RATED = "never_rated"  # "I never gave this rating"
    PRESSURED = "pressured"  # "I was asked / pressured to give this rating"
    ALL = (NEVER_RATED, PRESSURED)


@dataclass(frozen=True)
class CallOutcome:
    reached: bool
    gave_rating: str = ""  # Answer.*; empty when not reached
    pressured: str = ""  # Answer.*; empty when not reached
    satisfaction_now: int | None = None  # 1..5
    notes: str = ""


def check_call(call: CallOutcome) -> dict[str, str]:
    """Errors by field of a call's record (empty when valid). A reached call needs both answers and a present
    satisfaction of 1–5; a call not reached carries none of them."""
    errors: dict[str, str] = {}
    if len(call.notes) > 2000:
        errors["notes"] = _("备注不能超过2000字")
    if not call.reached:
        if call.gave_rating or call.pressured or call.satisfaction_now is not None:
            errors["reached"] = _("未接通的回访不能填写回访答复")
        return errors
    if call.gave_rating not in Answer.ALL:
        errors["gave_rating"] = _("请选择“是否本人作出该评价”")
    if call.pressured not in Answer.ALL:
        errors["pressured"] = _("请选择“是否被要求或被施压作出该评价”")
    if call.satisfaction_now is None or not 1 <= call.satisfaction_now <= 5:
        errors["satisfaction_now"] = _("现在的满意度应为1至5之间的整数")
    return errors


def mismatches(call: CallOutcome) -> list[str]:
    """What the supervisor must look at: the evaluator says they never gave the rating, or were asked or pressured
    to give it. "Not sure" and a changed satisfaction are recorded, not flagged."""
    if not call.reached:
        return []
    out = []
    if call.gave_rating == Answer.NO:
        out.append(Mismatch.NEVER_RATED)
    if call.pressured == Answer.YES:
        out.append(Mismatch.PRESSURED)
    return out
