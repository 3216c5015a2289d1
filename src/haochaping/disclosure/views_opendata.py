"""Open data (R5.5): the portal's figures and anonymised cases as CSV and JSON, and the data dictionary.

Every file holds exactly what the pages show, from insight.metrics (同源发布); its columns are
:data:`.rules.DATASETS`, which the dictionary page and docs/opendata.md describe. Query: ``region`` (a code; none =
the whole country), ``period`` (as on the pages), ``by`` (the grouping), ``department`` (统一社会信用代码).
"""

from __future__ import annotations

import csv
import io
import json

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from haochaping.core.problems import DomainError
from haochaping.insight import metrics
from haochaping.transparency import proofs

from . import queries, rules
from .views import cacheable, cached, not_found, period_from

LOG_CHECKED = ("figures", "rankings")  # counts of evaluation leaves; tools/verify_log.py recounts them
DEFAULT_BY = {"figures": "total", "rankings": "department", "rectification": "total", "cases": None}
ALLOWED_BY = {"figures": rules.FIGURE_GROUPS, "rankings": rules.RANKING_BY,
              "rectification": rules.RECTIFICATION_GROUPS, "cases": (None,)}
BY_TEXT = {"figures": "total、region、department 或 month", "rankings": "department 或 region",
           "rectification": "total 或 department"}


@require_safe
def dictionary(request):
    datasets = [{"key": key, "title": title, "columns": columns} for key, (title, columns) in rules.DATASETS.items()]
    return cacheable(render(request, "disclosure/opendata.html", {"datasets": datasets}), shared=False)


def bad_request(request, message: str):
    return cacheable(render(request, "disclosure/bad_request.html", {"message": message}, status=400))


def _scope_row(region, period) -> dict:
    return {"region_code": region.code if region else "", "period_from": period.start, "period_to": period.end}


def _figure_rows(region, filters, period, by: str) -> list[dict]:
    viewer = queries.viewer(region)
    stats = metrics.figures(viewer, filters, group_by=None if by == "total" else by)
    scope_row = _scope_row(region, period)
    out = []
    for group_by, f in [("total", stats.total)] + [(by, g) for g in stats.groups]:
        d = f.as_dict()
        out.append(scope_row | {"group_by": group_by, "key": f.key, "name": f.name} | {
            c: d[c] for c, _n, _d in rules.FIGURE_COLUMNS if c in d and c not in ("key", "name")})
    return out


def _ranking_rows(region, filters, period, by: str) -> list[dict]:
    result = metrics.rankings(queries.viewer(region), filters, by=by)
    scope_row = _scope_row(region, period) | {"by": by, "min_sample": result.min_sample}
    return [scope_row | {"rank": r.rank, "ranked": ranked, "key": r.key, "name": r.name, "evaluations": r.evaluations,
                         "good": r.good, "good_rate": r.good_rate, "score": r.score}
            for ranked, rows in ((True, result.ranked), (False, result.apart)) for r in rows]


def _rectification_rows(region, filters, period, by: str) -> list[dict]:
    viewer = queries.viewer(region)
    rows = [("total", metrics.case_figures(viewer, filters)[0])]
    if by == "department":
        rows += [("department", r) for r in metrics.case_figures(viewer, filters, by="department")]
    codes = queries.department_codes(r.key for _g, r in rows)
    scope_row = _scope_row(region, period)
    names = [c for c, _n, _d in rules.RECTIFICATION_COLUMNS]
    return [scope_row | {"group_by": g, "key": codes.get(r.key, "") if g == "department" else "", "name": r.name}
            | {c: getattr(r, c) for c in names if hasattr(r, c) and c not in ("key", "name")} for g, r in rows]


def _case_rows(region, filters, period, by) -> list[dict]:
    return list(queries.iter_public_cases(region, filters))


BUILDERS = {"figures": _figure_rows, "rankings": _ranking_rows, "rectification": _rectification_rows,
            "cases": _case_rows}


@require_safe
def download(request, dataset: str, fmt: str):
    if dataset not in rules.DATASETS or fmt not in ("csv", "json"):
        return not_found(request, "没有这个数据文件，请从开放数据页面选择。")
    code = request.GET.get("region", "").strip()
    region = queries.find_region(code) if code else queries.root_region()
    if code and region is None:
        return bad_request(request, "参数 region（行政区划代码）不正确：没有这个行政区划。")
    credit_code = request.GET.get("department", "").strip()
    department = queries.find_department(region, credit_code) if credit_code else None
    if credit_code and department is None:
        return bad_request(request, "参数 department（部门统一社会信用代码）不正确：没有这个部门的公开信息。")
    period, errors = period_from(request)
    if errors:
        return bad_request(request, f"参数 period（统计期间）不正确：{errors['period']}")
    by = request.GET.get("by", "").strip() or DEFAULT_BY[dataset]
    if by not in ALLOWED_BY[dataset]:
        return bad_request(request, f"参数 by（分组维度）不正确：应为 {BY_TEXT.get(dataset, '空')}。")
    try:
        filters = queries.stats_filter(region, period, department.credit_code if department else None)
        key = f"file:{dataset}:{region.code if region else ''}:{department.pk if department else ''}:{period.start}:{period.end}:{by}"
        rows = cached(key, lambda: BUILDERS[dataset](region, filters, period, by))
    except DomainError as err:
        return bad_request(request, err.detail)
    title, columns = rules.DATASETS[dataset]
    names = [c for c, _n, _d in columns]
    stem = "-".join(p for p in (dataset, region.code if region else "national", department.credit_code if department
                                else "", by if by not in (None, "total") else "", period.value or "12m") if p)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow([rules.csv_value(row.get(c)) for c in names])
        # A byte-order mark so that spreadsheet programs read the Chinese names as UTF-8.
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        document = {
            "dataset": dataset, "title": title, "region_code": region.code if region else "",
            "region_name": region.name if region else "全国",
            "department_code": department.credit_code if department else "",
            "period_from": period.start.isoformat(), "period_to": period.end.isoformat(), "by": by,
            "columns": [{"name": c, "title": n, "description": d} for c, n, d in columns],
            "rows": [{c: _json_value(row.get(c)) for c in names} for row in rows],
        }
        if dataset in LOG_CHECKED:
            # The checkpoint the file's counts can be recounted against (docs/verifiable-log.md).
            newest = proofs.latest()
            document["log_tree_size"] = newest.tree_size if newest else 0
        response = HttpResponse(json.dumps(document, ensure_ascii=False, indent=1),
                                content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    return cacheable(response, shared=True)


def _json_value(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
