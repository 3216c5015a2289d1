"""Pure rules of bad-review rectification (R4): the case state machine, routing (谁办理、谁负责), deadlines and
what each outcome must state. No I/O: callers pass what the rules need (an ``add_working_days`` function, the
record's units as ids, the fields the handler filled in).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from django.db.models.enums import TextChoices
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class State(TextChoices):
    OPEN = "open", gettext_lazy("待回访核实")
    CALLED_BACK = "called_back", gettext_lazy("已回访核实")
    RECTIFYING = "rectifying", gettext_lazy("限期整改中")
    RECTIFIED = "rectified", gettext_lazy("已整改")
    EXPLAINED = "explained", gettext_lazy("已解释说明")
    NOT_ADOPTED = "not_adopted", gettext_lazy("不予采纳")
    ANSWERED = "answered", gettext_lazy("已反馈评价人")
    REOPENED = "reopened", gettext_lazy("评价人不满意，待监督复核")
    CLOSED = "closed", gettext_lazy("已办结")


class Kind(TextChoices):
    BAD_REVIEW = "bad_review", gettext_lazy("差评")
    COMPLAINT = "complaint", gettext_lazy("投诉")
    # R5.1: a recurring problem a supervisor turned into a tracked issue for a responsible unit.
    FOCUS_ISSUE = "focus_issue", gettext_lazy("集中问题")


class Outcome(TextChoices):
    FIXED_NOW = "fixed_now", gettext_lazy("立行立改")
    DEADLINE = "deadline", gettext_lazy("限期整改")
    EXPLAINED = "explained", gettext_lazy("解释说明")
    MISTAKEN = "mistaken", gettext_lazy("误评")
    MALICIOUS = "malicious", gettext_lazy("恶意差评")


class Satisfaction(TextChoices):
    SATISFIED = "satisfied", gettext_lazy("满意")
    UNSATISFIED = "unsatisfied", gettext_lazy("不满意")


class CallbackMethod(TextChoices):
    PHONE = "phone", gettext_lazy("电话")
    SMS = "sms", gettext_lazy("短信")
    VISIT = "visit", gettext_lazy("上门或到窗口面谈")
    ONLINE = "online", gettext_lazy("网上留言")


_WORKING = (State.OPEN, State.CALLED_BACK, State.RECTIFYING, State.RECTIFIED, State.EXPLAINED, State.NOT_ADOPTED,
            State.ANSWERED, State.REOPENED)

# The whole state machine (DESIGN.md "Case"), as (action, from, to). Nothing else is allowed.
TRANSITIONS: frozenset[tuple[str, str, str]] = frozenset({
    ("callback", State.OPEN, State.CALLED_BACK),
    ("outcome", State.CALLED_BACK, State.RECTIFIED),  # 立行立改: fixed at once
    ("outcome", State.CALLED_BACK, State.RECTIFYING),  # 限期整改: a 台账 entry with a deadline
    ("outcome", State.CALLED_BACK, State.EXPLAINED),  # 解释说明
    ("outcome", State.CALLED_BACK, State.NOT_ADOPTED),  # 误评 / 恶意差评 decided by a supervisor at once
    ("confirm", State.CALLED_BACK, State.NOT_ADOPTED),  # a supervisor confirms the unit's 误评 / 恶意差评 proposal
    ("complete_ledger", State.RECTIFYING, State.RECTIFIED),
    ("answer", State.RECTIFIED, State.ANSWERED),
    ("answer", State.EXPLAINED, State.ANSWERED),
    ("answer", State.NOT_ADOPTED, State.ANSWERED),
    # The handler closes an answered case, or the system does once the evaluator's period passed unanswered.
    ("close", State.ANSWERED, State.CLOSED),
    # The evaluator is satisfied (or unsatisfied once more after a reopening): the case closes with it recorded.
    ("satisfaction", State.ANSWERED, State.CLOSED),
    # R4.4: an unsatisfied evaluator reopens the case once; the supervisor then decides.
    ("reopen", State.ANSWERED, State.REOPENED),
    ("close", State.REOPENED, State.CLOSED),  # the supervisor finds the handling sound
    # R4.5: the supervisor sends the handling back to be done again (from the callback on). Not from 不予采纳: a
    # supervisor confirmed it and the evaluation left the statistics; exclusions are never undone.
    *{("send_back", s, State.CALLED_BACK) for s in (
        State.RECTIFYING, State.RECTIFIED, State.EXPLAINED, State.ANSWERED, State.REOPENED)},
    # R7.3: an upheld appeal closes the case wherever it stands.
    *{("appeal_upheld", s, State.CLOSED) for s in _WORKING},
})

ACTIONS = frozenset(a for a, _f, _t in TRANSITIONS)

OUTCOME_STATE: dict[str, str] = {
    Outcome.FIXED_NOW: State.RECTIFIED,
    Outcome.DEADLINE: State.RECTIFYING,
    Outcome.EXPLAINED: State.EXPLAINED,
    Outcome.MISTAKEN: State.NOT_ADOPTED,
    Outcome.MALICIOUS: State.NOT_ADOPTED,
}

# A person can be (re)assigned and the 台账 can take progress notes while the case is still being worked on.
ASSIGNABLE = frozenset({State.OPEN, State.CALLED_BACK, State.RECTIFYING, State.REOPENED})
# A case still waiting on its unit (for queues, reminders and escalation).
IN_HAND = frozenset({State.OPEN, State.CALLED_BACK, State.RECTIFYING, State.RECTIFIED, State.EXPLAINED,
                     State.NOT_ADOPTED})
# Reopened once at most (R4.4).
MAX_REOPENS = 1


def can_transition(from_state: str, to_state: str, action: str | None = None) -> bool:
    """Whether some action (or ``action``, if given) moves a case from ``from_state`` to ``to_state``."""
    return any(f == from_state and t == to_state and (action is None or a == action) for a, f, t in TRANSITIONS)


def transition_problem(from_state: str, to_state: str, action: str | None = None) -> str:
    """Why the case cannot go from ``from_state`` to ``to_state`` (by ``action``), or "" when it can."""
    if can_transition(from_state, to_state, action):
        return ""
    return _("案件当前状态为“%(from)s”，不能变更为“%(to)s”") % {
        "from": State(from_state).label, "to": State(to_state).label,
    }


def allowed_actions(state: str) -> set[str]:
    """The actions that can be taken on a case in ``state`` (for the workbench's buttons)."""
    return {a for a, f, _t in TRANSITIONS if f == state}


# --- routing (谁办理、谁负责): in .routing, re-exported so callers keep one import -------------------------

from .routing import (  # noqa: E402,F401 - re-exported
    TRANSFERABLE,
    Concern,
    RecordUnits,
    Responsible,
    concerns,
    responsible_for,
    route,
    transfer_problems,
    transfer_targets,
)

# --- deadlines (R4.2, R4.3, R4.6) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineDays:
    """Working days after the day the case opens ("1、5、15": callback, fix now, rectify); a region's policy may
    set others (org.policy.period_days)."""

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


# A complaint has a 投诉人 where a 差评 has its 评价人: the states that name that person say so.
COMPLAINT_STATE_LABELS = {State.ANSWERED: gettext_lazy("已反馈投诉人"), State.REOPENED: gettext_lazy("投诉人不满意，待监督复核")}


def state_label(state: str, kind: str) -> str:
    """How a case of ``kind`` in ``state`` is shown (an unknown state as it is)."""
    if kind == Kind.COMPLAINT and state in COMPLAINT_STATE_LABELS:
        return str(COMPLAINT_STATE_LABELS[state])
    return str(State(state).label) if state in State.values else state


def counterpart(kind: str) -> str:
    """Whom a case's callback and answer reach: a complaint's 投诉人, otherwise (a 差评's) 评价人."""
    return _("投诉人") if kind == Kind.COMPLAINT else _("评价人")


def callback_problems(
    *, at, now, method: str, reached: bool | None, contact: str, facts: str, opened_at=None, kind: str = ""
) -> list[tuple[str, str]]:
    """What the 回访核实 record lacks (R4.2/R4.3): when (not in the future, not before the case opened), how,
    whom they reached or why not, and the facts verified. Messages name the person as a case of ``kind`` does."""
    problems: list[tuple[str, str]] = []
    if at is None:
        problems.append(("at", _("请填写回访时间")))
    elif at > now:
        problems.append(("at", _("回访时间不能晚于现在")))
    elif opened_at is not None and at < opened_at.replace(microsecond=0):
        # A callback dated before the case existed would make a late callback look on time. Times are entered to
        # the second, so one in the second the case opened (now, on a page loaded right away) is not before it.
        problems.append(("at", _("回访时间不能早于立案时间")))
    if method not in CallbackMethod.values:
        problems.append(("method", _("请选择回访方式：电话、短信、面谈或网上留言")))
    person = counterpart(kind)
    if reached is None:
        problems.append(("reached", _("请说明是否联系上%(person)s") % {"person": person}))
    if _blank(contact):
        problems.append(("contact", _("请填写联系到的人；未联系上的，写明原因") if reached is not False
                         else _("未联系上%(person)s的，请写明原因和已尝试的联系方式") % {"person": person}))
    if _blank(facts):
        problems.append(("facts", _("请填写核实的情况")))
    for name, value in (("contact", contact), ("facts", facts)):
        if isinstance(value, str) and len(value) > MAX_TEXT:
            problems.append((name, _("内容不能超过%(n)d字") % {"n": MAX_TEXT}))
    return problems


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
    ``deadline`` (a date, not before ``today``; after ``rectify_due`` only with an ``extension_reason``, which asks a
    supervisor to approve the later date, or when ``extension_approved``);
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
        elif deadline > rectify_due and not extension_approved and _blank(fields.get("extension_reason")):
            problems.append(("deadline", _("整改期限不能晚于%(due)s；确需延期的，请写明延期理由，报监督人员批准") % {
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


# --- deadlines the case page shows, reminders and escalation (R4.2, R4.6) ---------------------------------


class DeadlineKind(TextChoices):
    CALLBACK = "callback", gettext_lazy("回访核实")
    HANDLING = "handling", gettext_lazy("立行立改或解释说明")
    RECTIFY = "rectify", gettext_lazy("限期整改")
    APPEAL_REVIEW = "appeal_review", gettext_lazy("申诉审核")


def ledger_due(rectify_due: date, requested: date, extension_approved: bool) -> date:
    """The date a 限期整改 must be done by: the requested date, but never after ``rectify_due`` unless a supervisor
    approved the extension."""
    return requested if (requested <= rectify_due or extension_approved) else rectify_due


@dataclass(frozen=True)
class CaseClock:
    """What the deadline rules need to know about a case (dates are local calendar days)."""

    state: str
    outcome: str
    callback_due: date
    fix_now_due: date
    rectify_due: date
    ledger_due: date | None = None  # set when the case went to 限期整改
    called_back_on: date | None = None
    handled_on: date | None = None  # the outcome (立行立改, 解释说明, 误评/恶意差评) or the 台账 completed


@dataclass(frozen=True)
class DeadlineRow:
    kind: str
    due: date
    done_on: date | None
    working_days_left: int | None  # None once done; 0 on the due day; negative once past
    overdue: bool = False  # not done and the due day has passed (a weekend after a Friday deadline counts too)

    @property
    def done_late(self) -> bool:
        return self.done_on is not None and self.done_on > self.due


def deadline_rows(clock: CaseClock, today: date, working_days_between: Callable[[date, date], int]) -> list[DeadlineRow]:
    """Each deadline of a case separately (R4.2): due date, when it was met, working days left.

    ``working_days_between(a, b)`` counts working days in (a, b], negative when ``b`` is before ``a``. The handling
    deadline is the 5-day one (立行立改, 解释说明, 误评) unless the case went to 限期整改, whose own deadline then
    applies instead. A case closed by an upheld appeal has nothing left to meet."""

    def row(kind, due, done_on):
        if done_on is not None:
            return DeadlineRow(kind, due, done_on, None)
        if clock.state == State.CLOSED:
            return DeadlineRow(kind, due, None, None)
        return DeadlineRow(kind, due, None, working_days_between(today, due), overdue=today > due)

    rows = [row(DeadlineKind.CALLBACK, clock.callback_due, clock.called_back_on)]
    if clock.outcome == Outcome.DEADLINE:
        rows.append(row(DeadlineKind.RECTIFY, clock.ledger_due or clock.rectify_due, clock.handled_on))
    else:
        rows.append(row(DeadlineKind.HANDLING, clock.fix_now_due, clock.handled_on))
    return rows


def remind(row: DeadlineRow, days_before: int = 1) -> bool:
    """A reminder is due for an open deadline with at most ``days_before`` working days left (and not past)."""
    return (row.done_on is None and not row.overdue and row.working_days_left is not None
            and row.working_days_left <= days_before)


def escalate(row: DeadlineRow) -> bool:
    """A deadline that has passed unmet escalates to the supervising management agency (R4.6)."""
    return row.overdue


# --- feedback and the evaluator's satisfaction (R4.4) ---------------------------------------------------------


def satisfaction_problems(*, state: str, satisfaction: str, answer: str, reopen_count: int, today: date,
                          satisfaction_due: date | None) -> list[tuple[str, str]]:
    """Whether the evaluator may now say 满意/不满意: once per answer, within the period after it."""
    if answer not in Satisfaction.values:
        return [("satisfaction", _("请选择满意或不满意"))]
    if state != State.ANSWERED or satisfaction:
        return [("satisfaction", _("该差评的处理结果已确认过，不能再次评价"))]
    if satisfaction_due is not None and today > satisfaction_due:
        return [("satisfaction", _("已超过确认期限（%(due)s），案件已按办结处理") % {"due": satisfaction_due.isoformat()})]
    return []


def reopens(answer: str, reopen_count: int) -> bool:
    """An unsatisfied answer reopens the case for the supervisor, once (R4.4)."""
    return answer == Satisfaction.UNSATISFIED and reopen_count < MAX_REOPENS


# --- appeals (R7.3) ---------------------------------------------------------------------------------------------


class AppealState(TextChoices):
    SUBMITTED = "submitted", gettext_lazy("已提交")
    UNDER_REVIEW = "under_review", gettext_lazy("审核中")
    UPHELD = "upheld", gettext_lazy("申诉成立")
    REJECTED = "rejected", gettext_lazy("申诉不成立")


APPEAL_TRANSITIONS: frozenset[tuple[str, str]] = frozenset({
    (AppealState.SUBMITTED, AppealState.UNDER_REVIEW),
    (AppealState.SUBMITTED, AppealState.UPHELD),
    (AppealState.SUBMITTED, AppealState.REJECTED),
    (AppealState.UNDER_REVIEW, AppealState.UPHELD),
    (AppealState.UNDER_REVIEW, AppealState.REJECTED),
})
APPEAL_OPEN = frozenset({AppealState.SUBMITTED, AppealState.UNDER_REVIEW})


def appeal_transition_problem(from_state: str, to_state: str) -> str:
    if (from_state, to_state) in APPEAL_TRANSITIONS:
        return ""
    return _("申诉当前状态为“%(from)s”，不能变更为“%(to)s”") % {
        "from": AppealState(from_state).label, "to": AppealState(to_state).label,
    }


def appeal_problems(*, is_rated_party: bool, case_state: str, kind: str, has_appeal: bool, today: date,
                    appeal_due: date, explanation: str) -> list[tuple[str, str]]:
    """Whether this appeal may be filed (R7.3): by the rated staff member or unit, against a 差评 whose case is
    not closed, once, on or before ``appeal_due``, with an explanation."""
    if not is_rated_party:
        return [("case_id", _("只有被评价的工作人员或单位可以对该差评提出申诉"))]
    if kind != Kind.BAD_REVIEW:
        return [("case_id", _("只能对差评提出申诉"))]
    if case_state == State.CLOSED:
        return [("case_id", _("案件已办结，不能再申诉"))]
    if has_appeal:
        return [("case_id", _("该差评已提出过申诉，每条差评只能申诉一次"))]
    if today > appeal_due:
        return [("case_id", _("已超过申诉期限（%(due)s）") % {"due": appeal_due.isoformat()})]
    if _blank(explanation):
        return [("explanation", _("请写明申诉理由"))]
    if len(explanation) > MAX_TEXT:
        return [("explanation", _("申诉理由不能超过%(n)d字") % {"n": MAX_TEXT})]
    return []


def appeal_decision_problems(*, upheld: bool | None, note: str) -> list[tuple[str, str]]:
    if upheld is None:
        return [("upheld", _("请选择申诉成立或不成立"))]
    if _blank(note):
        return [("note", _("请写明审核意见"))]
    if len(note) > MAX_TEXT:
        return [("note", _("审核意见不能超过%(n)d字") % {"n": MAX_TEXT})]
    return []


# --- supervision figures (R4.5) --------------------------------------------------------------------------------


def rate(numerator: int, denominator: int) -> float | None:
    """A share in [0, 1], or None when there is nothing to divide by (shown as "—", never as 0 % or 100 %)."""
    return None if denominator == 0 else numerator / denominator
