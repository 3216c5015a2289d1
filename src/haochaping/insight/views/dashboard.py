"""数据看板 (/insight/): headline figures, trends, level and channel mix, bad-review labels, the units below the
current position with drill-down links, fair rankings and the case figures — for supervisors (their region's
subtree), handlers (their unit) and superusers.

Thin: every number comes from :mod:`.metrics` (同源发布) under one :class:`metrics.StatsFilter` built from the
query string (:mod:`.dashboard_filters`); charts are SVG drawn by :mod:`..charts`, each with a table view.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from haochaping.accounts.roles import Role
from haochaping.core.scoping import scope, visibility_for
from haochaping.evaluation.rules import level_text
from haochaping.org.models import Region
from haochaping.rectification.views.common import may_use_workbench, workbench_view
from haochaping.supervision.appraisal import services as appraisal_services

from .. import charts, metrics
from .dashboard_filters import DashboardFilter, Position, position, query, sees_regions, stats_filter

DAILY_TREND_MAX_DAYS = 92  # longer periods trend by month
TOP_LABELS = 10
TOP_RANKED = 5
MAX_APART = 30
MAX_UNITS = 200  # rows of a unit table
MAX_STACKED = 15  # bars of a composition chart

DIMENSION_TITLES = {
    "region": "下级地区", "department": "部门", "agency": "政务服务机构", "window": "窗口", "staff": "工作人员",
    "item": "事项", "platform": "平台",
}
# The units listed below each position, and the dimension ranked there.
CHILDREN = {"department": ("window",), "agency": ("window",), "window": ("staff",), "staff": ()}
RANK_BY = {"region": "department", "department": "window", "agency": "window", "window": "staff"}


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _months(start: date, end: date) -> list[str]:
    out, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _trend(user, flt, start: date, end: date) -> list[charts.Chart]:
    by = "day" if (end - start).days < DAILY_TREND_MAX_DAYS else "month"
    stats = metrics.figures(user, flt, group_by=by)
    groups = {g.key: g.tally for g in stats.groups}
    if by == "day":
        keys = [d.isoformat() for d in _days(start, end)]
        short = [k[5:] for k in keys] if start.year == end.year else keys
        x_name = _("日期")
    else:
        keys = short = _months(start, end)
        x_name = _("月份")
    tallies = [groups.get(k) for k in keys]
    count = charts.line_chart(
        "chart-trend", _("评价数趋势（按日）") if by == "day" else _("评价数趋势（按月）"), keys,
        [charts.Series(_("有效评价数"), tuple(t.valid if t else 0 for t in tallies), "s0"),
         charts.Series(_("差评数"), tuple(t.bad if t else 0 for t in tallies), "s1")],
        x_name=x_name, short_labels=short,
    )
    bad_rate = charts.line_chart(
        "chart-bad-rate", _("差评率趋势（按日）") if by == "day" else _("差评率趋势（按月）"), keys,
        [charts.Series(_("差评率"), tuple(t.bad_rate if t else None for t in tallies), "s1")],
        fmt=charts.fmt_percent, integer=False, x_name=x_name, short_labels=short,
    )
    return [count, bad_rate]


def _levels(total: metrics.Figures) -> charts.Chart:
    levels = (5, 4, 3, 2, 1)
    return charts.bar_chart(
        "chart-levels", _("评价等级分布"), [level_text(lv) for lv in levels],
        [total.tally.levels.get(lv, 0) for lv in levels], name=_("有效评价数"), x_name=_("评价等级"),
        classes=[f"lv{lv}" for lv in levels], share_of=total.tally.valid,
    )


def _channels(user, flt, total: metrics.Figures) -> charts.Chart:
    rows = sorted(metrics.channel_counts(user, flt), key=lambda r: (-r.count, r.code))
    return charts.hbar_chart(
        "chart-channels", _("评价渠道构成（有效评价）"), [r.text for r in rows], [r.count for r in rows],
        name=_("有效评价数"), x_name=_("评价渠道"), share_of=total.tally.valid,
    )


def _labels(user, flt, total: metrics.Figures) -> charts.Chart:
    rows = metrics.bad_review_labels(user, flt, TOP_LABELS)
    return charts.hbar_chart(
        "chart-labels", _("差评标签（前%(n)d位）") % {"n": TOP_LABELS}, [r.text for r in rows],
        [r.count for r in rows], name=_("选择该标签的差评数"), x_name=_("差评标签"), share_of=total.tally.bad, css="s1",
    )


def unit_row(g: metrics.Figures, url: str | None, is_self: bool = False) -> dict:
    t, p = g.tally, charts.fmt_percent
    return {
        "key": g.key, "name": g.name, "url": url, "is_self": is_self, "figures": g,
        "evaluations": charts.fmt_count(t.valid), "good_rate": p(t.good_rate), "bad_rate": p(t.bad_rate),
        "satisfaction": charts.fmt_score(t.satisfaction), "participation": p(g.participation_rate),
        "excluded": charts.fmt_count(t.excluded), "system_default": charts.fmt_count(t.system_default),
    }


def _unit_rows(stats: metrics.Stats, link, self_key: str | None) -> list[dict]:
    groups = sorted(stats.groups, key=lambda g: (g.key == "", -g.tally.valid, -g.tally.total, g.key))
    return [unit_row(g, link(g.key), bool(self_key) and g.key == self_key) for g in groups[:MAX_UNITS]]


def _units(user, flt, pos: Position, data: dict, root_code: str | None) -> list[dict]:
    """One table per dimension below the position, each row linking one step further down."""
    if pos.level == "region":
        dims = (("region",) if sees_regions(user) else ()) + ("department", "agency")
    else:
        dims = CHILDREN[pos.level]
    current = pos.region.code if pos.region else root_code
    out = []
    for dim in dims:
        stats = metrics.figures(user, flt, group_by=dim)

        def link(key, dim=dim):
            if not key or (dim == "region" and key == current):
                return None
            return f"?{query(data, pos.params, **{dim: key})}"

        rows = _unit_rows(stats, link, current if dim == "region" else None)
        shown = [r["figures"] for r in rows if r["figures"].tally.valid][:MAX_STACKED]
        chart = charts.stacked_share_chart(
            f"chart-mix-{dim}", _("各%(dim)s的评价构成") % {"dim": DIMENSION_TITLES[dim]}, [g.name for g in shown], [
                charts.Series(_("好评"), tuple(g.tally.good for g in shown), "good"),
                charts.Series(_("一般"), tuple(g.tally.levels.get(3, 0) for g in shown), "neutral"),
                charts.Series(_("差评"), tuple(g.tally.bad for g in shown), "bad"),
            ], x_name=DIMENSION_TITLES[dim],
        )
        out.append({"dim": dim, "title": DIMENSION_TITLES[dim], "rows": rows, "chart": chart,
                    "more": max(0, len(stats.groups) - MAX_UNITS), "stats": stats})
    return out


def _rankings(user, flt, pos: Position, data: dict, units: list[dict] = ()) -> dict | None:
    by = RANK_BY.get(pos.level)
    if by is None:
        return None
    # The ranked dimension is usually one of the unit tables above: rank its figures instead of counting again.
    known = next((u["stats"] for u in units if u["dim"] == by), None)
    result = metrics.rankings(user, flt, by=by) if known is None else metrics.rankings_of(known)
    drillable = by != "region"

    def rows(items):
        return [{
            "row": r, "name": r.name, "rank": r.rank, "evaluations": charts.fmt_count(r.evaluations),
            "good": charts.fmt_count(r.good), "good_rate": charts.fmt_percent(r.good_rate),
            "score": charts.fmt_percent(r.score),
            "url": f"?{query(data, pos.params, **{by: r.key})}" if drillable and r.key else None,
        } for r in items]

    ranked = result.ranked
    return {
        "by": by, "title": DIMENSION_TITLES[by], "min_sample": result.min_sample, "count": len(ranked),
        "best": rows(ranked[:TOP_RANKED]),
        "worst": rows(list(reversed(ranked[TOP_RANKED:]))[:TOP_RANKED]),
        "apart": rows(result.apart[:MAX_APART]), "apart_more": max(0, len(result.apart) - MAX_APART),
    }


def headline(total: metrics.Figures) -> list[dict]:
    """The headline figures as shown (id, name, value, how it was counted)."""
    t, c, p = total.tally, charts.fmt_count, charts.fmt_percent
    return [
        {"id": "evaluations", "name": _("评价数"), "value": c(t.valid), "detail": _("有效评价")},
        {"id": "participation", "name": _("参评率"), "value": p(total.participation_rate),
         "detail": _("有评价的办结办件 %(r)s ÷ 办结办件 %(n)s") % {"r": c(total.rated or 0), "n": c(total.completed or 0)}},
        {"id": "good-rate", "name": _("好评率"), "value": p(t.good_rate),
         "detail": _("好评 %(g)s ÷ 有效评价 %(n)s") % {"g": c(t.good), "n": c(t.valid)}},
        {"id": "bad-rate", "name": _("差评率"), "value": p(t.bad_rate),
         "detail": _("差评 %(b)s ÷ 有效评价 %(n)s") % {"b": c(t.bad), "n": c(t.valid)}},
        {"id": "satisfaction", "name": _("满意度"), "value": charts.fmt_score(t.satisfaction),
         "detail": _("0–100 分，有效评价等级的平均值换算")},
        {"id": "excluded", "name": _("不计入统计的评价"), "value": c(t.excluded),
         "detail": _("其中差评 %(b)s 条；申诉成立或认定误评、恶意差评") % {"b": c(t.excluded_bad)}, "apart": True},
        {"id": "system-default", "name": _("系统默认评价（导入）"), "value": c(t.system_default),
         "detail": _("无人评价时导入的默认评价"), "apart": True},
    ]


def case_rows(f) -> list[dict]:
    """整改与申诉 figures of rectification.figures (via metrics.case_figures) as shown, with their fractions."""
    c, p = charts.fmt_count, charts.fmt_percent

    def frac(a, b):
        return f"{c(a)} / {c(b)}"

    return [
        {"id": "cases", "name": _("案件数"), "value": c(f.cases), "detail": _("期间内立案的差评与投诉案件")},
        {"id": "callback-rate", "name": _("回访率"), "value": p(f.callback_rate), "detail": frac(f.called_back, f.cases)},
        {"id": "rectify-rate", "name": _("整改率"), "value": p(f.rectify_rate), "detail": frac(f.handled, f.counted)},
        {"id": "on-time-rate", "name": _("按时办结率"), "value": p(f.on_time_rate), "detail": frac(f.on_time, f.handled)},
        {"id": "real-name-rate", "name": _("实名差评回访整改率"), "value": p(f.real_name_rate),
         "detail": frac(f.real_name_done, f.real_name) + _("，目标100%"),
         "below": f.real_name_rate is not None and f.real_name_rate < 1},
        {"id": "appeal-rate", "name": _("申诉率"), "value": p(f.appeal_rate), "detail": frac(f.appeals, f.bad_reviews)},
        {"id": "upheld-rate", "name": _("申诉成立率"), "value": p(f.upheld_rate), "detail": frac(f.upheld, f.decided_appeals)},
        {"id": "overdue-now", "name": _("当前逾期"), "value": c(f.overdue_now), "detail": _("今天仍有期限已过未完成的案件")},
    ]


def _root(user) -> tuple[str, str | None]:
    """The name of the scope's root and its region code (None for nationwide or unit-scoped callers)."""
    visibility = visibility_for(user)
    if visibility.everything:
        return _("全国"), None
    if visibility.region_prefix:
        region = user.region
        return (region.name if region else visibility.region_prefix), visibility.region_prefix.ljust(6, "0")
    return _("本单位"), None


