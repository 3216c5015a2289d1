"""Use cases of rectification (R4): the only code that writes cases, their steps and their 台账.

Each service is one transaction: it locks the case row (``select_for_update``), checks that the case is in the
actor's scope (else 404 "没有这个整改案件", exactly as for a missing id), that the actor's role may take the step
(else 403 naming who may), that the state machine allows it (409) and the input (422 naming the field), then
writes the change, one :class:`CaseTransition` and one ``core.AuditEntry`` (codes and ids only, never free text).

``actor`` is a user, or ``None`` for the system (receivers and scheduled tasks). Handler steps need role HANDLER,
supervisor steps role SUPERVISOR; a superuser may take every step. The supervision steps live in
:mod:`.supervision` (the plumbing they share in :mod:`.common`) and are re-exported here, so callers import every
case step from this package. The other use cases have their modules beside it: :mod:`.appeals` (申诉),
:mod:`.focus` (集中问题) and :mod:`.deadlines` (reminders and escalations, run by the worker).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from haochaping.accounts.roles import Role
from haochaping.core import calendar
from haochaping.core.problems import conflict, invalid, not_found
from haochaping.core.scoping import can_see
from haochaping.org import policy
from haochaping.records.models import ServiceRecord
from haochaping.rectification import reply_links, rules
from haochaping.rectification.models import CaseAttachment, LedgerEntry, LedgerProgress, RectificationCase
from haochaping.rectification.rules import CallbackMethod, Kind, Outcome, State
from haochaping.rectification.services.batch import open_cases
from haochaping.rectification.services.common import (  # noqa: F401 - re-exported for services.appeals, pages and the API
    SYSTEM,
    add_working_days_in,
    check_files,
    forbidden,
    is_handler,
    is_superuser,
    is_supervisor,
    locked,
    move,
    need_text,
    opening_deadlines,
    record_units,
    refuse,
    require,
    save_files,
    step,
)
from haochaping.rectification.services.contact import (  # noqa: E402,F401 - re-exported
    contact_fields,
    reveal_contact,
)
from haochaping.rectification.services.supervision import (  # noqa: F401 - re-exported: the whole case contract is in this package
    NOT_ADOPTED_OUTCOMES,
    add_supervision_note,
    confirm_not_adopted,
    decide_extension,
    decide_not_adopted,
    extension_pending,
    record_satisfaction,
    reject_not_adopted,
    send_back,
    supervising_agency,
)
from haochaping.rectification.services.transfer import (  # noqa: E402,F401 - re-exported
    transfer,
    transfer_choices,
)

log = logging.getLogger(__name__)

# Older private names, kept for callers written against them.
_step = step
_refuse = refuse
_deadlines = opening_deadlines
_add_working_days = add_working_days_in


def _locked(case_id, actor=None) -> RectificationCase:
    return locked(case_id, actor)


def _open(*, kind: str, record, responsible: rules.Responsible, is_real_name: bool, actor, now, evaluation=None,
          summary: str = "", source: str | None = None) -> RectificationCase:
    opened_on = timezone.localdate(now)
    due = _deadlines(responsible.region_id, opened_on)
    appeal_due = _add_working_days(
        opened_on, policy.period_days(responsible.region_id, "appeal_days"), region_code=responsible.region_id
    ) if kind == Kind.BAD_REVIEW else None
    case = RectificationCase.objects.create(
        kind=kind, state=State.OPEN, evaluation=evaluation, record=record, summary=summary,
        region_id=responsible.region_id, department_id=responsible.department_id, agency_id=responsible.agency_id,
        platform_id=responsible.platform_id, is_real_name=is_real_name, opened_at=now,
        callback_due=due.callback_due, fix_now_due=due.fix_now_due, rectify_due=due.rectify_due,
        appeal_due=appeal_due,
    )
    step(case, action="open", from_state="", to_state=State.OPEN, actor=actor, at=now, audit_actor=source,
         data={"department": responsible.department_id, "callback_due": due.callback_due.isoformat()})
    return case


def open_case_for_evaluation(evaluation) -> RectificationCase:
    """Open the case of a 差评 (R4.1), routed to the unit that handled the 办件, with deadlines counted on the
    region's working-day calendar from the day of the evaluation. Runs inside the evaluation's own transaction (a receiver of
    ``evaluation_written``): if it fails, the evaluation is not written either. The same statements as a batch's
    差评 (services.batch.open_cases)."""
    if not evaluation.is_bad:
        raise invalid(_("只有差评需要整改"), "level")
    return open_cases([evaluation])[0]


def case_id_for_evaluation(evaluation):
    return RectificationCase.objects.filter(evaluation_id=evaluation.pk).values_list("pk", flat=True).first()


def open_complaint(*, summary: str, actor, record=None, department=None, is_real_name: bool = False,
                   source: str | None = None) -> RectificationCase:
    """Open a case for a complaint (投诉), about a 办件 (routed like a 差评) or directly about a department.

    Taken by a supervisor or a 12345 hotline operator, about a 办件 or department in their scope, or by the system
    (``actor`` None) on behalf of a business system; ``source`` then names it in the audit (``apikey:<prefix>``),
    so an operator can tell which integration registered the complaint."""
    if actor is not None and not (is_supervisor(actor) or actor.role == Role.HOTLINE):
        raise forbidden(_("只有政务服务管理机构的监督人员或12345热线话务员可以登记投诉"))
    summary = need_text(summary, "summary", _("请填写投诉内容"))
    if record is None and department is None:
        raise invalid(_("投诉须指明办件或被投诉部门"), "department")
    if actor is not None:
        if record is not None and not can_see(actor, record):
            raise not_found(_("没有这个办件"), "record")
        if record is None and not can_see(actor, department):
            raise not_found(_("没有这个部门"), "department")
    with transaction.atomic():
        if record is not None:
            record = ServiceRecord.objects.select_related("window", "platform").get(pk=record.pk)
            responsible = rules.route(record_units(record), comment=summary)
        else:
            responsible = rules.Responsible(department.region_id, department.pk, None, None)
        return _open(kind=Kind.COMPLAINT, record=record, responsible=responsible, is_real_name=is_real_name,
                     actor=actor, now=timezone.now(), summary=summary, source=source)


def assign(case_id, assignee, *, actor) -> RectificationCase:
    """Name the person who handles the case: a handler of the responsible unit (R4.1)."""
    with transaction.atomic():
        case = locked(case_id, actor)
        require(actor, handler=True, supervisor=True, what=_("指定承办人"))
        if case.state not in rules.ASSIGNABLE:
            raise conflict(_("案件已有处理结果，不能再指派承办人"), "assignee")
        if assignee is None or not assignee.is_active or assignee.role != Role.HANDLER or not can_see(assignee, case):
            raise invalid(_("承办人须为责任单位在岗的经办人员"), "assignee")
        step(case, action="assign", to_state=case.state, actor=actor, data={"assignee": assignee.pk})
        case.assignee = assignee
        case.save(update_fields=["assignee"])
    return case


@dataclass
class CallbackInput:
    """回访核实 (R4.2): when and how, whether the evaluator was reached, whom (or why not), what was verified."""

    at: datetime | None
    method: str
    reached: bool | None
    contact: str = ""
    facts: str = ""


def record_callback(case_id, data: CallbackInput, *, actor) -> RectificationCase:
    """回访核实 done (R4.2): the structured record of the call back. Handler of the case's unit."""
    with transaction.atomic():
        case = locked(case_id, actor)
        require(actor, handler=True, what=_("登记回访核实"))
        move(case, State.CALLED_BACK, "callback")
        refuse(rules.callback_problems(at=data.at, now=timezone.now(), method=data.method, reached=data.reached,
                                       contact=data.contact, facts=data.facts, opened_at=case.opened_at,
                                       kind=case.kind))
        note = _("%(method)s；%(reached)s") % {
            "method": CallbackMethod(data.method).label,
            "reached": (_("已联系上%(person)s") if data.reached else _("未联系上%(person)s"))
            % {"person": rules.counterpart(case.kind)},
        }
        step(case, action="callback", to_state=State.CALLED_BACK, actor=actor, note=note,
             data={"method": data.method, "reached": data.reached})
        case.state = State.CALLED_BACK
        case.callback_at = data.at
        case.callback_method = data.method
        case.callback_reached = data.reached
        case.callback_contact = data.contact.strip()
        case.callback_facts = data.facts.strip()
        case.save(update_fields=["state", "callback_at", "callback_method", "callback_reached", "callback_contact",
                                 "callback_facts"])
    return case


