"""Boundaries of the rectification rules the mutation run showed no test held (issue 18, item 7): texts of exactly
the maximum length, and a 限期整改 date equal to the rectification deadline."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from haochaping.rectification import rules

LIMIT = rules.MAX_TEXT


def test_an_answer_of_exactly_the_maximum_length_is_accepted():
    assert rules.answer_problems("答" * LIMIT) == []
    assert rules.answer_problems("答" * (LIMIT + 1)) == [("answer", f"答复不能超过{LIMIT}字")]


def test_an_appeal_decision_note_of_exactly_the_maximum_length_is_accepted():
    assert rules.appeal_decision_problems(upheld=True, note="意" * LIMIT) == []
    assert rules.appeal_decision_problems(upheld=False, note="意" * (LIMIT + 1)) == [
        ("note", f"审核意见不能超过{LIMIT}字")]


def test_a_requested_date_on_the_rectification_deadline_needs_no_extension():
    due = date(2026, 12, 31)
    assert rules.ledger_due(due, due, False) == due
    assert rules.ledger_due(due, due - timedelta(days=3), False) == due - timedelta(days=3)
    assert rules.ledger_due(due, due + timedelta(days=1), False) == due
    assert rules.ledger_due(due, due + timedelta(days=1), True) == due + timedelta(days=1)


def test_an_appeal_explanation_of_exactly_the_maximum_length_is_accepted():
    args = {"is_rated_party": True, "case_state": rules.State.OPEN, "kind": rules.Kind.BAD_REVIEW,
            "has_appeal": False, "today": date(2026, 12, 1), "appeal_due": date(2026, 12, 1)}
    assert rules.appeal_problems(**args, explanation="申" * LIMIT) == []
    assert rules.appeal_problems(**args, explanation="申" * (LIMIT + 1)) == [
        ("explanation", f"申诉理由不能超过{LIMIT}字")]


def test_a_callback_at_this_very_moment_and_overlong_texts_are_named():
    from datetime import datetime

    now = datetime(2026, 12, 1, 10, 0)
    ok = {"method": rules.CallbackMethod.PHONE, "reached": True, "contact": "本人", "facts": "属实"}
    assert rules.callback_problems(at=now, now=now, **ok) == []
    long = "字" * (LIMIT + 1)
    assert rules.callback_problems(at=now, now=now, **(ok | {"contact": long, "facts": long})) == [
        ("contact", f"内容不能超过{LIMIT}字"), ("facts", f"内容不能超过{LIMIT}字")]
    assert rules.callback_problems(at=now, now=now, **(ok | {"contact": "字" * LIMIT})) == []


@pytest.mark.parametrize("name", ["detail", "legal_basis", "evidence", "problem", "measures"])
def test_each_overlong_outcome_text_is_named(name):
    problems = rules.outcome_problems("explained", {name: "字" * (LIMIT + 1)}, rectify_due=date(2026, 12, 31),
                                      today=date(2026, 12, 1))
    assert (name, f"内容不能超过{LIMIT}字") in problems


def test_a_later_rectification_date_needs_a_reason_unless_the_caller_says_it_was_approved():
    fields = {"problem": "问题", "measures": "措施", "responsible_person": "责任人", "deadline": date(2027, 1, 10)}
    kw = {"rectify_due": date(2026, 12, 31), "today": date(2026, 12, 1)}
    assert [name for name, _m in rules.outcome_problems("deadline", fields, **kw)] == ["deadline"]
    assert rules.outcome_problems("deadline", fields, **kw, extension_approved=True) == []
    assert rules.outcome_problems("nonsense", {}, **kw) == [
        ("outcome", "请选择处理结果：立行立改、限期整改、解释说明、误评或恶意差评")]


def test_a_closed_case_keeps_each_deadline_but_counts_nothing_down():
    clock = rules.CaseClock(state=rules.State.CLOSED, outcome=rules.Outcome.DEADLINE, callback_due=date(2026, 12, 2),
                            fix_now_due=date(2026, 12, 8), rectify_due=date(2026, 12, 31),
                            ledger_due=date(2026, 12, 20), called_back_on=None, handled_on=date(2026, 12, 18))

    def never(_a, _b):
        raise AssertionError("a closed case counts no working days")

    assert rules.deadline_rows(clock, date(2027, 1, 5), never) == [
        rules.DeadlineRow(rules.DeadlineKind.CALLBACK, date(2026, 12, 2), None, None),
        rules.DeadlineRow(rules.DeadlineKind.RECTIFY, date(2026, 12, 20), date(2026, 12, 18), None),
    ]
