"""The calendar service on a real database: seeding from chinese-calendar, real holidays, the fallback for
years without a published arrangement, regional overrides and the cache (R4.6)."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import chinese_calendar
import pytest
from chinese_calendar import constants

from haochaping.core import calendar, services
from haochaping.core.models import AuditEntry, CalendarDay, CalendarYear
from haochaping.core.problems import DomainError

pytestmark = pytest.mark.django_db
LAST_PACKAGE_YEAR = max(constants.holidays).year


@pytest.fixture
def seeded(db):
    return services.seed_national_calendar(2019)


def fallback_warnings(caplog, year: int) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records
        if r.name == "haochaping.core.calendar" and r.levelno == logging.WARNING and str(year) in r.getMessage()
    ]


# --- Seeding -------------------------------------------------------------------------------------------


def test_the_package_is_asked_which_years_it_knows():
    years = services.package_years()
    assert years == list(range(years[0], years[-1] + 1))
    assert years[-1] == LAST_PACKAGE_YEAR
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(years[-1] + 1, 6, 1))


def test_seeding_writes_the_exceptions_and_marks_the_years(seeded):
    assert seeded.years == list(range(2019, LAST_PACKAGE_YEAR + 1))
    assert set(CalendarYear.objects.values_list("year", flat=True)) == set(seeded.years)
    national_day = CalendarDay.objects.get(region_code="", date=date(2024, 10, 1))
    assert (national_day.is_workday, national_day.name, national_day.source) == (False, "国庆节", "seed")
    make_up = CalendarDay.objects.get(region_code="", date=date(2024, 10, 12))
    assert (make_up.is_workday, make_up.name) == (True, "国庆节调休上班")
    # Only real exceptions are stored: no weekend holidays, no weekday workdays.
    assert not CalendarDay.objects.filter(date=date(2024, 10, 5)).exists()
    for row in CalendarDay.objects.all():
        assert row.is_workday == (row.date.weekday() >= 5)
    assert seeded.created == CalendarDay.objects.count()
    assert AuditEntry.objects.filter(action="calendar.seed").count() == 1


def test_seeding_again_changes_nothing(seeded):
    before = list(CalendarDay.objects.values_list("date", "is_workday", "name", "source").order_by("date"))
    again = services.seed_national_calendar(2019)
    assert (again.created, again.updated, again.deleted, again.years_created) == (0, 0, 0, [])
    assert list(CalendarDay.objects.values_list("date", "is_workday", "name", "source").order_by("date")) == before
    assert AuditEntry.objects.filter(action="calendar.seed").count() == 1


def test_seeding_never_overwrites_an_administrator(seeded):
    CalendarDay.objects.filter(date=date(2024, 10, 1)).delete()
    services.save_calendar_day(
        CalendarDay(date=date(2024, 10, 1), is_workday=True, name="本地不放假（测试）"), actor="admin"
    )
    CalendarYear.objects.filter(year=2024).update(source="admin", note="管理员核对")
    stale = CalendarDay.objects.create(date=date(2024, 3, 5), is_workday=False, name="旧数据", source="seed")
    result = services.seed_national_calendar(2019)
    assert result.kept_admin == 1
    kept = CalendarDay.objects.get(region_code="", date=date(2024, 10, 1))
    assert (kept.is_workday, kept.source) == (True, "admin")
    assert CalendarYear.objects.get(year=2024).note == "管理员核对"
    # A seed row the package does not know (a corrected date) goes.
    assert not CalendarDay.objects.filter(pk=stale.pk).exists()


def test_seeding_from_a_later_year_leaves_earlier_years_alone(db):
    services.seed_national_calendar(2025)
    assert CalendarDay.objects.filter(date__year__lt=2025).count() == 0
    assert calendar.is_fallback_year(2024)
    assert not calendar.is_fallback_year(2025)


# --- Real holidays -------------------------------------------------------------------------------------


def test_national_day_2024(seeded):
    assert calendar.add_working_days(date(2024, 9, 30), 1) == date(2024, 10, 8)
    # Saturday 12 October 2024 was a make-up workday: Friday + 1 lands on it.
    assert calendar.add_working_days(date(2024, 10, 11), 1) == date(2024, 10, 12)
    assert calendar.is_workday(date(2024, 10, 12))
    # 29 Sep (Sun, make-up), 30 Sep, 8–11 Oct, 12 Oct (Sat, make-up), 14 Oct.
    assert calendar.working_days_between(date(2024, 9, 27), date(2024, 10, 14)) == 8


def test_spring_festival_2025(seeded):
    # 28 Jan – 4 Feb 2025 off; Sunday 26 Jan and Saturday 8 Feb worked.
    assert calendar.add_working_days(date(2025, 1, 24), 1) == date(2025, 1, 26)
    assert calendar.add_working_days(date(2025, 1, 27), 1) == date(2025, 2, 5)
    assert calendar.add_working_days(date(2025, 1, 27), 4) == date(2025, 2, 8)
    assert calendar.add_working_days(date(2025, 1, 27), 15) == date(2025, 2, 24)


def test_every_deadline_agrees_with_chinese_calendar(seeded):
    """Oracle: step day by day with the package's own is_workday."""

    def oracle(start: date, n: int) -> date:
        day = start
        while n:
            day += timedelta(days=1)
            n -= chinese_calendar.is_workday(day)
        return day

    day = date(2023, 1, 1)
    while day < date(2025, 12, 1):
        for n in (1, 5, 15):
            assert calendar.add_working_days(day, n) == oracle(day, n), (day, n)
        day += timedelta(days=1)


