"""Pure rules of bad-review rectification (R4): the case state machine, routing (谁办理、谁负责), deadlines and
what each outcome must state. No I/O: callers pass what the rules need (an ``add_working_days`` function, the
record's units as ids, the fields the handler filled in).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class State(models.TextChoices):
    OPEN = "open", gettext_lazy("待回访核实")
    CALLED_BACK = "called_back", gettext_lazy("已回访核实")
    RECTIFYING = "rectifying", gettext_lazy("限期整改中")
    RECTIFIED = "rectified", gettext_lazy("已整改")
    EXPLAINED = "explained", gettext_lazy("已解释说明")
    NOT_ADOPTED = "not_adopted", gettext_lazy("不予采纳")
    ANSWERED = "answered", gettext_lazy("已反馈评价人")
    CLOSED = "closed", gettext_lazy("已办结")


class Kind(models.TextChoices):
    BAD_REVIEW = "bad_review", gettext_lazy("差评")
    COMPLAINT = "complaint", gettext_lazy("投诉")


class Outcome(models.TextChoices):
    FIXED_NOW = "fixed_now", gettext_lazy("立行立改")
    DEADLINE = "deadline", gettext_lazy("限期整改")
    EXPLAINED = "explained", gettext_lazy("解释说明")
    MISTAKEN = "mistaken", gettext_lazy("误评")
    MALICIOUS = "malicious", gettext_lazy("恶意差评")


# The whole state machine (DESIGN.md "Case"): (from, to) -> the action that makes the step. Nothing else is allowed.
TRANSITIONS: dict[tuple[str, str], str] = {
    (State.OPEN, State.CALLED_BACK): "callback",
    (State.CALLED_BACK, State.RECTIFIED): "outcome",  # 立行立改: fixed at once
    (State.CALLED_BACK, State.RECTIFYING): "outcome",  # 限期整改: a 台账 entry with a deadline
    (State.CALLED_BACK, State.EXPLAINED): "outcome",  # 解释说明
    (State.CALLED_BACK, State.NOT_ADOPTED): "outcome",  # 误评 / 恶意差评, confirmed by a supervisor
    (State.RECTIFYING, State.RECTIFIED): "complete_ledger",
    (State.RECTIFIED, State.ANSWERED): "answer",
    (State.EXPLAINED, State.ANSWERED): "answer",
    (State.NOT_ADOPTED, State.ANSWERED): "answer",
    (State.ANSWERED, State.CLOSED): "close",
}

OUTCOME_STATE: dict[str, str] = {
    Outcome.FIXED_NOW: State.RECTIFIED,
    Outcome.DEADLINE: State.RECTIFYING,
    Outcome.EXPLAINED: State.EXPLAINED,
    Outcome.MISTAKEN: State.NOT_ADOPTED,
    Outcome.MALICIOUS: State.NOT_ADOPTED,
}

# A person can be (re)assigned and the 台账 can take progress notes while the case is still being worked on.
ASSIGNABLE = frozenset({State.OPEN, State.CALLED_BACK, State.RECTIFYING})


def can_transition(from_state: str, to_state: str) -> bool:
    return (from_state, to_state) in TRANSITIONS


def transition_problem(from_state: str, to_state: str) -> str:
    """Why the case cannot go from ``from_state`` to ``to_state``, or "" when it can."""
    if can_transition(from_state, to_state):
        return ""
    return _("案件当前状态为“%(from)s”，不能变更为“%(to)s”") % {
        "from": State(from_state).label, "to": State(to_state).label,
    }


# --- routing (谁办理、谁负责) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordUnits:
    """The units a 办件 names, as ids (``None`` when absent)."""

    region_id: str
    department_id: int
    agency_id: int | None = None
    window_id: int | None = None
    window_department_id: int | None = None
    platform_id: int | None = None
    platform_operator_id: int | None = None


@dataclass(frozen=True)
class Responsible:
    region_id: str
    department_id: int
    agency_id: int | None
    platform_id: int | None


def route(units: RecordUnits) -> Responsible:
    """Who handles the case: the unit that handled the service (谁办理、谁负责).

    - Handled at a window: the department stationed at that window (入驻部门), else the 办件's department; the
      hall (agency) is kept so the hall's handlers see the case too.
    - Handled online (a platform and no window): the platform's operator (运营单位), else the 办件's department;
      the platform is kept.
    - Otherwise: the 办件's department (and its agency, if it names one).
    The region is always the 办件's region: its management agency supervises the case.
    """
    if units.window_id is not None:
        return Responsible(units.region_id, units.window_department_id or units.department_id, units.agency_id, None)
    if units.platform_id is not None:
        return Responsible(units.region_id, units.platform_operator_id or units.department_id, None, units.platform_id)
    return Responsible(units.region_id, units.department_id, units.agency_id, None)


# --- deadlines (R4.2, R4.3, R4.6) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineDays:
    """Working days after the day the case opens ("1、5、15": callback, fix now, rectify)."""

    callback: int = 1
    fix_now: int = 5
    rectify: int = 15


DEFAULT_DAYS = DeadlineDays()


@dataclass(frozen=True)
class Deadlines:
    callback_due: date
    fix_now_due: date
    rectify_due: date


def deadlines(opened_on: date, add_working_days: Callable[[date, int], date], days: DeadlineDays = DEFAULT_DAYS) -> Deadlines:
    """The case's due dates, counted in working days from the day it opened."""
    return Deadlines(
        callback_due=add_working_days(opened_on, days.callback),
        fix_now_due=add_working_days(opened_on, days.fix_now),
        rectify_due=add_working_days(opened_on, days.rectify),
    )


