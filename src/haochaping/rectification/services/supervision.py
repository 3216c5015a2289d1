"""Supervision steps of a case (R4.3–R4.5): a supervisor confirms or rejects a unit's 误评/恶意差评 proposal,
decides a 限期整改 extension, sends the handling back or records a supervision note, and the evaluator says
whether they are satisfied with the answer. Re-exported by :mod:`.services`; the same rules apply (one transaction,
row lock, scope → role → state → input, one transition row and one audit entry per step).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from haochaping.core.problems import conflict, invalid, not_found
from haochaping.evaluation import services as evaluation_services
from haochaping.org import policy
from haochaping.org.models import ManagementAgency
from haochaping.rectification import rules
from haochaping.rectification.models import CaseNotice, LedgerEntry, RectificationCase
from haochaping.rectification.rules import Outcome, Satisfaction, State
from haochaping.rectification.services import mail
from haochaping.rectification.services.common import EVALUATOR, locked, move, need_text, refuse, require, step

NOT_ADOPTED_OUTCOMES = frozenset({Outcome.MISTAKEN, Outcome.MALICIOUS})


def supervising_agency(region_code: str) -> ManagementAgency | None:
    """The management agency of the case's region (the same level, R4.3), else of the nearest ancestor region
    that has one."""
    codes = policy.ancestor_codes(region_code)  # nearest first
    agencies = {a.region_id: a for a in ManagementAgency.objects.filter(region_id__in=codes)}
    for code in codes:
        if code in agencies:
            return agencies[code]
    return None


def decide_not_adopted(case: RectificationCase, outcome: str, *, actor, action: str, note: str = "") -> None:
    """误评/恶意差评 decided (a supervisor's own decision, or their confirmation of the unit's proposal): the case
    is not adopted, its evaluation leaves the statistics (recorded, never deleted), and the case is reported to
    the region's management agency. The caller holds the case lock and checked role and state."""
    now = timezone.now()
    step(case, action=action, to_state=State.NOT_ADOPTED, actor=actor, note=note,
         data={"outcome": outcome}, at=now)
    if case.evaluation_id is not None:
        evaluation_services.exclude_evaluation(
            case.evaluation_id, reason=outcome, source=f"case:{case.pk}", actor=actor, note=note, now=now,
        )
    CaseNotice.objects.get_or_create(
        case=case, kind=CaseNotice.Kind.REPORT, deadline="", due=None,
        defaults={"agency": supervising_agency(case.region_id), "created_at": now},
    )
    case.state = State.NOT_ADOPTED
    case.outcome = outcome
    case.confirmed_by = actor
    case.handled_at = now
    case.save(update_fields=["state", "outcome", "confirmed_by", "handled_at"])


def _pending_proposal(case: RectificationCase) -> str:
    if case.state != State.CALLED_BACK or case.proposed_outcome not in NOT_ADOPTED_OUTCOMES:
        raise conflict(_("该案件没有待确认的误评或恶意差评认定"), "proposed_outcome")
    return case.proposed_outcome


def confirm_not_adopted(case_id, *, actor, note: str = "") -> RectificationCase:
    """A supervisor confirms the unit's 误评/恶意差评 proposal (R4.3): see :func:`decide_not_adopted`."""
    with transaction.atomic():
        case = locked(case_id, actor)
        require(actor, supervisor=True, what=_("确认误评或恶意差评"))
        outcome = _pending_proposal(case)
        move(case, State.NOT_ADOPTED, "confirm")
        note = (note or "").strip()
        if len(note) > rules.MAX_TEXT:
            raise invalid(_("内容不能超过%(n)d字") % {"n": rules.MAX_TEXT}, "note")
        decide_not_adopted(case, outcome, actor=actor, action="confirm", note=note)
    return case


def reject_not_adopted(case_id, *, actor, note: str) -> RectificationCase:
    """A supervisor does not accept the 误评/恶意差评 proposal: the unit must choose another outcome."""
    with transaction.atomic():
        case = locked(case_id, actor)
        require(actor, supervisor=True, what=_("驳回误评或恶意差评的认定"))
        outcome = _pending_proposal(case)
        note = need_text(note, "note", _("请写明不予确认的理由"))
        step(case, action="reject_proposal", to_state=case.state, actor=actor, note=note, data={"outcome": outcome})
        case.proposed_outcome = ""
        case.proposed_by = None
        case.proposed_at = None
        case.save(update_fields=["proposed_outcome", "proposed_by", "proposed_at"])
    return case


def extension_pending(case: RectificationCase, entry: LedgerEntry | None) -> bool:
    """The 台账 asks for a date after ``rectify_due`` and no supervisor has decided yet."""
    return (entry is not None and case.state == State.RECTIFYING and entry.deadline > case.rectify_due
            and not entry.extension_approved and entry.extension_decided_at is None
            and bool(entry.extension_reason.strip()))


