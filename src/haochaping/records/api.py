"""办件 API: platforms push records and status changes (R2.4, R6.2)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from django.http import HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from pydantic import AwareDatetime, BeforeValidator, field_validator

from haochaping.accounts.auth import ApiKeyAuth
from haochaping.accounts.models import Scope
from haochaping.accounts.readers import UnitFilters, page, readers, scoped
from haochaping.core.problems import not_found
from haochaping.core.schemas import InputSchema
from haochaping.org.rules import credit_code_problem
from haochaping.records.verification import verification_code

from . import services
from .models import ApplicantType, ServiceRecord

router = Router(tags=["办件"])

ApplicantTypeCode = Literal[1, 2, 3, 4, 5, 6, 9]

_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _iso_text_only(value):
    # pydantic would also take Unix timestamps (numbers or digit strings); the interface promises ISO 8601.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATETIME.match(value):
        raise ValueError("应为 ISO 8601 时间并带时区，例如 2026-01-05T09:30:00+08:00")
    return value


IsoDatetime = Annotated[AwareDatetime, BeforeValidator(_iso_text_only)]


class ApplicantIn(InputSchema):
    type: ApplicantTypeCode = Field(description="申请人类型：1 自然人, 2 企业法人, 3 事业法人, 4 社会组织法人, 5 非法人企业, 6 行政机关, 9 其他")
    name: str = Field("", max_length=200, description="申请人名称（加密存储）")
    id_number: str = Field("", max_length=40, description="证件号码（加密存储）")
    phone: str = Field("", pattern=r"^(1\d{10})?$", description="手机号（加密存储），11位")


class RecordIn(InputSchema):
    project_no: str = Field(..., min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$", description="办件编号")
    implementation_code: str = Field(..., min_length=1, max_length=60, description="事项实施编码")
    region_code: str = Field(..., pattern=r"^(\d{6}|\d{9}|\d{12})$", description="行政区划代码（GB/T 2260）")
    department_credit_code: str = Field(..., description="办理部门统一社会信用代码")
    agency_code: str | None = Field(None, max_length=40, description="政务服务机构编码")
    window_code: str | None = Field(None, max_length=40, description="窗口编号（须同时给出机构编码）")
    staff_no: str | None = Field(None, max_length=40, description="经办人工号")
    platform_code: str | None = Field(None, max_length=40, description="网上办理的平台编码")
    applicant: ApplicantIn
    record_type: Literal["immediate", "promised"] = Field(..., description="办件类型：immediate 即办件, promised 承诺件")
    promised_days: int = Field(0, ge=0, le=3650, description="承诺时限（工作日），即办件为0")
    status: Literal[1, 2, 3] = Field(..., description="办件状态：1 待受理, 2 办理中, 3 已办结")
    accepted_at: IsoDatetime | None = Field(None, description="受理时间，ISO 8601 带时区")
    completed_at: IsoDatetime | None = Field(None, description="办结时间，ISO 8601 带时区")

    @field_validator("department_credit_code")
    @classmethod
    def _credit_code(cls, v: str) -> str:
        problem = credit_code_problem(v)
        if problem:
            raise ValueError(problem)
        return v


class RecordPatch(InputSchema):
    status: Literal[1, 2, 3] | None = Field(None, description="办件状态：1 待受理, 2 办理中, 3 已办结")
    accepted_at: IsoDatetime | None = None
    completed_at: IsoDatetime | None = None
    promised_days: int | None = Field(None, ge=0, le=3650)
    overdue_explanation: str | None = Field(None, max_length=2000, description="超期说明（§二(三)，将公开）")

    @field_validator("status", "promised_days", "overdue_explanation")
    @classmethod
    def _not_null(cls, v):
        # Omit a field to leave it unchanged; an explicit null would blank a required column.
        if v is None:
            raise ValueError("不能为空；不修改时请省略该字段")
        return v


class ApplicantOut(Schema):
    type: int
    type_name: str
    name: str = Field(description="脱敏显示")
    phone: str = Field(description="脱敏显示")


class RecordOut(Schema):
    project_no: str
    implementation_code: str
    item_name: str
    region_code: str
    status: int
    status_name: str
    record_type: str
    promised_days: int
    accepted_at: AwareDatetime | None
    completed_at: AwareDatetime | None
    due_date: date | None
    is_overdue: bool
    stages: list[str] = Field(description="已到达、可评价的环节：accept 受理, complete 办结")
    applicant: ApplicantOut
    verification_code: str = Field(description="评价验证码（6位数字）：打印在办件回执上，扫窗口二维码评价时与办件编号一起输入")


def record_out(record: ServiceRecord) -> dict:
    return {
        "project_no": record.project_no,
        "implementation_code": record.item.implementation_code,
        "item_name": record.item.name,
        "region_code": record.region_id,
        "status": record.status,
        "status_name": str(record.get_status_display()),
        "record_type": record.record_type,
        "promised_days": record.promised_days,
        # One representation for every answer about a record, whatever offset the platform sent.
        "accepted_at": _local(record.accepted_at),
        "completed_at": _local(record.completed_at),
        "due_date": record.due_date,
        "is_overdue": record.is_overdue(),
        "stages": record.stages,
        "applicant": {
            "type": record.applicant_type,
            "type_name": str(ApplicantType(record.applicant_type).label),
            "name": str(record.applicant_name or ""),
            "phone": str(record.applicant_phone or ""),
        },
        "verification_code": verification_code(record.project_no),
    }


def _local(moment):
    return timezone.localtime(moment) if moment else None


def _source(request) -> str:
    return f"apikey:{request.api_key.prefix}"


@router.post(
    "",
    response={200: RecordOut, 201: RecordOut},
    auth=ApiKeyAuth(Scope.RECORDS_WRITE),
    summary="推送办件",
    description="同一办件重复推送相同内容时幂等返回 200；内容不同返回 409，状态变更请用 PATCH。",
)
def push_record(request, payload: RecordIn, response: HttpResponse):
    record, created = services.push_record(record_input(payload), source=_source(request), region_scope=request.api_key.region)
    return Status(201 if created else 200, record_out(record))


def record_input(payload: RecordIn) -> services.RecordInput:
    """The service's input from the API's schema (the single and the batch endpoint alike)."""
    return services.RecordInput(
        project_no=payload.project_no,
        implementation_code=payload.implementation_code,
        region_code=payload.region_code,
        department_credit_code=payload.department_credit_code,
        agency_code=payload.agency_code,
        window_code=payload.window_code,
        staff_no=payload.staff_no,
        platform_code=payload.platform_code,
        applicant_type=payload.applicant.type,
        applicant_name=payload.applicant.name,
        applicant_id_number=payload.applicant.id_number,
        applicant_phone=payload.applicant.phone,
        record_type=payload.record_type,
        promised_days=payload.promised_days,
        status=payload.status,
        accepted_at=payload.accepted_at,
        completed_at=payload.completed_at,
    )


@router.patch("/{project_no}", response=RecordOut, auth=ApiKeyAuth(Scope.RECORDS_WRITE), summary="更新办件状态")
def patch_record(request, project_no: str, payload: RecordPatch):
    changes = payload.dict(exclude_unset=True)
    record = services.update_record(project_no, changes, actor=_source(request), region_scope=request.api_key.region)
    return record_out(record)


class RecordFilters(UnitFilters):
    status: Literal[1, 2, 3] | None = Field(None, description="办件状态：1 待受理, 2 办理中, 3 已办结")


class RecordPage(Schema):
    items: list[RecordOut]
    next_cursor: str | None = Field(description="下一页的游标；为空表示没有更多")
    total: int = Field(description="符合条件、在您权限范围内的办件总数")


_READERS = readers(Scope.RECORDS_READ, "records.view_servicerecord")


def _records(request):
    return scoped(request, ServiceRecord.objects.select_related("item"))


@router.get(
    "",
    response=RecordPage,
    auth=_READERS,
    summary="办件列表",
    description="按推送时间（created_at, id）稳定排序、游标分页。只返回调用者权限范围内的办件；申请人信息脱敏。",
)
def list_records(request, filters: Query[RecordFilters]):
    qs = filters.apply(_records(request))
    if filters.status is not None:
        qs = qs.filter(status=filters.status)
    rows, next_cursor, total = page(qs, filters)
    return {"items": [record_out(r) for r in rows], "next_cursor": next_cursor, "total": total}


@router.get("/{project_no}", response=RecordOut, auth=_READERS, summary="查询办件")
def get_record(request, project_no: str):
    # Out of scope reads exactly like "no such record".
    record = _records(request).by_number(project_no).first()
    if record is None:
        raise not_found("办件不存在", "project_no")
    return record_out(record)
