"""Statistics API (/api/v1/stats): figures, fair rankings and coverage, all from insight.metrics (同源发布).

Readers: an API key with ``stats:read`` or a signed-in person allowed to view evaluations; both see only their
scope (core.scoping), whatever the filters say."""

from __future__ import annotations

from ninja import Query, Router

from haochaping.accounts.models import Scope
from haochaping.accounts.readers import readers

from .. import metrics, painpoints
from .schemas import (
    CoverageOut,
    CoverageQuery,
    PainPointsOut,
    PainPointsQuery,
    RankingQuery,
    RankingsOut,
    StatsOut,
    StatsQuery,
)

router = Router(tags=["统计"])

_READERS = readers(Scope.STATS_READ, "evaluation.view_evaluation")


@router.get(
    "", response=StatsOut, auth=_READERS, summary="评价统计",
    description="评价数、好评率、差评率、满意度、参评率，不计入统计的评价和系统默认评价另行列示；可按一个维度分组。"
    "按 region 分组时汇总到所筛选（或调用者所属）行政区划的下一级。定义见 docs/metrics.md。",
)
def stats(request, query: Query[StatsQuery]):
    result = metrics.figures(request.auth, query.to_filter(), group_by=query.group_by)
    return {"group_by": result.group_by, "total": result.total.as_dict(), "groups": [g.as_dict() for g in result.groups]}


def _row(r: metrics.RankingRow) -> dict:
    return {"key": r.key, "name": r.name, "rank": r.rank, "score": r.score, "good": r.good,
            "evaluations": r.evaluations, "good_rate": r.good_rate}


@router.get(
    "/rankings", response=RankingsOut, auth=_READERS, summary="单位排名",
    description="按好评率的 Wilson 95% 置信区间下限排名；有效评价少于最少样本数的单位另行列出，不排名。",
)
def rankings(request, query: Query[RankingQuery]):
    result = metrics.rankings(request.auth, query.to_filter(), by=query.by)
    return {"by": result.by, "min_sample": result.min_sample, "ranked": [_row(r) for r in result.ranked],
            "apart": [_row(r) for r in result.apart]}


@router.get(
    "/coverage", response=CoverageOut, auth=_READERS, summary="评价覆盖情况",
    description="期间内有办结办件、但没有任何评价的窗口、工作人员或事项。",
)
def coverage(request, query: Query[CoverageQuery]):
    result = metrics.coverage(request.auth, query.to_filter(), of=query.of)
    return {"of": result.of, "active": result.active, "evaluated": result.evaluated, "rate": result.rate,
            "missing": [{"key": k, "name": n} for k, n in result.missing]}


@router.get(
    "/painpoints", response=PainPointsOut, auth=_READERS, by_alias=True, summary="差评痛点",
    description="期间内差评归入的问题类型（docs/painpoints.md）及新出现的问题，每个问题附归入的评价 id，"
    "便于外部核对归类。只含调用者范围内计入统计的差评；归类由后台任务完成，尚未归类的计入 pending。",
)
def pain_points(request, query: Query[PainPointsQuery]):
    stats_filter = query.to_filter()
    default = painpoints.Period.last_months(6)
    start = query.date_from or (default.start if not query.date_to else painpoints.Period.last_months(6, query.date_to).start)
    end = query.date_to or default.end
    if (end - start).days > 731:
        from haochaping.core.problems import invalid

        raise invalid("一次最多查询两年的差评，请缩短时间范围", "to")
    period = painpoints.Period(start, end)
    result = painpoints.pain_points(request.auth, period, filters=stats_filter)
    return {
        "from": period.start, "to": period.end, "reviews": result.reviews, "pending": result.pending,
        "unclassified": result.unclassified,
        "problems": [{
            "code": t.code, "name": t.name, "emerging": t.emerging, "count": t.size, "share": round(t.share, 4),
            "confidence": round(t.confidence, 4), "terms": list(t.terms),
            "units": [{"id": u.key, "name": u.name, "count": u.count} for u in t.units],
            "evaluation_ids": list(t.ids), "neutral_evaluation_ids": list(t.neutral_ids),
        } for t in result.topics],
    }
