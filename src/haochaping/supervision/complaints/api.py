"""12345 work orders in batch (/api/v1/complaints/work-orders, R3.6): up to MAX_ITEMS a request from the 12345
hotline's system (or a 监督平台 / the 中国政府网 complaint platform), each registered on its own through
services.register and answered on its own, as the exchange batch endpoints do (exchange.api.batch): created,
replayed (the same work-order number again: nothing added) or refused with problem details naming its index and
field. One refused item never stops or undoes the others.

Keys need ``cases:write`` (the scope that registers complaints); a key bound to a region names only units, staff,
items and 办件 of its subtree — anything else answers as not found."""

from __future__ import annotations

from typing import Literal

import pydantic
from ninja import Field, Router, Schema
from pydantic import AwareDatetime

from haochaping.accounts.auth import ApiKeyAuth
from haochaping.accounts.models import Scope
from haochaping.catalog.models import ServiceItem
from haochaping.core.problems import DomainError, not_found, problem_body, validation_errors
from haochaping.core.schemas import InputSchema
from haochaping.core.scoping import scope
from haochaping.org.models import Department, ServiceAgency, Staff
from haochaping.records.models import ServiceRecord

from . import rules, services
from .models import Nature, SocialReview

router = Router(tags=["综合点评"])

MAX_ITEMS = 500
SourceCode = Literal["hotline", "platform", "gov_platform"]
NatureCode = Literal[tuple(Nature.values)]  # type: ignore[valid-type]


class WorkOrderIn(InputSchema):
    work_order_no: str = Field(..., min_length=1, max_length=rules.MAX_REFERENCE,
                               description="工单编号（同一来源内唯一；重复提交按已受理答复 replayed，不重复登记）")
    source: SourceCode = Field("hotline", description="来源：hotline 12345热线，platform 监督平台，"
                               "gov_platform 中国政府网投诉平台")
    nature: NatureCode = Field("complaint", description="性质：complaint 投诉，suggestion 建议")
    content: str = Field(..., min_length=1, max_length=rules.MAX_TEXT, description="投诉或建议内容")
    received_at: AwareDatetime | None = Field(None, description="热线受理时间，ISO 8601 带时区；缺省为接收时间")
    complainant_name: str | None = Field(None, max_length=50, description="投诉人姓名（加密保存，脱敏显示）")
    complainant_phone: str | None = Field(None, max_length=20, description="投诉人电话（加密保存，脱敏显示）")
    project_no: str | None = Field(None, max_length=64, description="涉及的办件编号（按办件确定责任单位）")
    department: str | None = Field(None, max_length=18, description="被投诉单位的统一社会信用代码")
    agency: str | None = Field(None, max_length=40, description="涉及的政务服务机构编码")
    staff_no: str | None = Field(None, max_length=40, description="涉及的工作人员工号")
    item: str | None = Field(None, max_length=64, description="涉及事项的实施编码")


class BatchIn(InputSchema):
    items: list[dict] = Field(..., min_length=1, max_length=MAX_ITEMS, description=f"1 至 {MAX_ITEMS} 张工单")


class ItemResult(Schema):
    index: int
    status: Literal["created", "replayed", "refused"]
    id: int | None = None
    work_order_no: str | None = None
    case_id: int | None = None
    problem: dict | None = None


class BatchOut(Schema):
    created: int
    replayed: int
    refused: int
    results: list[ItemResult]


def _lookup(api_key, model_qs, lookup: str, value: str | None, field_name: str, message: str):
    """The row named by ``value`` within the key's scope, or 404 naming the field (out of scope = not found)."""
    if not value:
        return None
    row = scope(model_qs, api_key).filter(**{lookup: value.strip()}).first()
    if row is None:
        raise not_found(message, field_name)
    return row


def work_order_input(api_key, order: WorkOrderIn) -> services.ComplaintInput:
    record = _lookup(api_key, ServiceRecord.objects.select_related("department", "agency", "item"), "project_no",
                     order.project_no, "project_no", "办件不存在")
    department = _lookup(api_key, Department.objects.all(), "credit_code",
                         (order.department or "").upper() or None, "department", "部门不存在")
    agency = _lookup(api_key, ServiceAgency.objects.all(), "code", order.agency, "agency", "政务服务机构不存在")
    staff = _lookup(api_key, Staff.objects.select_related("department", "agency"), "staff_no", order.staff_no,
                    "staff_no", "工作人员不存在")
    item = _lookup(api_key, ServiceItem.objects.select_related("department"), "implementation_code", order.item,
                   "item", "事项不存在")
    return services.ComplaintInput(
        source=order.source, nature=order.nature, summary=order.content, reference=order.work_order_no.strip(),
        received_at=order.received_at, name=order.complainant_name or "", phone=order.complainant_phone or "",
        record=record, department=department, agency=agency, staff=staff, item=item,
    )


def _refused(index: int, status: int, detail: str, field: str | None, code: str, errors=None) -> dict:
    return {"index": index, "status": "refused",
            "problem": problem_body(status=status, detail=detail, field=field, code=code, errors=errors)}


@router.post(
    "work-orders", response=BatchOut, auth=ApiKeyAuth(Scope.CASES_WRITE), summary="批量推送12345工单",
    description=(f"12345热线（或监督平台、中国政府网投诉平台）的投诉、建议工单，一次最多 {MAX_ITEMS} 张。逐张校验、逐张登记"
                 "并为责任单位立整改案件，逐张答复 created / replayed（工单编号已受理，未重复登记）/ refused（problem "
                 "指明 index 与字段）。接口密钥须有 cases:write；绑定行政区划的密钥只能指明本辖区的单位、人员、事项与办件。"),
)
def push_work_orders(request, payload: BatchIn):
    api_key = request.api_key
    channel = f"apikey:{api_key.prefix}"
    results = []
    for index, raw in enumerate(payload.items):
        number = raw.get("work_order_no") if isinstance(raw.get("work_order_no"), str) else None
        try:
            order = WorkOrderIn.model_validate(raw)
            existing = SocialReview.objects.filter(source=order.source,
                                                         reference=order.work_order_no.strip()).first()
            if existing is not None:
                if not scope(SocialReview.objects.filter(pk=existing.pk), api_key).exists():
                    raise DomainError(409, "冲突", "work_order_no：该工单编号已由其他地区登记", "work_order_no",
                                      code="conflict")
                registered = services.Registered(existing, False)
            else:
                registered = services.register(work_order_input(api_key, order), actor=None, channel=channel)
        except pydantic.ValidationError as exc:
            errors = validation_errors(exc.errors(include_input=False))
            first = errors[0]
            results.append(_refused(index, 422, f"{first['field']}：{first['message']}", first["field"], "invalid",
                                    errors))
            continue
        except DomainError as exc:
            results.append(_refused(index, exc.status, exc.detail, exc.field, exc.code,
                                    exc.extra.get("errors")))
            continue
        complaint = registered.complaint
        results.append({"index": index, "status": "created" if registered.created else "replayed",
                         "id": complaint.pk, "work_order_no": number, "case_id": complaint.case_id})
    counts = {s: sum(r["status"] == s for r in results) for s in ("created", "replayed", "refused")}
    return {**counts, "results": results}

