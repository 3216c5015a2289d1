"""Appraisal API (/api/v1/appraisal): a period's 绩效评价 results in the caller's scope, best first, each with
its breakdown (services.results — the same rows and order as the results page). Read-only: computing and
entering scores by hand stay on the pages."""

from __future__ import annotations

from datetime import date

from ninja import Field, Query, Router, Schema

from haochaping.core.problems import invalid
from haochaping.core.schemas import QuerySchema
from haochaping.rectification.views.common import is_handler, is_supervisor

from ..apicommon import PersonAuth, figure_readers
from . import services

router = Router(tags=["绩效评价"])

_AUTH = figure_readers(PersonAuth(lambda user: user.is_active and (is_supervisor(user) or is_handler(user)),
                                  "只有监督人员和经办人员可以查看绩效评价结果"))


class LineOut(Schema):
    code: str = Field(..., description="指标代码")
    name: str
    dimension: str = Field(..., description="一级指标")
    source: str = Field(..., description="数据来源")
    raw: float | None = Field(None, description="原始值")
    score: float | None = Field(None, description="指标得分（0–100）")
    weight: float = Field(..., description="在总分中的权重（0–1）")
    contribution: float = Field(..., description="对总分的贡献（权重×得分）")


class AppraisalOut(Schema):
    id: int
    rank: int | None = Field(None, description="在调用者可见结果中的名次（无得分的为空）")
    department: str
    department_credit_code: str
    region: str = Field(..., description="行政区划代码")
    score: float | None = Field(None, description="绩效评价得分（0–100）")
    breakdown: list[LineOut] = Field(..., description="得分构成")
    computed_at: str


class AppraisalResultsOut(Schema):
    period_start: date
    period_end: date
    items: list[AppraisalOut]
    total: int


class PeriodFilters(QuerySchema):
    date_from: date = Field(..., alias="from", description="考核期间起始日（如某月 1 日）")
    date_to: date = Field(..., alias="to", description="考核期间截止日（如该月最后一天）")


@router.get("", response=AppraisalResultsOut, auth=_AUTH, summary="绩效评价结果",
            description="考核期间（须与计算时的期间一致，通常为一个自然月）调用者权限范围内各部门的得分、名次和得分构成，"
                        "得分高的在前，无得分的在后（一次答复整个期间）。监督人员和经办人员可用；接口密钥须有 stats:read。")
def appraisal_results(request, period: Query[PeriodFilters]):
    if period.date_from > period.date_to:
        raise invalid("起始日期不能晚于截止日期", "from")
    rows, rank, out = services.results(request.auth, period.date_from, period.date_to), 0, []
    for row in rows:
        if row.score is not None:
            rank += 1
        out.append({"id": row.pk, "rank": rank if row.score is not None else None, "department": row.department.name,
                    "department_credit_code": row.department.credit_code, "region": row.region_id,
                    "score": row.score, "breakdown": row.breakdown, "computed_at": row.computed_at.isoformat()})
    return {"period_start": period.date_from, "period_end": period.date_to, "items": out, "total": len(out)}
