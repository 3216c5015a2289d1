"""转办: the unit that received a case hands it to the unit responsible for it (R4.1 谁办理、谁负责).

Routing (rules.routing.route) decides from the labels and the comment when the case opens; a unit that finds on
callback that the problem is another unit's — the platform's operator finding a materials problem, a department
finding a login fault of the platform — transfers it. A transfer is a :class:`CaseTransition` (action
``transfer``, the state unchanged) naming both units and the reason; it resets nothing: the deadlines, the state,
a callback already recorded all stay. Only the assignee is cleared, since the assignee belonged to the old unit.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from haochaping.org.models import Department
from haochaping.records.models import ServiceRecord
from haochaping.rectification import rules
from haochaping.rectification.models import RectificationCase
from haochaping.rectification.services.common import locked, record_units, refuse, require, step


def case_units(case: RectificationCase) -> rules.RecordUnits | None:
    """The units of the case's 办件 (None for a complaint made directly about a department)."""
    if case.record_id is None:
        return None
    record = ServiceRecord.objects.select_related("window", "platform").get(pk=case.record_id)
    return record_units(record)


def transfer_choices(case: RectificationCase) -> list[Department]:
    """The departments this case may be transferred to now (empty when none), for the case page's form."""
    targets = [d for d in rules.transfer_targets(case_units(case)) if d != case.department_id]
    if not targets or case.state not in rules.TRANSFERABLE or case.proposed_outcome:
        return []
    by_id = Department.objects.in_bulk(targets)
    return [by_id[d] for d in targets if d in by_id]


def transfer(case_id, department_id, *, reason: str, actor) -> RectificationCase:
    """Transfer the case to ``department_id``: one of the units its 办件 names, before an outcome was decided,
    with a reason. The handler of the unit that holds it (or its hall), or a supervisor; recorded, resets nothing."""
    with transaction.atomic():
        case = locked(case_id, actor)
        require(actor, handler=True, supervisor=True, what=_("转办案件"))
        units = case_units(case)
        try:
            target = int(department_id) if department_id not in (None, "") else None
        except (TypeError, ValueError):
            target = None
        problems = rules.transfer_problems(
            state=case.state, current_department_id=case.department_id, target_department_id=target,
            targets=rules.transfer_targets(units), reason=reason, proposal_pending=bool(case.proposed_outcome),
            max_text=rules.MAX_TEXT,
        )
        # Too late (an outcome decided) is a conflict with the case's state; anything else is the input's.
        refuse(problems, status=409 if problems and problems[0][0] == "state" else 422)
        old = Department.objects.get(pk=case.department_id)
        new = Department.objects.get(pk=target)
        responsible = rules.responsible_for(units, target)
        note = _("由%(old)s转至%(new)s：%(reason)s") % {"old": old.name, "new": new.name, "reason": reason.strip()}
        step(case, action="transfer", to_state=case.state, actor=actor, note=note,
             data={"from_department": old.pk, "to_department": new.pk, "assignee_cleared": case.assignee_id is not None})
        case.department_id = responsible.department_id
        case.agency_id = responsible.agency_id
        case.platform_id = responsible.platform_id
        case.assignee = None
        case.save(update_fields=["department", "agency", "platform", "assignee"])
    return case
