"""Supervision figures of rectification and appeals (R4.5, R7.3), per unit or in total.

Every figure is a count computed by the database in one grouped query (plus one for the units' names); rates are
:func:`rules.rate` of two of those counts, ``None`` when there is nothing to divide by. The definitions, and what
each leaves out, are in docs/metrics.md, section "整改与申诉"; keep the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Case, Count, DateField, F, Q, QuerySet, When
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from haochaping.org.models import Department, Region, ServiceAgency
from haochaping.rectification import rules
from haochaping.rectification.rules import AppealState, Kind, Outcome, State
from haochaping.rectification.services.deadlines import HANDLING_PENDING

GROUPS = {"department": ("department_id", Department), "agency": ("agency_id", ServiceAgency),
          "region": ("region_id", Region)}


@dataclass(frozen=True)
class CaseFigures:
    key: object  # the unit's id or region code; None for the total (or cases handled outside any hall, by agency)
    name: str
    cases: int
    called_back: int
    callback_rate: float | None  # 回访率
    handled: int
    rectify_rate: float | None  # 整改率
    finished: int
    on_time: int
    on_time_rate: float | None  # 按时办结率
    real_name: int
    real_name_done: int
    real_name_rate: float | None  # 实名差评回访整改率 (target 100 %)
    appeals: int
    appeal_rate: float | None  # 申诉率
    decided_appeals: int
    upheld: int
    upheld_rate: float | None  # 申诉成立率
    overdue_now: int
    bad_reviews: int = 0  # the denominator of 申诉率
    counted: int = 0  # cases not closed by an upheld appeal: the denominator of 整改率


def _handling_due():
    """The handling deadline the rules apply: fix_now_due, or for 限期整改 the 台账's effective due
    (rules.ledger_due: the requested date unless it is after rectify_due without an approved extension)."""
    ledger_due = Case(
        When(Q(ledger__extension_approved=True) | Q(ledger__deadline__lte=F("rectify_due")), then=F("ledger__deadline")),
        default=F("rectify_due"), output_field=DateField(),
    )
    return Case(When(outcome=Outcome.DEADLINE, then=ledger_due), default=F("fix_now_due"), output_field=DateField())


# The figures that depend only on what is stored about a case (not on today): a case's part in each is 0 or 1 and
# changes only when the case, its appeal or its 台账 is written, so insight keeps them summed per day and unit
# (insight.rollups.cases) — computed with these same expressions, so the two cannot disagree.
STORED = ("cases", "counted", "called_back", "handled", "finished", "on_time", "real_name", "real_name_done",
          "bad_reviews", "appeals", "decided_appeals", "upheld")


def annotated(cases_qs: QuerySet) -> QuerySet:
    """``cases_qs`` with the columns the aggregates read: the day the handling was done, on the site's calendar
    (Asia/Shanghai), and the handling deadline it is held against."""
    return cases_qs.annotate(_handled_day=TruncDate("handled_at"), _handling_due=_handling_due())


def stored_aggregates() -> dict:
    """The aggregates of :data:`STORED` (for annotated() cases)."""
    upheld = Q(appeal__state=AppealState.UPHELD)
    counted = ~Q(appeal__state=AppealState.UPHELD) | Q(appeal__isnull=True)
    handled = Q(handled_at__isnull=False) & counted
    real_name = Q(is_real_name=True) & counted
    return {
        "cases": Count("pk"),
        "counted": Count("pk", filter=counted),
        "called_back": Count("pk", filter=Q(callback_at__isnull=False)),
        "handled": Count("pk", filter=handled),
        "finished": Count("pk", filter=Q(state=State.CLOSED)),
        "on_time": Count("pk", filter=handled & Q(_handled_day__lte=F("_handling_due"))),
        "real_name": Count("pk", filter=real_name),
        "real_name_done": Count("pk", filter=real_name & Q(callback_at__isnull=False, handled_at__isnull=False)),
        "bad_reviews": Count("pk", filter=Q(kind=Kind.BAD_REVIEW)),
        "appeals": Count("pk", filter=Q(kind=Kind.BAD_REVIEW, appeal__isnull=False)),
        "decided_appeals": Count("pk", filter=Q(appeal__state__in=(AppealState.UPHELD, AppealState.REJECTED))),
        "upheld": Count("pk", filter=upheld),
    }


def overdue(today: date) -> Q:
    """当前逾期: in hand, and a deadline passed before ``today`` (for annotated() cases). Only in-hand cases can be
    overdue, so a count of it reads the in-hand cases only (the index on state)."""
    return Q(state__in=rules.IN_HAND) & (
        Q(state=State.OPEN, callback_due__lt=today)
        | Q(state__in=HANDLING_PENDING, handled_at__isnull=True, _handling_due__lt=today)
    )


def _aggregates(today: date) -> dict:
    return {**stored_aggregates(), "overdue_now": Count("pk", filter=overdue(today))}


def row(key, name: str, n: dict) -> CaseFigures:
    """A figures row from the counts (:data:`STORED` and ``overdue_now``)."""
    rate = rules.rate
    return CaseFigures(
        key=key, name=name, cases=n["cases"], called_back=n["called_back"],
        callback_rate=rate(n["called_back"], n["cases"]), handled=n["handled"],
        rectify_rate=rate(n["handled"], n["counted"]), finished=n["finished"], on_time=n["on_time"],
        on_time_rate=rate(n["on_time"], n["handled"]), real_name=n["real_name"], real_name_done=n["real_name_done"],
        real_name_rate=rate(n["real_name_done"], n["real_name"]), appeals=n["appeals"],
        appeal_rate=rate(n["appeals"], n["bad_reviews"]), decided_appeals=n["decided_appeals"], upheld=n["upheld"],
        upheld_rate=rate(n["upheld"], n["decided_appeals"]), overdue_now=n["overdue_now"],
        bad_reviews=n["bad_reviews"], counted=n["counted"],
    )


def case_figures(cases_qs: QuerySet, by: str | None = None, *, today: date | None = None) -> list[CaseFigures]:
    """The figures of the cases in ``cases_qs`` (already scoped by the caller): one total row when ``by`` is None,
    else one row per department, service agency or region (ordered by name). Two queries at most."""
    today = today or timezone.localdate()
    qs = annotated(cases_qs.order_by())
    aggregates = _aggregates(today)
    if by is None:
        return [row(None, _("合计"), qs.aggregate(**aggregates))]
    if by not in GROUPS:
        raise ValueError(f"by must be None or one of {sorted(GROUPS)}")
    field, model = GROUPS[by]
    counts = list(qs.values(field).annotate(**aggregates).order_by(field))
    keys = [c[field] for c in counts if c[field] is not None]
    names = dict(model.objects.filter(pk__in=keys).values_list("pk", "name")) if keys else {}
    rows = [row(c[field], names.get(c[field], _("未经政务服务机构") if c[field] is None else str(c[field])), c)
            for c in counts]
    return sorted(rows, key=lambda r: (r.key is None, r.name, str(r.key)))
