"""Cases API (/api/v1/cases): thin handlers over rectification.services (R4).

Keys read cases (``cases:read``), register complaints (``cases:write``) and read the figures (``stats:read``);
every step of a case is a signed-in person's (api.common.PersonAuth). What a caller sees is
core.scoping.scope, and a case out of scope answers the same 404 as one that does not exist.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.db.models import Case, DateField, F, Q, When
from django.utils import timezone
from ninja import Field, Query, Router, Status

from haochaping.accounts.auth import ApiKeyAuth
from haochaping.accounts.models import Scope, User
from haochaping.accounts.readers import DEFAULT_LIMIT, MAX_LIMIT, readers, scoped
from haochaping.core.problems import invalid, not_found
from haochaping.core.schemas import QuerySchema
from haochaping.core.scoping import scope
from haochaping.org.models import Department
from haochaping.org.rules import region_prefix
from haochaping.records.models import ServiceRecord
from haochaping.rectification import services
from haochaping.rectification.api.common import (
    CASE_PERMISSION,
    PersonAuth,
    body_doc,
    in_period,
    page_by,
    parse_body,
)
from haochaping.rectification.api.schemas import (
    AnswerIn,
    AssignIn,
    CallbackIn,
    CaseDetailOut,
    CasePage,
    ComplaintIn,
    CompleteIn,
    ExtensionIn,
    FigureOut,
    KindCode,
    NoteIn,
    OutcomeCode,
    OutcomeIn,
    RequiredNoteIn,
    StateCode,
    TransferIn,
    case_detail_out,
    case_out,
)
from haochaping.rectification.downloads import attachment_response
from haochaping.rectification.models import RectificationCase
from haochaping.rectification.rules import Outcome, State
from haochaping.rectification.services.deadlines import HANDLING_PENDING, deadline_rows

router = Router(tags=["差评整改"])

_READERS = readers(Scope.CASES_READ, CASE_PERMISSION)
_PERSON = PersonAuth()


def handling_due():
    """The handling deadline the rules apply, as a database expression (as figures.py counts ``overdue_now``):
    fix_now_due, or for 限期整改 the 台账's date — capped at rectify_due unless the extension was approved."""
    ledger_due = Case(
        When(Q(ledger__extension_approved=True) | Q(ledger__deadline__lte=F("rectify_due")), then=F("ledger__deadline")),
        default=F("rectify_due"), output_field=DateField(),
    )
    return Case(When(outcome=Outcome.DEADLINE, then=ledger_due), default=F("fix_now_due"), output_field=DateField())


def overdue_q(today: date) -> Q:
    """Cases with a deadline not met and past (the database twin of ``DeadlineRow.overdue``): the callback while
    open, the handling while not done. Needs the ``handling_due`` annotation."""
    return Q(state=State.OPEN, callback_due__lt=today) | Q(
        state__in=HANDLING_PENDING, handled_at__isnull=True, handling_due__lt=today
    )


class CaseFilters(QuerySchema):
    state: StateCode | None = Field(None, description="状态")
    kind: KindCode | None = Field(None, description="类型：bad_review 差评，complaint 投诉")
    outcome: OutcomeCode | None = Field(None, description="处理结果")
    overdue: bool | None = Field(None, description="true 只看有逾期未完成期限的案件，false 只看没有的")
    escalated: bool | None = Field(None, description="true 只看已逾期上报管理机构的案件")
    real_name: bool | None = Field(None, description="true 只看实名差评/投诉")
    region_code: str | None = Field(None, pattern=r"^(\d{6}|\d{9}|\d{12})$", description="行政区划代码；包含其下级地区")
    department: str | None = Field(None, max_length=18, description="责任部门统一社会信用代码")
    agency: str | None = Field(None, max_length=40, description="政务服务机构编码")
    assignee: str | None = Field(None, max_length=150, description="承办人用户名")
    date_from: date | None = Field(None, alias="from", description="立案起始日期（含），北京时间")
    date_to: date | None = Field(None, alias="to", description="立案截止日期（含），北京时间")
    cursor: str | None = Field(None, max_length=200, description="上一页返回的 next_cursor；第一页不填")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"每页条数，最多{MAX_LIMIT}")

    def apply(self, qs, today: date):
        qs = in_period(qs, "opened_at", self.date_from, self.date_to)
        for name, value in (("state", self.state), ("kind", self.kind), ("outcome", self.outcome),
                            ("is_real_name", self.real_name)):
            if value is not None:
                qs = qs.filter(**{name: value})
        if self.escalated is not None:
            qs = qs.filter(escalated_at__isnull=not self.escalated)
        if self.overdue is not None:
            qs = qs.annotate(handling_due=handling_due())
            qs = qs.filter(overdue_q(today)) if self.overdue else qs.exclude(overdue_q(today))
        if self.region_code:
            qs = qs.filter(region__pk__startswith=region_prefix(self.region_code))
        if self.department:
            qs = qs.filter(department__credit_code=self.department.strip().upper())
        if self.agency:
            qs = qs.filter(agency__code=self.agency)
        if self.assignee:
            qs = qs.filter(assignee__username=self.assignee)
        return qs