# --- Years without a published arrangement -------------------------------------------------------------


def test_a_year_without_a_notice_counts_monday_to_friday_and_says_so(seeded, caplog):
    caplog.set_level(logging.WARNING, logger="haochaping.core.calendar")
    first_unknown = LAST_PACKAGE_YEAR + 1
    assert calendar.is_fallback_year(first_unknown)
    start = date(first_unknown, 1, 1) - timedelta(days=2)

    def is_work(day: date) -> bool:  # the package where it knows, plain Monday–Friday after
        return chinese_calendar.is_workday(day) if day.year <= LAST_PACKAGE_YEAR else day.weekday() < 5

    expected, n = start, 3
    while n:
        expected += timedelta(days=1)
        n -= is_work(expected)
    assert calendar.add_working_days(start, 3) == expected
    calendar.add_working_days(start, 5)
    assert len(fallback_warnings(caplog, first_unknown)) == 1  # once per year per process


def test_2027_until_the_administrator_enters_it(seeded, caplog):
    caplog.set_level(logging.WARNING, logger="haochaping.core.calendar")
    assert calendar.is_fallback_year(2027)
    # 31 Dec 2026 (Thu) + 1: Friday 1 Jan 2027 counts as a working day while nothing is entered.
    assert calendar.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 1)
    assert fallback_warnings(caplog, 2027)

    CalendarYear.objects.create(year=2027, note="国务院办公厅关于2027年部分节假日安排的通知")
    CalendarDay.objects.create(date=date(2027, 1, 1), is_workday=False, name="元旦")
    caplog.clear()
    assert not calendar.is_fallback_year(2027)
    assert calendar.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert not fallback_warnings(caplog, 2027)


def test_a_whole_year_entered_at_once(seeded):
    marked = services.enter_year_arrangement(
        2027,
        holidays_text="2027-01-01 至 2027-01-03 元旦\n2027-02-06 至 2027-02-12 春节",
        workdays_text="2027-02-13 春节调休上班",
        note="国务院办公厅关于2027年部分节假日安排的通知",
        actor="admin",
    )
    assert marked.year == 2027 and marked.source == "admin"
    assert not calendar.is_fallback_year(2027)
    assert calendar.add_working_days(date(2027, 2, 5), 1) == date(2027, 2, 13)
    assert CalendarDay.objects.filter(date__year=2027, source="admin").count() == 11
    assert AuditEntry.objects.filter(action="calendar.year.enter", object_id="2027").exists()
    # Entering it again replaces the year's national rows instead of piling them up.
    services.enter_year_arrangement(2027, holidays_text="2027-01-01 元旦", workdays_text="", note="更正", actor="admin")
    assert list(CalendarDay.objects.filter(date__year=2027).values_list("date", flat=True)) == [date(2027, 1, 1)]


def test_a_bad_year_entry_names_the_field_and_writes_nothing(seeded):
    with pytest.raises(DomainError) as caught:
        services.enter_year_arrangement(
            2027, holidays_text="2027-01-01 元旦", workdays_text="2027-13-01 调休", note="x", actor="admin"
        )
    assert caught.value.field == "workdays" and "第1行" in caught.value.detail
    with pytest.raises(DomainError) as caught:
        services.enter_year_arrangement(2027, holidays_text="", workdays_text="", note="x", actor="admin")
    assert caught.value.field == "holidays"
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert not CalendarDay.objects.filter(date__year=2027).exists()


