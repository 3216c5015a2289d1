"""Evaluation API: submit, the label dictionary, and the evaluator's receipt (R3.4, R3.8, R8.1)."""

from __future__ import annotations

from typing import Annotated, Literal

from django.http import HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.security import APIKeyHeader
from pydantic import AwareDatetime, StrictInt

from haochaping.accounts import ratelimit
from haochaping.accounts.auth import ApiKeyAuth
from haochaping.accounts.models import Scope
from haochaping.accounts.readers import UnitFilters, page, readers, scoped
from haochaping.core.problems import not_found
from haochaping.core.schemas import InputSchema, plain_twin
from haochaping.org import policy

from .. import kiosk as kiosks  # not `kiosk`: that name is this package's submodule api.kiosk
from .. import rules, services
from ..models import Evaluation, Label

router = Router(tags=["好差评"])

# A tablet rates one 办件 at a time; far more than this a minute means a script, not citizens.
KIOSK_RATE_LIMIT_PER_MINUTE = 60


class KioskAuth(APIKeyHeader):
    """评价器: ``X-Kiosk-Secret: hck_…``, the device secret shown once when the device was registered."""

    param_name = kiosks.HEADER

    def authenticate(self, request, key):
        if not key:
            return None
        device = kiosks.authenticate_kiosk(key)
        if device is None:
            return None
        ratelimit.enforce(
            f"kiosk:{device.prefix}", KIOSK_RATE_LIMIT_PER_MINUTE, who="该评价器", field=kiosks.HEADER
        )
        request.kiosk = device
        return device

ChannelCode = Literal["pc", "mobile", "qr", "kiosk", "terminal", "phone", "sms", "paper"]
# Checked before any message can quote a code back: only 3-digit codes are ever echoed, never stray input
# such as a phone number pasted into the wrong field.
LabelCode = Annotated[str, Field(pattern=r"^\d{3}$", description="三位标签代码，首位为对应星级")]


class EvaluatorIn(InputSchema):
    name: str = Field("", max_length=50, description="姓名（可选，加密存储）")
    phone: str = Field("", pattern=r"^(1\d{10})?$", description="手机号（可选，实名评价，加密存储）")


class QuestionnaireIn(InputSchema):
    # The five §三(二) questions and nothing else: an unknown question is a client error, not silently dropped.

    guide_clear: bool | None = Field(None, description="服务指引是否清晰")
    process_convenient: bool | None = Field(None, description="办事程序是否便利")
    materials_simplified: bool | None = Field(None, description="材料手续是否精简")
    interface_friendly: bool | None = Field(None, description="操作界面是否友好")
    suggestions: str | None = Field(None, max_length=rules.MAX_SUGGESTION, description="有何改进意见")


class EvaluationIn(InputSchema):
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
    auth=[ApiKeyAuth(Scope.EVALUATIONS_WRITE), KioskAuth()],
    summary="提交评价",
    description=(
        "幂等：相同 idempotency_key 的重试返回首次结果（200）。同一办件同一环节限主动评价一次、追加评价一次（否则 409）。"
        "平台系统用接口密钥（Authorization: Bearer）提交；窗口评价器用设备密钥（X-Kiosk-Secret）提交，"
        "只能评价本窗口的办件，评价渠道须为 kiosk（否则 403 / 422）；接口密钥不能使用 kiosk 渠道（403）。"
        "已登录的工作人员、经办人、监督人员和管理员不能提交评价（403，不得代评、自评）。"
    ),
)
def submit_evaluation(request, payload: EvaluationIn, response: HttpResponse):
    result = submit(request, evaluation_input(payload))
    return Status(200 if result.replayed else 201, _created(result))


_ANONYMOUS = EvaluatorIn()

# EvaluationIn's plain twin for bodies of many items (the batch endpoint): the same fields and rules, 10× cheaper.
EvaluationInPlain = plain_twin(EvaluationIn, questionnaire=plain_twin(QuestionnaireIn) | None,
                               evaluator=plain_twin(EvaluatorIn) | None)