def _cases(request):
    return scoped(
        request,
        RectificationCase.objects.select_related("department", "agency", "platform", "assignee", "record", "ledger"),
    )


def _detail(request, case_id: int) -> dict:
    case = (
        _cases(request)
        .select_related("proposed_by", "confirmed_by", "ledger__extension_decided_by", "appeal")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise not_found("没有这个整改案件", "case_id")
    return case_detail_out(case, deadline_rows(case, timezone.localdate()))


@router.get(
    "",
    response=CasePage,
    auth=_READERS,
    summary="整改案件列表",
    description=(
        "按立案时间（opened_at, id）稳定排序、游标分页；只含调用者权限范围内的案件。每个案件分别列出各项期限和剩余工作日。"
        "接口密钥须有 cases:read；登录人员须能查看整改案件（经办人员、监督人员）。"
    ),
)
def list_cases(request, filters: Query[CaseFilters]):
    today = timezone.localdate()
    rows, next_cursor, total = page_by(filters.apply(_cases(request), today), "opened_at", filters.cursor, filters.limit)
    return {
        "items": [case_out(case, deadline_rows(case, today)) for case in rows],
        "next_cursor": next_cursor,
        "total": total,
    }


class FigureFilters(QuerySchema):
    by: Literal["department", "agency", "region"] | None = Field(
        None, description="分组：department 按责任部门，agency 按政务服务机构，region 按行政区划；不填为合计"
    )
    region_code: str | None = Field(None, pattern=r"^(\d{6}|\d{9}|\d{12})$", description="行政区划代码；包含其下级地区")
    date_from: date | None = Field(None, alias="from", description="立案起始日期（含），北京时间")
    date_to: date | None = Field(None, alias="to", description="立案截止日期（含），北京时间")


@router.get(
    "/figures",
    response=list[FigureOut],
    auth=readers(Scope.STATS_READ, CASE_PERMISSION),
    summary="整改与申诉指标",
    description=(
        "回访率、整改率、按时办结率、实名差评回访整改率、申诉率、申诉成立率（口径见 docs/metrics.md“整改与申诉”），"
        "按立案日期统计调用者权限范围内的案件。无分母的比率为空。接口密钥须有 stats:read。"
    ),
)
def case_figures(request, filters: Query[FigureFilters]):
    from haochaping.rectification.figures import case_figures as figures

    qs = in_period(scoped(request, RectificationCase.objects.all()), "opened_at", filters.date_from, filters.date_to)
    if filters.region_code:
        qs = qs.filter(region__pk__startswith=region_prefix(filters.region_code))
    return [vars(f) for f in figures(qs, by=filters.by)]


@router.get("/{int:case_id}", response=CaseDetailOut, auth=_READERS, summary="查询整改案件",
            description="案件及其全部办理记录、台账和整改进展、附件信息、申诉概况和各项期限。")
def get_case(request, case_id: int):
    return _detail(request, case_id)


@router.get(
    "/{int:case_id}/files/{int:file_id}",
    url_name="case-file",
    auth=_READERS,
    summary="下载附件",
    description="案件的证据、整改佐证或申诉证据文件（附件信息中的 url）。只有能查询该案件的人员或密钥可以下载，"
                "不在权限范围内与不存在相同（404）。",
    openapi_extra={"responses": {200: {"description": "文件本身（以附件形式下载）",
                                       "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                          "format": "binary"}}}}}},
)
def download_attachment(request, case_id: int, file_id: int):
    case = _cases(request).filter(pk=case_id).first()
    if case is None:
        raise not_found("没有这个整改案件", "case_id")
    item = case.attachments.filter(pk=file_id).first()
    if item is None:
        raise not_found("没有这个附件", "file_id")
    try:
        return attachment_response(item)
    except FileNotFoundError:
        raise not_found("附件文件已不存在", "file_id") from None


def _actor(request):
    """The person acting, or None for a key (the system), which may only open complaints."""
    return None if getattr(request, "api_key", None) is not None else request.auth


@router.post(
    "",
    response={201: CaseDetailOut},
    auth=[ApiKeyAuth(Scope.CASES_WRITE), _PERSON],
    summary="登记投诉",
    description=(
        "投诉针对办件（按“谁办理、谁负责”确定责任单位）或直接针对部门。接口密钥须有 cases:write，"
        "绑定行政区划的密钥只能登记本辖区的办件和部门（否则与不存在相同，404）。"
    ),
)
def open_complaint(request, payload: ComplaintIn):
    actor = request.auth
    record = department = None
    if payload.project_no:
        record = scope(ServiceRecord.objects.select_related("window", "platform"), actor).filter(
            project_no=payload.project_no).first()
        if record is None:
            raise not_found("办件不存在", "project_no")
    elif payload.department:
        department = scope(Department.objects.all(), actor).filter(credit_code=payload.department.strip().upper()).first()
        if department is None:
            raise not_found("部门不存在", "department")
    else:
        raise invalid("投诉须指明办件编号或被投诉部门", "department")
    api_key = getattr(request, "api_key", None)
    case = services.open_complaint(
        summary=payload.summary, actor=_actor(request), record=record, department=department,
        is_real_name=payload.is_real_name, source=f"apikey:{api_key.prefix}" if api_key is not None else None,
    )
    return Status(201, _detail(request, case.pk))


# --- the steps of a case: a signed-in person each ----------------------------------------------------------------

_STEP = {"response": CaseDetailOut, "auth": _PERSON}


@router.post("/{int:case_id}/assign", summary="指派承办人", **_STEP,
             description="经办单位或监督人员指派责任单位在岗的经办人员承办。")
def assign(request, case_id: int, payload: AssignIn):
    assignee = User.objects.filter(username=payload.assignee).first()
    services.assign(case_id, assignee, actor=request.auth)
    return _detail(request, case_id)


@router.post("/{int:case_id}/transfer", summary="转办", **_STEP,
             description="收到案件的单位核实后发现问题属于另一单位的，在确定处理结果前转给该办件的办理部门、窗口入驻部门或"
                         "平台运营单位（谁办理、谁负责，docs/routing.md）。记入办理记录，办理期限和状态不变，承办人清空。")
def transfer(request, case_id: int, payload: TransferIn):
    target = Department.objects.filter(credit_code=payload.department.strip().upper()).values_list("pk", flat=True).first()
    services.transfer(case_id, target, reason=payload.reason, actor=request.auth)
    # The case as the transfer left it: the caller's unit may no longer see it, but this answer is their own step's.
    case = (RectificationCase.objects.select_related("proposed_by", "confirmed_by", "ledger__extension_decided_by", "appeal")
            .get(pk=case_id))
    return case_detail_out(case, deadline_rows(case, timezone.localdate()))


@router.post("/{int:case_id}/callback", summary="记录回访核实", **_STEP,
             description="回访时间、方式、联系到的人（或未联系上的原因）和核实情况。")
def callback(request, case_id: int, payload: CallbackIn):
    services.record_callback(case_id, services.CallbackInput(**payload.dict()), actor=request.auth)
    return _detail(request, case_id)


@router.post(
    "/{int:case_id}/outcome",
    summary="选择处理结果",
    **_STEP,
    description=(
        "立行立改、限期整改（台账）、解释说明、误评或恶意差评。请求体为 JSON，或 multipart/form-data（误评/恶意差评的证据文件放在 files）。"
        "经办单位认定误评/恶意差评为提请，待监督人员确认；监督人员认定即生效。"
    ),
    openapi_extra=body_doc(OutcomeIn, files_description="误评/恶意差评的证据文件（JPG、PNG 或 PDF）"),
)
def outcome(request, case_id: int):
    payload, files = parse_body(request, OutcomeIn)
    services.choose_outcome(case_id, services.OutcomeInput(**payload.dict()), actor=request.auth, files=files)
    return _detail(request, case_id)


@router.post("/{int:case_id}/confirm", summary="确认误评或恶意差评", **_STEP,
             description="监督人员确认经办单位的提请：案件不予采纳，该评价不计入统计，并报备同级政务服务管理机构。")
def confirm(request, case_id: int, payload: NoteIn):
    services.confirm_not_adopted(case_id, actor=request.auth, note=payload.note)
    return _detail(request, case_id)


@router.post("/{int:case_id}/reject-proposal", summary="不同意误评或恶意差评的提请", **_STEP,
             description="监督人员不同意提请（须写明理由），经办单位另选处理结果。")
def reject_proposal(request, case_id: int, payload: RequiredNoteIn):
    services.reject_not_adopted(case_id, actor=request.auth, note=payload.note)
    return _detail(request, case_id)


@router.post("/{int:case_id}/extension", summary="审批整改延期", **_STEP,
             description="监督人员批准或不批准台账中晚于限期整改期限的整改期限。")
def extension(request, case_id: int, payload: ExtensionIn):
    services.decide_extension(case_id, approve=payload.approve, actor=request.auth, note=payload.note)
    return _detail(request, case_id)


@router.post("/{int:case_id}/progress", summary="填报整改进展", **_STEP)
def progress(request, case_id: int, payload: RequiredNoteIn):
    services.add_ledger_progress(case_id, note=payload.note, actor=request.auth)
    return _detail(request, case_id)


@router.post(
    "/{int:case_id}/complete",
    summary="限期整改完成",
    **_STEP,
    description="整改完成的佐证说明；请求体为 JSON，或 multipart/form-data（佐证文件放在 files）。",
    openapi_extra=body_doc(CompleteIn, files_description="整改佐证文件（JPG、PNG 或 PDF）"),
)
def complete(request, case_id: int):
    payload, files = parse_body(request, CompleteIn)
    services.complete_ledger(case_id, evidence=payload.evidence, actor=request.auth, files=files)
    return _detail(request, case_id)


@router.post("/{int:case_id}/answer", summary="答复评价人", **_STEP,
             description="实名评价人留有手机号的，另发短信，附查看答复的链接（30天内有效，打开即为评价回执页面）；答复始终显示在评价回执页面。")
def answer(request, case_id: int, payload: AnswerIn):
    services.answer(case_id, text=payload.text, actor=request.auth)
    return _detail(request, case_id)


@router.post("/{int:case_id}/close", summary="办结", **_STEP,
             description="经办单位办结已答复的案件；评价人不满意重新办理的案件由监督人员办结。")
def close(request, case_id: int, payload: NoteIn):
    services.close(case_id, actor=request.auth, note=payload.note)
    return _detail(request, case_id)


@router.post("/{int:case_id}/send-back", summary="退回重办", **_STEP,
             description="监督人员退回，案件回到“已回访核实”重新选择处理结果（须写明理由）。")
def send_back(request, case_id: int, payload: RequiredNoteIn):
    services.send_back(case_id, actor=request.auth, note=payload.note)
    return _detail(request, case_id)


@router.post("/{int:case_id}/notes", summary="记录督办意见", **_STEP, description="监督人员的督办意见，不改变案件状态。")
def supervision_note(request, case_id: int, payload: RequiredNoteIn):
    services.add_supervision_note(case_id, actor=request.auth, note=payload.note)
    return _detail(request, case_id)