@dataclass
class OutcomeInput:
    outcome: str
    detail: str = ""  # 立行立改: what was fixed; 解释说明: the explanation
    legal_basis: str = ""
    evidence: str = ""  # 误评/恶意差评
    confirmed_by: object | None = None  # not used: a 误评/恶意差评 is confirmed through confirm_not_adopted()
    problem: str = ""  # 限期整改 台账
    measures: str = ""
    responsible_person: str = ""
    deadline: date | None = None
    extension_approved: bool = False  # only a superuser may set it; others ask with extension_reason
    extension_reason: str = ""  # a deadline after rectify_due asks a supervisor to approve it


def choose_outcome(case_id, data: OutcomeInput, *, actor, files=()) -> RectificationCase:
    """Decide the outcome after the callback (R4.3), with what that outcome must state.

    立行立改 and 解释说明: handled now. 限期整改: opens the 台账; a deadline after ``rectify_due`` is kept as asked
    with the extension pending (:func:`decide_extension`). 误评/恶意差评 with evidence (and evidence ``files``):
    from a handler a proposal the case waits on (:func:`confirm_not_adopted`), from a supervisor decided at once.
    """
    with transaction.atomic():
        case = locked(case_id, actor)
        not_adopted = data.outcome in NOT_ADOPTED_OUTCOMES
        if not_adopted:
            require(actor, handler=True, supervisor=True, what=_("认定误评或恶意差评"))
        else:
            require(actor, handler=True, what=_("确定处理结果"))
        if data.outcome not in Outcome.values:
            move(case, State.RECTIFIED, "outcome")  # a case not yet called back says so first
            refuse(rules.outcome_problems(data.outcome, {}, rectify_due=case.rectify_due, today=timezone.localdate()))
        move(case, rules.OUTCOME_STATE[data.outcome], "outcome")
        if case.proposed_outcome:
            raise conflict(_("该案件已提请认定%(outcome)s，正等待监督人员确认") % {
                "outcome": Outcome(case.proposed_outcome).label}, "outcome")
        if data.extension_approved and not is_superuser(actor):
            raise forbidden(_("只有政务服务管理机构的监督人员可以批准整改延期"))
        fields = {
            "detail": data.detail, "legal_basis": data.legal_basis, "evidence": data.evidence,
            # Here only the evidence is checked: the confirmation is the supervisor's own step.
            "supervisor_confirmed": True, "problem": data.problem, "measures": data.measures,
            "responsible_person": data.responsible_person, "deadline": data.deadline,
            "extension_reason": data.extension_reason,
        }
        refuse(rules.outcome_problems(data.outcome, fields, rectify_due=case.rectify_due, today=timezone.localdate(),
                                      extension_approved=data.extension_approved))
        if len(data.extension_reason or "") > rules.MAX_TEXT:
            raise invalid(_("内容不能超过%(n)d字") % {"n": rules.MAX_TEXT}, "extension_reason")
        if files and not not_adopted:
            raise invalid(_("只有认定误评或恶意差评时需要上传证据文件"), "files")
        checked = check_files(files, label=_("核实证据")) if not_adopted else []
        now = timezone.now()
        if not_adopted:
            case.evidence = data.evidence.strip()
            save_files(case, checked, purpose=CaseAttachment.Purpose.NOT_ADOPTED, actor=actor, now=now)
            if is_supervisor(actor):
                case.save(update_fields=["evidence"])
                decide_not_adopted(case, data.outcome, actor=actor, action="outcome")
                return case
            step(case, action="propose", to_state=case.state, actor=actor, note=Outcome(data.outcome).label,
                 data={"outcome": data.outcome, "files": len(checked)}, at=now)
            case.proposed_outcome = data.outcome
            case.proposed_by = actor
            case.proposed_at = now
            case.save(update_fields=["evidence", "proposed_outcome", "proposed_by", "proposed_at"])
            return case
        to_state = rules.OUTCOME_STATE[data.outcome]
        audit = {"outcome": data.outcome}
        if data.outcome == Outcome.DEADLINE:
            later = data.deadline > case.rectify_due
            pending = later and not data.extension_approved
            LedgerEntry.objects.update_or_create(case=case, defaults=dict(
                problem=data.problem.strip(), measures=data.measures.strip(),
                responsible_person=data.responsible_person.strip()[:50], deadline=data.deadline,
                extension_approved=later and data.extension_approved,
                extension_reason=data.extension_reason.strip() if later else "",
                extension_decided_by=actor if later and data.extension_approved else None,
                extension_decided_at=now if later and data.extension_approved else None,
                completed_at=None, evidence="",
            ))
            audit.update(deadline=data.deadline.isoformat(), extension_pending=pending)
        step(case, action="outcome", to_state=to_state, actor=actor, note=Outcome(data.outcome).label, data=audit,
             at=now)
        case.state = to_state
        case.outcome = data.outcome
        case.outcome_detail = data.detail.strip()
        case.legal_basis = data.legal_basis.strip()
        case.handled_at = None if data.outcome == Outcome.DEADLINE else now
        case.save(update_fields=["state", "outcome", "outcome_detail", "legal_basis", "handled_at"])
    return case


