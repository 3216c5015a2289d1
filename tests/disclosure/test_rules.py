"""Pure rules of the portal: periods, page numbers, formatting, the handling deadline and the anonymised case."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from haochaping.core.problems import DomainError
from haochaping.disclosure import rules

TODAY = date(2025, 3, 15)


@pytest.mark.parametrize("value, start, end, label", [
    ("", date(2024, 4, 1), TODAY, "近12个月"),
    ("2024", date(2024, 1, 1), date(2024, 12, 31), "2024年"),
    ("2025", date(2025, 1, 1), TODAY, "2025年"),
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29), "2024年2月"),
    (" 2025-03 ", date(2025, 3, 1), TODAY, "2025年3月"),
])
def test_periods(value, start, end, label):
    period = rules.parse_period(value, TODAY)
    assert (period.start, period.end, period.label) == (start, end, label)


def test_last_twelve_months_crosses_the_year():
    assert rules.last_twelve_months(date(2025, 1, 31)).start == date(2024, 2, 1)
    assert rules.last_twelve_months(date(2025, 12, 1)).start == date(2025, 1, 1)


@pytest.mark.parametrize("value, message", [
    ("abc", "格式不正确"), ("2024-1", "格式不正确"), ("2024-", "格式不正确"), ("24", "格式不正确"),
    ("2024-13", "01至12"), ("2024-00", "01至12"), ("2018", "不能早于2019年"), ("2025-04", "尚未开始"),
    ("2026", "尚未开始"),
])
def test_bad_periods_are_refused_in_chinese(value, message):
    with pytest.raises(DomainError) as exc:
        rules.parse_period(value, TODAY)
    assert exc.value.field == "period" and message in exc.value.detail


def test_period_choices_start_with_the_default_and_are_all_valid():
    choices = rules.period_choices(TODAY)
    assert choices[0] == ("", "近12个月") and ("2019", "2019年") in choices and ("2025-03", "2025年3月") in choices
    for value, label in choices:
        assert rules.parse_period(value, TODAY).label == label


@pytest.mark.parametrize("value", ["0", "-1", "x", "1.5", "9999999"])
def test_bad_page_numbers(value):
    with pytest.raises(DomainError):
        rules.page_number(value)
    assert rules.page_number("") == 1 and rules.page_number("3") == 3


def test_formatting_never_turns_nothing_into_zero():
    assert rules.percent(None) == "—" and rules.percent(0) == "0.0%" and rules.percent(0.8766) == "87.7%"
    assert rules.score(None) == "—" and rules.score(87.54) == "87.5"
    assert rules.csv_value(None) == "" and rules.csv_value(0.5) == "0.5" and rules.csv_value(0.0) == "0"
    assert rules.csv_value(True) == "true" and rules.csv_value(date(2025, 1, 2)) == "2025-01-02"


def row(**kw):
    base = dict(pk=12, kind="bad_review", state="closed", opened_at=datetime(2025, 3, 1), region_id="370102",
                region__name="历下区", department__credit_code="X" * 18, department__name="市场监管局",
                agency__name="政务服务中心", evaluation_id=5, evaluation__level=1,
                evaluation__item__implementation_code="C1", evaluation__item__name="事项", outcome="fixed_now",
                callback_at=datetime(2025, 3, 1), handled_at=datetime(2025, 3, 3), closed_at=None,
                fix_now_due=date(2025, 3, 7), rectify_due=date(2025, 3, 21), ledger__deadline=None,
                ledger__extension_approved=False, appeal__state=None)
    return base | kw


def test_handling_due_follows_the_figures_rule():
    assert rules.handling_due(row()) == date(2025, 3, 7)
    assert rules.handling_due(row(outcome="deadline", ledger__deadline=date(2025, 3, 20))) == date(2025, 3, 20)
    # A later 台账 date counts only once the extension is approved.
    assert rules.handling_due(row(outcome="deadline", ledger__deadline=date(2025, 4, 1))) == date(2025, 3, 21)
    assert rules.handling_due(row(outcome="deadline", ledger__deadline=date(2025, 4, 1),
                                  ledger__extension_approved=True)) == date(2025, 4, 1)


def published(r, handled_on=date(2025, 3, 3)):
    return rules.public_case(r, labels=[("110", "无理由超过法定办理时间")], level_text="非常不满意",
                             opened_on=date(2025, 3, 1), handled_on=handled_on, closed_on=None)


def test_a_published_case_has_exactly_the_dictionary_columns_and_no_free_text():
    out = published(row(comment="私密", answer="私密", outcome_detail="私密"))
    assert set(out) == {c for c, _n, _d in rules.CASE_COLUMNS}
    assert "私密" not in str(out.values())
    assert (out["case_no"], out["outcome_text"], out["on_time"], out["labels"]) == (
        "000012", "立行立改", True, "110 无理由超过法定办理时间")
    assert published(row(), handled_on=date(2025, 3, 10))["on_time"] is False
    assert published(row(handled_at=None, outcome=""), handled_on=None)["on_time"] is None


def test_an_upheld_appeal_is_published_as_such_without_handling_figures():
    out = published(row(appeal__state="upheld"))
    assert (out["outcome"], out["outcome_text"], out["on_time"], out["handled_on"], out["handling_due"]) == (
        "appeal_upheld", "申诉成立（不计入统计）", None, None, None)


def test_free_text_columns_are_never_read():
    free_text = {"summary", "outcome_detail", "legal_basis", "evidence", "answer", "callback_contact",
                 "callback_facts", "ledger__problem", "ledger__measures", "ledger__responsible_person",
                 "evaluation__comment", "evaluation__evaluator_name", "evaluation__evaluator_phone",
                 "evaluation__receipt_code", "evaluation__idempotency_key", "assignee", "appeal__explanation"}
    assert not free_text & set(rules.CASE_SOURCE_FIELDS)
    assert not any("staff" in f or "assignee" in f or "comment" in f for f in rules.CASE_SOURCE_FIELDS)
