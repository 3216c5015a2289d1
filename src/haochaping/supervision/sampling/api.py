"""Callback sampling API (/api/v1/callbacks): the callback list in the caller's scope (phones masked — the clear
phone is revealed only on the page, with a reason, into the personal-data access log), recording one call's
outcome (services.record_call: one transaction, audited), and the per-unit mismatch figures
(services.unit_figures). Thin; who may call is the pages' rule (services.may_call, the supervisor page's rule)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from ninja import Field, Query, Router, Schema

from haochaping.core.problems import invalid, not_found
from haochaping.core.schemas import InputSchema, QuerySchema
from haochaping.rectification.views.common import is_supervisor

from ..apicommon import PageFilters, PersonAuth, figure_readers, page_by_id
from . import rules, services

router = Router(tags=["回访调查"])

_CALLERS = PersonAuth(services.may_call, "只有12345热线话务员和监督人员可以查看回访清单")
_FIGURES = figure_readers(PersonAuth(lambda user: user.is_active and is_supervisor(user),
                                     "只有政务服务管理机构的监督人员可以查看回访核查结果"))
AnswerCode = Literal["yes", "no", "unsure"]


class CallbackItemOut(Schema):
    id: int
    sample: int
    department: str = Field(..., description="被回访单位名称")
    period_start: date
    period_end: date
    evaluation: int
    level: int = Field(..., description="评价等级 1–5")
    item: str | None = Field(None, description="事项名称")
    phone: str = Field(..., description="评价人电话（脱敏；明文只能在页面上说明理由后查看并留痕）")
    status: str = Field(..., description="pending 待回访，unreached 未接通，done 已回访")
    attempts: int
    gave_rating: str
    pressured: str
    satisfaction_now: int | None
    mismatch: bool = Field(..., description="回访发现评价不实")
    mismatch_reasons: list[str]
    called_at: str | None


class CallbackPage(Schema):
    items: list[CallbackItemOut]
    next_cursor: str | None
    total: int


class ItemFilters(PageFilters):
    status: Literal["pending", "unreached", "done"] | None = Field(None, description="回访状态；不填为全部")
    department: str | None = Field(None, max_length=18, description="被回访单位统一社会信用代码")
    mismatch: bool | None = Field(None, description="true 只看评价不实的条目")


class CallIn(InputSchema):
    reached: bool = Field(..., description="电话是否接通")
    gave_rating: AnswerCode | None = Field(None, description="接通时必填：评价是否本人作出（yes/no/unsure）")
    pressured: AnswerCode | None = Field(None, description="接通时必填：是否被要求或施压作出评价（yes/no/unsure）")
    satisfaction_now: int | None = Field(None, description="接通时必填：现在的满意度 1–5")
    notes: str = Field("", max_length=2000, description="备注")


class UnitFiguresOut(Schema):
    department_id: int
    department: str
    sampled: int = Field(..., description="抽中的评价数")
    called: int = Field(..., description="已拨打（含未接通）")
    reached: int = Field(..., description="已接通并回访")
    mismatches: int = Field(..., description="评价不实的条数")


class PeriodFilters(QuerySchema):
    date_from: date = Field(..., alias="from", description="抽样期间起始日（含）")
    date_to: date = Field(..., alias="to", description="抽样期间截止日（含）")


def item_out(item) -> dict:
    sample = item.sample
    evaluation_item = item.evaluation.item
    return {
        "id": item.pk, "sample": sample.pk, "department": sample.department.name,
        "period_start": sample.period_start, "period_end": sample.period_end, "evaluation": item.evaluation_id,
        "level": item.level, "item": evaluation_item.name if evaluation_item else None,
        "phone": services.masked_phone(item), "status": item.status, "attempts": item.attempts,
        "gave_rating": item.gave_rating, "pressured": item.pressured, "satisfaction_now": item.satisfaction_now,
        "mismatch": item.mismatch, "mismatch_reasons": list(item.mismatch_reasons or []),
        "called_at": item.called_at.isoformat() if item.called_at else None,
    }


def _items(actor):
    return services.visible_items(actor).select_related("sample__department", "evaluation__item",
                                                        "evaluation__record")


@router.get("", response=CallbackPage, auth=_CALLERS, summary="回访清单",
            description="调用者权限范围内抽中回访的评价，按 id 顺序游标分页；电话只给脱敏值。12345热线话务员和监督人员可用。")
def list_items(request, filters: Query[ItemFilters]):
    qs = _items(request.auth)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.department:
        qs = qs.filter(sample__department__credit_code=filters.department.strip().upper())
    if filters.mismatch is not None:
        qs = qs.filter(mismatch=filters.mismatch)
    return page_by_id(qs, filters, item_out)


@router.get("/figures", response=list[UnitFiguresOut], auth=_FIGURES, summary="各单位回访核查结果",
            description="抽样期间在 [from, to] 内的各单位：抽中、已拨打、已回访和评价不实条数，不实多的在前。监督人员可用；接口密钥须有 stats:read。")
def unit_figures(request, period: Query[PeriodFilters]):
    if period.date_from > period.date_to:
        raise invalid("起始日期不能晚于截止日期", "from")
    return [vars(f) for f in services.unit_figures(request.auth, period.date_from, period.date_to)]


@router.get("/{int:item_id}", response=CallbackItemOut, auth=_CALLERS, summary="查询回访清单条目")
def get_item(request, item_id: int):
    item = _items(request.auth).filter(pk=item_id).first()
    if item is None:
        raise not_found("回访清单中没有这一条", "item_id")
    return item_out(item)


@router.post("/{int:item_id}/calls", response=CallbackItemOut, auth=_CALLERS, summary="登记回访结果",
             description="一次拨打的结果：接通时须回答是否本人评价、是否被施压和现在的满意度（1–5），回访完成并判断是否评价不实；"
                         "未接通时不填这些，条目留待再次拨打。已回访的条目答 409。")
def record_call(request, item_id: int, payload: CallIn):
    outcome = rules.CallOutcome(reached=payload.reached, gave_rating=payload.gave_rating or "",
                                pressured=payload.pressured or "", satisfaction_now=payload.satisfaction_now,
                                notes=payload.notes)
    services.record_call(item_id, outcome, actor=request.auth)
    return item_out(_items(request.auth).get(pk=item_id))


