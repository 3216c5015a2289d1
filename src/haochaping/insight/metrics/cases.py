"""The figures of rectification cases, for insight.metrics (which re-exports them: one entry point for every
figure). The case figures themselves are defined in rectification.figures (docs/metrics.md "整改与申诉"); this
module selects the cases of a scope and period, and counts complaints per unit for the accountability list."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from haochaping.core.problems import invalid
from haochaping.core.scoping import scope, visibility_for

from . import names
from .filters import StatsFilter


def case_figures(actor, filters: StatsFilter, by: str | None = None) -> list:
    """整改率, 按时整改率, 实名差评回访整改率, 申诉成立率 … of the cases opened in the period, in the caller's scope:
    rectification.figures.case_figures defines them (docs/metrics.md "整改与申诉"); this only selects the cases.
    From the case counters (rollups.cases) when they can answer — no window, staff, item or channel filter (those
    live on the case's evaluation, not on the counters) and a caller who sees regions or units, not a staff
    member — else over the cases. 当前逾期 is always counted over the in-hand cases (it depends on today)."""
    from haochaping.rectification import figures as rectification_figures
    from haochaping.rectification.models import RectificationCase

    if by not in (None, "department", "agency", "region"):
        raise invalid("分组维度应为 department、agency 或 region", "by")
    if not _counters_answer(actor, filters):
        cases = filters.cases(scope(RectificationCase.objects.all(), actor))
        return rectification_figures.case_figures(cases, by=by)
    return _from_counters(actor, filters, by)


def _counters_answer(actor, filters: StatsFilter) -> bool:
    if filters.windows is not None or filters.staff is not None or filters.items is not None or filters.channel:
        return False
    return not visibility_for(actor).staff_id


def _from_counters(actor, filters: StatsFilter, by: str | None) -> list:
    from haochaping.rectification import figures as rectification_figures
    from haochaping.rectification.models import RectificationCase
    from haochaping.rectification.rules import IN_HAND

    from ..rollups import cases as case_rollups

    units = filters._units({"region": "region", "department": "department", "agency": "agency",
                            "platform": "platform"})
    sums = case_rollups.sums(lambda model: scope(model.objects.filter(units), actor), filters.date_from,
                             filters.date_to, by)
    # 当前逾期: only an in-hand case can be overdue, so only those are read (the index on state).
    in_hand = rectification_figures.annotated(
        filters.cases(scope(RectificationCase.objects.filter(state__in=IN_HAND), actor)).order_by())
    today = timezone.localdate()
    overdue = Count("pk", filter=rectification_figures.overdue(today))
    if by is None:
        n = in_hand.aggregate(n=overdue)["n"]
        return [rectification_figures.row(None, _("合计"), {**sums[None], "overdue_now": n})]
    field, model = rectification_figures.GROUPS[by]
    overdue_by = dict(in_hand.values_list(field).annotate(n=overdue).order_by())
    if by == "agency":  # the counters say 0 where a case has no hall
        sums = {key or None: value for key, value in sums.items()}
    keys = sorted(set(sums) | {k for k, n in overdue_by.items() if n}, key=str)
    present = [k for k in keys if k is not None]
    labels = dict(model.objects.filter(pk__in=present).values_list("pk", "name")) if present else {}
    zero = dict.fromkeys(rectification_figures.STORED, 0)
    rows = [rectification_figures.row(
        k, labels.get(k, _("未经政务服务机构") if k is None else str(k)),
        {**sums.get(k, zero), "overdue_now": overdue_by.get(k, 0)}) for k in keys
        if sums.get(k, zero)["cases"] or overdue_by.get(k, 0)]
    return sorted(rows, key=lambda r: (r.key is None, r.name, str(r.key)))


@dataclass(frozen=True)
class OutcomeCount:
    outcome: str  # a rectification Outcome value, "" while no way of handling is chosen yet
    name: str
    cases: int


def case_outcomes(actor, filters: StatsFilter) -> list[OutcomeCount]:
    """案件按处理方式 (立行立改, 限期整改, 解释说明, 误评, 恶意差评, 尚未确定): the cases opened in the period in the
    caller's scope, the same cases as :func:`case_figures`; every outcome listed, zero or not, in the rules' order."""
    from haochaping.rectification.models import RectificationCase
    from haochaping.rectification.rules import Outcome

    cases = filters.cases(scope(RectificationCase.objects.all(), actor))
    counts = {row["outcome"] or "": row["n"] for row in cases.order_by().values("outcome").annotate(n=Count("pk"))}
    rows = [OutcomeCount(value, str(label), counts.get(value, 0)) for value, label in Outcome.choices]
    return [*rows, OutcomeCount("", "尚未确定处理方式", sum(n for k, n in counts.items() if k not in Outcome.values))]


# Where a complaint's unit is: the unit it was routed to, and for a complaint about a 办件 its window and staff member.
COMPLAINT_UNITS = {"department": "department_id", "agency": "agency_id", "window": "record__window_id",
                   "staff": "record__staff_id"}


def complaint_counts(actor, filters: StatsFilter, by: str) -> dict[str, tuple[str, int]]:
    """投诉数 per unit (R5.4 "repeatedly … complained-about"): the complaints opened in the period in the caller's
    scope, counted for each unit of ``by`` — group key as the figures show it → (name, complaints)."""
    from haochaping.rectification.models import RectificationCase
    from haochaping.rectification.rules import Kind

    if by not in COMPLAINT_UNITS:
        raise invalid("分组维度应为 department、agency、window 或 staff", "by")
    column = COMPLAINT_UNITS[by]
    cases = filters.cases(scope(RectificationCase.objects.filter(kind=Kind.COMPLAINT), actor))
    counts = dict(cases.exclude(**{f"{column}__isnull": True}).order_by().values_list(column).annotate(n=Count("pk")))
    labels = names.names_for(by, counts)
    return {labels[unit][0]: (labels[unit][1], n) for unit, n in counts.items() if unit in labels}


FRAUD_UNITS = {"department": "department_id", "agency": "agency_id", "window": "window_id", "staff": "staff_id"}


def fraud_counts(actor, filters: StatsFilter, by: str) -> dict[str, tuple[str, int]]:
    """Confirmed 弄虚作假 findings per unit (R5.4 "evidence of 弄虚作假 such as manufactured good reviews"): the
    fraud findings a supervisor confirmed in the period (supervision.fraud), in the caller's scope — group key as
    the figures show it → (name, findings)."""
    from haochaping.supervision.fraud.models import FindingStatus, FraudFinding

    if by not in FRAUD_UNITS:
        raise invalid("分组维度应为 department、agency、window 或 staff", "by")
    column = FRAUD_UNITS[by]
    if filters.platforms is not None:
        return {}  # a finding is about a hall unit or a department, never a platform
    qs = scope(FraudFinding.objects.filter(status=FindingStatus.CONFIRMED), actor)
    qs = filters._moments(qs.filter(filters._units({"region": "region__pk", "department": "department_id",
                                                    "agency": "agency_id", "window": "window_id",
                                                    "staff": "staff_id", "item": "item_id"})),
                          "decided_at")
    counts = dict(qs.exclude(**{f"{column}__isnull": True}).order_by().values_list(column).annotate(n=Count("pk")))
    labels = names.names_for(by, counts)
    return {labels[unit][0]: (labels[unit][1], n) for unit, n in counts.items() if unit in labels}