# --- Regions -------------------------------------------------------------------------------------------


def test_the_nearest_region_wins(seeded):
    monday = date(2024, 5, 6)  # an ordinary Monday nationally
    CalendarDay.objects.create(region_code="370000", date=monday, is_workday=False, name="全省假日（测试）")
    CalendarDay.objects.create(region_code="370102", date=monday, is_workday=True, name="本区照常上班（测试）")
    friday = date(2024, 5, 3)  # national Labour Day holiday; Saturday 4 May is off
    assert calendar.add_working_days(friday, 1) == monday
    assert calendar.add_working_days(friday, 1, "370000") == date(2024, 5, 7)
    assert calendar.add_working_days(friday, 1, "370100") == date(2024, 5, 7)  # city inherits the province
    assert calendar.add_working_days(friday, 1, "370103") == date(2024, 5, 7)  # sibling county too
    assert calendar.add_working_days(friday, 1, "370102") == monday  # the county's own row wins
    assert calendar.add_working_days(friday, 1, "370102001") == monday  # and its subtree inherits it
    assert calendar.add_working_days(friday, 1, "370102001002") == monday
    assert calendar.add_working_days(friday, 1, "440300") == monday  # other provinces are untouched


def test_a_county_holiday_moves_only_its_deadlines(seeded):
    CalendarDay.objects.create(region_code="370102000000", date=date(2024, 10, 8), is_workday=False, name="地方假日")
    assert CalendarDay.objects.get(name="地方假日").region_code == "370102"  # stored in one spelling
    assert calendar.add_working_days(date(2024, 9, 30), 1, "370102") == date(2024, 10, 9)
    assert calendar.add_working_days(date(2024, 9, 30), 1, "370102000000") == date(2024, 10, 9)
    assert calendar.add_working_days(date(2024, 9, 30), 1, "370103") == date(2024, 10, 8)


# --- Cache ---------------------------------------------------------------------------------------------


def test_saving_or_deleting_a_day_takes_effect_at_once(seeded):
    assert calendar.add_working_days(date(2024, 3, 8), 1) == date(2024, 3, 11)
    row = CalendarDay.objects.create(date=date(2024, 3, 11), is_workday=False, name="临时假日")
    assert calendar.add_working_days(date(2024, 3, 8), 1) == date(2024, 3, 12)
    row.is_workday = True
    row.save()
    assert calendar.add_working_days(date(2024, 3, 8), 1) == date(2024, 3, 11)
    CalendarDay.objects.filter(pk=row.pk).delete()
    assert not calendar.exceptions_for("").get(date(2024, 3, 11))
    CalendarYear.objects.filter(year=2024).delete()
    assert calendar.is_fallback_year(2024)


def test_other_processes_see_a_change_within_cache_seconds(seeded, monkeypatch):
    assert calendar.add_working_days(date(2024, 3, 8), 1) == date(2024, 3, 11)
    # A write this process did not see (another process's): bulk writes send no signals.
    CalendarDay.objects.bulk_create([CalendarDay(date=date(2024, 3, 11), is_workday=False, name="他处录入")])
    assert calendar.add_working_days(date(2024, 3, 8), 1) == date(2024, 3, 11)  # still the cached snapshot
    later = calendar.time.monotonic() + calendar.CACHE_SECONDS + 1
    monkeypatch.setattr(calendar.time, "monotonic", lambda: later)
    assert calendar.add_working_days(date(2024, 3, 8), 1) == date(2024, 3, 12)


def test_the_calendar_is_loaded_once_not_per_deadline(seeded, django_assert_max_num_queries):
    calendar.add_working_days(date(2024, 1, 2), 1)
    with django_assert_max_num_queries(0):
        for region in ("", "370102", "370103", "440300"):
            for n in range(30):
                calendar.add_working_days(date(2024, 9, 1) + timedelta(days=n), n, region)


def test_a_bad_region_code_is_an_error_not_the_national_calendar(seeded):
    with pytest.raises(ValueError):
        calendar.add_working_days(date(2024, 1, 2), 1, "37")
