"""Properties of the pure working-day arithmetic (R4.6), checked against a day-by-day reference."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haochaping.core import calendar_rules as rules

WINDOW_START, WINDOW_END = date(2024, 1, 1), date(2025, 6, 30)
days = st.dates(min_value=WINDOW_START, max_value=WINDOW_END)
# Dense exceptions in the same window, so holidays and make-up days actually meet the deadlines tried.
exception_maps = st.dictionaries(days, st.booleans(), max_size=80)
counts = st.integers(min_value=0, max_value=60)


def reference_is_workday(day: date, exceptions) -> bool:
    return exceptions[day] if day in exceptions else day.weekday() < 5


def reference_add(start: date, n: int, exceptions) -> date:
    day = start
    while n:
        day += timedelta(days=1)
        if reference_is_workday(day, exceptions):
            n -= 1
    return day


def reference_between(start: date, end: date, exceptions) -> int:
    sign = 1
    if end < start:
        start, end, sign = end, start, -1
    total = sum(reference_is_workday(start + timedelta(days=k), exceptions) for k in range(1, (end - start).days + 1))
    return sign * total


@given(days, counts, exception_maps)
def test_add_matches_the_day_by_day_definition(start, n, exceptions):
    assert rules.add_working_days(start, n, exceptions) == reference_add(start, n, exceptions)


@given(days, days, exception_maps)
def test_between_matches_the_day_by_day_definition(start, end, exceptions):
    assert rules.working_days_between(start, end, exceptions) == reference_between(start, end, exceptions)


@given(days, st.integers(min_value=1, max_value=60), exception_maps)
def test_a_deadline_is_always_a_working_day(start, n, exceptions):
    due = rules.add_working_days(start, n, exceptions)
    assert due > start
    assert rules.is_workday(due, exceptions)


@given(days, counts, exception_maps)
def test_counting_back_gives_n(start, n, exceptions):
    due = rules.add_working_days(start, n, exceptions)
    assert rules.working_days_between(start, due, exceptions) == n
    assert rules.working_days_between(due, start, exceptions) == -n


@given(days, counts, exception_maps)
def test_one_more_working_day_is_strictly_later(start, n, exceptions):
    assert rules.add_working_days(start, n + 1, exceptions) > rules.add_working_days(start, n, exceptions)


@given(days, exception_maps)
def test_zero_working_days_is_the_start_day_even_on_a_holiday(start, exceptions):
    assert rules.add_working_days(start, 0, exceptions) == start


@given(days, counts, exception_maps, days)
def test_declaring_a_holiday_never_brings_a_deadline_forward(start, n, exceptions, holiday):
    before = rules.add_working_days(start, n, exceptions)
    after = rules.add_working_days(start, n, {**exceptions, holiday: False})
    assert after >= before
    if start < holiday <= before and rules.is_workday(holiday, exceptions) and n > 0:
        # A working day inside the period was taken away: the deadline moves out.
        assert after > before


@given(days, counts, exception_maps, days)
def test_a_weekend_make_up_day_counts_as_a_working_day(start, n, exceptions, day):
    weekend = day + timedelta(days=(5 - day.weekday()) % 7)  # the Saturday on or after ``day``
    plain = {d: w for d, w in exceptions.items() if d != weekend}
    made_up = {**plain, weekend: True}
    assert rules.is_workday(weekend, made_up) and not rules.is_workday(weekend, plain)
    assert rules.add_working_days(start, n, made_up) <= rules.add_working_days(start, n, plain)
    if start < weekend:
        assert rules.working_days_between(start, weekend, made_up) == rules.working_days_between(start, weekend, plain) + 1


@given(days, exception_maps)
def test_next_workday_on_or_after(day, exceptions):
    found = rules.next_workday_on_or_after(day, exceptions)
    assert rules.is_workday(found, exceptions)
    assert all(not rules.is_workday(day + timedelta(days=k), exceptions) for k in range((found - day).days))


@given(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 24)), st.integers(min_value=0, max_value=21))
def test_monday_to_friday_count_is_arithmetic(start, span):
    end = start + timedelta(days=span)
    assert rules.weekdays_between(start, end) == reference_between(start, end, {})


def test_long_spans_are_cheap_and_exact():
    # A year of statistics: 2024 had 262 Monday–Friday days after 1 January (leap year, starts Monday).
    assert rules.working_days_between(date(2024, 1, 1), date(2024, 12, 31), {}) == 261
    assert rules.add_working_days(date(2024, 1, 1), 261, {}) == date(2024, 12, 31)


def test_negative_n_is_refused():
    with pytest.raises(ValueError):
        rules.add_working_days(date(2024, 1, 1), -1, {})


def test_friday_plus_one_is_monday():
    assert rules.add_working_days(date(2024, 3, 8), 1, {}) == date(2024, 3, 11)


# --- Regions ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "chain"),
    [
        ("", ("",)),
        ("370000", ("", "370000")),
        ("370100", ("", "370000", "370100")),
        ("370102", ("", "370000", "370100", "370102")),
        ("370102000000", ("", "370000", "370100", "370102")),
        ("370102001", ("", "370000", "370100", "370102", "370102001")),
        ("370102001000", ("", "370000", "370100", "370102", "370102001")),
        ("370102001002", ("", "370000", "370100", "370102", "370102001", "370102001002")),
        ("110101", ("", "110000", "110100", "110101")),
    ],
)
def test_region_chain_runs_from_the_nation_to_the_region(code, chain):
    assert rules.region_chain(code) == chain


@pytest.mark.parametrize("bad", ["37010", "3701021", "37a102", "3701020010001"])
def test_bad_region_codes_are_refused(bad):
    with pytest.raises(ValueError):
        rules.canonical_region_code(bad)


def _significant(member: str) -> str:
    if len(member) == 6 and member.endswith("0000"):
        return member[:2]
    if len(member) == 6 and member.endswith("00"):
        return member[:4]
    return member


@given(st.from_regex(r"\A(\d{6}|\d{9}|\d{12})\Z"))
def test_every_chain_member_is_an_ancestor(code):
    chain = rules.region_chain(code)
    assert chain[0] == "" and chain[-1] == rules.canonical_region_code(code)
    assert len(set(chain)) == len(chain)
    for member in chain[1:]:
        assert code.ljust(12, "0").startswith(_significant(member))
        assert rules.canonical_region_code(member) == member


def test_nearest_region_wins_when_merging():
    d = date(2024, 5, 6)
    rows = {"": {d: True}, "370000": {d: False}, "370102": {d: True}}
    assert rules.merge_chain(rows, rules.region_chain("370102"))[d] is True
    assert rules.merge_chain(rows, rules.region_chain("370103"))[d] is False
    assert rules.merge_chain(rows, rules.region_chain("440000"))[d] is True


# --- Package data, notices and entered arrangements ---------------------------------------------------


def test_package_exceptions_keep_only_days_that_change_the_week():
    holidays = {
        date(2024, 10, 1): "National Day",  # Tuesday: an exception
        date(2024, 10, 5): "National Day",  # Saturday: off anyway, left out
        date(2023, 10, 2): "National Day",  # another year, left out
    }
    workdays = {date(2024, 10, 12): "National Day", date(2024, 10, 11): "National Day"}  # Sat counts; Fri does not
    seeded = rules.package_exceptions(holidays, workdays, {"National Day": "国庆节"}, [2024])
    assert [(d.date, d.is_workday, d.name) for d in seeded] == [
        (date(2024, 10, 1), False, "国庆节"),
        (date(2024, 10, 12), True, "国庆节调休上班"),
    ]


def test_fallback_notice_names_each_year():
    assert rules.fallback_notice([2027, 2028]) == "2027年、2028年尚未录入国务院节假日安排，期限暂按周一至周五计算"
    assert rules.fallback_notice([]) == ""
    assert list(rules.years_to_watch(date(2026, 12, 15))) == [2026, 2027, 2028]
    assert rules.unpublished_years([2026, 2027, 2028], [2026, 2028]) == [2027]


def test_an_arrangement_is_read_from_typed_lines():
    days = rules.parse_arrangement(
        2027,
        "2027-01-01 至 2027-01-03 元旦\n\n2027年2月10日～2027年2月12日 春节\n2027/04/05 清明节",
        "2027-02-06 春节调休上班\n",
    )
    assert [(d.date.isoformat(), d.is_workday, d.name) for d in days] == [
        ("2027-01-01", False, "元旦"),
        ("2027-01-02", False, "元旦"),
        ("2027-01-03", False, "元旦"),
        ("2027-02-06", True, "春节调休上班"),
        ("2027-02-10", False, "春节"),
        ("2027-02-11", False, "春节"),
        ("2027-02-12", False, "春节"),
        ("2027-04-05", False, "清明节"),
    ]


@pytest.mark.parametrize(
    ("holidays", "workdays", "field", "message"),
    [
        ("元旦放三天", "", "holidays", "第1行无法识别"),
        ("2027-01-01 元旦\n2027-02-30 春节", "", "holidays", "第2行的日期不存在"),
        ("2027-01-03 至 2027-01-01 元旦", "", "holidays", "结束日期早于开始日期"),
        ("2027-01-01 至 2027-03-01 春节", "", "holidays", "超过15天"),
        ("2028-01-01 元旦", "", "holidays", "不在2027年"),
        ("2027-01-01 元旦", "2027-01-01 调休", "workdays", "已作为放假日期填写"),
        ("2027-01-01 元旦\n2027-01-01 元旦", "", "holidays", "重复出现"),
    ],
)
def test_a_bad_arrangement_line_is_named(holidays, workdays, field, message):
    with pytest.raises(rules.ArrangementError) as caught:
        rules.parse_arrangement(2027, holidays, workdays)
    assert caught.value.field == field
    assert message in str(caught.value)


@given(st.integers(min_value=2001, max_value=2099), st.integers(min_value=0, max_value=364))
def test_new_year_eve_of_previous_year_is_accepted(year, offset):
    first = date(year, 1, 1) + timedelta(days=offset)
    days = rules.parse_arrangement(year, f"{date(year - 1, 12, 31).isoformat()} 元旦\n{first.isoformat()} 节日", "")
    assert [d.date for d in days] == [date(year - 1, 12, 31), first]
