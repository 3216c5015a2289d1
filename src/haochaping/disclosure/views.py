"""The public portal's pages (R5.5 以公开为常态), at /public/: no login, no JavaScript needed, cacheable.

Thin: the figures come from insight.metrics through :mod:`.queries` (同源发布); what may be published of a case is
:func:`.rules.public_case`. A bad query value is shown in Chinese next to the field, with status 400.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.cache import cache
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from haochaping.core.problems import DomainError
from haochaping.insight import metrics
from haochaping.org.models import Region

from . import queries, rules

CACHE_SECONDS = 300
RECENT_CASES = 10


def cacheable(response, *, shared: bool = False):
    """Public pages may be kept for five minutes. HTML pages carry the header's 大字版 form and its CSRF cookie, so
    only the visitor's own browser may keep them (private); the downloads hold no cookie and any cache may keep them."""
    patch_cache_control(response, max_age=CACHE_SECONDS, **({"public": True} if shared else {"private": True}))
    return response


def cached(key: str, compute):
    """The figures of a page or file, computed at most once per five minutes per scope and period: a public
    portal is read far more often than its numbers change, and each computation reads the rollups and the 办件."""
    return cache.get_or_set(f"disclosure:{key}", compute, CACHE_SECONDS)


def not_found(request, message: str):
    return cacheable(render(request, "disclosure/not_found.html", {"message": message}, status=404))


def period_from(request) -> tuple[rules.Period, dict]:
    """The period asked for, and the errors to show (field → message); a bad value falls back to the default."""
    today = timezone.localdate()
    try:
        return rules.parse_period(request.GET.get("period"), today), {}
    except DomainError as err:
        return rules.last_twelve_months(today), {err.field or "period": err.detail}


def _query(**params) -> str:
    params = {k: v for k, v in params.items() if v not in (None, "")}
    return f"?{urlencode(params)}" if params else ""


def downloads(region, period: rules.Period, department=None) -> list[dict]:
    """The open-data files of this page's scope, as (title, csv url, json url)."""
    base = {"region": region.code if region else None, "period": period.value,
            "department": department.credit_code if department else None}
    files = []
    groups = ("month",) if department else ("region", "department", "month")
    titles = {"region": "评价指标（按下级地区）", "department": "评价指标（按部门）", "month": "评价指标（按月）"}
    for by in groups:
        files.append((titles[by], "figures", {**base, "by": by}))
    if not department:
        files.append(("部门公平排名", "rankings", {**base, "by": "department"}))
        files.append(("差评整改指标（按部门）", "rectification", {**base, "by": "department"}))
    else:
        files.append(("差评整改指标", "rectification", {**base, "by": "total"}))
    files.append(("差评整改案件（匿名）", "cases", base))
    out = []
    for title, dataset, params in files:
        query = _query(**params)
        out.append({
            "title": title,
            "csv": reverse("disclosure:download", args=[dataset, "csv"]) + query,
            "json": reverse("disclosure:download", args=[dataset, "json"]) + query,
        })
    return out


def _common(request, region, period, errors, department=None) -> dict:
    root = queries.root_region()
    return {
        "region": region, "root": root, "at_root": region is not None and root is not None and region.code == root.code,
        "ancestors": queries.ancestors(region, root), "period": period, "errors": errors,
        "period_choices": rules.period_choices(timezone.localdate()), "downloads": downloads(region, period, department),
        "min_sample": metrics.min_sample(),
    }


def _recent_cases(region, filters) -> list[dict]:
    return queries.public_rows(list(queries.case_queryset(region, filters)[:RECENT_CASES]))


def _render(request, template: str, context: dict):
    return cacheable(render(request, template, context, status=400 if context["errors"] else 200))


@require_safe
def home(request):
    """The portal's root (queries.root_region: the deployment's province), or the whole country without one."""
    return _region_page(request, queries.root_region())


@require_safe
def region(request, code: str):
    found = queries.find_region(code)
    if found is None:
        return not_found(request, "没有这个行政区划，请从上级地区进入。")
    return _region_page(request, found)


