"""Use cases of rectification (R4): the only code that writes cases, their steps and their 台账.

Each service is one transaction: it locks the case row (``select_for_update``), checks the step against
:mod:`.rules`, writes the change, one :class:`CaseTransition` and one ``core.AuditEntry``. A refused step raises
``DomainError`` with a Chinese message naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial

from django.db import transaction
from django.utils import timezone

from haochaping.accounts.roles import Role
from haochaping.accounts.scoping import can_see
from haochaping.core import calendar
from haochaping.core.models import AuditEntry
from haochaping.core.problems import conflict, invalid, not_found
from haochaping.records.models import ServiceRecord

from . import rules
from .models import CaseTransition, LedgerEntry, LedgerProgress, RectificationCase
from .rules import Kind, Outcome, State

SYSTEM = "system"


def _actor_name(actor) -> str:
    return getattr(actor, "username", None) or SYSTEM


def _actor_id(actor):
    return getattr(actor, "pk", None)


def _refuse(problems: list[tuple[str, str]]) -> None:
    if problems:
        field, message = problems[0]
        raise invalid(message, field, errors=[{"field": f, "message": m} for f, m in problems])


def _step(case: RectificationCase, *, action: str, to_state: str, actor, note: str = "", data: dict | None = None,
          from_state: str | None = None, at=None) -> None:
    """Write the transition row and the audit entry for a step the caller has checked (before changing the case)."""
    from_state = case.state if from_state is None else from_state
    CaseTransition.objects.create(
        case=case, at=at or timezone.now(), actor_id=_actor_id(actor), action=action,
        from_state=from_state, to_state=to_state, note=note,
    )
    # No notes in the audit: they are free text and might name people.
    AuditEntry.objects.create(
        actor=_actor_name(actor), action=f"case.{action}", object_type="rectification.RectificationCase",
        object_id=str(case.pk), data={"from": from_state, "to": to_state, **(data or {})},
    )


def _locked(case_id) -> RectificationCase:
    case = RectificationCase.objects.select_for_update().filter(pk=case_id).first()
    if case is None:
        raise not_found("没有这个整改案件", "case_id")
    return case


def _move(case: RectificationCase, to_state: str) -> None:
    problem = rules.transition_problem(case.state, to_state)
    if problem:
        raise conflict(problem, "state")


def _deadlines(region_code: str, opened_on: date) -> rules.Deadlines:
    # Per-region deadline policy comes later; the calendar itself is already the region's.
    return rules.deadlines(opened_on, partial(_add_working_days, region_code=region_code))


def _add_working_days(start: date, n: int, *, region_code: str) -> date:
    return calendar.add_working_days(start, n, region_code)


def _units(record) -> rules.RecordUnits:
    window = record.window
    platform = record.platform
    return rules.RecordUnits(
        region_id=record.region_id,
        department_id=record.department_id,
        agency_id=record.agency_id,
        window_id=record.window_id,
        window_department_id=window.department_id if window is not None else None,
        platform_id=record.platform_id,
        platform_operator_id=platform.operator_id if platform is not None else None,
    )


def _open(*, kind: str, record, responsible: rules.Responsible, is_real_name: bool, actor, now, evaluation=None,
          summary: str = "") -> RectificationCase:
    due = _deadlines(responsible.region_id, timezone.localdate(now))
    case = RectificationCase.objects.create(
        kind=kind, state=State.OPEN, evaluation=evaluation, record=record, summary=summary,
        region_id=responsible.region_id, department_id=responsible.department_id, agency_id=responsible.agency_id,
        platform_id=responsible.platform_id, is_real_name=is_real_name, opened_at=now,
        callback_due=due.callback_due, fix_now_due=due.fix_now_due, rectify_due=due.rectify_due,
    )
    _step(case, action="open", from_state="", to_state=State.OPEN, actor=actor, at=now,
          data={"department": responsible.department_id, "callback_due": due.callback_due.isoformat()})
    return case


def open_case_for_evaluation(evaluation) -> RectificationCase:
    """Open the case of a 差评 (R4.1), routed to the unit that handled the 办件, with deadlines counted on the
    region's working-day calendar from the day of the evaluation. Runs inside the evaluation's own transaction (a receiver of
    ``evaluation_written``): if it fails, the evaluation is not written either."""
    if not evaluation.is_bad:
        raise invalid("只有差评需要整改", "level")
    with transaction.atomic():
        record = ServiceRecord.objects.select_related("window", "platform").get(pk=evaluation.record_id)
        return _open(kind=Kind.BAD_REVIEW, record=record, responsible=rules.route(_units(record)),
                     is_real_name=evaluation.is_real_name, actor=None, now=evaluation.created_at,
                     evaluation=evaluation)


def case_id_for_evaluation(evaluation):
    return RectificationCase.objects.filter(evaluation_id=evaluation.pk).values_list("pk", flat=True).first()


def open_complaint(*, summary: str, actor, record=None, department=None, is_real_name: bool = False) -> RectificationCase:
    """Open a case for a complaint (投诉), about a 办件 (routed like a 差评) or directly about a department."""
    if not summary or not summary.strip():
        raise invalid("请填写投诉内容", "summary")
    if record is None and department is None:
        raise invalid("投诉须指明办件或被投诉部门", "department")
    with transaction.atomic():
        if record is not None:
            responsible = rules.route(_units(record))
        else:
            responsible = rules.Responsible(department.region_id, department.pk, None, None)
        return _open(kind=Kind.COMPLAINT, record=record, responsible=responsible, is_real_name=is_real_name,
                     actor=actor, now=timezone.now(), summary=summary.strip())


def assign(case_id, assignee, *, actor) -> RectificationCase:
    """Name the person who handles the case: a handler of the responsible unit (R4.1)."""
    with transaction.atomic():
        case = _locked(case_id)
        if case.state not in rules.ASSIGNABLE:
            raise conflict("案件已有处理结果，不能再指派承办人", "assignee")
        if assignee is None or not assignee.is_active or assignee.role != Role.HANDLER or not can_see(assignee, case):
            raise invalid("承办人须为责任单位在岗的经办人员", "assignee")
        _step(case, action="assign", to_state=case.state, actor=actor, note=assignee.username,
              data={"assignee": assignee.pk})
        case.assignee = assignee
        case.save(update_fields=["assignee"])
    return case


def record_callback(case_id, *, note: str, actor) -> RectificationCase:
    """回访核实 done (R4.2): what the call back found."""
    with transaction.atomic():
        case = _locked(case_id)
        _move(case, State.CALLED_BACK)
        _refuse(rules.callback_problems(note))
        _step(case, action="callback", to_state=State.CALLED_BACK, actor=actor, note=note.strip())
        case.state = State.CALLED_BACK
        case.save(update_fields=["state"])
    return case


@dataclass
class OutcomeInput:
    outcome: str
    detail: str = ""  # 立行立改: what was fixed; 解释说明: the explanation
    legal_basis: str = ""
    evidence: str = ""  # 误评/恶意差评
    confirmed_by: object | None = None  # the supervisor who confirms 误评/恶意差评
    problem: str = ""  # 限期整改 台账
    measures: str = ""
    responsible_person: str = ""
    deadline: date | None = None
    extension_approved: bool = False


def _supervisor_confirms(user, case) -> bool:
    if user is None or not user.is_active:
        return False
    return user.is_superuser or (user.role == Role.SUPERVISOR and can_see(user, case))


def choose_outcome(case_id, data: OutcomeInput, *, actor) -> RectificationCase:
    """Decide the outcome after the callback (R4.3), with what that outcome must state; 限期整改 opens the 台账."""
    with transaction.atomic():
        case = _locked(case_id)
        if data.outcome not in Outcome.values:
            _refuse(rules.outcome_problems(data.outcome, {}, rectify_due=case.rectify_due, today=timezone.localdate()))
        to_state = rules.OUTCOME_STATE[data.outcome]
        _move(case, to_state)
        fields = {
            "detail": data.detail, "legal_basis": data.legal_basis, "evidence": data.evidence,
            "supervisor_confirmed": _supervisor_confirms(data.confirmed_by, case), "problem": data.problem,
            "measures": data.measures, "responsible_person": data.responsible_person, "deadline": data.deadline,
        }
        _refuse(rules.outcome_problems(data.outcome, fields, rectify_due=case.rectify_due, today=timezone.localdate(),
                                       extension_approved=data.extension_approved))
        if data.outcome == Outcome.DEADLINE:
            LedgerEntry.objects.create(
                case=case, problem=data.problem.strip(), measures=data.measures.strip(),
                responsible_person=data.responsible_person.strip(), deadline=data.deadline,
                extension_approved=data.extension_approved,
            )
        _step(case, action="outcome", to_state=to_state, actor=actor, note=Outcome(data.outcome).label,
              data={"outcome": data.outcome})
        case.state = to_state
        case.outcome = data.outcome
        case.outcome_detail = data.detail.strip()
        case.legal_basis = data.legal_basis.strip()
        case.evidence = data.evidence.strip()
        if to_state == State.NOT_ADOPTED:
            case.confirmed_by = data.confirmed_by
        case.save()
    return case


def _ledger(case) -> LedgerEntry:
    entry = LedgerEntry.objects.select_for_update().filter(case=case).first()
    if entry is None:
        raise conflict("该案件没有整改台账", "ledger")
    return entry


def add_ledger_progress(case_id, *, note: str, actor) -> LedgerProgress:
    """A progress note on the 台账 of a case under 限期整改."""
    with transaction.atomic():
        case = _locked(case_id)
        if case.state != State.RECTIFYING:
            raise conflict("只有限期整改中的案件可以填报整改进展", "state")
        if not note or not note.strip():
            raise invalid("请填写整改进展", "note")
        entry = _ledger(case)
        progress = LedgerProgress.objects.create(entry=entry, at=timezone.now(), actor_id=_actor_id(actor), note=note.strip())
        _step(case, action="progress", to_state=case.state, actor=actor, note=note.strip())
    return progress


def complete_ledger(case_id, *, evidence: str, actor) -> RectificationCase:
    """The 限期整改 is done: the 台账 entry is completed with its evidence and the case is rectified."""
    with transaction.atomic():
        case = _locked(case_id)
        _move(case, State.RECTIFIED)
        if not evidence or not evidence.strip():
            raise invalid("请填写整改完成的佐证材料说明", "evidence")
        entry = _ledger(case)
        entry.completed_at = timezone.now()
        entry.evidence = evidence.strip()
        entry.save(update_fields=["completed_at", "evidence"])
        _step(case, action="complete_ledger", to_state=State.RECTIFIED, actor=actor, note=evidence.strip())
        case.state = State.RECTIFIED
        case.save(update_fields=["state"])
    return case


def answer(case_id, *, text: str, actor) -> RectificationCase:
    """The reply to the evaluator on what was verified and done (R4.4)."""
    with transaction.atomic():
        case = _locked(case_id)
        _move(case, State.ANSWERED)
        _refuse(rules.answer_problems(text))
        _step(case, action="answer", to_state=State.ANSWERED, actor=actor)
        case.state = State.ANSWERED
        case.answer = text.strip()
        case.save(update_fields=["state", "answer"])
    return case


def close(case_id, *, actor, note: str = "") -> RectificationCase:
    """Close an answered case."""
    with transaction.atomic():
        case = _locked(case_id)
        _move(case, State.CLOSED)
        _step(case, action="close", to_state=State.CLOSED, actor=actor, note=note.strip())
        case.state = State.CLOSED
        case.save(update_fields=["state"])
    return case

