"""The analyses a supervisor expects beside the dashboard (/insight/…), each under the dashboard's own filters
(period, channel, region and unit position; :mod:`.dashboard_filters`) and scope:

* 按事项 (/insight/items/) and 按平台 (/insight/platforms/): every 事项 or 平台 with its figures, their composition and a
  fair ranking; a row opens the dashboard filtered to it.
* 问卷与改进意见 (/insight/questionnaire/): the online questionnaire's 是/否 answers per 事项, department, hall or
  platform, and the newest improvement suggestions (contact details redacted, no evaluator data).
* 评价覆盖情况 (/insight/coverage/, R1.3): halls, windows, staff, items and platforms with completed 办件 but no
  evaluation in the period, and 参评率 per department and per hall.

Thin: every number comes from :mod:`..metrics`, which reads the rollups (never the evaluations).
"""

from __future__ import annotations

from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from haochaping.core.problems import DomainError
from haochaping.rectification.views.common import workbench_view

from .. import charts, metrics
from ..metrics import questionnaire as questionnaire_metrics
from .dashboard import DIMENSION_TITLES, MAX_STACKED, MAX_UNITS, read_filters, unit_row
from .dashboard_filters import Position, position, query, stats_filter

ACROSS = ("item", "platform")
QUESTIONNAIRE_BY = {"item": gettext_lazy("事项"), "department": gettext_lazy("部门"),
                    "agency": gettext_lazy("政务服务机构"), "platform": gettext_lazy("平台")}
COVERAGE_OF = (("agency", gettext_lazy("政务服务机构（大厅）")), ("window", gettext_lazy("窗口")),
               ("staff", gettext_lazy("工作人员")), ("item", gettext_lazy("事项")), ("platform", gettext_lazy("平台")))
MAX_SUGGESTIONS = 50
MAX_MISSING = 300


def _base(request, template: str, section: str):
    """(form, data, position, context) — or the 422 page when a filter is wrong."""
    form, data = read_filters(request)
    context = {"form": form, "workbench_section": "dashboard", "analysis": section, "data": data}
    if data is None:
        context["errors"] = form.errors_by_label()
        return None, render(request, template, context, status=422)
    pos = position(request.user, data)
    units = {k: v for k, v in pos.params.items() if k in ("region", "department", "agency")}
    context |= {"position": pos, "nav_query": query(data, units),
                "channel_name": dict(form.fields["channel"].choices)[data.get("channel") or ""]}
    return (data, pos, context), None


def _dimension_page(request, dim: str):
    template = "insight/analysis_dimension.html"
    ready, failed = _base(request, template, dim)
    if failed:
        return failed
    data, pos, context = ready
    user, flt = request.user, stats_filter(pos, data)
    stats = metrics.figures(user, flt, group_by=dim)
    dashboard = reverse("insight:dashboard")

    def link(key):
        return f"{dashboard}?{query(data, pos.params, **{dim: key})}" if key else None

    groups = sorted(stats.groups, key=lambda g: (g.key == "", -g.tally.valid, -g.tally.total, g.key))
    rows = [unit_row(g, link(g.key)) for g in groups[:MAX_UNITS]]
    shown = [g for g in groups if g.tally.valid][:MAX_STACKED]
    title = DIMENSION_TITLES[dim]
    chart = charts.stacked_share_chart(
        f"chart-mix-{dim}", _("各%(dim)s的评价构成") % {"dim": title}, [g.name for g in shown], [
            charts.Series(_("好评"), tuple(g.tally.good for g in shown), "good"),
            charts.Series(_("一般"), tuple(g.tally.levels.get(3, 0) for g in shown), "neutral"),
            charts.Series(_("差评"), tuple(g.tally.bad for g in shown), "bad"),
        ], x_name=title,
    )
    ranking = metrics.rankings_of(stats)

    def ranked_rows(rows_):
        return [{"rank": r.rank, "name": r.name, "evaluations": charts.fmt_count(r.evaluations),
                 "good_rate": charts.fmt_percent(r.good_rate)} for r in rows_]

    context |= {
        "dim": dim, "title": title, "rows": rows, "more": max(0, len(groups) - MAX_UNITS), "chart": chart,
        "total": unit_row(stats.total, None), "ranking": ranking, "ranked": ranked_rows(ranking.ranked[:10]),
        "worst": ranked_rows(list(reversed(ranking.ranked[10:]))[:10]),
        "questionnaire_url": f"{reverse('insight:questionnaire')}?{query(data, context_params(pos))}&by={dim}",
    }
    return render(request, template, context)


