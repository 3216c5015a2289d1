"""Third-party assessment API (/api/v1/assessments): the commissions and assessments the caller may see
(services.visible_commissions / visible_assessments: supervisors by region scope, assessors their organisations')
and one assessment with its indicator scores. Read-only: submitting needs the report and evidence files, which
stays on the pages."""

from __future__ import annotations

from datetime import date

from ninja import Field, Query, Router, Schema

from haochaping.core.problems import not_found

from ..apicommon import PageFilters, PersonAuth, page_by_id
from . import services

router = Router(tags=["第三方评估"])

_AUTH = PersonAuth(lambda user: services.is_supervisor(user) or services.is_assessor(user),
                   "只有监督人员和受委托评估机构的评估人员可以查看第三方评估")


class CommissionOut(Schema):
    id: int
    title: str
    organisation: str = Field(..., description="评估机构")
    scope_region: str = Field(..., description="评估范围的行政区划代码")
    period_start: date
    period_end: date
    created_at: str


class AssessmentOut(Schema):
    id: int
    commission: int
    department: str = Field(..., description="被评估部门名称")
    department_credit_code: str
    item: str | None = Field(None, description="评估事项名称")
    period_start: date
    period_end: date
    state: str = Field(..., description="submitted 待审核，accepted 已采纳，returned 已退回")
    score: float | None = Field(None, description="评估得分（各指标得分的加权结果）")
    submitted_at: str
    submissions: int
    decided_at: str | None
    return_reason: str


class ScoreOut(Schema):
    indicator: str = Field(..., description="指标代码")
    indicator_name: str
    score: float
    findings: str
    recommendations: str
    case: int | None = Field(None, description="据此立的整改案件")
    evidence: int = Field(..., description="佐证文件数（文件在页面上查看）")


class CommissionPage(Schema):
    items: list[CommissionOut]
    next_cursor: str | None
    total: int


class AssessmentPage(Schema):
    items: list[AssessmentOut]
    next_cursor: str | None
    total: int


class AssessmentFilters(PageFilters):
    commission: int | None = Field(None, ge=1, description="只看这项委托下的评估")


class AssessmentDetailOut(AssessmentOut):
    summary: str
    scores: list[ScoreOut]


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def assessment_out(a) -> dict:
    return {"id": a.pk, "commission": a.commission_id, "department": a.department.name,
            "department_credit_code": a.department.credit_code, "item": a.item.name if a.item else None,
            "period_start": a.period_start, "period_end": a.period_end, "state": a.state, "score": a.score,
            "submitted_at": a.submitted_at.isoformat(), "submissions": a.submissions,
            "decided_at": _iso(a.decided_at), "return_reason": a.return_reason}


def commission_out(c) -> dict:
    return {"id": c.pk, "title": c.title, "organisation": c.organisation.name, "scope_region": c.scope_region_id,
            "period_start": c.period_start, "period_end": c.period_end, "created_at": c.created_at.isoformat()}


@router.get("/commissions", response=CommissionPage, auth=_AUTH, summary="评估委托列表",
            description="监督人员：本辖区管理机构的委托；评估人员：本机构接受的委托。按 id 游标分页。")
def list_commissions(request, filters: Query[PageFilters]):
    rows = services.visible_commissions(request.auth).select_related("organisation")
    return page_by_id(rows, filters, commission_out)


@router.get("", response=AssessmentPage, auth=_AUTH, summary="第三方评估列表",
            description="调用者可见委托下提交的评估（含状态和得分），按 id 游标分页。")
def list_assessments(request, filters: Query[AssessmentFilters]):
    qs = services.visible_assessments(request.auth).select_related("department", "item")
    if filters.commission is not None:
        qs = qs.filter(commission_id=filters.commission)
    return page_by_id(qs, filters, assessment_out)


@router.get("/{int:assessment_id}", response=AssessmentDetailOut, auth=_AUTH, summary="查询第三方评估",
            description="评估及其各指标得分、发现的问题、改进建议和据此立的整改案件。报告和佐证文件在页面上下载。")
def get_assessment(request, assessment_id: int):
    from django.db.models import Count

    a = (services.visible_assessments(request.auth).select_related("department", "item")
         .filter(pk=assessment_id).first())
    if a is None:
        raise not_found("没有这份评估报告", "assessment_id")
    scores = a.scores.select_related("indicator").annotate(n=Count("evidence")).order_by("pk")
    return {**assessment_out(a), "summary": a.summary, "scores": [
        {"indicator": s.indicator.code, "indicator_name": s.indicator.name, "score": s.score, "findings": s.findings,
         "recommendations": s.recommendations, "case": s.case_id, "evidence": s.n} for s in scores]}