# --- what each step must state --------------------------------------------------------------------------------

MAX_TEXT = 2000


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def callback_problems(note: str) -> list[tuple[str, str]]:
    if _blank(note):
        return [("note", _("请填写回访核实情况"))]
    if len(note) > MAX_TEXT:
        return [("note", _("回访核实情况不能超过%(n)d字") % {"n": MAX_TEXT})]
    return []


def outcome_problems(
    outcome: str,
    fields: Mapping[str, object],
    *,
    rectify_due: date,
    today: date,
    extension_approved: bool = False,
) -> list[tuple[str, str]]:
    """What is missing or wrong for ``outcome``, as (field, Chinese message) pairs; empty when all is there.

    Fields: 立行立改 ``detail`` (what was fixed); 限期整改 ``problem``, ``measures``, ``responsible_person``,
    ``deadline`` (a date, not after ``rectify_due`` unless an extension was approved, not before ``today``);
    解释说明 ``detail`` (the explanation) and ``legal_basis``; 误评/恶意差评 ``evidence`` and ``supervisor_confirmed``.
    """
    if outcome not in Outcome.values:
        return [("outcome", _("请选择处理结果：立行立改、限期整改、解释说明、误评或恶意差评"))]
    problems: list[tuple[str, str]] = []

    def need(name: str, message: str) -> None:
        if _blank(fields.get(name)):
            problems.append((name, message))

    if outcome == Outcome.FIXED_NOW:
        need("detail", _("立行立改须写明已整改的内容"))
    elif outcome == Outcome.DEADLINE:
        need("problem", _("限期整改须在台账中写明存在的问题"))
        need("measures", _("限期整改须在台账中写明整改措施"))
        need("responsible_person", _("限期整改须在台账中写明责任人"))
        deadline = fields.get("deadline")
        if deadline is None:
            problems.append(("deadline", _("限期整改须写明整改期限")))
        elif not isinstance(deadline, date):
            problems.append(("deadline", _("整改期限应为日期")))
        elif deadline < today:
            problems.append(("deadline", _("整改期限不能早于今天")))
        elif deadline > rectify_due and not extension_approved:
            problems.append(("deadline", _("整改期限不能晚于%(due)s（15个工作日）；确需延期须经批准") % {
                "due": rectify_due.isoformat()}))
    elif outcome == Outcome.EXPLAINED:
        need("detail", _("解释说明须写明向评价人所作的解释"))
        need("legal_basis", _("解释说明须写明依据的法律法规或政策"))
    else:
        need("evidence", _("认定误评或恶意差评须提供核实证据"))
        if not fields.get("supervisor_confirmed"):
            problems.append(("confirmed_by", _("认定误评或恶意差评须经政务服务管理机构监督人员确认")))
    for name in ("detail", "legal_basis", "evidence", "problem", "measures"):
        value = fields.get(name)
        if isinstance(value, str) and len(value) > MAX_TEXT:
            problems.append((name, _("内容不能超过%(n)d字") % {"n": MAX_TEXT}))
    return problems


def answer_problems(text: str) -> list[tuple[str, str]]:
    if _blank(text):
        return [("answer", _("请填写给评价人的答复"))]
    if len(text) > MAX_TEXT:
        return [("answer", _("答复不能超过%(n)d字") % {"n": MAX_TEXT})]
    return []
