"""Evaluation API: submit, the label dictionary, and the evaluator's receipt (R3.4, R3.8, R8.1)."""

from __future__ import annotations

from typing import Annotated, Literal

from django.http import HttpResponse
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from pydantic import AwareDatetime, ConfigDict, StrictInt

from haochaping.accounts.auth import ApiKeyAuth
from haochaping.accounts.models import Scope
from haochaping.org import policy

from . import rules, services
from .models import Label

router = Router(tags=["好差评"])

ChannelCode = Literal["pc", "mobile", "qr", "kiosk", "terminal", "phone", "sms", "paper"]
# Checked before any message can quote a code back: only 3-digit codes are ever echoed, never stray input
# such as a phone number pasted into the wrong field.
LabelCode = Annotated[str, Field(pattern=r"^\d{3}$", description="三位标签代码，首位为对应星级")]


class EvaluatorIn(Schema):
    name: str = Field("", max_length=50, description="姓名（可选，加密存储）")
    phone: str = Field("", pattern=r"^(1\d{10})?$", description="手机号（可选，实名评价，加密存储）")


class QuestionnaireIn(Schema):
    # The five §三(二) questions and nothing else: an unknown question is a client error, not silently dropped.
    model_config = ConfigDict(extra="forbid")

    guide_clear: bool | None = Field(None, description="服务指引是否清晰")
    process_convenient: bool | None = Field(None, description="办事程序是否便利")
    materials_simplified: bool | None = Field(None, description="材料手续是否精简")
    interface_friendly: bool | None = Field(None, description="操作界面是否友好")
    suggestions: str | None = Field(None, max_length=rules.MAX_SUGGESTION, description="有何改进意见")


class EvaluationIn(Schema):
    idempotency_key: str = Field(..., min_length=8, max_length=100, description="客户端生成的唯一键；重试时保持不变")
    project_no: str = Field(..., min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$", description="办件编号")
    stage: Literal["accept", "complete"] = Field(..., description="评价环节：accept 受理, complete 办结")
    channel: ChannelCode = Field(..., description="评价渠道")
    level: StrictInt = Field(..., ge=1, le=5, description="评价等级 1–5，5 为非常满意，1、2 为差评")
    type: Literal["active", "followup"] = Field("active", description="active 主动评价, followup 追加评价")
    labels: list[LabelCode] = Field(default_factory=list, max_length=20, description="评价标签代码（国家标签字典）")
    comment: str = Field("", max_length=rules.MAX_COMMENT, description="文字评价，不超过1000字")
    questionnaire: QuestionnaireIn | None = None
    evaluator: EvaluatorIn | None = Field(None, description="不填为匿名评价")


class EvaluationCreated(Schema):
    id: int
    receipt_code: str = Field(description="评价回执码，评价人凭此查询评价及整改结果")
    is_bad: bool
    case_id: int | str | None = Field(description="差评整改工单编号（如已开启）")
    leaf_hash: str = Field(description="评价内容的 SM3 摘要（可验证存证）")
    created_at: AwareDatetime


class LabelOut(Schema):
    code: str
    text: str
    level: int


class LevelOut(Schema):
    level: int
    text: str
    is_bad: bool


class ReceiptOut(Schema):
    receipt_code: str
    item_name: str
    stage: str
    type: str
    channel: str
    level: int
    level_text: str
    is_bad: bool
    is_supplementary: bool
    labels: list[LabelOut]
    comment: str
    created_at: AwareDatetime
    leaf_hash: str
    followup_allowed: bool = Field(description="是否还可追加评价")
    case: dict | None = Field(None, description="差评整改进展（整改功能上线后提供）")


def _created(result: services.SubmitResult) -> dict:
    ev = result.evaluation
    return {
        "id": ev.pk,
        "receipt_code": ev.receipt_code,
        "is_bad": ev.is_bad,
        "case_id": result.case_id,
        "leaf_hash": ev.leaf_hash,
        "created_at": timezone.localtime(ev.created_at),
    }


@router.post(
    "evaluations",
    response={200: EvaluationCreated, 201: EvaluationCreated},
    auth=ApiKeyAuth(Scope.EVALUATIONS_WRITE),
    summary="提交评价",
    description="幂等：相同 idempotency_key 的重试返回首次结果（200）。同一办件同一环节限主动评价一次、追加评价一次（否则 409）。",
)
def submit_evaluation(request, payload: EvaluationIn, response: HttpResponse):
    evaluator = payload.evaluator or EvaluatorIn()
    questionnaire = payload.questionnaire.dict(exclude_none=True) if payload.questionnaire else {}
    data = services.EvaluationInput(
        idempotency_key=payload.idempotency_key,
        project_no=payload.project_no,
        stage=payload.stage,
        channel=payload.channel,
        level=payload.level,
        type=payload.type,
        labels=payload.labels,
        comment=payload.comment,
        questionnaire=questionnaire,
        evaluator_name=evaluator.name,
        evaluator_phone=evaluator.phone,
    )
    result = services.submit_evaluation(
        data, source=f"apikey:{request.api_key.prefix}", region_scope=request.api_key.region
    )
    return Status(200 if result.replayed else 201, _created(result))


@router.get("labels", response=list[LabelOut], summary="评价标签字典", auth=None)
def list_labels(request, level: int | None = None):
    qs = Label.objects.filter(is_active=True)
    if level is not None:
        qs = qs.filter(level=level)
    return [{"code": label.code, "text": label.text, "level": label.level} for label in qs]


@router.get("levels", response=list[LevelOut], summary="评价等级及文字", auth=None)
def list_levels(request, label_set: Literal["satisfaction", "good"] = "satisfaction"):
    return [{"level": n, "text": rules.level_text(n, label_set), "is_bad": rules.is_bad(n)} for n in reversed(rules.LEVELS)]


@router.get("evaluations/receipt/{code}", response=ReceiptOut, summary="凭回执码查询评价", auth=None)
def receipt(request, code: str):
    ev = services.find_by_receipt(code)
    label_set = policy.label_set(ev.region_id)
    followup_allowed = ev.type == "active" and not ev.record.evaluations.filter(stage=ev.stage, type="followup").exists()
    return {
        "receipt_code": ev.receipt_code,
        "item_name": ev.item.name,
        "stage": ev.stage,
        "type": ev.type,
        "channel": ev.channel,
        "level": ev.level,
        "level_text": rules.level_text(ev.level, label_set),
        "is_bad": ev.is_bad,
        "is_supplementary": ev.is_supplementary,
        "labels": [{"code": lb.code, "text": lb.text, "level": lb.level} for lb in ev.labels.all()],
        "comment": ev.comment,
        "created_at": timezone.localtime(ev.created_at),
        "leaf_hash": ev.leaf_hash,
        "followup_allowed": followup_allowed,
        "case": None,
    }