def _crumbs(user, pos: Position, data: dict, root_name: str, root_code: str | None) -> list[dict]:
    crumbs = [{"name": root_name, "query": query(data, {})}]
    if pos.region is not None and pos.region.code != root_code:
        code = pos.region.code
        candidates = {code[:2] + "0000", code[:4] + "00", code[:6], code[:9]} - {code}
        ancestors = scope(Region.objects.filter(code__in=candidates), user).exclude(code=root_code or "")
        for region in sorted(ancestors, key=lambda r: len(r.code.rstrip("0"))):
            crumbs.append({"name": region.name, "query": query(data, {"region": region.code})})
        crumbs.append({"name": pos.region.name, "query": query(data, {"region": code})})
    # 事项 and 平台 filter the whole path, so every crumb keeps them.
    params: dict[str, str] = {k: v for k, v in pos.params.items() if k in ("region", "item", "platform")}
    for name in ("department", "agency", "window", "staff"):
        obj = getattr(pos, name)
        if obj is None:
            continue
        params[name] = pos.params[name]
        label = f"{obj.agency.name} {obj.name}" if name == "window" else obj.name
        crumbs.append({"name": f"{DIMENSION_TITLES[name]}：{label}", "query": query(data, dict(params))})
    return crumbs


def across(pos: Position, data: dict) -> list[dict]:
    """The 事项/平台 filters in force, each with the query that drops it."""
    return [{"title": DIMENSION_TITLES[name], "name": getattr(pos, name).name,
             "query": query(data, {k: v for k, v in pos.params.items() if k != name})}
            for name in ("item", "platform") if getattr(pos, name) is not None]


