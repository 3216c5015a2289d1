"""评价明细 (/insight/evaluations/): the evaluations behind the dashboard's figures at its current position and
period — the last step of the drill-down. The same filter and scope as the figures (metrics.evaluations), every
part shown and marked (有效, 不计入统计, 系统默认评价); the evaluator only as 实名 with a masked phone, or 匿名;
comments with contact details redacted.

The number of rows (and so the pages) comes from the counters behind the dashboard's figures, not from COUNT(*)
over the evaluations: the list shows exactly the rows those counters count (metrics.evaluations), so the total is
the same and costs one small aggregate whatever the size of the table. The page itself is one indexed read in
(评价时间, id) order."""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from haochaping.evaluation.models import Channel, Evaluation, EvaluationExclusion
from haochaping.evaluation.rules import level_text
from haochaping.rectification.views.common import workbench_view

from .. import metrics
from ..painpoints import text
from .dashboard_filters import DashboardFilter, position, query, stats_filter

PAGE_SIZE = 50
COMMENT_CHARS = 200


class EvaluationFilter(DashboardFilter):
    part = forms.ChoiceField(
        label=gettext_lazy("范围"), required=False, choices=[
            ("", gettext_lazy("全部评价")), ("bad", gettext_lazy("仅有效差评")),
            ("excluded", gettext_lazy("仅不计入统计的评价")), ("system_default", gettext_lazy("仅系统默认评价")),
        ], error_messages={"invalid_choice": gettext_lazy("范围应从列表中选择")},
    )


def _part(qs, part: str):
    """The rows of one part (the same rows as Evaluation.countable()/excluded(), with the exclusion as a
    (NOT) EXISTS, so that PostgreSQL reads them in the order of an index and stops after a page)."""
    excluded = Exists(EvaluationExclusion.objects.filter(evaluation=OuterRef("pk")))
    if part == "bad":
        return qs.exclude(channel=Channel.SYSTEM_DEFAULT).filter(~excluded, is_bad=True)
    if part == "excluded":
        return qs.filter(excluded).exclude(channel=Channel.SYSTEM_DEFAULT)
    if part == "system_default":
        return qs.filter(channel=Channel.SYSTEM_DEFAULT)
    return qs


def _rows_of(ids: list[int]) -> list[Evaluation]:
    """The evaluations of one page, with what the table shows, in the page's order."""
    found = Evaluation.objects.filter(pk__in=ids).select_related("item", "window__agency", "staff", "exclusion")
    by_id = {ev.pk: ev for ev in found.prefetch_related("labels")}
    return [by_id[pk] for pk in ids if pk in by_id]


def _total(tally, part: str) -> int:
    """How many rows ``_part`` keeps, from the counters' tally of the same filter and scope."""
    return {"bad": tally.bad, "excluded": tally.excluded, "system_default": tally.system_default}.get(part, tally.total)


class CountedPaginator(Paginator):
    """A Paginator told its number of rows (from the counters) instead of counting them."""

    def __init__(self, object_list, per_page, count: int):
        super().__init__(object_list, per_page)
        self._known_count = count

    @property
    def count(self) -> int:
        return self._known_count


def _row(ev) -> dict:
    exclusion = getattr(ev, "exclusion", None) if hasattr(ev, "exclusion") else None
    if ev.channel == Channel.SYSTEM_DEFAULT:
        status = _("系统默认评价（不计入）")
    elif exclusion is not None:
        status = _("不计入统计（%(reason)s）") % {"reason": exclusion.get_reason_display()}
    else:
        status = _("有效")
    comment = text.redact(ev.comment)
    phone = str(ev.evaluator_phone) if ev.evaluator_phone else ""
    return {
        "ev": ev, "level": level_text(ev.level), "status": status, "valid": exclusion is None and ev.channel != Channel.SYSTEM_DEFAULT,
        "comment": comment if len(comment) <= COMMENT_CHARS else comment[:COMMENT_CHARS] + "…",
        "evaluator": _("实名（%(phone)s）") % {"phone": phone} if ev.is_real_name and phone else _("匿名"),
        "labels": [f"{label.code} {label.text}" for label in ev.labels.all()],
    }


@workbench_view()
@require_GET
def evaluations(request):
    form = EvaluationFilter(request.GET)
    context = {"form": form, "workbench_section": "dashboard"}
    if not form.is_valid():
        context["errors"] = form.errors_by_label()
        return render(request, "insight/dashboard_evaluations.html", context, status=422)
    data = form.cleaned_data
    form.data = form.data.copy()
    form.data["from"], form.data["to"] = data["from"].isoformat(), data["to"].isoformat()
    pos = position(request.user, data)
    flt, part = stats_filter(pos, data), data.get("part") or ""
    # First the page's ids alone (an index scan in (评价时间, id) order that stops after the page), then those rows
    # with their item, window, staff member, exclusion and labels.
    ids = _part(metrics.evaluations(request.user, flt), part).order_by("-created_at", "-pk").values_list("pk", flat=True)
    count = _total(metrics.figures(request.user, flt).total.tally, part)
    page = CountedPaginator(ids, PAGE_SIZE, count).get_page(request.GET.get("page"))
    page.object_list = _rows_of(list(page.object_list))
    here = query(data, pos.params) + (f"&part={data['part']}" if data.get("part") else "")
    context |= {
        "page": page, "rows": [_row(ev) for ev in page.object_list], "position": pos, "data": data,
        "query": here, "dashboard_url": f"{reverse('insight:dashboard')}?{query(data, pos.params)}",
    }
    return render(request, "insight/dashboard_evaluations.html", context)
