"""Appeals API (/api/v1/appeals): thin handlers over rectification.appeals (R7.3).

Keys with ``cases:read`` read appeals of their region; filing, taking up and deciding an appeal are a signed-in
person's (the rated staff member or unit files; a supervisor of the case's region reviews). An appeal out of
scope answers the same 404 as one that does not exist.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Q
from django.utils import timezone
from ninja import Field, Query, Router, Status

from haochaping.accounts.auth import ApiKeyAuth
from haochaping.accounts.models import Scope
from haochaping.accounts.readers import DEFAULT_LIMIT, MAX_LIMIT, scoped
from haochaping.core.problems import not_found
from haochaping.core.schemas import QuerySchema
from haochaping.rectification.api.common import (
    APPEAL_PERMISSION,
    CASE_PERMISSION,
    PersonAuth,
    SessionAnyPermissionAuth,
    body_doc,
    in_period,
    page_by,
    parse_body,
)
from haochaping.rectification.api.schemas import (
    AppealIn,
    AppealOut,
    AppealPage,
    AppealStateCode,
    DecisionIn,
    appeal_out,
)
from haochaping.rectification.models import Appeal
from haochaping.rectification.rules import APPEAL_OPEN
from haochaping.rectification.services import appeals

router = Router(tags=["差评申诉"])

_READERS = [ApiKeyAuth(Scope.CASES_READ), SessionAnyPermissionAuth(APPEAL_PERMISSION, CASE_PERMISSION)]
_PERSON = PersonAuth()


class AppealFilters(QuerySchema):
    state: AppealStateCode | None = Field(None, description="状态")
    review_overdue: bool | None = Field(None, description="true 只看未审结且已过审核期限的申诉")
    case_id: int | None = Field(None, description="整改案件编号")
    department: str | None = Field(None, max_length=18, description="责任部门统一社会信用代码")
    date_from: date | None = Field(None, alias="from", description="申诉起始日期（含），北京时间")
    date_to: date | None = Field(None, alias="to", description="申诉截止日期（含），北京时间")
    cursor: str | None = Field(None, max_length=200, description="上一页返回的 next_cursor；第一页不填")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"每页条数，最多{MAX_LIMIT}")

    def apply(self, qs, today: date):
        qs = in_period(qs, "submitted_at", self.date_from, self.date_to)
        if self.state is not None:
            qs = qs.filter(state=self.state)
        if self.review_overdue is not None:
            late = Q(state__in=APPEAL_OPEN, review_due__lt=today)
            qs = qs.filter(late) if self.review_overdue else qs.exclude(late)
        if self.case_id is not None:
            qs = qs.filter(case_id=self.case_id)
        if self.department:
            qs = qs.filter(case__department__credit_code=self.department.strip().upper())
        return qs


def _appeals(request):
    return scoped(
        request,
        Appeal.objects.select_related("case__department", "appellant", "reviewer").prefetch_related(
            "attachments__uploaded_by"),
    )


def _detail(request, appeal_id: int) -> dict:
    appeal = _appeals(request).filter(pk=appeal_id).first()
    if appeal is None:
        raise not_found("没有这个申诉", "appeal_id")
    return appeal_out(appeal, timezone.localdate())


@router.get(
    "",
    response=AppealPage,
    auth=_READERS,
    summary="申诉列表",
    description="按申诉时间（submitted_at, id）稳定排序、游标分页；只含调用者权限范围内的申诉。接口密钥须有 cases:read。",
)
def list_appeals(request, filters: Query[AppealFilters]):
    today = timezone.localdate()
    rows, next_cursor, total = page_by(filters.apply(_appeals(request), today), "submitted_at", filters.cursor,
                                       filters.limit)
    return {"items": [appeal_out(a, today) for a in rows], "next_cursor": next_cursor, "total": total}


@router.get("/{int:appeal_id}", response=AppealOut, auth=_READERS, summary="查询申诉")
def get_appeal(request, appeal_id: int):
    return _detail(request, appeal_id)


@router.post(
    "",
    response={201: AppealOut},
    auth=_PERSON,
    summary="提出申诉",
    description=(
        "被评价的工作人员或责任单位经办人员，在申诉期限内（默认立案后 3 个工作日）对差评提出申诉，每条差评一次。"
        "请求体为 multipart/form-data（case_id、explanation，证据文件放在 files，最多 5 个）或 JSON。"
        "申诉期间案件的办理期限照常计算。"
    ),
    openapi_extra=body_doc(AppealIn, files_description="申诉证据文件（JPG、PNG 或 PDF，最多 5 个）"),
)
def submit_appeal(request):
    payload, files = parse_body(request, AppealIn)
    appeal = appeals.submit_appeal(payload.case_id, actor=request.auth, explanation=payload.explanation, files=files)
    return Status(201, _detail(request, appeal.pk))


@router.post("/{int:appeal_id}/review", response=AppealOut, auth=_PERSON, summary="受理审核申诉",
             description="案件所在地政务服务管理机构的监督人员开始审核（已提交 → 审核中）。")
def start_review(request, appeal_id: int):
    appeals.start_review(appeal_id, actor=request.auth)
    return _detail(request, appeal_id)


@router.post("/{int:appeal_id}/decision", response=AppealOut, auth=_PERSON, summary="作出审核决定",
             description="申诉成立：该评价不计入统计（保留不删除），案件办结；不成立：案件继续办理。须写明审核意见。")
def decide(request, appeal_id: int, payload: DecisionIn):
    appeals.decide_appeal(appeal_id, actor=request.auth, upheld=payload.upheld, note=payload.note)
    return _detail(request, appeal_id)
