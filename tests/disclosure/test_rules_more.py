"""More portal rules (issue 18, item 7): the first day of a month as "today", the open-data cell of every value type
(``False``, ``0.0``, ints, long fractions), page-number bounds, and every column of a published case."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from haochaping.core.problems import DomainError
from haochaping.disclosure import rules

from .test_rules import row

# --- the period on the first day of a month -----------------------------------------------------------------------


def test_on_the_first_of_a_month_that_month_is_open_and_has_one_day():
    today = date(2025, 4, 1)
    period = rules.parse_period("2025-04", today)
    assert (period.start, period.end, period.label, period.value) == (today, today, "2025年4月", "2025-04")
    with pytest.raises(DomainError) as exc:
        rules.parse_period("2025-05", today)
    assert exc.value.field == "period" and "尚未开始" in exc.value.detail


def test_on_the_first_of_january_the_year_is_open_and_the_next_is_not():
    today = date(2026, 1, 1)
    assert rules.parse_period("2026", today).end == today
    assert rules.parse_period("2025", today).end == date(2025, 12, 31)
    with pytest.raises(DomainError):
        rules.parse_period("2027", today)


@pytest.mark.parametrize("today, start", [
    (date(2025, 4, 1), date(2024, 5, 1)), (date(2025, 11, 30), date(2024, 12, 1)),
    (date(2025, 12, 31), date(2025, 1, 1)), (date(2026, 1, 1), date(2025, 2, 1)),
])
def test_last_twelve_months_start_on_the_first_of_a_month(today, start):
    period = rules.last_twelve_months(today)
    assert (period.value, period.start, period.end, period.label) == ("", start, today, "近12个月")


def test_the_first_year_of_the_regime_is_the_earliest():
    assert rules.parse_period("2019", date(2025, 3, 15)).start == date(2019, 1, 1)
    assert rules.parse_period("2019-01", date(2025, 3, 15)).label == "2019年1月"
    with pytest.raises(DomainError):
        rules.parse_period("2018-12", date(2025, 3, 15))


def test_period_choices_count_back_across_a_year():
    choices = rules.period_choices(date(2025, 2, 10), months=3)
    assert choices == [("", "近12个月"), *[(str(y), f"{y}年") for y in range(2025, 2018, -1)],
                       ("2025-02", "2025年2月"), ("2025-01", "2025年1月"), ("2024-12", "2024年12月")]
    assert len(rules.period_choices(date(2025, 2, 10))) == 1 + 7 + 24


# --- page numbers ---------------------------------------------------------------------------------------------------


def test_page_numbers_up_to_six_digits():
    assert rules.page_number(None) == 1 and rules.page_number("  ") == 1 and rules.page_number(" 7 ") == 7
    assert rules.page_number("1") == 1 and rules.page_number("999999") == 999999
    for value in ("1000000", "0", "00", "+1", "١", "²"):
        with pytest.raises(DomainError) as exc:
            rules.page_number(value)
        assert exc.value.field == "page" and exc.value.detail == "页码应为正整数"


# --- open-data cells ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, cell", [
    (None, ""), (False, "false"), (True, "true"), (0, "0"), (0.0, "0"), (-0.0, "0"), (1.0, "1"), (0.5, "0.5"),
    (0.1234567, "0.123457"), (0.1000001, "0.1"), (12, "12"), (87.5, "87.5"), (100.0, "100"), (1e-7, "0"),
    (date(2025, 1, 2), "2025-01-02"), (datetime(2025, 1, 2, 3, 4), "2025-01-02T03:04:00"), ("差评", "差评"),
])
def test_csv_cells(value, cell):
    assert rules.csv_value(value) == cell


def test_percent_and_score():
    assert rules.percent(0.0) == "0.0%" and rules.percent(1) == "100.0%" and rules.percent(0.00049) == "0.0%"
    assert rules.score(87.55, 2) == "87.55" and rules.score(0.0) == "0.0" and rules.score(None, 2) == "—"


# --- every column of a published case -------------------------------------------------------------------------------


def publish(r, *, handled_on=date(2025, 3, 3), closed_on=date(2025, 3, 4), labels=(("110", "超时"), ("111", "态度差"))):
    return rules.public_case(r, labels=list(labels), level_text="非常不满意", opened_on=date(2025, 3, 1),
                             handled_on=handled_on, closed_on=closed_on)


def test_every_column_of_a_published_case():
    assert publish(row(pk=1234567)) == {
        "case_no": "1234567", "kind": "bad_review", "kind_text": "差评", "region_code": "370102",
        "region_name": "历下区", "department_code": "X" * 18, "department_name": "市场监管局",
        "agency_name": "政务服务中心", "item_code": "C1", "item_name": "事项", "level": 1,
        "level_text": "非常不满意", "labels": "110 超时；111 态度差", "opened_on": date(2025, 3, 1),
        "called_back": True, "outcome": "fixed_now", "outcome_text": "立行立改", "handling_due": date(2025, 3, 7),
        "handled_on": date(2025, 3, 3), "on_time": True, "state": "closed", "state_text": "已办结",
        "closed_on": date(2025, 3, 4),
    }


def test_a_complaint_without_evaluation_agency_or_callback():
    out = publish(row(kind="complaint", evaluation_id=None, evaluation__level=None, evaluation__item__name=None,
                      evaluation__item__implementation_code=None, record__item__implementation_code="R9",
                      record__item__name="办件事项", agency__name=None, callback_at=None, outcome=None,
                      state="open", handled_at=None), handled_on=None, closed_on=None, labels=())
    assert (out["kind_text"], out["item_code"], out["item_name"], out["agency_name"], out["level"]) == (
        "投诉", "R9", "办件事项", "", None)
    assert (out["called_back"], out["outcome"], out["outcome_text"], out["labels"]) == (False, "", "尚未确定", "")
    assert (out["handled_on"], out["on_time"], out["state_text"], out["closed_on"]) == (None, None, "待回访核实", None)
    assert out["handling_due"] == date(2025, 3, 7)


def test_no_item_at_all_and_unknown_codes_are_shown_as_they_are():
    out = publish(row(kind="other_kind", state="other_state", evaluation__item__implementation_code=None,
                      evaluation__item__name=None))
    assert (out["item_code"], out["item_name"]) == ("", "")
    assert (out["kind_text"], out["state_text"]) == ("other_kind", "other_state")


def test_handled_on_the_due_day_is_on_time():
    assert publish(row(), handled_on=date(2025, 3, 7))["on_time"] is True
    assert publish(row(), handled_on=date(2025, 3, 8))["on_time"] is False


def test_an_upheld_appeal_keeps_the_facts_but_not_the_handling():
    out = publish(row(appeal__state="upheld", outcome="mistaken"))
    assert (out["outcome"], out["handling_due"], out["handled_on"], out["on_time"]) == (
        "appeal_upheld", None, None, None)
    assert publish(row(appeal__state="rejected", outcome="mistaken"))["outcome_text"] == "误评"


def test_deadline_cases_follow_the_ledger_only_up_to_the_rectify_due_date_unless_extended():
    due = date(2025, 3, 21)
    assert rules.handling_due(row(outcome="deadline", ledger__deadline=due)) == due  # the same day counts
    assert rules.handling_due(row(outcome="deadline")) == due  # no 台账 yet


@pytest.mark.parametrize("value, detail", [
    ("2024-1", "统计期间格式不正确，应为年份（如2024）或年月（如2024-03）"),
    ("2024-13", "统计期间的月份应为01至12"),
    ("2025-04", "所选统计期间尚未开始"),
    ("2018", "统计期间不能早于2019年"),
])
def test_period_messages_exactly(value, detail):
    with pytest.raises(DomainError) as exc:
        rules.parse_period(value, date(2025, 3, 15))
    assert (exc.value.field, exc.value.detail) == ("period", detail)
