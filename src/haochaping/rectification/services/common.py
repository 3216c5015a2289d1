"""Plumbing shared by the rectification services (services, services.supervision, services.appeals): the row lock
with the scope check, who may take a step, the transition row + audit entry, and evidence files.

Order of checks in every service, so that callers can rely on the status they get:
404 (missing or out of the actor's scope, the same answer) → 403 (wrong role) → 409 (not from this state)
→ 422 (bad input, the field named). Nothing is written before all checks passed.
"""

from __future__ import annotations

import uuid
from datetime import date
from functools import partial

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from haochaping.accounts.roles import Role
from haochaping.core import calendar, uploads
from haochaping.core.models import AuditEntry
from haochaping.core.problems import DomainError, conflict, invalid, not_found
from haochaping.core.scoping import can_see
from haochaping.org import policy
from haochaping.rectification import rules
from haochaping.rectification.models import CaseAttachment, CaseTransition, RectificationCase

SYSTEM = "system"
EVALUATOR = "evaluator"
MAX_FILES = 10


def forbidden(detail: str) -> DomainError:
    """The actor sees the case but their role may not take this step (HTTP 403)."""
    return DomainError(403, _("无权操作"), detail, None, code="forbidden")


def actor_name(actor) -> str:
    return getattr(actor, "username", None) or SYSTEM


def actor_id(actor):
    return getattr(actor, "pk", None)


def refuse(problems: list[tuple[str, str]], status: int = 422) -> None:
    """Raise the first problem (all of them in ``errors``), if any."""
    if problems:
        field, message = problems[0]
        errors = [{"field": f, "message": m} for f, m in problems]
        if status == 409:
            raise conflict(message, field, errors=errors)
        raise invalid(message, field, errors=errors)


def case_not_found() -> DomainError:
    return not_found(_("没有这个整改案件"), "case_id")


def locked(case_id, actor=None, *, check_scope: bool = True) -> RectificationCase:
    """The case row, locked for the rest of the transaction. Missing, or out of ``actor``'s scope: the same 404.

    ``actor=None`` is the system (tasks, receivers) and sees every case."""
    try:
        pk = int(case_id)
    except (TypeError, ValueError):
        raise case_not_found() from None
    case = RectificationCase.objects.select_for_update().filter(pk=pk).first()
    if case is None or (check_scope and actor is not None and not can_see(actor, case)):
        raise case_not_found()
    return case


def is_superuser(actor) -> bool:
    return bool(actor is not None and actor.is_superuser)


def is_handler(actor) -> bool:
    """A handler of a unit (the caller has already checked the case is in the actor's scope)."""
    return actor is not None and (actor.is_superuser or actor.role == Role.HANDLER)


def is_supervisor(actor) -> bool:
    """A supervisor of a management agency (scope checked by the caller: the case is in their subtree)."""
    return actor is not None and (actor.is_superuser or actor.role == Role.SUPERVISOR)


def require(actor, *, what: str, handler: bool = False, supervisor: bool = False, system: bool = False) -> None:
    """Refuse (403) unless ``actor`` holds one of the allowed roles for this step; ``what`` names the step."""
    if actor is None:
        if system:
            return
    elif (handler and is_handler(actor)) or (supervisor and is_supervisor(actor)):
        return
    if handler and supervisor:
        who = _("责任单位的经办人员或政务服务管理机构的监督人员")
    elif supervisor:
        who = _("政务服务管理机构的监督人员")
    else:
        who = _("责任单位的经办人员")
    raise forbidden(_("只有%(who)s可以%(what)s") % {"who": who, "what": what})


def move(case: RectificationCase, to_state: str, action: str) -> None:
    """Refuse (409) a step the state machine does not allow from the case's current state."""
    problem = rules.transition_problem(case.state, to_state, action)
    if problem:
        raise conflict(problem, "state")


def need_text(value, field: str, message: str) -> str:
    """The stripped text, or 422 naming ``field`` when blank or too long."""
    if not isinstance(value, str) or not value.strip():
        raise invalid(message, field)
    if len(value) > rules.MAX_TEXT:
        raise invalid(_("内容不能超过%(n)d字") % {"n": rules.MAX_TEXT}, field)
    return value.strip()


def step(case: RectificationCase, *, action: str, to_state: str, actor, note: str = "", data: dict | None = None,
         from_state: str | None = None, at=None, audit_actor: str | None = None) -> CaseTransition:
    """Write the transition row and the audit entry for a step the caller has checked (before changing the case).

    The audit gets codes and ids only: notes are free text and might name people."""
    from_state = case.state if from_state is None else from_state
    row = CaseTransition.objects.create(
        case=case, at=at or timezone.now(), actor_id=actor_id(actor), action=action,
        from_state=from_state, to_state=to_state, note=note,
    )
    AuditEntry.objects.create(
        actor=audit_actor or actor_name(actor), action=f"case.{action}", object_type="rectification.RectificationCase",
        object_id=str(case.pk), data={"from": from_state, "to": to_state, **(data or {})},
    )
    return row


# --- evidence files ----------------------------------------------------------------------------------------------


def check_files(files, *, label: str) -> list:
    """Refuse (422, field ``files``) unless every upload is a JPG, PNG or PDF within the size limit (checked by
    content, core.uploads.check_scan). Returns the uploads with their checked extension."""
    files = [f for f in (files or ()) if f is not None]
    if len(files) > MAX_FILES:
        raise invalid(_("“%(label)s”最多上传%(n)d个文件") % {"label": label, "n": MAX_FILES}, "files")
    checked = []
    for upload in files:
        try:
            kind = uploads.check_scan(upload, label=label)
        except ValidationError as exc:
            raise invalid(exc.messages[0], "files") from None
        checked.append((upload, kind))
    return checked


def save_files(case: RectificationCase, checked: list, *, purpose: str, actor, now, appeal=None) -> list[CaseAttachment]:
    """Store checked uploads as :class:`CaseAttachment` rows. The stored name is random: an uploaded file's name
    may name a person, so it is kept only in ``original_name`` (shown to those who see the case)."""
    saved = []
    for upload, kind in checked:
        attachment = CaseAttachment(
            case=case, appeal=appeal, purpose=purpose, original_name=(upload.name or "")[-200:],
            size=upload.size or 0, uploaded_by_id=actor_id(actor), uploaded_at=now,
        )
        attachment.file.save(f"{uuid.uuid4().hex}.{kind}", upload, save=False)
        attachment.save()
        saved.append(attachment)
    return saved


# --- routing ---------------------------------------------------------------------------------------------------


def record_units(record) -> rules.RecordUnits:
    """The units ``record`` names, as the routing rules take them (select_related window and platform)."""
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


# --- deadlines -------------------------------------------------------------------------------------------------


def opening_deadlines(region_code: str, opened_on: date) -> rules.Deadlines:
    """A case's deadlines from the day it opens: the region's periods (org.policy, nearest ancestor wins) on the
    region's working-day calendar."""
    days = rules.DeadlineDays(
        callback=policy.period_days(region_code, "callback_days"),
        fix_now=policy.period_days(region_code, "fix_now_days"),
        rectify=policy.period_days(region_code, "rectify_days"),
    )
    return rules.deadlines(opened_on, partial(add_working_days_in, region_code=region_code), days)


def add_working_days_in(start: date, n: int, *, region_code: str) -> date:
    """``n`` working days after ``start`` on the calendar of ``region_code``."""
    return calendar.add_working_days(start, n, region_code)