def context_params(pos: Position) -> dict:
    return {k: v for k, v in pos.params.items() if k in ("region", "department", "agency", *ACROSS)}


@workbench_view()
@require_GET
def items(request):
    return _dimension_page(request, "item")


@workbench_view()
@require_GET
def platforms(request):
    return _dimension_page(request, "platform")


def _answer_cells(group) -> list[dict]:
    return [{"yes": a.yes, "no": a.no, "rate": charts.fmt_percent(a.yes_rate)} for a in group.answers]


@workbench_view()
@require_GET
def questionnaire(request):
    template = "insight/analysis_questionnaire.html"
    ready, failed = _base(request, template, "questionnaire")
    if failed:
        return failed
    data, pos, context = ready
    by = request.GET.get("by") or "item"
    if by not in QUESTIONNAIRE_BY:
        context["errors"] = [(_("汇总维度"), _("汇总维度应为事项、部门、政务服务机构或平台"))]
        return render(request, template, context, status=422)
    flt = stats_filter(pos, data)
    try:
        total, groups = questionnaire_metrics.summary(request.user, flt, by=by)
        count, suggestions = questionnaire_metrics.suggestions(request.user, flt, MAX_SUGGESTIONS)
    except DomainError as err:  # a window or staff position: the questionnaire has no such columns
        context["errors"] = [(_("窗口或工作人员"), err.detail)]
        return render(request, template, context, status=422)
    here = query(data, context_params(pos))
    context |= {
        "by": by, "by_title": QUESTIONNAIRE_BY[by],
        "by_links": [{"value": v, "label": t, "query": f"{here}&by={v}", "current": v == by}
                     for v, t in QUESTIONNAIRE_BY.items()],
        "questions": [a.text for a in total.answers], "total": total, "total_cells": _answer_cells(total),
        "rows": [{"group": g, "cells": _answer_cells(g)} for g in groups[:MAX_UNITS]],
        "more": max(0, len(groups) - MAX_UNITS), "suggestion_count": count, "suggestions": suggestions,
    }
    return render(request, template, context)


@workbench_view()
@require_GET
def coverage(request):
    template = "insight/analysis_coverage.html"
    ready, failed = _base(request, template, "coverage")
    if failed:
        return failed
    data, pos, context = ready
    user, flt = request.user, stats_filter(pos, data)
    sections = []
    for of, title in COVERAGE_OF:
        c = metrics.coverage(user, flt, of=of)
        sections.append({"of": of, "title": title, "active": c.active, "evaluated": c.evaluated,
                         "rate": charts.fmt_percent(c.rate), "missing": c.missing[:MAX_MISSING],
                         "missing_count": len(c.missing), "more": max(0, len(c.missing) - MAX_MISSING)})
    participation = []
    for dim in ("department", "agency"):
        stats = metrics.figures(user, flt, group_by=dim)
        groups = sorted((g for g in stats.groups if g.completed), key=lambda g: (
            g.participation_rate if g.participation_rate is not None else 2, g.key))
        participation.append({"dim": dim, "title": DIMENSION_TITLES[dim], "rows": [{
            "name": g.name, "completed": charts.fmt_count(g.completed or 0), "rated": charts.fmt_count(g.rated or 0),
            "rate": charts.fmt_percent(g.participation_rate)} for g in groups[:MAX_UNITS]],
            "more": max(0, len(groups) - MAX_UNITS)})
    context |= {"sections": sections, "participation": participation}
    return render(request, template, context)