def _ledger(case) -> LedgerEntry:
    entry = LedgerEntry.objects.select_for_update().filter(case=case).first()
    if entry is None:
        raise conflict(_("该案件没有整改台账"), "ledger")
    return entry


def add_ledger_progress(case_id, *, note: str, actor) -> LedgerProgress:
    """A progress note on the 台账 of a case under 限期整改. Handler of the case's unit."""
    with transaction.atomic():
        case = locked(case_id, actor)
        require(actor, handler=True, what=_("填报整改进展"))
        if case.state != State.RECTIFYING:
            raise conflict(_("只有限期整改中的案件可以填报整改进展"), "state")
        note = need_text(note, "note", _("请填写整改进展"))
        entry = _ledger(case)
        now = timezone.now()
        progress = LedgerProgress.objects.create(entry=entry, at=now, actor_id=getattr(actor, "pk", None), note=note)
        step(case, action="progress", to_state=case.state, actor=actor, note=note, at=now)
    return progress


def complete_ledger(case_id, *, evidence: str, actor, files=()) -> RectificationCase:
    """The 限期整改 is done: the 台账 entry is completed with its evidence (text and JPG/PNG/PDF ``files``) and
    the case is rectified. Handler of the case's unit."""
    with transaction.atomic():
        case = locked(case_id, actor)
        require(actor, handler=True, what=_("完成整改台账"))
        move(case, State.RECTIFIED, "complete_ledger")
        evidence = need_text(evidence, "evidence", _("请填写整改完成的佐证材料说明"))
        checked = check_files(files, label=_("佐证材料"))
        entry = _ledger(case)
        now = timezone.now()
        entry.completed_at = now
        entry.evidence = evidence
        entry.save(update_fields=["completed_at", "evidence"])
        save_files(case, checked, purpose=CaseAttachment.Purpose.LEDGER, actor=actor, now=now)
        step(case, action="complete_ledger", to_state=State.RECTIFIED, actor=actor, at=now,
             data={"files": len(checked)})
        case.state = State.RECTIFIED
        case.handled_at = now
        case.save(update_fields=["state", "handled_at"])
    return case


