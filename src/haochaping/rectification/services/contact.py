"""查看联系方式 from the case page (R4.2 回访核实, R7.2): the handler assigned to a real-name case reveals the
evaluator's name or phone to call them back.

The reveal itself is accounts.privacy.reveal — the same permission, scope check, reason rule and access-log row
as the admin's "查看完整个人信息" — so the access log reads the same whichever page it came from. This module adds
only what the case decides: the actor is the case's assignee, the case is real-name and about an evaluation.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from haochaping.accounts import privacy
from haochaping.core.problems import conflict, invalid
from haochaping.core.scoping import scope
from haochaping.rectification.models import RectificationCase
from haochaping.rectification.services.common import case_not_found, forbidden

# The evaluator's fields a callback needs, in the order the form offers them.
CONTACT_FIELDS = ("evaluator_phone", "evaluator_name")


def contact_fields(case: RectificationCase, actor) -> list[tuple[str, str]]:
    """(field, label) the actor may reveal on this case now: empty unless they are its assignee, the case is
    real-name, and the evaluation holds the value."""
    evaluation = case.evaluation if case.evaluation_id else None
    if evaluation is None or not case.is_real_name or actor is None or case.assignee_id != actor.pk:
        return []
    if not privacy.may_reveal(actor):
        return []
    return [(name, str(type(evaluation)._meta.get_field(name).verbose_name))
            for name in CONTACT_FIELDS if getattr(evaluation, name)]


def reveal_contact(case_id, field: str, reason: str, *, actor, ip: str | None = None) -> str:
    """The evaluator's clear ``field`` for the case's assignee, written to the personal-data access log.

    404 when the case is not the actor's to see; 403 unless the actor is the case's assignee (and holds the reveal
    permission); 409 for an anonymous case or one without an evaluation; 422 for an unknown field or a reason too
    short (privacy.reveal's own checks)."""
    case = scope(RectificationCase.objects.all(), actor).select_related("evaluation").filter(pk=case_id).first() if actor else None
    if case is None:
        raise case_not_found()
    if case.assignee_id != actor.pk or not privacy.may_reveal(actor):
        raise forbidden(_("只有该案件的承办人可以查看评价人的联系方式"))
    if not case.is_real_name or case.evaluation_id is None:
        raise conflict(_("匿名评价没有可查看的联系方式"), "field")
    if field not in CONTACT_FIELDS:
        raise invalid(_("请选择要查看的信息（评价人手机号、评价人姓名）"), "field")
    return privacy.reveal(actor, case.evaluation, field, reason, ip=ip)