def decide_extension(case_id, *, approve: bool, actor, note: str = "") -> RectificationCase:
    """A supervisor approves or refuses the later 限期整改 date the unit asked for. Approved: the 台账's date
    becomes the case's rectification deadline; refused: ``rectify_due`` stays the deadline (the requested date
    is kept on the 台账 as asked)."""
    with transaction.atomic():
        case = locked(case_id, actor)
        require(actor, supervisor=True, what=_("审批整改延期"))
        entry = LedgerEntry.objects.select_for_update().filter(case=case).first()
        if not extension_pending(case, entry):
            raise conflict(_("该案件没有待审批的延期申请"), "extension")
        if approve not in (True, False):
            raise invalid(_("请选择批准或不批准延期"), "approve")
        note = (note or "").strip()
        if len(note) > rules.MAX_TEXT:
            raise invalid(_("内容不能超过%(n)d字") % {"n": rules.MAX_TEXT}, "note")
        now = timezone.now()
        due = rules.ledger_due(case.rectify_due, entry.deadline, approve)
        step(case, action="extension", to_state=case.state, actor=actor, note=note, at=now,
             data={"approved": approve, "due": due.isoformat()})
        entry.extension_approved = approve
        entry.extension_decided_by = actor
        entry.extension_decided_at = now
        entry.save(update_fields=["extension_approved", "extension_decided_by", "extension_decided_at"])
    return case


def send_back(case_id, *, actor, note: str) -> RectificationCase:
    """A supervisor sends the handling back to be done again from the callback on (R4.5). Deadlines keep running.

    A confirmed 误评/恶意差评 cannot be sent back: its evaluation already left the statistics, and exclusions are
    never undone."""
    with transaction.atomic():
        case = locked(case_id, actor)
        require(actor, supervisor=True, what=_("退回重办"))
        if case.outcome in NOT_ADOPTED_OUTCOMES and case.confirmed_by_id is not None:
            raise conflict(_("已认定为误评或恶意差评的案件，评价已不计入统计，不能退回重办"), "state")
        move(case, State.CALLED_BACK, "send_back")
        note = need_text(note, "note", _("请写明退回重办的理由"))
        step(case, action="send_back", to_state=State.CALLED_BACK, actor=actor, note=note,
             data={"outcome": case.outcome})
        case.state = State.CALLED_BACK
        case.outcome = ""
        case.handled_at = None
        case.answered_at = None
        case.satisfaction_due = None
        case.save(update_fields=["state", "outcome", "handled_at", "answered_at", "satisfaction_due"])
    return case


def add_supervision_note(case_id, *, actor, note: str) -> RectificationCase:
    """A supervisor's inspection note (督办意见) on a case in any state; the state does not change. The case's
    assignee and its unit's handlers get an e-mail once it commits (without the note: it may name people; they
    read it in the workbench)."""
    with transaction.atomic():
        case = locked(case_id, actor)
        require(actor, supervisor=True, what=_("填写督办意见"))
        note = need_text(note, "note", _("请填写督办意见"))
        step(case, action="supervise", to_state=case.state, actor=actor, note=note)
        transaction.on_commit(lambda: _mail_supervision_note(case))
    return case


def _mail_supervision_note(case: RectificationCase) -> None:
    subject = _("【好差评】督办：%(case)s") % {"case": case}
    body = _("政务服务管理机构对%(case)s提出了督办意见。请登录好差评系统工作台查看意见并抓紧办理：%(url)s\n\n"
             "本邮件由系统自动发送，请勿回复。") % {"case": case, "url": mail.workbench_url()}
    to = mail.handler_emails([case]).get(case.pk, [])
    mail.send_mails(mail.mails(subject, body, to))


def record_satisfaction(evaluation_id, answer: str, *, now=None) -> RectificationCase:
    """The evaluator says whether they are satisfied with the answer (R4.4), from the receipt page (no user).

    Satisfied → closed. Unsatisfied → reopened for the supervisor (once: ``rules.MAX_REOPENS``); unsatisfied again
    after a reopening → closed with the answer recorded. Once per answer, within ``satisfaction_due``."""
    now = now or timezone.now()
    if answer not in Satisfaction.values:
        raise invalid(_("请选择满意或不满意"), "satisfaction")
    with transaction.atomic():
        case = RectificationCase.objects.select_for_update().filter(evaluation_id=evaluation_id).first()
        if case is None:
            raise not_found(_("没有这个整改案件"), "case_id")
        refuse(rules.satisfaction_problems(
            state=case.state, satisfaction=case.satisfaction, answer=answer, reopen_count=case.reopen_count,
            today=timezone.localdate(now), satisfaction_due=case.satisfaction_due,
        ), status=409)
        reopen = rules.reopens(answer, case.reopen_count)
        to_state = State.REOPENED if reopen else State.CLOSED
        action = "reopen" if reopen else "satisfaction"
        move(case, to_state, action)
        step(case, action=action, to_state=to_state, actor=None, at=now, audit_actor=EVALUATOR,
             data={"satisfaction": answer})
        case.state = to_state
        case.satisfaction = answer
        case.satisfaction_at = now
        fields = ["state", "satisfaction", "satisfaction_at"]
        if reopen:
            case.reopen_count += 1
            fields.append("reopen_count")
        else:
            case.closed_at = now
            fields.append("closed_at")
        case.save(update_fields=fields)
    return case