def receipt_link() -> str:
    return f"{settings.HAOCHAPING_PUBLIC_URL}/r/"


def answer_sms_text(link: str) -> str:
    """The SMS to a real-name evaluator once their bad review is answered: no personal data and no receipt code,
    the answer's own link (reply_links) and, for when it has expired, where the receipt code works."""
    return _("【政务服务好差评】您反映的差评问题已办理答复，请打开 %(link)s 查看答复，并告诉我们您是否满意。"
             "链接%(days)d天内有效，之后可凭评价回执码在 %(receipt)s 查看。") % {
        "link": link, "days": reply_links.VALID_DAYS, "receipt": receipt_link()}


def _send_answer_sms(case_id: int, evaluation_id: int, link: str) -> None:
    # After commit: a gateway failure must not undo the answer. Logs carry ids, never the phone.
    from haochaping.evaluation import rules as evaluation_rules
    from haochaping.evaluation import sms
    from haochaping.evaluation.models import Evaluation

    try:
        evaluation = Evaluation.objects.get(pk=evaluation_id)
        phone = evaluation.evaluator_phone.reveal() if evaluation.evaluator_phone else ""
        if not phone or evaluation_rules.phone_problem(phone):
            log.info("case answer sms for case_id=%s skipped: no usable phone", case_id)
            return
        result = sms.send(phone, answer_sms_text(link))
    except Exception as exc:  # noqa: BLE001 - the answer is committed; only the notice is lost
        log.error("case answer sms for case_id=%s raised %s", case_id, type(exc).__name__)
        return
    if result.ok:
        log.info("case answer sms sent for case_id=%s", case_id)
    else:
        log.warning("case answer sms for case_id=%s failed: %s", case_id, result.error)


