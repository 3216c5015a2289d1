"""集中问题 (R5.1): a recurring problem found in bad reviews that a supervisor hands to a responsible unit as a
tracked case. It is a :class:`RectificationCase` of kind ``focus_issue`` with the usual deadlines (the region's
callback, 立行立改 and 限期整改 periods in working days), and from then on lives in the normal workbench until
closed.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from haochaping.core.problems import invalid, not_found
from haochaping.core.scoping import can_see, scope
from haochaping.org.models import Department
from haochaping.rectification.models import RectificationCase
from haochaping.rectification.rules import Kind, State
from haochaping.rectification.services import _deadlines
from haochaping.rectification.services.common import need_text, require, step

# Where the issue came from, as a code (never free text: it goes into the audit), e.g.
# "painpoints:2026-01-01..2026-06-30" or "painpoints:topic".
SOURCE = re.compile(r"[a-z][a-z0-9_]*(?::[A-Za-z0-9_.:\-]+)?")
MAX_SOURCE = 100


def _department(value) -> Department | None:
    if isinstance(value, Department):
        return value
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return Department.objects.filter(pk=pk).first()


def open_focus_issue(*, summary: str, department, actor, source: str, now=None) -> RectificationCase:
    """Open a 集中问题 case for ``department`` (a Department or its id) with ``summary`` as the problem.

    Only a supervisor (or a superuser) may, and only for a department in their scope; a department out of scope
    answers like a missing one. Deadlines come from the department's region policy, counted in working days from
    the day it opens (``now``, for tests). Writes the case, one transition and one audit entry (with ``source``)."""
    # An inactive account counts as nobody (and the system itself does not open 集中问题).
    require(actor if actor is not None and actor.is_active else None, what=_("列为集中问题"), supervisor=True)
    summary = need_text(summary, "summary", _("请填写集中问题的问题概述"))
    if not isinstance(source, str) or len(source) > MAX_SOURCE or not SOURCE.fullmatch(source):
        raise invalid(_("集中问题的来源标识格式不正确"), "source")
    if department in (None, ""):
        raise invalid(_("请选择责任部门"), "department")
    unit = _department(department)
    if unit is None or not can_see(actor, unit):
        raise not_found(_("没有这个部门，请选择监督范围内的责任部门"), "department")
    now = now or timezone.now()
    with transaction.atomic():
        due = _deadlines(unit.region_id, timezone.localdate(now))
        case = RectificationCase.objects.create(
            kind=Kind.FOCUS_ISSUE, state=State.OPEN, summary=summary, region_id=unit.region_id, department=unit,
            is_real_name=False, opened_at=now, callback_due=due.callback_due, fix_now_due=due.fix_now_due,
            rectify_due=due.rectify_due,
        )
        step(case, action="open", from_state="", to_state=State.OPEN, actor=actor, at=now,
             data={"kind": Kind.FOCUS_ISSUE.value, "department": unit.pk, "source": source,
                   "rectify_due": due.rectify_due.isoformat()})
    return case


def open_focus_issues(actor):
    """The 集中问题 not yet closed that ``actor`` may see, soonest 限期整改 deadline first."""
    qs = RectificationCase.objects.filter(kind=Kind.FOCUS_ISSUE).exclude(state=State.CLOSED)
    return scope(qs, actor).select_related("department").order_by("rectify_due", "opened_at", "pk")
