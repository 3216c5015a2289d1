"""The calendar's pure rules at their edges (issue 18, item 7): the window of dates a year's arrangement may hold
(its lower bound, 1 December of the year before, and its upper bound), workday names, and package names that have
no Chinese translation or are too long for the table."""

from __future__ import annotations

from datetime import date

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
