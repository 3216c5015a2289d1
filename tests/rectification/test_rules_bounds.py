"""Boundaries of the rectification rules the mutation run showed no test held (issue 18, item 7): texts of exactly
the maximum length, and a 限期整改 date equal to the rectification deadline."""

from __future__ import annotations

from datetime import date, timedelta

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