def evaluation_input(payload: EvaluationIn) -> services.EvaluationInput:
    """The service's input from the API's schema (the single and the batch endpoint alike)."""
    evaluator = payload.evaluator or _ANONYMOUS  # read only: one instance serves every anonymous item
    questionnaire = payload.questionnaire.model_dump(exclude_none=True) if payload.questionnaire else {}
    return services.EvaluationInput(
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


def submit(request, data: services.EvaluationInput) -> services.SubmitResult:
    """Submit as whoever made the request: a 评价器 (its window only), an API key (its region only) or nobody."""
    device = getattr(request, "kiosk", None)
    api_key = getattr(request, "api_key", None)
    user = getattr(request, "user", None)
    return services.submit_evaluation(
        data,
        source=f"kiosk:{device.prefix}" if device else f"apikey:{api_key.prefix}",
        region_scope=api_key.region if api_key else None,
        actor=user if user is not None and user.is_authenticated else None,
        kiosk=device,
        by_api_key=device is None and api_key is not None,
    )


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
    followup_allowed = ev.type == "active" and not services.followup_taken(ev)
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


# Reading evaluations (people and systems with the right): masked personal data only, scoped, cursor pages.


class EvaluatorOut(Schema):
    name: str = Field(description="脱敏显示")
    phone: str = Field(description="脱敏显示")
    is_real_name: bool


class EvaluationOut(Schema):
    id: int
    project_no: str
    stage: str
    type: str
    channel: str
    level: int
    is_bad: bool
    is_supplementary: bool
    labels: list[str] = Field(description="评价标签代码")
    comment: str
    evaluator: EvaluatorOut
    implementation_code: str
    item_name: str
    region_code: str
    department_credit_code: str
    department_name: str
    agency_code: str | None
    window_code: str | None
    staff_no: str | None
    platform_code: str | None
    leaf_hash: str
    created_at: AwareDatetime


class EvaluationFilters(UnitFilters):
    is_bad: bool | None = Field(None, description="true 只看差评，false 只看非差评")


class EvaluationPage(Schema):
    items: list[EvaluationOut]
    next_cursor: str | None = Field(description="下一页的游标；为空表示没有更多")
    total: int = Field(description="符合条件、在您权限范围内的评价总数")


_EVALUATION_READERS = readers(Scope.EVALUATIONS_READ, "evaluation.view_evaluation")


def _evaluations(request):
    return scoped(
        request,
        Evaluation.objects.select_related("record", "item", "department", "agency", "window", "staff", "platform")
        .prefetch_related("labels"),
    )


def evaluation_out(ev: Evaluation) -> dict:
    return {
        "id": ev.pk,
        "project_no": ev.record.project_no,
        "stage": ev.stage,
        "type": ev.type,
        "channel": ev.channel,
        "level": ev.level,
        "is_bad": ev.is_bad,
        "is_supplementary": ev.is_supplementary,
        "labels": [label.code for label in ev.labels.all()],
        "comment": ev.comment,
        # str() of a sealed value is its masked form; the clear text needs the reveal service and a reason.
        "evaluator": {
            "name": str(ev.evaluator_name or ""), "phone": str(ev.evaluator_phone or ""), "is_real_name": ev.is_real_name,
        },
        "implementation_code": ev.item.implementation_code,
        "item_name": ev.item.name,
        "region_code": ev.region_id,
        "department_credit_code": ev.department.credit_code,
        "department_name": ev.department.name,
        "agency_code": ev.agency.code if ev.agency else None,
        "window_code": ev.window.code if ev.window else None,
        "staff_no": ev.staff.staff_no if ev.staff else None,
        "platform_code": ev.platform.code if ev.platform else None,
        "leaf_hash": ev.leaf_hash,
        "created_at": timezone.localtime(ev.created_at),
    }


@router.get(
    "evaluations",
    response=EvaluationPage,
    auth=_EVALUATION_READERS,
    summary="评价列表",
    description="按评价时间（created_at, id）稳定排序、游标分页。只返回调用者权限范围内的评价；评价人信息脱敏。",
)
def list_evaluations(request, filters: Query[EvaluationFilters]):
    qs = filters.apply(_evaluations(request))
    if filters.is_bad is not None:
        qs = qs.filter(is_bad=filters.is_bad)
    rows, next_cursor, total = page(qs, filters)
    return {"items": [evaluation_out(ev) for ev in rows], "next_cursor": next_cursor, "total": total}


@router.get("evaluations/{int:evaluation_id}", response=EvaluationOut, auth=_EVALUATION_READERS, summary="查询评价")
def get_evaluation(request, evaluation_id: int):
    # Out of scope reads exactly like "no such evaluation".
    ev = _evaluations(request).filter(pk=evaluation_id).first()
    if ev is None:
        raise not_found("评价不存在", "evaluation_id")
    return evaluation_out(ev)