def _region_data(region, period) -> dict:
    viewer = queries.viewer(region)
    filters = queries.stats_filter(region, period)
    by_region = metrics.figures(viewer, filters, group_by="region")
    by_department = metrics.figures(viewer, filters, group_by="department")
    # Public-service enterprises (§五) apart from the government departments: own table, own ranking.
    by_department, enterprises = metrics.by_sector(by_department)
    case_by_department = metrics.case_figures(viewer, filters, by="department")
    codes = queries.department_codes(r.key for r in case_by_department)
    return {
        "total": by_region.total,
        "regions": queries.region_rows(region, by_region),
        "has_children": bool(queries.children(region)),
        "departments": by_department.groups,
        # The rankings of the figures just computed (metrics.rankings_of = metrics.rankings, one query fewer each).
        "department_ranking": metrics.rankings_of(by_department),
        "region_ranking": metrics.rankings_of(by_region),
        "enterprises": enterprises.groups,
        "enterprise_ranking": metrics.rankings_of(enterprises),
        "case_total": metrics.case_figures(viewer, filters)[0],
        "case_departments": [(codes.get(r.key, ""), r) for r in case_by_department],
        "staff": queries.staff_rankings(region, filters),
        "cases": _recent_cases(region, filters),
        # The halls (政务服务机构) a citizen went to, below a province: "how is my hall rated".
        # Online services and platforms have no hall: their evaluations are in the departments' figures above.
        "agencies": [g for g in metrics.figures(viewer, filters, group_by="agency").groups if g.key]
        if region is not None and region.level >= Region.Level.CITY else [],
    }


def _region_page(request, region):
    period, errors = period_from(request)
    key = f"region:{region.code if region else ''}:{period.start}:{period.end}"
    context = _common(request, region, period, errors) | cached(key, lambda: _region_data(region, period)) | {
        "cases_url": reverse("disclosure:cases") + _query(region=region.code if region else None, period=period.value),
    }
    return _render(request, "disclosure/region.html", context)


def _department_data(region, department, period) -> dict:
    viewer = queries.viewer(region)
    filters = queries.stats_filter(region, period, department.credit_code)
    by_month = metrics.figures(viewer, filters, group_by="month")
    return {
        "total": by_month.total,
        "months": by_month.groups,
        "items": metrics.figures(viewer, filters, group_by="item").groups,
        "case_total": metrics.case_figures(viewer, filters)[0],
        "staff": queries.staff_rankings(region, filters),
        "cases": _recent_cases(region, filters),
    }


@require_safe
def department(request, code: str, credit_code: str):
    region = queries.find_region(code)
    found = queries.find_department(region, credit_code) if region else None
    if found is None:
        return not_found(request, "没有这个部门的公开信息，请从所在地区的页面进入。")
    period, errors = period_from(request)
    key = f"department:{region.code}:{found.credit_code}:{period.start}:{period.end}"
    context = _common(request, region, period, errors, found) | cached(key, lambda: _department_data(
        region, found, period)) | {
        "department": found,
        "cases_url": reverse("disclosure:cases") + _query(region=region.code, department=found.credit_code,
                                                           period=period.value),
    }
    return _render(request, "disclosure/department.html", context)


@require_safe
def cases(request):
    """Every anonymised case of a region (or a department in it) opened in the period, newest first."""
    code = request.GET.get("region", "").strip()
    region = queries.find_region(code) if code else queries.root_region()
    if code and region is None:
        return not_found(request, "没有这个行政区划，请从上级地区进入。")
    credit_code = request.GET.get("department", "").strip()
    found = queries.find_department(region, credit_code) if credit_code else None
    if credit_code and found is None:
        return not_found(request, "没有这个部门的公开信息，请从所在地区的页面进入。")
    period, errors = period_from(request)
    try:
        number = rules.page_number(request.GET.get("page"))
    except DomainError as err:
        number, errors = 1, errors | {"page": err.detail}
    filters = queries.stats_filter(region, period, found.credit_code if found else None)
    paginator = Paginator(queries.case_queryset(region, filters), rules.PAGE_SIZE)
    page = paginator.get_page(number)
    base = {"region": region.code if region else None, "department": found.credit_code if found else None,
            "period": period.value}
    context = _common(request, region, period, errors, found) | {
        "department": found, "page": page, "cases": queries.public_rows(list(page.object_list)),
        "total_cases": paginator.count,
        "previous_url": _query(**base, page=page.previous_page_number()) if page.has_previous() else "",
        "next_url": _query(**base, page=page.next_page_number()) if page.has_next() else "",
        "hidden": {k: v for k, v in base.items() if k != "period" and v},
    }
    return _render(request, "disclosure/cases.html", context)
