"""Request and response shapes of the cases and appeals API, and the functions that fill the responses.

Responses carry no personal data of the evaluator (no phone, no name, no receipt code): a case names the
evaluation by its id; people are named by their user name only.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.urls import reverse
from django.utils import timezone
from ninja import Field, Schema
from pydantic import AwareDatetime

from haochaping.core.schemas import InputSchema
from haochaping.rectification import rules
from haochaping.rectification.models import Appeal, CaseAttachment, CaseNotice, RectificationCase
from haochaping.rectification.rules import (
    AppealState,
    CallbackMethod,
    DeadlineKind,
    Kind,
    Outcome,
    Satisfaction,
    State,
)

StateCode = Literal[tuple(State.values)]  # type: ignore[valid-type]
KindCode = Literal[tuple(Kind.values)]  # type: ignore[valid-type]
OutcomeCode = Literal[tuple(Outcome.values)]  # type: ignore[valid-type]
AppealStateCode = Literal[tuple(AppealState.values)]  # type: ignore[valid-type]
MethodCode = Literal[tuple(CallbackMethod.values)]  # type: ignore[valid-type]

TEXT = rules.MAX_TEXT
# State changes that are not a step anyone takes on the case: the evaluator's answer and an appeal's decision.
NOT_STEPS = frozenset({"reopen", "appeal_upheld"})


def _choices(choices) -> str:
    return "，".join(f"{value} {label}" for value, label in choices.choices)


def _local(moment):
    return timezone.localtime(moment) if moment else None


def _username(user) -> str | None:
    return user.username if user is not None else None


# --- requests ---------------------------------------------------------------------------------------------------


class _In(InputSchema):
    # A misspelt field is an error, not silently dropped (a 台账 without its deadline would look accepted).
    pass


class ComplaintIn(_In):
    summary: str = Field(..., min_length=1, max_length=TEXT, description="投诉内容")
    project_no: str | None = Field(None, max_length=64, description="被投诉的办件编号（按办件确定责任单位）")
    department: str | None = Field(None, max_length=18, description="被投诉部门的统一社会信用代码（未给出办件时必填）")
    is_real_name: bool = Field(False, description="是否实名投诉")


class AssignIn(_In):
    assignee: str = Field(..., min_length=1, max_length=150, description="承办人的用户名（责任单位在岗的经办人员）")


class TransferIn(_In):
    department: str = Field(..., min_length=1, max_length=18,
                            description="转至单位的统一社会信用代码：该办件的办理部门、窗口入驻部门或平台运营单位")
    reason: str = Field(..., max_length=TEXT, description="转办理由（核实后发现问题属于哪个单位）")


class CallbackIn(_In):
    at: AwareDatetime = Field(..., description="回访时间，ISO 8601 带时区，不能晚于现在")
    method: MethodCode = Field(..., description=f"回访方式：{_choices(CallbackMethod)}")
    reached: bool = Field(..., description="是否联系上评价人")
    contact: str = Field(..., max_length=TEXT, description="联系到的人；未联系上的，写明原因和已尝试的联系方式")
    facts: str = Field(..., max_length=TEXT, description="核实的情况")


class OutcomeIn(_In):
    outcome: OutcomeCode = Field(..., description=f"处理结果：{_choices(Outcome)}")
    detail: str = Field("", max_length=TEXT, description="立行立改：已整改的内容；解释说明：所作的解释")
    legal_basis: str = Field("", max_length=TEXT, description="解释说明：依据的法律法规或政策")
    evidence: str = Field("", max_length=TEXT, description="误评/恶意差评：核实证据（证据文件以 multipart 的 files 上传）")
    problem: str = Field("", max_length=TEXT, description="限期整改台账：存在的问题")
    measures: str = Field("", max_length=TEXT, description="限期整改台账：整改措施")
    responsible_person: str = Field("", max_length=50, description="限期整改台账：责任人")
    deadline: date | None = Field(None, description="限期整改台账：整改期限（日期）；晚于限期整改期限的须写明延期理由，报监督人员批准")
    extension_reason: str = Field("", max_length=TEXT, description="延期理由（整改期限晚于限期整改期限时）")


class NoteIn(_In):
    note: str = Field("", max_length=TEXT, description="说明")


class RequiredNoteIn(_In):
    note: str = Field(..., max_length=TEXT, description="说明（必填）")


class ExtensionIn(_In):
    approve: bool = Field(..., description="true 批准延期，false 不批准（整改期限仍为限期整改期限）")
    note: str = Field("", max_length=TEXT, description="审批意见")


class CompleteIn(_In):
    evidence: str = Field(..., max_length=TEXT, description="整改完成的佐证说明（佐证文件以 multipart 的 files 上传）")


class AnswerIn(_In):
    text: str = Field(..., max_length=TEXT, description="给评价人的答复：核实的情况和处理结果；不写个人信息")


class AppealIn(_In):
    case_id: int = Field(..., description="被申诉差评的整改案件编号")
    explanation: str = Field(..., max_length=TEXT, description="申诉理由（证据文件以 multipart 的 files 上传）")


class DecisionIn(_In):
    upheld: bool = Field(..., description="true 申诉成立（该评价不计入统计，案件办结），false 申诉不成立（案件继续办理）")
    note: str = Field(..., max_length=TEXT, description="审核意见")


# --- responses --------------------------------------------------------------------------------------------------


class DeadlineOut(Schema):
    kind: str = Field(description=f"期限：{_choices(DeadlineKind)}")
    name: str
    due: date = Field(description="到期日（含）")
    done_on: date | None = Field(description="完成日期；未完成为空")
    working_days_left: int | None = Field(description="剩余工作日：到期当天为 0，逾期为负数；已完成或案件已办结为空")
    overdue: bool = Field(description="未完成且已过到期日")
    done_late: bool = Field(description="完成日期晚于到期日")


class AppealSummaryOut(Schema):
    id: int
    state: str
    state_name: str
    party: str
    submitted_at: AwareDatetime
    review_due: date = Field(description="审核期限；案件的办理期限在申诉期间照常计算")
    decided_at: AwareDatetime | None


class CaseOut(Schema):
    id: int
    kind: str = Field(description=f"类型：{_choices(Kind)}")
    kind_name: str
    state: str = Field(description=f"状态：{_choices(State)}")
    state_name: str
    evaluation_id: int | None = Field(description="差评的评价编号；投诉为空")
    project_no: str | None
    region_code: str
    department_credit_code: str
    department_name: str
    agency_code: str | None
    platform_code: str | None
    assignee: str | None = Field(description="承办人用户名")
    is_real_name: bool
    opened_at: AwareDatetime
    outcome: str = Field(description=f"处理结果（未定为空）：{_choices(Outcome)}")
    outcome_name: str
    proposed_outcome: str = Field(description="经办单位提请、待监督人员确认的处理结果（误评/恶意差评）")
    appeal_due: date | None = Field(description="申诉期限（差评）")
    answered_at: AwareDatetime | None
    closed_at: AwareDatetime | None
    satisfaction: str = Field(description=f"评价人对处理结果：{_choices(Satisfaction)}；未表态为空")
    reopen_count: int
    escalated_at: AwareDatetime | None = Field(description="逾期上报管理机构的时间")
    overdue: bool = Field(description="有未完成且已过到期日的期限")
    deadlines: list[DeadlineOut] = Field(description="各期限分别列出，含剩余工作日")
    actions: list[str] = Field(description="当前状态下可办理的状态变更步骤（是否有权办理由登录人员的角色和范围决定）")


class TransitionOut(Schema):
    at: AwareDatetime
    action: str
    from_state: str
    to_state: str
    actor: str | None = Field(description="操作人用户名；系统操作为空")
    note: str


class ProgressOut(Schema):
    at: AwareDatetime
    actor: str | None
    note: str


class LedgerOut(Schema):
    problem: str
    measures: str
    responsible_person: str
    deadline: date = Field(description="台账填写的整改期限")
    due: date = Field(description="实际整改期限：延期未批准时为限期整改期限")
    extension_reason: str
    extension_approved: bool
    extension_decided_by: str | None
    extension_decided_at: AwareDatetime | None
    completed_at: AwareDatetime | None
    evidence: str
    progress: list[ProgressOut]


class AttachmentOut(Schema):
    id: int
    purpose: str = Field(description=f"用途：{_choices(CaseAttachment.Purpose)}")
    name: str
    size: int = Field(description="字节")
    uploaded_by: str | None
    uploaded_at: AwareDatetime
    appeal_id: int | None
    url: str = Field(description="下载地址（GET，须有查询该案件的权限）")


class CallbackOut(Schema):
    at: AwareDatetime | None
    method: str
    reached: bool | None
    contact: str
    facts: str


class NoticeOut(Schema):
    kind: str = Field(description=f"类型：{_choices(CaseNotice.Kind)}")
    deadline: str
    due: date | None
    created_at: AwareDatetime


class CaseDetailOut(CaseOut):
    summary: str
    callback: CallbackOut
    outcome_detail: str
    legal_basis: str
    evidence: str
    proposed_by: str | None
    proposed_at: AwareDatetime | None
    confirmed_by: str | None
    handled_at: AwareDatetime | None
    answer: str
    satisfaction_at: AwareDatetime | None
    satisfaction_due: date | None
    ledger: LedgerOut | None
    transitions: list[TransitionOut] = Field(description="每一步一行：谁、何时、做了什么")
    attachments: list[AttachmentOut] = Field(description="附件信息（文件本身从 url 下载）")
    appeal: AppealSummaryOut | None
    notices: list[NoticeOut] = Field(description="到期提醒、逾期上报和报备管理机构")


class CasePage(Schema):
    items: list[CaseOut]
    next_cursor: str | None = Field(description="下一页的游标；为空表示没有更多")
    total: int = Field(description="符合条件、在您权限范围内的案件总数")


class AppealOut(Schema):
    id: int
    case_id: int
    evaluation_id: int
    state: str = Field(description=f"状态：{_choices(AppealState)}")
    state_name: str
    party: str = Field(description=f"申诉方：{_choices(Appeal.Party)}")
    appellant: str
    explanation: str
    submitted_at: AwareDatetime
    review_due: date = Field(description="审核期限；申诉期间案件的办理期限照常计算")
    review_overdue: bool = Field(description="未审结且已过审核期限")
    reviewer: str | None
    decided_at: AwareDatetime | None
    decision_note: str
    case_state: str
    case_state_name: str
    region_code: str
    department_credit_code: str
    attachments: list[AttachmentOut]


class AppealPage(Schema):
    items: list[AppealOut]
    next_cursor: str | None = Field(description="下一页的游标；为空表示没有更多")
    total: int = Field(description="符合条件、在您权限范围内的申诉总数")


class FigureOut(Schema):
    key: str | int | None = Field(description="分组：部门信用代码、机构编码或区划代码；不分组为空")
    name: str
    cases: int
    called_back: int
    callback_rate: float | None = Field(description="回访率，0–1；无分母为空")
    handled: int
    rectify_rate: float | None = Field(description="整改率")
    finished: int
    on_time: int
    on_time_rate: float | None = Field(description="按时办结率")
    real_name: int
    real_name_done: int
    real_name_rate: float | None = Field(description="实名差评回访整改率（目标 100%）")
    appeals: int
    appeal_rate: float | None = Field(description="申诉率")
    decided_appeals: int
    upheld: int
    upheld_rate: float | None = Field(description="申诉成立率")
    overdue_now: int


# --- filling the responses -------------------------------------------------------------------------------------


def deadline_out(row: rules.DeadlineRow) -> dict:
    return {
        "kind": row.kind, "name": str(DeadlineKind(row.kind).label), "due": row.due, "done_on": row.done_on,
        "working_days_left": row.working_days_left, "overdue": row.overdue, "done_late": row.done_late,
    }


def case_out(case: RectificationCase, rows: list[rules.DeadlineRow]) -> dict:
    """A case in a list. Needs ``department``, ``agency``, ``platform``, ``assignee`` and ``record`` loaded."""
    return {
        "id": case.pk,
        "kind": case.kind,
        "kind_name": str(case.get_kind_display()),
        "state": case.state,
        "state_name": str(case.get_state_display()),
        "evaluation_id": case.evaluation_id,
        "project_no": case.record.project_no if case.record_id else None,
        "region_code": case.region_id,
        "department_credit_code": case.department.credit_code,
        "department_name": case.department.name,
        "agency_code": case.agency.code if case.agency_id else None,
        "platform_code": case.platform.code if case.platform_id else None,
        "assignee": _username(case.assignee),
        "is_real_name": case.is_real_name,
        "opened_at": _local(case.opened_at),
        "outcome": case.outcome,
        "outcome_name": str(case.get_outcome_display()) if case.outcome else "",
        "proposed_outcome": case.proposed_outcome,
        "appeal_due": case.appeal_due,
        "answered_at": _local(case.answered_at),
        "closed_at": _local(case.closed_at),
        "satisfaction": case.satisfaction,
        "reopen_count": case.reopen_count,
        "escalated_at": _local(case.escalated_at),
        "overdue": any(row.overdue for row in rows),
        "deadlines": [deadline_out(row) for row in rows],
        "actions": sorted(rules.allowed_actions(case.state) - NOT_STEPS),
    }


def attachment_out(a: CaseAttachment) -> dict:
    return {
        "id": a.pk, "purpose": a.purpose, "name": a.original_name, "size": a.size,
        "uploaded_by": _username(a.uploaded_by), "uploaded_at": _local(a.uploaded_at), "appeal_id": a.appeal_id,
        "url": reverse("api-v1:case-file", kwargs={"case_id": a.case_id, "file_id": a.pk}),
    }


def _ledger_out(case: RectificationCase) -> dict | None:
    entry = getattr(case, "ledger", None)
    if entry is None:
        return None
    return {
        "problem": entry.problem, "measures": entry.measures, "responsible_person": entry.responsible_person,
        "deadline": entry.deadline,
        "due": rules.ledger_due(case.rectify_due, entry.deadline, entry.extension_approved),
        "extension_reason": entry.extension_reason, "extension_approved": entry.extension_approved,
        "extension_decided_by": _username(entry.extension_decided_by),
        "extension_decided_at": _local(entry.extension_decided_at),
        "completed_at": _local(entry.completed_at), "evidence": entry.evidence,
        "progress": [{"at": _local(p.at), "actor": _username(p.actor), "note": p.note} for p in entry.progress.all()],
    }


def _appeal_summary(case: RectificationCase) -> dict | None:
    appeal = getattr(case, "appeal", None)
    if appeal is None:
        return None
    return {
        "id": appeal.pk, "state": appeal.state, "state_name": str(appeal.get_state_display()), "party": appeal.party,
        "submitted_at": _local(appeal.submitted_at), "review_due": appeal.review_due,
        "decided_at": _local(appeal.decided_at),
    }


def case_detail_out(case: RectificationCase, rows: list[rules.DeadlineRow]) -> dict:
    """A case with everything on its page. Needs what :func:`case_out` needs plus ``proposed_by``,
    ``confirmed_by``; transitions, ledger progress, attachments, appeal and notices are read here."""
    return {
        **case_out(case, rows),
        "summary": case.summary,
        "callback": {
            "at": _local(case.callback_at), "method": case.callback_method, "reached": case.callback_reached,
            "contact": case.callback_contact, "facts": case.callback_facts,
        },
        "outcome_detail": case.outcome_detail,
        "legal_basis": case.legal_basis,
        "evidence": case.evidence,
        "proposed_by": _username(case.proposed_by),
        "proposed_at": _local(case.proposed_at),
        "confirmed_by": _username(case.confirmed_by),
        "handled_at": _local(case.handled_at),
        "answer": case.answer,
        "satisfaction_at": _local(case.satisfaction_at),
        "satisfaction_due": case.satisfaction_due,
        "ledger": _ledger_out(case),
        "transitions": [
            {"at": _local(t.at), "action": t.action, "from_state": t.from_state, "to_state": t.to_state,
             "actor": _username(t.actor), "note": t.note}
            for t in case.transitions.select_related("actor").order_by("at", "pk")
        ],
        "attachments": [attachment_out(a) for a in case.attachments.select_related("uploaded_by")],
        "appeal": _appeal_summary(case),
        "notices": [
            {"kind": n.kind, "deadline": n.deadline, "due": n.due, "created_at": _local(n.created_at)}
            for n in case.notices.order_by("created_at", "pk")
        ],
    }


def appeal_out(appeal: Appeal, today: date) -> dict:
    """An appeal. Needs ``case__department``, ``appellant``, ``reviewer`` loaded and ``attachments`` prefetched."""
    case = appeal.case
    return {
        "id": appeal.pk,
        "case_id": appeal.case_id,
        "evaluation_id": appeal.evaluation_id,
        "state": appeal.state,
        "state_name": str(appeal.get_state_display()),
        "party": appeal.party,
        "appellant": appeal.appellant.username,
        "explanation": appeal.explanation,
        "submitted_at": _local(appeal.submitted_at),
        "review_due": appeal.review_due,
        "review_overdue": appeal.state in rules.APPEAL_OPEN and today > appeal.review_due,
        "reviewer": _username(appeal.reviewer),
        "decided_at": _local(appeal.decided_at),
        "decision_note": appeal.decision_note,
        "case_state": case.state,
        "case_state_name": str(case.get_state_display()),
        "region_code": case.region_id,
        "department_credit_code": case.department.credit_code,
        "attachments": [attachment_out(a) for a in appeal.attachments.all()],
    }
