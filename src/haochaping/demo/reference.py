"""The demo's reference data: the real regions it uses and the holiday calendar of the year it spans."""

from __future__ import annotations

from datetime import date

from haochaping.core import calendar
from haochaping.core.models import CalendarDay, CalendarYear
from haochaping.org.models import (
    Region,
)
from haochaping.org.rules import region_level

from . import data

# ---- reference data: regions and the holiday calendar --------------------------------------------------

def load_reference_data(today: date) -> None:
    """Regions (GB/T 2260) and the working-day calendar, through the apps' own loaders when they exist."""
    try:
        from haochaping.org.services import load_regions
    except ImportError:  # FALLBACK until org.services.load_regions exists: only the demo regions below
        load_regions = None
    if load_regions is not None:
        load_regions()
    _ensure_demo_regions()

    from haochaping.core import services as core_services

    # The calendar helper's service; the name it ships under has varied, so take either.
    seed_calendar = getattr(core_services, "seed_calendar", None) or getattr(core_services, "seed_national_calendar", None)
    if seed_calendar is not None:
        seed_calendar()
    else:
        _seed_calendar_fallback({today.year - 1, today.year})
    calendar.invalidate()


def _ensure_demo_regions() -> None:
    rows = [(*data.PROVINCE, None)] + [(c, n, data.PROVINCE[0]) for c, n in data.CITIES] + list(data.COUNTIES)
    for code, name, parent in rows:
        Region.objects.get_or_create(code=code, defaults={"name": name, "level": region_level(code), "parent_id": parent})


def _seed_calendar_fallback(years: set[int]) -> None:
    """National holidays and 调休 workdays from chinese-calendar, only where they differ from Mon–Fri."""
    from chinese_calendar import constants

    known_years = {d.year for d in constants.holidays} | {d.year for d in constants.workdays}
    days = [
        CalendarDay(region_code="", date=d, is_workday=False, name=str(n), source=CalendarDay.Source.SEED)
        for d, n in constants.holidays.items() if d.year in years and d.weekday() < 5
    ] + [
        CalendarDay(region_code="", date=d, is_workday=True, name=str(n), source=CalendarDay.Source.SEED)
        for d, n in constants.workdays.items() if d.year in years and d.weekday() >= 5
    ]
    CalendarDay.objects.bulk_create(days, ignore_conflicts=True)
    CalendarYear.objects.bulk_create(
        [CalendarYear(year=y, source=CalendarDay.Source.SEED) for y in sorted(years & known_years)], ignore_conflicts=True
    )
