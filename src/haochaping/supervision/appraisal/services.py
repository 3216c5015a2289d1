"""The appraisal's use cases: the indicator system (national defaults, regions' stricter or extra indicators),
scores entered by hand with evidence, and the computation of a period's appraisal per unit (绩效评价).

Each writing service is one transaction and writes one ``core.AuditEntry`` (codes and ids only). Bad input is a
``DomainError`` naming the field, raised before anything is written. The formula is in rules (docs/metrics.md
"绩效评价"); where each raw value comes from is in sources (docs/appraisal.md)."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date

from django.db import transaction
from django.utils import timezone

from haochaping.accounts.roles import Role
from haochaping.core.models import AuditEntry
from haochaping.core.problems import DomainError, invalid, not_found
from haochaping.core.scoping import can_see, scope
from haochaping.org.models import Department, Region
from haochaping.org.rules import region_prefix

from . import rules, sources
from .models import Appraisal, Indicator, ManualScore
from .rules import IndicatorDef


def _forbidden(detail: str) -> DomainError:
    return DomainError(403, "禁止访问", detail, None, code="forbidden")


def _require_supervisor(actor) -> None:
    if actor is None:
        return
    if not (actor.is_active and (actor.is_superuser or actor.role == Role.SUPERVISOR)):
        raise _forbidden("只有政务服务管理机构的监督人员可以进行此操作")


def _username(actor) -> str:
    return getattr(actor, "username", None) or "system"


def as_def(row: Indicator) -> IndicatorDef:
    return IndicatorDef(row.code, row.name, row.dimension, row.source, row.weight, row.floor, row.target,
                        row.region_id)


def ensure_national_indicators() -> int:
    """Add any national default indicator missing from the database (the data migration seeds them; this keeps
    an existing database in step). Returns how many were added."""
    added = 0
    with transaction.atomic():
        for d in rules.NATIONAL_DEFAULTS:
            _row, made = Indicator.objects.get_or_create(region=None, code=d.code, defaults=dict(
                name=d.name, dimension=d.dimension, source=d.source, weight=d.weight, floor=d.floor, target=d.target))
            added += made
    return added


def all_definitions() -> list[IndicatorDef]:
    return [as_def(r) for r in Indicator.objects.all()]


def effective_for(region_code: str | None, definitions: list[IndicatorDef] | None = None) -> list[IndicatorDef]:
    """The indicators that apply to units of ``region_code`` (rules.effective_indicators)."""
    return rules.effective_indicators(region_code, all_definitions() if definitions is None else definitions)


def _number(value, field: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise invalid("应为数字", field) from None
    if not math.isfinite(number):
        raise invalid("应为数字", field)
    return number


def define_indicator(*, actor, region: Region, code: str, name: str, dimension: str, source: str, weight,
                     floor, target) -> Indicator:
    """A region's own indicator for its subtree, or its stricter version of one it inherits
    (rules.check_regional). Saving the same code again for the same region changes the region's own row."""
    _require_supervisor(actor)
    if region is None:
        raise invalid("请选择制定地区", "region")
    if actor is not None and not can_see(actor, region):
        raise not_found("没有这个行政区划", "region")
    d = IndicatorDef((code or "").strip().upper(), (name or "").strip(), dimension, (source or "").strip(),
                     _number(weight, "weight"), _number(floor, "floor"), _number(target, "target"), region.code)
    rules.check_definition(d, known_sources=sources.names())
    with transaction.atomic():
        definitions = all_definitions()
        rules.check_regional(d, rules.inherited_definition(region.code, d.code, definitions))
        row, made = Indicator.objects.update_or_create(region=region, code=d.code, defaults=dict(
            name=d.name, dimension=d.dimension, source=d.source, weight=d.weight, floor=d.floor, target=d.target,
            created_by=actor))
        AuditEntry.objects.create(actor=_username(actor), action="appraisal.indicator",
                                  object_type="supervision.Indicator", object_id=str(row.pk),
                                  data={"region": region.code, "code": d.code, "created": made})
    return row


def record_manual_score(*, actor, indicator_code: str, department: Department, start: date, end: date, value,
                        evidence: str, now=None) -> ManualScore:
    """Score an indicator by hand (source ``manual``) for a unit and period, with the evidence (required)."""
    _require_supervisor(actor)
    if department is None or (actor is not None and not can_see(actor, department)):
        raise not_found("没有这个部门", "department")
    rules.check_period(start, end)
    applicable = {d.code: d for d in effective_for(department.region_id)}
    d = applicable.get((indicator_code or "").strip().upper())
    if d is None:
        raise invalid("该指标不适用于这个部门", "indicator")
    if d.source != rules.MANUAL:
        raise invalid("该指标由数据来源自动计算，不能人工评分", "indicator")
    number = _number(value, "value")
    if not 0 <= number <= 100:
        raise invalid("得分应在0–100之间", "value")
    evidence = (evidence or "").strip()
    if not evidence:
        raise invalid("请填写评分依据", "evidence")
    row_indicator = Indicator.objects.get(code=d.code, region_id=d.region)
    with transaction.atomic():
        row, _made = ManualScore.objects.update_or_create(
            indicator=row_indicator, department=department, period_start=start, period_end=end,
            defaults=dict(value=number, evidence=evidence, scored_by=actor, scored_at=now or timezone.now()))
        AuditEntry.objects.create(actor=_username(actor), action="appraisal.manual_score",
                                  object_type="supervision.ManualScore", object_id=str(row.pk),
                                  data={"indicator": d.code, "department": department.pk})
    return row


