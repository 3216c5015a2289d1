"""The pure rules of rectification: the state machine, routing, deadlines and what each outcome must state."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from haochaping.core.calendar_rules import WorkCalendar
from haochaping.rectification import rules
from haochaping.rectification.rules import Outcome, State

ALLOWED = {
    ("open", "called_back"),
    ("called_back", "rectified"),
    ("called_back", "rectifying"),
    ("called_back", "explained"),
    ("called_back", "not_adopted"),
    ("rectifying", "rectified"),
    ("rectified", "answered"),
    ("explained", "answered"),
    ("not_adopted", "answered"),
    ("answered", "closed"),
}
ALL_PAIRS = list(itertools.product(State.values, State.values))


def test_the_table_is_the_designed_machine():
    assert set(rules.TRANSITIONS) == ALLOWED


@pytest.mark.parametrize("pair", sorted(ALLOWED), ids="→".join)
def test_allowed_transition(pair):
    assert rules.can_transition(*pair)
    assert rules.transition_problem(*pair) == ""


@pytest.mark.parametrize("pair", sorted(set(ALL_PAIRS) - ALLOWED), ids="→".join)
def test_refused_transition(pair):
    assert not rules.can_transition(*pair)
    message = rules.transition_problem(*pair)
    assert message == f"案件当前状态为“{State(pair[0]).label}”，不能变更为“{State(pair[1]).label}”"


def test_closed_is_final_and_every_state_reaches_closed():
    assert not [to for (frm, to) in rules.TRANSITIONS if frm == State.CLOSED]
    reach = {State.CLOSED}
    changed = True
    while changed:
        before = set(reach)
        reach |= {frm for (frm, to) in rules.TRANSITIONS if to in reach}
        changed = reach != before
    assert reach == set(State.values)


@pytest.mark.parametrize("outcome,state", [
    ("fixed_now", "rectified"), ("deadline", "rectifying"), ("explained", "explained"),
    ("mistaken", "not_adopted"), ("malicious", "not_adopted"),
])
def test_each_outcome_leads_from_called_back(outcome, state):
    assert rules.OUTCOME_STATE[outcome] == state
    assert rules.can_transition(State.CALLED_BACK, state)


# --- routing ------------------------------------------------------------------------------------------------


def test_window_routes_to_the_department_at_that_window():
    units = rules.RecordUnits("370102", department_id=1, agency_id=7, window_id=3, window_department_id=2)
    assert rules.route(units) == rules.Responsible("370102", 2, 7, None)


def test_window_without_stationed_department_routes_to_the_record_department():
    units = rules.RecordUnits("370102", department_id=1, agency_id=7, window_id=3, window_department_id=None)
    assert rules.route(units) == rules.Responsible("370102", 1, 7, None)


def test_online_routes_to_the_platform_operator():
    units = rules.RecordUnits("370102", department_id=1, platform_id=9, platform_operator_id=5)
    assert rules.route(units) == rules.Responsible("370102", 5, None, 9)


def test_online_without_operator_routes_to_the_record_department():
    units = rules.RecordUnits("370102", department_id=1, platform_id=9, platform_operator_id=None)
    assert rules.route(units) == rules.Responsible("370102", 1, None, 9)


def test_window_wins_over_platform():
    # Accepted at a window of a hall although the business system is a platform: the window handled it.
    units = rules.RecordUnits("370102", department_id=1, agency_id=7, window_id=3, window_department_id=2,
                              platform_id=9, platform_operator_id=5)
    assert rules.route(units) == rules.Responsible("370102", 2, 7, None)


def test_neither_window_nor_platform_routes_to_the_record_department():
    assert rules.route(rules.RecordUnits("370102", department_id=1, agency_id=7)) == rules.Responsible("370102", 1, 7, None)
    assert rules.route(rules.RecordUnits("370102", department_id=1)) == rules.Responsible("370102", 1, None, None)


# --- deadlines ----------------------------------------------------------------------------------------------


def test_deadlines_are_1_5_15_working_days_and_skip_a_holiday():
    # National Day 2025: 1–8 October off, Saturday 11 October a make-up workday.
    off = {date(2025, 10, 1) + timedelta(days=i): False for i in range(8)}
    cal = WorkCalendar({**off, date(2025, 9, 28): True, date(2025, 10, 11): True})
    due = rules.deadlines(date(2025, 9, 30), cal.add)
    assert due == rules.Deadlines(date(2025, 10, 9), date(2025, 10, 14), date(2025, 10, 28))


def test_deadline_days_come_from_the_policy():
    calls = []

    def add(start, n):
        calls.append(n)
        return start + timedelta(days=n)

    due = rules.deadlines(date(2025, 3, 3), add, rules.DeadlineDays(callback=2, fix_now=3, rectify=7))
    assert calls == [2, 3, 7]
    assert due.rectify_due == date(2025, 3, 10)


# --- required fields per outcome --------------------------------------------------------------------------------

TODAY = date(2025, 3, 3)
DUE = date(2025, 3, 24)


def problems(outcome, **fields):
    approved = fields.pop("approved", False)
    return rules.outcome_problems(outcome, fields, rectify_due=DUE, today=TODAY, extension_approved=approved)


def test_fixed_now_needs_what_was_fixed():
    assert problems(Outcome.FIXED_NOW) == [("detail", "立行立改须写明已整改的内容")]
    assert problems(Outcome.FIXED_NOW, detail="   ") == [("detail", "立行立改须写明已整改的内容")]
    assert problems(Outcome.FIXED_NOW, detail="已删除指南外材料要求") == []


LEDGER = dict(problem="要求提供指南外材料", measures="按指南核对材料清单并培训", responsible_person="李科长", deadline=DUE)


def test_deadline_needs_the_whole_ledger_entry():
    assert problems(Outcome.DEADLINE) == [
        ("problem", "限期整改须在台账中写明存在的问题"),
        ("measures", "限期整改须在台账中写明整改措施"),
        ("responsible_person", "限期整改须在台账中写明责任人"),
        ("deadline", "限期整改须写明整改期限"),
    ]
    assert problems(Outcome.DEADLINE, **LEDGER) == []


def test_deadline_after_the_rectify_due_date_needs_approval():
    late = {**LEDGER, "deadline": DUE + timedelta(days=1)}
    assert problems(Outcome.DEADLINE, **late) == [
        ("deadline", "整改期限不能晚于2025-03-24（15个工作日）；确需延期须经批准")
    ]
    assert problems(Outcome.DEADLINE, approved=True, **late) == []


def test_deadline_in_the_past_or_not_a_date_is_refused():
    assert problems(Outcome.DEADLINE, **{**LEDGER, "deadline": TODAY - timedelta(days=1)}) == [
        ("deadline", "整改期限不能早于今天")
    ]
    assert problems(Outcome.DEADLINE, **{**LEDGER, "deadline": "2025-03-10"}) == [("deadline", "整改期限应为日期")]


def test_explained_needs_explanation_and_legal_basis():
    assert problems(Outcome.EXPLAINED) == [
        ("detail", "解释说明须写明向评价人所作的解释"),
        ("legal_basis", "解释说明须写明依据的法律法规或政策"),
    ]
    assert problems(Outcome.EXPLAINED, detail="该材料为法定要件", legal_basis="《食品安全法》第三十五条") == []


@pytest.mark.parametrize("outcome", [Outcome.MISTAKEN, Outcome.MALICIOUS])
def test_not_adopted_needs_evidence_and_a_supervisor(outcome):
    assert problems(outcome) == [
        ("evidence", "认定误评或恶意差评须提供核实证据"),
        ("confirmed_by", "认定误评或恶意差评须经政务服务管理机构监督人员确认"),
    ]
    assert problems(outcome, evidence="录音显示评价人误点") == [
        ("confirmed_by", "认定误评或恶意差评须经政务服务管理机构监督人员确认")
    ]
    assert problems(outcome, evidence="录音显示评价人误点", supervisor_confirmed=True) == []


def test_unknown_outcome_and_overlong_text():
    assert problems("ignore")[0][0] == "outcome"
    assert problems(Outcome.FIXED_NOW, detail="改" * (rules.MAX_TEXT + 1)) == [("detail", "内容不能超过2000字")]


def test_callback_and_answer_need_text():
    assert rules.callback_problems("") == [("note", "请填写回访核实情况")]
    assert rules.callback_problems("已电话联系评价人，情况属实") == []
    assert rules.answer_problems(" ") == [("answer", "请填写给评价人的答复")]
    assert rules.answer_problems("已整改") == []
