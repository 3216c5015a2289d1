"""Rules of third-party and social-organisation assessments (R3.6, R3.7), pure: no ORM, no I/O.

A management agency commissions an assessor organisation for a scope (a region subtree, optionally narrowed to
some departments and/or service items) and a period. An assessment is refused unless its unit, item and period lie
inside the commission's (:func:`check_in_commission`, naming the field); its scores are refused unless each is a
score 0–100 of a distinct indicator (:func:`check_scores`). The agency accepts or returns a submitted assessment; a
returned one can be submitted again (:data:`TRANSITIONS`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from django.db.models.enums import TextChoices
from django.utils.translation import gettext_lazy as _

from haochaping.core.problems import conflict, invalid
from haochaping.org.rules import region_prefix

MAX_SCORES = 50
TEXT_MAX = 4000


class State(TextChoices):
    SUBMITTED = "submitted", _("待审核")
    RETURNED = "returned", _("已退回")
    ACCEPTED = "accepted", _("已采纳")


# action -> (states it may start from, state it leads to)
TRANSITIONS = {
    "accept": ({State.SUBMITTED}, State.ACCEPTED),
    "return": ({State.SUBMITTED}, State.RETURNED),
    "resubmit": ({State.RETURNED}, State.SUBMITTED),
}


def move(state: str, action: str) -> str:
    sources, target = TRANSITIONS[action]
    if state not in sources:
        raise conflict(f"评估报告当前状态为“{State(state).label}”，不能{ACTION_NAMES[action]}", "state")
    return target


ACTION_NAMES = {"accept": "采纳", "return": "退回", "resubmit": "重新提交"}


@dataclass(frozen=True)
class CommissionScope:
    region: str  # the subtree root's code
    start: date
    end: date
    departments: frozenset[int] = field(default_factory=frozenset)  # empty: every department of the subtree
    items: frozenset[int] = field(default_factory=frozenset)  # empty: every item


def check_commission(scope: CommissionScope, *, agency_region: str) -> None:
    """A commission's own scope: inside the commissioning agency's subtree, with a period that makes sense."""
    if not scope.region.startswith(region_prefix(agency_region)):
        raise invalid("委托范围须在本管理机构所辖行政区划内", "scope_region")
    if scope.start is None:
        raise invalid("请填写委托期间起始日", "period_start")
    if scope.end is None:
        raise invalid("请填写委托期间截止日", "period_end")
    if scope.end < scope.start:
        raise invalid("委托期间截止日不能早于起始日", "period_end")


def check_in_commission(scope: CommissionScope, *, department_id: int | None, department_region: str | None,
                        item_id: int | None, start: date | None, end: date | None) -> None:
    """Refuse an assessment outside its commission: the unit (``department``), the item (``item``) and the
    period (``period_start``, ``period_end``) must all lie inside the commission's."""
    if department_id is None or department_region is None:
        raise invalid("请选择被评估的部门", "department")
    if not department_region.startswith(region_prefix(scope.region)):
        raise invalid("被评估部门不在委托范围的行政区划内", "department")
    if scope.departments and department_id not in scope.departments:
        raise invalid("被评估部门不在委托范围内", "department")
    if scope.items and item_id is not None and item_id not in scope.items:
        raise invalid("所评估事项不在委托范围内", "item")
    if start is None:
        raise invalid("请填写评估期间起始日", "period_start")
    if end is None:
        raise invalid("请填写评估期间截止日", "period_end")
    if end < start:
        raise invalid("评估期间截止日不能早于起始日", "period_end")
    if start < scope.start:
        raise invalid(f"评估期间起始日早于委托期间（{scope.start:%Y-%m-%d} 至 {scope.end:%Y-%m-%d}）", "period_start")
    if end > scope.end:
        raise invalid(f"评估期间截止日晚于委托期间（{scope.start:%Y-%m-%d} 至 {scope.end:%Y-%m-%d}）", "period_end")


@dataclass(frozen=True)
class ScoreInput:
    indicator: str  # the indicator's code
    score: float | None
    findings: str = ""
    recommendations: str = ""


def check_scores(rows: list[ScoreInput], *, indicators: set[str]) -> None:
    """At least one score; each of an indicator that applies to the unit, once, a number 0–100; texts bounded.
    The field names the row: ``scores[2].score``."""
    if not rows:
        raise invalid("请至少填写一项指标的评分", "scores")
    if len(rows) > MAX_SCORES:
        raise invalid(f"评分最多{MAX_SCORES}项", "scores")
    seen = set()
    for i, row in enumerate(rows):
        where = f"scores[{i}]"
        if row.indicator not in indicators:
            raise invalid("该指标不适用于被评估部门", f"{where}.indicator")
        if row.indicator in seen:
            raise invalid(f"指标“{row.indicator}”重复评分", f"{where}.indicator")
        seen.add(row.indicator)
        s = row.score
        if s is None or isinstance(s, bool) or not isinstance(s, int | float) or not math.isfinite(s):
            raise invalid("请填写0–100的得分", f"{where}.score")
        if not 0 <= s <= 100:
            raise invalid("得分应在0–100之间", f"{where}.score")
        for name in ("findings", "recommendations"):
            if len(getattr(row, name) or "") > TEXT_MAX:
                raise invalid(f"不超过{TEXT_MAX}字", f"{where}.{name}")


def assessment_score(scores: list[float]) -> float | None:
    """An assessment's overall score: the mean of its indicator scores (what feeds the unit's appraisal)."""
    return sum(scores) / len(scores) if scores else None
