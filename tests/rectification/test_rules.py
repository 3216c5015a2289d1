"""The pure rules of rectification: the state machine, routing, deadlines, what each step must state, the
evaluator's satisfaction, appeals and the supervision rates."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from haochaping.core.calendar_rules import WorkCalendar
from haochaping.rectification import rules
from haochaping.rectification.rules import AppealState, DeadlineKind, Kind, Outcome, Satisfaction, State

WORKING = ["open", "called_back", "rectifying", "rectified", "explained", "not_adopted", "answered", "reopened"]
ALLOWED = {
    ("callback", "open", "called_back"),
    ("outcome", "called_back", "rectified"),
    ("outcome", "called_back", "rectifying"),
    ("outcome", "called_back", "explained"),
    ("outcome", "called_back", "not_adopted"),
    ("confirm", "called_back", "not_adopted"),
    ("complete_ledger", "rectifying", "rectified"),
    ("answer", "rectified", "answered"),
    ("answer", "explained", "answered"),
    ("answer", "not_adopted", "answered"),
    ("close", "answered", "closed"),
    ("satisfaction", "answered", "closed"),
    ("reopen", "answered", "reopened"),
    ("close", "reopened", "closed"),
    *{("send_back", s, "called_back") for s in
      ("rectifying", "rectified", "explained", "answered", "reopened")},
    *{("appeal_upheld", s, "closed") for s in WORKING},
}
ACTIONS = sorted({a for a, _f, _t in ALLOWED})
ALL_TRIPLES = list(itertools.product(ACTIONS, State.values, State.values))


def test_the_table_is_the_designed_machine():
    assert set(rules.TRANSITIONS) == ALLOWED
    assert rules.ACTIONS == set(ACTIONS)


@pytest.mark.parametrize("triple", sorted(ALLOWED), ids="/".join)
def test_allowed_transition(triple):
    action, frm, to = triple
    assert rules.can_transition(frm, to, action)
    assert rules.can_transition(frm, to)
    assert rules.transition_problem(frm, to, action) == ""
    assert action in rules.allowed_actions(frm)


@pytest.mark.parametrize("triple", sorted(set(ALL_TRIPLES) - ALLOWED), ids="/".join)
def test_refused_transition(triple):
    action, frm, to = triple
    assert not rules.can_transition(frm, to, action)
    assert rules.transition_problem(frm, to, action) == (
        f"案件当前状态为“{State(frm).label}”，不能变更为“{State(to).label}”")


def test_an_action_from_the_wrong_state_is_refused_even_when_another_action_allows_the_move():
    # Answered → closed is allowed by "close" and "satisfaction", never by "answer".
    assert rules.can_transition("answered", "closed")
    assert not rules.can_transition("answered", "closed", "answer")


def test_allowed_actions_per_state():
    assert rules.allowed_actions("open") == {"callback", "appeal_upheld"}
    assert rules.allowed_actions("called_back") == {"outcome", "confirm", "appeal_upheld"}
    assert rules.allowed_actions("answered") == {"close", "satisfaction", "reopen", "send_back", "appeal_upheld"}
    assert rules.allowed_actions("reopened") == {"close", "send_back", "appeal_upheld"}
    assert rules.allowed_actions("closed") == set()


def test_closed_is_final_and_every_state_reaches_closed():
    assert not [to for (_a, frm, to) in rules.TRANSITIONS if frm == State.CLOSED]
    reach = {State.CLOSED}
    changed = True
    while changed:
        before = set(reach)
        reach |= {frm for (_a, frm, to) in rules.TRANSITIONS if to in reach}
        changed = reach != before
    assert reach == set(State.values)


def test_only_an_answered_case_reopens_and_only_a_supervisor_state_follows():
    assert {(f, t) for a, f, t in rules.TRANSITIONS if a == "reopen"} == {("answered", "reopened")}
    assert {a for a, f, _t in rules.TRANSITIONS if f == "reopened"} == {"close", "send_back", "appeal_upheld"}


@pytest.mark.parametrize("outcome,state", [
    ("fixed_now", "rectified"), ("deadline", "rectifying"), ("explained", "explained"),
    ("mistaken", "not_adopted"), ("malicious", "not_adopted"),
])
def test_each_outcome_leads_from_called_back(outcome, state):
    assert rules.OUTCOME_STATE[outcome] == state
    assert rules.can_transition(State.CALLED_BACK, state, "outcome")


def test_assignable_and_in_hand_states():
    assert rules.ASSIGNABLE == {"open", "called_back", "rectifying", "reopened"}
    assert rules.IN_HAND == {"open", "called_back", "rectifying", "rectified", "explained", "not_adopted"}
    assert rules.MAX_REOPENS == 1


# --- routing: tests/rectification/test_routing.py ------------------------------------------------------------


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
LATE_MESSAGE = "整改期限不能晚于2025-03-24；确需延期的，请写明延期理由，报监督人员批准"


def test_deadline_needs_the_whole_ledger_entry():
    assert problems(Outcome.DEADLINE) == [
        ("problem", "限期整改须在台账中写明存在的问题"),
        ("measures", "限期整改须在台账中写明整改措施"),
        ("responsible_person", "限期整改须在台账中写明责任人"),
        ("deadline", "限期整改须写明整改期限"),
    ]
    assert problems(Outcome.DEADLINE, **LEDGER) == []


def test_deadline_after_the_rectify_due_date_needs_a_reason_or_approval():
    late = {**LEDGER, "deadline": DUE + timedelta(days=1)}
    assert problems(Outcome.DEADLINE, **late) == [("deadline", LATE_MESSAGE)]
    assert problems(Outcome.DEADLINE, extension_reason="  ", **late) == [("deadline", LATE_MESSAGE)]
    assert problems(Outcome.DEADLINE, extension_reason="需采购设备，供货周期30天", **late) == []
    assert problems(Outcome.DEADLINE, approved=True, **late) == []


def test_deadline_in_the_past_or_not_a_date_is_refused():
    assert problems(Outcome.DEADLINE, **{**LEDGER, "deadline": TODAY - timedelta(days=1)}) == [
        ("deadline", "整改期限不能早于今天")
    ]
    assert problems(Outcome.DEADLINE, **{**LEDGER, "deadline": TODAY}) == []
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
    assert problems(Outcome.FIXED_NOW, detail="改" * rules.MAX_TEXT) == []


def test_answer_needs_text_within_the_limit():
    assert rules.answer_problems(" ") == [("answer", "请填写给评价人的答复")]
    assert rules.answer_problems("答" * (rules.MAX_TEXT + 1)) == [("answer", "答复不能超过2000字")]
    assert rules.answer_problems("已整改") == []


# --- callback -------------------------------------------------------------------------------------------------

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 3, 3, 15, 0, tzinfo=SH)
CALL = dict(at=NOW - timedelta(hours=1), now=NOW, method="phone", reached=True, contact="评价人本人",
            facts="材料清单确有指南外要求")


def test_a_complete_callback_has_no_problems():
    assert rules.callback_problems(**CALL) == []
    assert rules.callback_problems(**{**CALL, "reached": False, "contact": "三次来电无人接听"}) == []


def test_callback_needs_every_part():
    assert rules.callback_problems(at=None, now=NOW, method="", reached=None, contact="", facts=" ") == [
        ("at", "请填写回访时间"),
        ("method", "请选择回访方式：电话、短信、面谈或网上留言"),
        ("reached", "请说明是否联系上评价人"),
        ("contact", "请填写联系到的人；未联系上的，写明原因"),
        ("facts", "请填写核实的情况"),
    ]


def test_callback_not_reached_must_say_why():
    assert rules.callback_problems(**{**CALL, "reached": False, "contact": ""}) == [
        ("contact", "未联系上评价人的，请写明原因和已尝试的联系方式")]


def test_a_complaints_callback_messages_name_the_complainant():
    person = rules.counterpart(rules.Kind.COMPLAINT)
    assert person == "投诉人" and rules.counterpart(rules.Kind.BAD_REVIEW) == "评价人"
    complaint = rules.Kind.COMPLAINT
    assert rules.callback_problems(**{**CALL, "reached": None}, kind=complaint) == [("reached", "请说明是否联系上投诉人")]
    assert rules.callback_problems(**{**CALL, "reached": False, "contact": ""}, kind=complaint) == [
        ("contact", "未联系上投诉人的，请写明原因和已尝试的联系方式")]


def test_a_complaints_states_name_the_complainant():
    assert rules.state_label(rules.State.ANSWERED, rules.Kind.COMPLAINT) == "已反馈投诉人"
    assert rules.state_label(rules.State.REOPENED, rules.Kind.COMPLAINT) == "投诉人不满意，待监督复核"
    assert rules.state_label(rules.State.ANSWERED, rules.Kind.BAD_REVIEW) == "已反馈评价人"
    assert rules.state_label(rules.State.OPEN, rules.Kind.COMPLAINT) == "待回访核实"
    assert rules.state_label("unknown", rules.Kind.COMPLAINT) == "unknown"


def test_callback_time_is_neither_in_the_future_nor_before_the_case():
    assert rules.callback_problems(**{**CALL, "at": NOW + timedelta(minutes=1)}) == [("at", "回访时间不能晚于现在")]
    opened = NOW - timedelta(minutes=30)
    assert rules.callback_problems(**CALL, opened_at=opened) == [("at", "回访时间不能早于立案时间")]
    assert rules.callback_problems(**{**CALL, "at": opened}, opened_at=opened) == []


def test_a_callback_entered_to_the_second_in_the_second_the_case_opened_is_not_before_it():
    # The case opened at 14:30:05.4; the form, loaded at once, says 14:30:05 (times are entered to the second).
    opened = NOW - timedelta(minutes=30) + timedelta(seconds=5, microseconds=400_000)
    same_second = opened.replace(microsecond=0)
    assert rules.callback_problems(**{**CALL, "at": same_second}, opened_at=opened) == []
    assert rules.callback_problems(**{**CALL, "at": same_second - timedelta(seconds=1)}, opened_at=opened) == [
        ("at", "回访时间不能早于立案时间")]


def test_callback_method_and_text_length():
    assert rules.callback_problems(**{**CALL, "method": "fax"})[0][0] == "method"
    assert rules.callback_problems(**{**CALL, "facts": "实" * (rules.MAX_TEXT + 1)}) == [("facts", "内容不能超过2000字")]


# --- deadline rows, reminders, escalation ----------------------------------------------------------------------

# National Day 2025: 1–8 October off, Sunday 28 September and Saturday 11 October make-up workdays.
HOLIDAY = WorkCalendar({**{date(2025, 10, 1) + timedelta(days=i): False for i in range(8)},
                        date(2025, 9, 28): True, date(2025, 10, 11): True})
BETWEEN = HOLIDAY.count
OPENED = date(2025, 9, 30)
DUES = rules.deadlines(OPENED, HOLIDAY.add)


def clock(**kw):
    base = dict(state="open", outcome="", callback_due=DUES.callback_due, fix_now_due=DUES.fix_now_due,
                rectify_due=DUES.rectify_due)
    return rules.CaseClock(**{**base, **kw})


def test_rows_count_working_days_left_across_the_holiday():
    rows = rules.deadline_rows(clock(), date(2025, 9, 30), BETWEEN)
    assert [(r.kind, r.due, r.working_days_left, r.overdue) for r in rows] == [
        (DeadlineKind.CALLBACK, date(2025, 10, 9), 1, False),
        (DeadlineKind.HANDLING, date(2025, 10, 14), 5, False),
    ]
    # During the holiday no working day passes: still one left on 5 October.
    assert rules.deadline_rows(clock(), date(2025, 10, 5), BETWEEN)[0].working_days_left == 1
    # On the due day 0 are left and it is not yet overdue.
    due_day = rules.deadline_rows(clock(), date(2025, 10, 9), BETWEEN)[0]
    assert (due_day.working_days_left, due_day.overdue) == (0, False)


def test_rows_past_due_are_overdue_even_over_a_weekend():
    # Callback due Thursday 9 October: overdue from Friday on; by Sunday the 12th two working days (Friday and
    # the make-up Saturday) have passed since.
    row = rules.deadline_rows(clock(), date(2025, 10, 10), BETWEEN)[0]
    assert (row.working_days_left, row.overdue) == (-1, True)
    weekend = rules.deadline_rows(clock(), date(2025, 10, 12), BETWEEN)[0]
    assert weekend.overdue and weekend.working_days_left == -2


def test_rows_once_done_keep_when_and_whether_late():
    rows = rules.deadline_rows(
        clock(state="rectified", outcome="fixed_now", called_back_on=date(2025, 10, 10),
              handled_on=date(2025, 10, 13)), date(2025, 10, 20), BETWEEN)
    assert [(r.done_on, r.working_days_left, r.overdue, r.done_late) for r in rows] == [
        (date(2025, 10, 10), None, False, True),
        (date(2025, 10, 13), None, False, False),
    ]


def test_rectification_uses_the_ledger_date_instead_of_the_five_days():
    c = clock(state="rectifying", outcome="deadline", called_back_on=OPENED, ledger_due=date(2025, 10, 20))
    rows = rules.deadline_rows(c, date(2025, 10, 15), BETWEEN)
    assert [(r.kind, r.due) for r in rows] == [(DeadlineKind.CALLBACK, DUES.callback_due),
                                               (DeadlineKind.RECTIFY, date(2025, 10, 20))]
    assert rows[1].working_days_left == 3  # 16, 17, 20 October
    # Without a ledger date the 15-day limit applies.
    assert rules.deadline_rows(clock(state="rectifying", outcome="deadline"), OPENED, BETWEEN)[1].due == DUES.rectify_due


def test_a_closed_case_has_nothing_left_to_meet():
    rows = rules.deadline_rows(clock(state="closed"), date(2025, 12, 1), BETWEEN)
    assert all(r.working_days_left is None and not r.overdue for r in rows)


def test_ledger_due_only_moves_past_rectify_due_when_approved():
    due, later, earlier = date(2025, 3, 24), date(2025, 4, 10), date(2025, 3, 10)
    assert rules.ledger_due(due, earlier, False) == earlier
    assert rules.ledger_due(due, later, False) == due
    assert rules.ledger_due(due, later, True) == later


@pytest.mark.parametrize("left,overdue,done,remind,escalate", [
    (3, False, None, False, False),
    (1, False, None, True, False),
    (0, False, None, True, False),
    (-1, True, None, False, True),
    (None, False, date(2025, 10, 9), False, False),
])
def test_remind_and_escalate(left, overdue, done, remind, escalate):
    row = rules.DeadlineRow(DeadlineKind.CALLBACK, date(2025, 10, 9), done, left, overdue)
    assert rules.remind(row) is remind
    assert rules.escalate(row) is escalate


def test_remind_days_before_is_configurable():
    row = rules.DeadlineRow(DeadlineKind.HANDLING, date(2025, 10, 14), None, 2, False)
    assert not rules.remind(row) and rules.remind(row, days_before=2)


# --- satisfaction ------------------------------------------------------------------------------------------------

SAT_DUE = date(2025, 3, 10)


def sat(answer="satisfied", **kw):
    base = dict(state="answered", satisfaction="", answer=answer, reopen_count=0, today=date(2025, 3, 5),
                satisfaction_due=SAT_DUE)
    return rules.satisfaction_problems(**{**base, **kw})


def test_satisfaction_once_per_answer_within_the_period():
    assert sat() == [] and sat("unsatisfied") == []
    assert sat(today=SAT_DUE) == []
    assert sat("maybe") == [("satisfaction", "请选择满意或不满意")]
    assert sat(satisfaction="satisfied") == [("satisfaction", "该差评的处理结果已确认过，不能再次评价")]
    assert sat(state="reopened") == [("satisfaction", "该差评的处理结果已确认过，不能再次评价")]
    assert sat(state="rectified")[0][0] == "satisfaction"
    assert sat(today=SAT_DUE + timedelta(days=1)) == [
        ("satisfaction", "已超过确认期限（2025-03-10），案件已按办结处理")]
    assert sat(satisfaction_due=None, today=date(2030, 1, 1)) == []


def test_unsatisfied_reopens_once():
    assert rules.reopens(Satisfaction.UNSATISFIED, 0)
    assert not rules.reopens(Satisfaction.UNSATISFIED, 1)
    assert not rules.reopens(Satisfaction.SATISFIED, 0)


# --- appeals -----------------------------------------------------------------------------------------------------

APPEAL_DUE = date(2025, 3, 6)


def appeal(**kw):
    base = dict(is_rated_party=True, case_state="called_back", kind=Kind.BAD_REVIEW, has_appeal=False,
                today=date(2025, 3, 5), appeal_due=APPEAL_DUE, explanation="评价人所述材料为法定要件")
    return rules.appeal_problems(**{**base, **kw})


def test_an_appeal_by_the_rated_party_in_time_is_accepted():
    assert appeal() == [] and appeal(today=APPEAL_DUE) == []


@pytest.mark.parametrize("kw,expected", [
    (dict(is_rated_party=False), ("case_id", "只有被评价的工作人员或单位可以对该差评提出申诉")),
    (dict(kind=Kind.COMPLAINT), ("case_id", "只能对差评提出申诉")),
    (dict(case_state="closed"), ("case_id", "案件已办结，不能再申诉")),
    (dict(has_appeal=True), ("case_id", "该差评已提出过申诉，每条差评只能申诉一次")),
    (dict(today=APPEAL_DUE + timedelta(days=1)), ("case_id", "已超过申诉期限（2025-03-06）")),
    (dict(explanation="  "), ("explanation", "请写明申诉理由")),
    (dict(explanation="理" * (rules.MAX_TEXT + 1)), ("explanation", "申诉理由不能超过2000字")),
])
def test_refused_appeals(kw, expected):
    assert appeal(**kw) == [expected]


def test_appeal_decisions():
    assert rules.appeal_decision_problems(upheld=None, note="x") == [("upheld", "请选择申诉成立或不成立")]
    assert rules.appeal_decision_problems(upheld=True, note=" ") == [("note", "请写明审核意见")]
    assert rules.appeal_decision_problems(upheld=False, note="意" * (rules.MAX_TEXT + 1)) == [
        ("note", "审核意见不能超过2000字")]
    assert rules.appeal_decision_problems(upheld=False, note="评价属实") == []


@pytest.mark.parametrize("frm,to", list(itertools.product(AppealState.values, AppealState.values)))
def test_appeal_state_machine(frm, to):
    allowed = {("submitted", "under_review"), ("submitted", "upheld"), ("submitted", "rejected"),
               ("under_review", "upheld"), ("under_review", "rejected")}
    message = rules.appeal_transition_problem(frm, to)
    if (frm, to) in allowed:
        assert message == ""
    else:
        assert message == f"申诉当前状态为“{AppealState(frm).label}”，不能变更为“{AppealState(to).label}”"


# --- rates ----------------------------------------------------------------------------------------------------------


def test_rate_is_none_without_a_denominator():
    assert rules.rate(0, 0) is None
    assert rules.rate(0, 4) == 0.0
    assert rules.rate(3, 4) == 0.75
    assert rules.rate(4, 4) == 1.0

