"""The calendar's pure rules at their edges (issue 18, item 7): the window of dates a year's arrangement may hold
(its lower bound, 1 December of the year before, and its upper bound), workday names, and package names that have
no Chinese translation or are too long for the table."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from haochaping.core import calendar_rules as rules


@pytest.mark.parametrize("day, accepted", [
    (date(2026, 11, 30), False),  # the day before the window
    (date(2026, 12, 1), True),    # its first day: a New Year holiday may start in December
    (date(2026, 12, 31), True),
    (date(2027, 12, 31), True),   # its last day
    (date(2028, 1, 1), False),
])
@pytest.mark.parametrize("field", ["holidays", "workdays"])
def test_the_window_of_a_years_arrangement(day, accepted, field):
    holidays, workdays = (f"{day.isoformat()} 元旦", "") if field == "holidays" else ("", f"{day.isoformat()} 调休")
    if accepted:
        assert [d.date for d in rules.parse_arrangement(2027, holidays, workdays)] == [day]
        return
    with pytest.raises(rules.ArrangementError) as caught:
        rules.parse_arrangement(2027, holidays, workdays)
    assert caught.value.field == field
    assert str(caught.value) == f"第1行的日期{day}不在2027年的安排范围内"


def test_a_holiday_stretch_crossing_the_lower_bound_names_the_line():
    with pytest.raises(rules.ArrangementError) as caught:
        rules.parse_arrangement(2027, "2027-01-01 元旦\n2026-11-29 至 2026-12-02 假期", "")
    assert str(caught.value) == "第2行的日期2026-11-29不在2027年的安排范围内"


def test_unnamed_days_get_a_default_name_and_names_are_cut_to_fifty():
    days = rules.parse_arrangement(2027, "2027-01-01\n2027-10-01 " + "国" * 60, "2027-02-06")
    assert [(d.date, d.is_workday, d.name) for d in days] == [
        (date(2027, 1, 1), False, "节假日"),
        (date(2027, 2, 6), True, "调休上班"),
        (date(2027, 10, 1), False, "国" * 50),
    ]
    assert rules.parse_arrangement(2027, "", "2027-02-06 " + "班" * 60)[0].name == "班" * 50


def test_package_names_without_translation_are_kept_and_cut_to_fifty():
    long = "X" * 60
    seeded = rules.package_exceptions({date(2024, 10, 1): "Unknown Day", date(2024, 10, 2): long},
                                      {date(2024, 10, 12): "Unknown Day", date(2024, 10, 13): long}, {}, [2024])
    assert [(d.date, d.is_workday, d.name) for d in seeded] == [
        (date(2024, 10, 1), False, "Unknown Day"),
        (date(2024, 10, 2), False, "X" * 50),
        (date(2024, 10, 12), True, "Unknown Day调休上班"),
        (date(2024, 10, 13), True, "X" * 50),
    ]
    assert rules.package_exceptions({date(2024, 10, 1): "A"}, {}, {"A": "甲" * 60}, [2024])[0].name == "甲" * 50


# --- exact messages and the remaining edges ---------------------------------------------------------------------


@pytest.mark.parametrize(("holidays", "workdays", "field", "message"), [
    ("元旦放三天", "", "holidays", "第1行无法识别，应写作“2027-01-01 至 2027-01-03 元旦”"),
    ("2027-01-01 元旦\n2027-02-30 春节", "", "holidays", "第2行的日期不存在：2027-02-30"),
    ("2027-01-01 至 2027-02-30 春节", "", "holidays", "第1行的日期不存在：2027-02-30"),
    ("2027-01-03 至 2027-01-01 元旦", "", "holidays", "第1行的结束日期早于开始日期"),
    ("2027-01-01 至 2027-01-16 春节", "", "holidays", "第1行的假期超过15天，请检查日期"),
    ("2027-01-01 元旦\n2027-01-01 元旦", "", "holidays", "第2行的日期2027-01-01重复出现"),
    ("", "2027-02-06\n春节调休", "workdays", "第2行无法识别，应写作“2027-02-06 春节调休上班”"),
    ("", "2027-02-06\n\n2027-02-31", "workdays", "第3行的日期不存在：2027-02-31"),
    ("2027-01-01 元旦", "2027-01-01 调休", "workdays", "第1行的日期2027-01-01已作为放假日期填写"),
])
def test_each_bad_line_is_named_exactly(holidays, workdays, field, message):
    with pytest.raises(rules.ArrangementError) as caught:
        rules.parse_arrangement(2027, holidays, workdays)
    assert (caught.value.field, str(caught.value)) == (field, message)


def test_a_fifteen_day_holiday_is_the_longest_accepted():
    assert rules.MAX_HOLIDAY_RUN == 15
    assert len(rules.parse_arrangement(2027, "2027-01-01 至 2027-01-15 春节", "")) == 15


def test_blank_lines_between_workdays_are_skipped_not_the_end():
    days = rules.parse_arrangement(2027, "", "2027-02-06 春节调休\n\n  \n2027-10-09 国庆调休")
    assert [d.date for d in days] == [date(2027, 2, 6), date(2027, 10, 9)]


def test_invalid_arguments_are_refused_with_their_message():
    with pytest.raises(ValueError, match=r"^n must be >= 0$"):
        rules.WorkCalendar().add(date(2027, 1, 4), -1)
    with pytest.raises(ValueError, match=r"^region code must be 6, 9 or 12 digits$"):
        rules.canonical_region_code("37010")


def test_module_functions_take_a_calendar_or_its_exceptions():
    holiday = {date(2027, 1, 4): False}  # a Monday off
    calendar = rules.WorkCalendar(holiday)
    for exceptions in (holiday, calendar):
        assert rules.is_workday(date(2027, 1, 4), exceptions) is False
        assert rules.is_workday(date(2027, 1, 5), exceptions) is True
        assert rules.next_workday_on_or_after(date(2027, 1, 2), exceptions) == date(2027, 1, 5)
        assert rules.add_working_days(date(2027, 1, 1), 1, exceptions) == date(2027, 1, 5)
        assert rules.working_days_between(date(2027, 1, 1), date(2027, 1, 8), exceptions) == 4


@pytest.mark.parametrize("n", [1, 2, 5, 7, 10, 22, 60, 250])
def test_adding_working_days_to_a_plain_week_matches_counting_them(n):
    start = date(2027, 3, 3)  # a Wednesday
    end = rules.WorkCalendar().add(start, n)
    assert rules.WorkCalendar().count(start, end) == n and end.weekday() < 5
    assert rules.WorkCalendar().count(start, end - timedelta(days=1)) == n - 1
