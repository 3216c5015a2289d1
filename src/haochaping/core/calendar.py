"""The one working-day calendar service every deadline in the system uses (R4.6).

Exceptions come from ``CalendarDay`` rows: national rows (empty region code), then each ancestor region's
rows, nearest last, so a county's override beats its province's and the nation's. Years without a
``CalendarYear`` row have no published arrangement: they fall back to Monday–Friday and a warning is logged.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import date

from . import calendar_rules

log = logging.getLogger(__name__)

# Cached per process; a change in the admin bumps the version in this process and every other process
# picks it up within CACHE_SECONDS.
CACHE_SECONDS = 60
_lock = threading.Lock()
_cache: dict[str, tuple[float, dict[date, bool]]] = {}
_published: tuple[float, frozenset[int]] | None = None
_warned_years: set[int] = set()


def invalidate() -> None:
    global _published
    with _lock:
        _cache.clear()
        _published = None


def _region_chain(region_code: str) -> list[str]:
    from haochaping.org.rules import region_prefix

    if not region_code:
        return [""]
    chain = [""]
    code = region_code
    prefix = region_prefix(code)
    # Ancestors by prefix: province (2), city (4), county (6), township (9), village (12).
    for length in (2, 4, 6, 9, 12):
        if length > len(prefix):
            break
        chain.append(prefix[:length].ljust(6, "0") if length <= 6 else prefix[:length])
    return list(dict.fromkeys(chain))


def exceptions_for(region_code: str = "") -> dict[date, bool]:
    now = time.monotonic()
    cached = _cache.get(region_code)
    if cached and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    from .models import CalendarDay

    chain = _region_chain(region_code)
    order = {code: n for n, code in enumerate(chain)}
    rows = sorted(
        CalendarDay.objects.filter(region_code__in=chain).values_list("region_code", "date", "is_workday"),
        key=lambda r: order[r[0]],
    )
    merged: dict[date, bool] = {}
    for _code, day, workday in rows:
        merged[day] = workday
    with _lock:
        _cache[region_code] = (now, merged)
    return merged


def published_years() -> frozenset[int]:
    global _published
    now = time.monotonic()
    if _published and now - _published[0] < CACHE_SECONDS:
        return _published[1]
    from .models import CalendarYear

    years = frozenset(CalendarYear.objects.values_list("year", flat=True))
    with _lock:
        _published = (now, years)
    return years


def _check_published(*days: date) -> None:
    years = published_years()
    for year in {d.year for d in days}:
        if year not in years and year not in _warned_years:
            _warned_years.add(year)
            log.warning(
                "no published holiday arrangement for %s: counting Monday-Friday only until an administrator enters it",
                year,
            )


def is_workday(day: date, region_code: str = "") -> bool:
    _check_published(day)
    return calendar_rules.is_workday(day, exceptions_for(region_code))


def add_working_days(start: date, n: int, region_code: str = "") -> date:
    """``n`` working days after ``start`` on the region's calendar."""
    result = calendar_rules.add_working_days(start, n, exceptions_for(region_code))
    _check_published(start, result)
    return result


def working_days_between(start: date, end: date, region_code: str = "") -> int:
    _check_published(start, end)
    return calendar_rules.working_days_between(start, end, exceptions_for(region_code))


def is_fallback_year(year: int) -> bool:
    return year not in published_years()