def answer(case_id, *, text: str, actor) -> RectificationCase:
    """The reply to the evaluator on what was verified and done (R4.4). Handler of the case's unit.

    Opens the evaluator's period to say 满意/不满意 (policy ``satisfaction_days`` working days); a real-name
    evaluator who left a phone gets an SMS after commit with a link to the receipt page (reply_links)."""
    with transaction.atomic():
        case = locked(case_id, actor)
        require(actor, handler=True, what=_("答复评价人"))
        move(case, State.ANSWERED, "answer")
        refuse(rules.answer_problems(text))
        now = timezone.now()
        due = _add_working_days(timezone.localdate(now), policy.period_days(case.region_id, "satisfaction_days"),
                                region_code=case.region_id)
        step(case, action="answer", to_state=State.ANSWERED, actor=actor, at=now,
             data={"satisfaction_due": due.isoformat()})
        case.state = State.ANSWERED
        case.answer = text.strip()
        case.answered_at = now
        case.satisfaction_due = due
        # A new answer asks the evaluator again (the earlier view is in the transition rows).
        case.satisfaction = ""
        case.satisfaction_at = None
        case.save(update_fields=["state", "answer", "answered_at", "satisfaction_due", "satisfaction",
                                 "satisfaction_at"])
        from haochaping.evaluation.models import Evaluation

        if case.evaluation_id is not None and case.is_real_name and Evaluation.objects.filter(
                pk=case.evaluation_id, evaluator_phone__isnull=False).exists():
            # The link is written with the answer; its token exists only in memory until the SMS carries it.
            link = reply_links.url(reply_links.issue(case, now))
            transaction.on_commit(partial(_send_answer_sms, case.pk, case.evaluation_id, link))
    return case


def close(case_id, *, actor, note: str = "") -> RectificationCase:
    """Close a case: an answered one by its handler (or by the system once the evaluator's period passed), a
    reopened one (the evaluator was unsatisfied) by a supervisor who finds the handling sound."""
    with transaction.atomic():
        case = locked(case_id, actor)
        require(actor, handler=True, supervisor=True, system=True, what=_("办结案件"))
        move(case, State.CLOSED, "close")
        if case.state == State.REOPENED:
            require(actor, supervisor=True, what=_("办结评价人不满意的案件"))
        else:
            require(actor, handler=True, system=True, what=_("办结已答复的案件"))
        note = (note or "").strip()
        if len(note) > rules.MAX_TEXT:
            raise invalid(_("内容不能超过%(n)d字") % {"n": rules.MAX_TEXT}, "note")
        now = timezone.now()
        step(case, action="close", to_state=State.CLOSED, actor=actor, note=note, at=now)
        case.state = State.CLOSED
        case.closed_at = now
        case.save(update_fields=["state", "closed_at"])
    return case


# States in which the unit still owes the outcome (立行立改, 解释说明, 误评) or the 台账's completion.
HANDLING_PENDING = frozenset({State.OPEN, State.CALLED_BACK, State.RECTIFYING})


def _local_date(moment):
    return timezone.localdate(moment) if moment is not None else None


def case_clock(case: RectificationCase) -> rules.CaseClock:
    """What the deadline rules need to know about ``case``: the one place that reads it (pages, API, tasks).

    Lists should ``select_related("ledger")``: the 台账 is then read from the row already loaded."""
    ledger = None
    if case.outcome == Outcome.DEADLINE:
        try:
            ledger = case.ledger
        except LedgerEntry.DoesNotExist:
            ledger = None
    called_back_on = _local_date(case.callback_at)
    if called_back_on is None and case.state != State.OPEN:
        called_back_on = _local_date(case.opened_at)  # called back before callback_at was recorded
    handled_on = _local_date(case.handled_at)
    if handled_on is None and case.state not in HANDLING_PENDING and case.state != State.CLOSED:
        handled_on = _local_date(case.answered_at or case.opened_at)
    return rules.CaseClock(
        state=case.state, outcome=case.outcome, callback_due=case.callback_due, fix_now_due=case.fix_now_due,
        rectify_due=case.rectify_due,
        ledger_due=rules.ledger_due(case.rectify_due, ledger.deadline, ledger.extension_approved) if ledger else None,
        called_back_on=called_back_on, handled_on=handled_on,
    )


def case_deadlines(case: RectificationCase, today: date | None = None) -> list[rules.DeadlineRow]:
    """Each deadline of ``case`` with its due date, when it was met and the working days left on the case
    region's calendar (for the case page, the API and the reminder/escalation tasks)."""
    today = today or timezone.localdate()
    between = partial(calendar.working_days_between, region_code=case.region_id)
    return rules.deadline_rows(case_clock(case), today, between)