def _page_context(user, form: DashboardFilter, data: dict, pos: Position) -> dict:
    flt = stats_filter(pos, data)
    # The headline from the wide counters when they can answer, the channel mix from RegionDayMix (metrics):
    # neither reads the fine counters or the evaluations for a region-wide view.
    total = metrics.figures(user, flt).total
    root_name, root_code = _root(user)
    cases = metrics.case_figures(user, flt)[0]
    appraisal_period, appraisal_rows = appraisal_services.latest_results(user)
    units = _units(user, flt, pos, data, root_code)
    return {
        "appraisal_period": appraisal_period, "appraisal_rows": appraisal_rows,
        "channel_name": dict(DashboardFilter.base_fields["channel"].choices)[data.get("channel") or ""],
        "total": total, "headline": headline(total), "cases": case_rows(cases),
        "trend": _trend(user, flt, data["from"], data["to"]),
        "levels": _levels(total), "channels": _channels(user, flt, total), "labels": _labels(user, flt, total),
        "units": units, "rankings": _rankings(user, flt, pos, data, units),
        "crumbs": _crumbs(user, pos, data, root_name, root_code), "position": pos, "across": across(pos, data),
        "nav_query": query(data, {k: v for k, v in pos.params.items() if k in ("region", "department", "agency")}),
        "evaluations_url": f"{reverse('insight:dashboard_evaluations')}?{query(data, pos.params)}",
        "quick": [{"value": v, "label": label, "query": query({**data, "period": v}, pos.params),
                   "current": data.get("period") == v} for v, label in DashboardFilter.base_fields["period"].choices if v],
    }


def read_filters(request) -> tuple[DashboardFilter, dict | None]:
    """The bound filter form and its cleaned data (None when a value is wrong). The form shows the dates used."""
    form = DashboardFilter(request.GET)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    form.data = form.data.copy()
    form.data["from"], form.data["to"] = data["from"].isoformat(), data["to"].isoformat()
    return form, data


def _dashboard_or_own_results(user) -> bool:
    return may_use_workbench(user) or (user.is_active and getattr(user, "role", None) == Role.STAFF)


@workbench_view(allow=_dashboard_or_own_results)
@require_GET
def dashboard(request):
    if request.user.role == Role.STAFF and not request.user.is_superuser:
        return redirect("insight:mine")  # a window staff member's figures are their own results
    form, data = read_filters(request)
    context = {"form": form, "workbench_section": "dashboard", "data": data}
    if data is None:
        context["errors"] = form.errors_by_label()
        return render(request, "insight/dashboard.html", context, status=422)
    pos = position(request.user, data)
    context |= _page_context(request.user, form, data, pos)
    return render(request, "insight/dashboard.html", context)
