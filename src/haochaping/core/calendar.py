"""The one working-day calendar service every deadline in the system uses (R4.6).

Exceptions come from ``CalendarDay`` rows: national rows (empty region code), then each ancestor region's
rows, nearest last, so a county's override beats its city's, its province's and the nation's. Years without
a ``CalendarYear`` row have no published arrangement: days nobody entered count Monday–Friday, and a
warning is logged once per year per process (the admin shows it too).

Cache: the whole ``CalendarDay`` table is small (a few dozen rows a year, plus local overrides), so one
query loads it into a per-process snapshot that lives ``CACHE_SECONDS``. A save or delete in this process
(admin, services, or any ORM save, through the signals in ``core.receivers``) drops the snapshot at once and
again when its transaction commits; other processes pick the change up when their snapshot expires.
A calendar write that is rolled back may be seen by this process until the snapshot expires: such writes
are rare (an administrator's form) and the next expiry corrects it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction

from . import calendar_rules
from .calendar_rules import WorkCalendar

log = logging.getLogger(__name__)

CACHE_SECONDS = 60


@dataclass
class _Snapshot:
    loaded_at: float
    rows_by_code: dict[str, dict[date, bool]]
    published: frozenset[int]
    # Merged calendars per canonical region code, built on first use.
    calendars: dict[str, WorkCalendar] = field(default_factory=dict)


_lock = threading.Lock()
_snapshot: _Snapshot | None = None
# Bumped by every invalidation, so a load that raced with one is not kept.
_generation = 0
_warned_years: set[int] = set()


def invalidate() -> None:
    """Forget this process's calendar snapshot (and which fallback years were already logged, since
    the data they were about may have changed)."""
    global _snapshot, _generation
    with _lock:
        _snapshot = None
        _generation += 1
        _warned_years.clear()


def invalidate_on_commit() -> None:
    """Invalidate now (later reads in the same transaction see the change) and again after commit
    (a concurrent request in this process may have cached the old rows in between)."""
    invalidate()
    transaction.on_commit(invalidate)


def _load() -> _Snapshot:
    global _snapshot
    snap = _snapshot
    now = time.monotonic()
    if snap is not None and now - snap.loaded_at < CACHE_SECONDS:
        return snap
    from .models import CalendarDay, CalendarYear

    generation = _generation
    rows: dict[str, dict[date, bool]] = {}
    for code, day, workday in CalendarDay.objects.values_list("region_code", "date", "is_workday").iterator():
        rows.setdefault(code, {})[day] = workday
    published = frozenset(CalendarYear.objects.values_list("year", flat=True))
    fresh = _Snapshot(now, rows, published)
    with _lock:
        if generation == _generation:
            _snapshot = fresh
    return fresh


def calendar_for(region_code: str = "") -> WorkCalendar:
    """The merged working-day calendar of a region (national when empty)."""
    snap = _load()
    key = calendar_rules.canonical_region_code(region_code)
    found = snap.calendars.get(key)
    if found is not None:
        return found
    chain = calendar_rules.region_chain(key)
    overriding = [code for code in chain if code and code in snap.rows_by_code]
    if overriding:
        cal = WorkCalendar(calendar_rules.merge_chain(snap.rows_by_code, chain))
    else:
        # No override on the way down: share the national calendar instead of copying it per region.
        cal = snap.calendars.get("") or WorkCalendar(snap.rows_by_code.get("", {}))
        snap.calendars.setdefault("", cal)
    snap.calendars[key] = cal
    return cal


def exceptions_for(region_code: str = "") -> dict[date, bool]:
    """The merged exceptions (date → is_workday) that apply to a region."""
    return dict(calendar_for(region_code).exceptions)


def published_years() -> frozenset[int]:
    return _load().published


def is_fallback_year(year: int) -> bool:
    """True when no published arrangement was entered for ``year``: it counts Monday–Friday only."""
    return year not in published_years()


def fallback_years(years) -> list[int]:
    """Those of ``years`` without a published arrangement."""
    return calendar_rules.unpublished_years(years, published_years())


def _check_published(first: date, last: date) -> None:
    if first > last:
        first, last = last, first
    published = published_years()
    for year in range(first.year, last.year + 1):
        if year in published or year in _warned_years:
            continue
        with _lock:
            if year in _warned_years:
                continue
            _warned_years.add(year)
        log.warning(
            "no published holiday arrangement for %s: counting Monday-Friday except entered days "
            "until an administrator enters the State Council notice (admin: 已发布节假日安排的年份)",
            year,
        )


def is_workday(day: date, region_code: str = "") -> bool:
    _check_published(day, day)
    return calendar_for(region_code).is_workday(day)


def add_working_days(start: date, n: int, region_code: str = "") -> date:
    """``n`` working days after ``start`` on the region's calendar (``n == 0`` gives ``start``)."""
    result = calendar_for(region_code).add(start, n)
    _check_published(start, result)
    return result


def working_days_between(start: date, end: date, region_code: str = "") -> int:
    """Working days in (start, end] on the region's calendar; negative when end is before start."""
    _check_published(start, end)
    return calendar_for(region_code).count(start, end)


def next_workday_on_or_after(day: date, region_code: str = "") -> date:
    result = calendar_for(region_code).next_workday_on_or_after(day)
    _check_published(day, result)
    return result
