"""The appraisal's rules (绩效评价, R2.5, §四(三)), pure: no ORM, no I/O.

- The indicator system is tiered: six dimensions (一级指标) with national weights, and under each the indicators
  (二级指标) with their own weights inside the dimension.
- A region adds indicators for its subtree or makes a parent's stricter (分级分类); it never changes the parent's
  own definition: :func:`check_regional` says what a regional definition may do, :func:`effective_indicators`
  resolves the set that applies in a region from the chain national → … → the region.
- An indicator turns its raw value into a score 0–100 linearly between ``floor`` (scores 0) and ``target``
  (scores 100), clamped; ``target < floor`` means lower is better (差评率, 超期率).
- A unit's score is Σ weight × score over the indicators that have a value; the weights are renormalised over
  them (:func:`effective_weights`). docs/metrics.md "绩效评价" states the formula; keep the two in step.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.db.models.enums import TextChoices
from django.utils.translation import gettext_lazy as _

from haochaping.core.problems import DomainError, invalid
from haochaping.org.rules import region_prefix

MANUAL = "manual"  # the source of an indicator scored by hand with evidence (no registry entry)
MAX_WEIGHT = 100.0
CODE_MAX = 20


class Dimension(TextChoices):
    ITEMS = "items", _("事项管理")
    PROCESS = "process", _("办事流程")
    STANDARDS = "standards", _("服务规范")
    QUALITY = "quality", _("服务质量")
    RECTIFICATION = "rectification", _("整改实效")
    SUPERVISION = "supervision", _("监督管理")


# The national weights of the dimensions (一级指标), summing to 100.
DIMENSION_WEIGHTS: dict[str, float] = {
    Dimension.ITEMS: 10, Dimension.PROCESS: 15, Dimension.STANDARDS: 15, Dimension.QUALITY: 30,
    Dimension.RECTIFICATION: 20, Dimension.SUPERVISION: 10,
}


@dataclass(frozen=True)
class IndicatorDef:
    """One indicator as a region defines it. ``region`` is None for the national default."""

    code: str
    name: str
    dimension: str
    source: str
    weight: float
    floor: float
    target: float
    region: str | None = None

    @property
    def lower_is_better(self) -> bool:
        return self.target < self.floor


# The national defaults (seeded by the data migration and services.ensure_national_indicators). The sources are
# those of appraisal.sources; docs/appraisal.md lists them with their definitions.
NATIONAL_DEFAULTS: tuple[IndicatorDef, ...] = (
    IndicatorDef("ITEM-GUIDE", "办事指南要素完整准确（人工评分）", Dimension.ITEMS, MANUAL, 1, 0, 100),
    IndicatorDef("PROC-OVERDUE", "办件超期率（%）", Dimension.PROCESS, "overdue_rate", 1, 10, 0),
    IndicatorDef("STD-ASSESS", "第三方评估得分", Dimension.STANDARDS, "assessment_score", 1, 0, 100),
    IndicatorDef("QUAL-SATIS", "满意度（0–100）", Dimension.QUALITY, "satisfaction", 2, 50, 100),
    IndicatorDef("QUAL-BAD", "差评率（%）", Dimension.QUALITY, "bad_rate", 1, 10, 0),
    IndicatorDef("RECT-ONTIME", "整改按时率（%）", Dimension.RECTIFICATION, "rectify_on_time_rate", 1, 60, 100),
    IndicatorDef("RECT-CALLBACK", "回访率（%）", Dimension.RECTIFICATION, "callback_rate", 1, 60, 100),
    IndicatorDef("SUP-WORK", "监督管理工作落实（人工评分）", Dimension.SUPERVISION, MANUAL, 1, 0, 100),
    IndicatorDef("SUP-SURVEY", "监督查评问卷得分（0–100）", Dimension.SUPERVISION, "survey_scores", 1, 60, 100),
    IndicatorDef("SUP-SAMPLING", "回访抽查不一致率（%）", Dimension.SUPERVISION, "sampling_mismatch_rate", 1, 10, 0),
)


# ---- definitions ------------------------------------------------------------------------------------------


def check_definition(d: IndicatorDef, *, known_sources: Iterable[str]) -> None:
    """Refuse (422 naming the field) a definition that cannot be scored."""
    code = (d.code or "").strip()
    if not code or len(code) > CODE_MAX or not all(c.isalnum() or c in "-_" for c in code):
        raise invalid(f"指标代码应为1–{CODE_MAX}位字母、数字、连字符或下划线", "code")
    if not (d.name or "").strip():
        raise invalid("请填写指标名称", "name")
    if d.dimension not in Dimension.values:
        raise invalid("请选择指标所属的一级指标（维度）", "dimension")
    if d.source != MANUAL and d.source not in set(known_sources):
        raise invalid(f"没有名为“{d.source}”的数据来源", "source")
    for field in ("weight", "floor", "target"):
        value = getattr(d, field)
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            raise invalid("应为数字", field)
    if not 0 < d.weight <= MAX_WEIGHT:
        raise invalid(f"权重应大于0且不超过{MAX_WEIGHT:g}", "weight")
    if d.floor == d.target:
        raise invalid("满分值与零分值不能相同", "target")


def check_regional(d: IndicatorDef, inherited: IndicatorDef | None) -> None:
    """What a region may do with an indicator for its subtree (分级分类): add one of its own (``inherited`` is
    None), or make the one it inherits stricter: same dimension and source, and a target and floor at least as
    demanding. The weight may change (the region's emphasis); the parent's own definition is never touched."""
    if d.region is None:
        raise invalid("地区指标须指定行政区划", "region")
    if inherited is None:
        return
    if d.dimension != inherited.dimension:
        raise invalid(f"指标“{inherited.code}”继承自上级，一级指标须仍为“{Dimension(inherited.dimension).label}”",
                      "dimension")
    if d.source != inherited.source:
        raise invalid(f"指标“{inherited.code}”继承自上级，数据来源不能更改", "source")
    if d.lower_is_better != inherited.lower_is_better:
        raise invalid("不能改变指标的方向（越高越好或越低越好）", "target")
    sign = -1 if inherited.lower_is_better else 1
    if sign * (d.target - inherited.target) < 0:
        raise invalid(f"地区只能从严：满分值不能比上级（{inherited.target:g}）宽松", "target")
    if sign * (d.floor - inherited.floor) < 0:
        raise invalid(f"地区只能从严：零分值不能比上级（{inherited.floor:g}）宽松", "floor")


def chain(region_code: str, known: Iterable[str]) -> list[str]:
    """The regions whose definitions apply in ``region_code``, top first: those of ``known`` whose subtree holds
    it (a region applies to its own subtree only)."""
    applies = [c for c in set(known) if region_code.startswith(region_prefix(c))]
    return sorted(applies, key=lambda c: (len(region_prefix(c)), c))


def effective_indicators(region_code: str | None, definitions: Iterable[IndicatorDef]) -> list[IndicatorDef]:
    """The indicators that apply in ``region_code``: the national ones, overridden and extended by each region on
    the way down (the nearest region's definition of a code wins). Ordered by dimension, then code."""
    defs = list(definitions)
    by_code: dict[str, IndicatorDef] = {d.code: d for d in defs if d.region is None}
    if region_code:
        regional: dict[str, list[IndicatorDef]] = {}
        for d in defs:
            if d.region is not None:
                regional.setdefault(d.region, []).append(d)
        for code in chain(region_code, regional):
            for d in regional[code]:
                by_code[d.code] = d
    order = {v: i for i, v in enumerate(Dimension.values)}
    return sorted(by_code.values(), key=lambda d: (order.get(d.dimension, 99), d.code))


def inherited_definition(region_code: str, code: str, definitions: Iterable[IndicatorDef]) -> IndicatorDef | None:
    """What ``region_code`` inherits for ``code`` from above it (its own definition left out)."""
    above = [d for d in definitions if d.region != region_code]
    parent = [d for d in effective_indicators(region_code, above) if d.code == code]
    return parent[0] if parent else None


# ---- scoring ----------------------------------------------------------------------------------------------


def normalise(raw: float, floor: float, target: float) -> float:
    """The score 0–100 of ``raw``: linear between ``floor`` (0) and ``target`` (100), clamped."""
    share = (raw - floor) / (target - floor)
    return 100.0 * min(1.0, max(0.0, share))


def effective_weights(indicators: Iterable[IndicatorDef], has_value: Mapping[str, bool],
                      dimension_weights: Mapping[str, float] = DIMENSION_WEIGHTS) -> dict[str, float]:
    """Each indicator's share of the total (summing to 1) among those with a value: the dimension's weight over
    the dimensions that have at least one valued indicator, times the indicator's weight over its dimension's
    valued indicators. Indicators without a value get 0. Empty when nothing has a value."""
    valued = [d for d in indicators if has_value.get(d.code)]
    dims: dict[str, float] = {}
    for d in valued:
        dims[d.dimension] = dims.get(d.dimension, 0.0) + d.weight
    dim_total = sum(dimension_weights.get(dim, 0.0) for dim in dims)
    out = {d.code: 0.0 for d in indicators}
    if not valued or dim_total <= 0:
        return {}
    for d in valued:
        out[d.code] = dimension_weights.get(d.dimension, 0.0) / dim_total * d.weight / dims[d.dimension]
    return out


@dataclass(frozen=True)
class Line:
    """One row of a unit's breakdown."""

    code: str
    name: str
    dimension: str
    source: str
    raw: float | None
    score: float | None
    weight: float  # share of the total, 0–1
    contribution: float  # weight × score, points of the 0–100 total

    def as_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "dimension": self.dimension, "source": self.source,
                "raw": self.raw, "score": self.score, "weight": self.weight, "contribution": self.contribution}


def appraise(indicators: list[IndicatorDef], raw: Mapping[str, float | None]) -> tuple[float | None, list[Line]]:
    """A unit's appraisal score (0–100, None when no indicator has a value) and its breakdown."""
    values = {code: v for code, v in raw.items() if v is not None}
    for code, v in values.items():
        if not math.isfinite(v):
            raise DomainError(422, "请求内容有误", f"指标“{code}”的原始值不是有限数", "raw", code="invalid")
    weights = effective_weights(indicators, {d.code: d.code in values for d in indicators})
    lines = []
    for d in indicators:
        value = values.get(d.code)
        score = normalise(value, d.floor, d.target) if value is not None else None
        w = weights.get(d.code, 0.0)
        lines.append(Line(d.code, d.name, d.dimension, d.source, value, score, w, w * score if score is not None else 0.0))
    total = sum(line.contribution for line in lines) if weights else None
    return total, lines


# ---- periods ----------------------------------------------------------------------------------------------


def check_period(start, end) -> None:
    if start is None:
        raise invalid("请填写考核期间起始日", "period_start")
    if end is None:
        raise invalid("请填写考核期间截止日", "period_end")
    if end < start:
        raise invalid("考核期间截止日不能早于起始日", "period_end")


def month_of(day):
    """The calendar month containing ``day``: (first day, last day)."""
    first = day.replace(day=1)
    nxt = (first.replace(year=first.year + 1, month=1) if first.month == 12 else first.replace(month=first.month + 1))
    return first, nxt - timedelta(days=1)


def last_month(today):
    return month_of(today.replace(day=1) - timedelta(days=1))