def _manual_values(codes: set[str], unit_ids: list[int], start: date, end: date) -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = defaultdict(dict)
    for code, dept, value in (ManualScore.objects.filter(indicator__code__in=codes, department_id__in=unit_ids,
                                                         period_start=start, period_end=end)
                              .order_by("pk").values_list("indicator__code", "department_id", "value")):
        out[code][dept] = value
    return out


def raw_values(units: list[tuple[int, str]], start: date, end: date,
               definitions: list[IndicatorDef]) -> dict[int, tuple[list[IndicatorDef], dict[str, float | None]]]:
    """For each (department id, region code): the indicators that apply and their raw values. Each source is
    asked once for all the units that use it."""
    applies = {region: rules.effective_indicators(region, definitions) for region in {r for _u, r in units}}
    by_source: dict[str, set[int]] = defaultdict(set)
    manual_codes: set[str] = set()
    for unit, region in units:
        for d in applies[region]:
            if d.source == rules.MANUAL:
                manual_codes.add(d.code)
            else:
                by_source[d.source].add(unit)
    fetched: dict[str, dict[int, float]] = {}
    for name, unit_ids in by_source.items():
        source = sources.REGISTRY.get(name)
        fetched[name] = source.fn(sorted(unit_ids), start, end) if source else {}
    manual = _manual_values(manual_codes, [u for u, _r in units], start, end) if manual_codes else {}
    out = {}
    for unit, region in units:
        raw: dict[str, float | None] = {}
        for d in applies[region]:
            value = manual.get(d.code, {}).get(unit) if d.source == rules.MANUAL else fetched[d.source].get(unit)
            raw[d.code] = value
        out[unit] = (applies[region], raw)
    return out


def compute(*, region: Region, start: date, end: date, actor=None, now=None) -> list[Appraisal]:
    """Compute the period's appraisal of every active department in ``region``'s subtree and store it with its
    breakdown, replacing an earlier computation of the same period. One transaction."""
    _require_supervisor(actor)
    if region is None:
        raise invalid("请选择行政区划", "region")
    if actor is not None and not can_see(actor, region):
        raise not_found("没有这个行政区划", "region")
    rules.check_period(start, end)
    now = now or timezone.now()
    units = list(Department.objects.filter(region__pk__startswith=region_prefix(region.code), is_active=True)
                 .order_by("pk").values_list("pk", "region_id"))
    values = raw_values(units, start, end, all_definitions())
    saved = []
    with transaction.atomic():
        for unit, region_code in units:
            indicators, raw = values[unit]
            score, lines = rules.appraise(indicators, raw)
            row, _made = Appraisal.objects.update_or_create(
                department_id=unit, period_start=start, period_end=end,
                defaults=dict(region_id=region_code, score=score, breakdown=[line.as_dict() for line in lines],
                              computed_at=now))
            saved.append(row)
        AuditEntry.objects.create(actor=_username(actor), action="appraisal.compute",
                                  object_type="supervision.Appraisal", object_id=region.code,
                                  data={"start": start.isoformat(), "end": end.isoformat(), "units": len(saved)})
    return saved


def compute_last_month(*, today: date | None = None) -> int:
    """The scheduled run: last month's appraisal for every province-level subtree that has departments."""
    today = today or timezone.localdate()
    start, end = rules.last_month(today)
    tops = Region.objects.filter(parent__isnull=True)
    return sum(len(compute(region=r, start=start, end=end)) for r in tops)


def results(actor, start: date, end: date):
    """The period's appraisal results the actor may see, best first (units without a score last)."""
    from django.db.models import F

    return (scope(Appraisal.objects.all(), actor).filter(period_start=start, period_end=end)
            .select_related("department", "region").order_by(F("score").desc(nulls_last=True), "department__name"))


def periods(actor) -> list[tuple[date, date]]:
    """The periods that have results in the actor's scope, latest first."""
    return list(scope(Appraisal.objects.all(), actor).order_by("-period_start", "-period_end")
                .values_list("period_start", "period_end").distinct())


def appraise_live(region_code: str, start: date, end: date, *, department_id: int | None = None) -> list[dict]:
    """The appraisal of the active departments of ``region_code``'s subtree (or of one department) for any period,
    computed now and not stored (reports of quarters and years; the same formula as :func:`compute`). Rows are
    ``{"department_id", "department", "region_id", "score", "lines"}``, best first, units without a score last."""
    units_qs = Department.objects.filter(region__pk__startswith=region_prefix(region_code), is_active=True)
    if department_id is not None:
        units_qs = units_qs.filter(pk=department_id)
    units = list(units_qs.order_by("pk").values_list("pk", "region_id", "name"))
    values = raw_values([(u, r) for u, r, _n in units], start, end, all_definitions())
    rows = []
    for unit, region, name in units:
        indicators, raw = values[unit]
        score, lines = rules.appraise(indicators, raw)
        rows.append({"department_id": unit, "department": name, "region_id": region, "score": score,
                     "lines": lines})
    return sorted(rows, key=lambda r: (r["score"] is None, -(r["score"] or 0), r["department"]))


def latest_results(actor, *, limit: int = 10) -> tuple[tuple[date, date] | None, list[Appraisal]]:
    """The latest computed period in the actor's scope and its best units (the dashboard's panel)."""
    found = periods(actor)
    if not found:
        return None, []
    start, end = found[0]
    return (start, end), list(results(actor, start, end)[:limit])
