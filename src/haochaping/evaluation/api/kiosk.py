"""评价器 API for the window's business system: which 办件 and stage the window's device shows now (R3.1)."""

from __future__ import annotations

from typing import Literal

from django.utils import timezone
from ninja import Field, Router, Schema, Status
from pydantic import AwareDatetime

from haochaping.accounts.auth import ApiKeyAuth
from haochaping.accounts.models import Scope
from haochaping.core.problems import not_found
from haochaping.core.schemas import InputSchema
from haochaping.core.scoping import scope
from haochaping.records.models import ServiceRecord

from .. import kiosk
from ..models import KioskDevice

router = Router(tags=["评价器"])


class CurrentIn(InputSchema):
    project_no: str = Field(..., min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$", description="办件编号")
    stage: Literal["accept", "complete"] = Field(..., description="评价环节：accept 受理, complete 办结")


class CurrentOut(Schema):
    device: str = Field(description="评价器设备标识")
    window_code: str
    project_no: str
    stage: str
    set_at: AwareDatetime


def _device(request, prefix: str) -> KioskDevice:
    # A device outside the key's region reads exactly like one that does not exist.
    device = scope(KioskDevice.objects.select_related("window"), request.api_key).filter(prefix=prefix).first()
    if device is None:
        raise not_found("评价器不存在", "prefix")
    return device


@router.put(
    "{prefix}/current",
    response=CurrentOut,
    auth=ApiKeyAuth(Scope.RECORDS_WRITE),
    summary="推送评价器当前办件",
    description=(
        "窗口业务系统告诉本窗口的评价器当前办理的办件和评价环节，评价器页面随即显示该办件供办事人评价。"
        "办件必须属于该评价器所在窗口（否则 403）；环节须已发生（否则 422）；评价器不在接口密钥的行政区划内时为 404。"
    ),
)
def put_current(request, prefix: str, payload: CurrentIn):
    device = _device(request, prefix)
    record = scope(ServiceRecord.objects.all(), request.api_key).by_number(payload.project_no).first()
    if record is None:
        raise not_found("办件不存在", "project_no")
    session = kiosk.set_current(device, record, payload.stage, set_by=f"apikey:{request.api_key.prefix}")
    return {
        "device": device.prefix,
        "window_code": device.window.code,
        "project_no": record.project_no,
        "stage": session.stage,
        "set_at": timezone.localtime(session.set_at),
    }


@router.delete(
    "{prefix}/current",
    response={204: None},
    auth=ApiKeyAuth(Scope.RECORDS_WRITE),
    summary="清除评价器当前办件",
    description="评价器回到等待页面。评价器评价成功后也会自动清除。",
)
def delete_current(request, prefix: str):
    kiosk.clear_current(_device(request, prefix))
    return Status(204, None)
