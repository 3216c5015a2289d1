"""Where an indicator's raw value comes from: a registry of sources keyed by name.

A source is a function ``(unit_ids, start, end) -> {unit_id: value}``: for the departments ``unit_ids`` and the
days ``start``..``end`` (inclusive, on the site's calendar), the raw value of each unit that has data, on a 0–100
scale (a rate in per cent, a score out of 100). A unit without data is left out (the indicator then has no value
for it and its weight goes to the others; rules.effective_weights).

Sources are added with :func:`register`; ``survey_scores`` and ``sampling_mismatch_rate`` (at the end) read the
监督查评 surveys and callback sampling. docs/appraisal.md lists every source with its definition.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Avg, Count, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

SourceFn = Callable[[list[int], date, date], dict[int, float]]


@dataclass(frozen=True)
class Source:
    name: str
    label: str
    fn: SourceFn


REGISTRY: dict[str, Source] = {}


def register(name: str, label: str):
    """Decorator: add ``fn`` to the registry under ``name`` (a second registration of the name replaces it)."""

    def wrap(fn: SourceFn) -> SourceFn:
        REGISTRY[name] = Source(name, label, fn)
        return fn

    return wrap


def names() -> list[str]:
    return sorted(REGISTRY)


def span(start: date, end: date) -> tuple[datetime, datetime]:
    """The moments of the days ``start``..``end`` on the site's calendar: [start 00:00, end+1 00:00)."""
    tz = timezone.get_current_timezone()
    return (timezone.make_aware(datetime.combine(start, time.min), tz),
            timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz))


def _pct(num: int, den: int) -> float | None:
    return 100.0 * num / den if den else None


def _evaluations(unit_ids: Iterable[int], start: date, end: date):
    from haochaping.evaluation.models import Evaluation

    since, until = span(start, end)
    return (Evaluation.objects.countable().filter(department_id__in=list(unit_ids), created_at__gte=since,
                                                   created_at__lt=until)
            .order_by().values("department_id"))


@register("satisfaction", "满意度：有效评价等级换算为0–100分的平均值（5→100 … 1→0）")
def satisfaction(unit_ids, start, end):
    rows = _evaluations(unit_ids, start, end).annotate(m=Avg("level"))
    return {r["department_id"]: (float(r["m"]) - 1) * 25 for r in rows}


@register("bad_rate", "差评率：等级1–2的有效评价占有效评价的百分比")
def bad_rate(unit_ids, start, end):
    rows = _evaluations(unit_ids, start, end).annotate(n=Count("pk"), bad=Count("pk", filter=Q(level__lte=2)))
    return {r["department_id"]: _pct(r["bad"], r["n"]) for r in rows}


@register("good_rate", "好评率：等级4–5的有效评价占有效评价的百分比")
def good_rate(unit_ids, start, end):
    rows = _evaluations(unit_ids, start, end).annotate(n=Count("pk"), good=Count("pk", filter=Q(level__gte=4)))
    return {r["department_id"]: _pct(r["good"], r["n"]) for r in rows}


def _case_figures(unit_ids, start, end):
    from haochaping.rectification import figures
    from haochaping.rectification.models import RectificationCase

    since, until = span(start, end)
    cases = RectificationCase.objects.filter(department_id__in=list(unit_ids), opened_at__gte=since,
                                             opened_at__lt=until)
    return figures.case_figures(cases, by="department")


@register("rectify_on_time_rate", "整改按时率：期间立案、已处理的案件中按期处理的百分比（rectification.figures 的按时办结率）")
def rectify_on_time_rate(unit_ids, start, end):
    return {f.key: 100.0 * f.on_time_rate for f in _case_figures(unit_ids, start, end)
            if f.key is not None and f.on_time_rate is not None}


@register("callback_rate", "回访率：期间立案的案件中已登记回访核实的百分比（rectification.figures 的回访率）")
def callback_rate(unit_ids, start, end):
    return {f.key: 100.0 * f.callback_rate for f in _case_figures(unit_ids, start, end)
            if f.key is not None and f.callback_rate is not None}


@register("overdue_rate", "办件超期率：期间办结、有办结期限的办件中办结日晚于期限的百分比")
def overdue_rate(unit_ids, start, end):
    from haochaping.records.models import RecordStatus, ServiceRecord

    since, until = span(start, end)
    rows = (ServiceRecord.objects.filter(department_id__in=list(unit_ids), status=RecordStatus.COMPLETED,
                                         completed_at__gte=since, completed_at__lt=until, due_date__isnull=False)
            .order_by().annotate(day=TruncDate("completed_at")).values("department_id")
            .annotate(n=Count("pk"), late=Count("pk", filter=Q(day__gt=F("due_date")))))
    return {r["department_id"]: _pct(r["late"], r["n"]) for r in rows}


@register("assessment_score", "第三方评估得分：期间与考核期间重叠、已采纳的第三方评估得分（各指标得分的平均）的平均值")
def assessment_score(unit_ids, start, end):
    from haochaping.supervision.assessments.models import Assessment
    from haochaping.supervision.assessments.rules import State

    rows = (Assessment.objects.filter(department_id__in=list(unit_ids), state=State.ACCEPTED,
                                      period_start__lte=end, period_end__gte=start, score__isnull=False)
            .order_by().values("department_id").annotate(m=Avg("score")))
    return {r["department_id"]: float(r["m"]) for r in rows}


@register("survey_scores", "监督查评问卷得分：期间内关于该部门的问卷中“服务满意度”量表题得分的平均值（0–100）")
def survey_scores(unit_ids, start, end):
    from haochaping.supervision.surveys.results import survey_scores as scores

    return {unit: value for unit, value in scores(list(unit_ids), start, end).items() if value is not None}


@register("sampling_mismatch_rate", "回访抽查不一致率：期间抽查回访接通的评价中，评价人称“未评价”或“被要求给出该评价”的百分比")
def sampling_mismatch_rate(unit_ids, start, end):
    from haochaping.supervision.sampling.models import CallbackItem, CallStatus

    # Per 100 reached calls: an unreached call says nothing about the rating, so it is not in the denominator.
    rows = (CallbackItem.objects.filter(sample__department_id__in=list(unit_ids), sample__period_start__gte=start,
                                        sample__period_end__lte=end, status=CallStatus.DONE)
            .order_by().values("sample__department_id")
            .annotate(n=Count("pk"), flagged=Count("pk", filter=Q(mismatch=True))))
    return {r["sample__department_id"]: _pct(r["flagged"], r["n"]) for r in rows}
