"""Working-day arithmetic on the Chinese calendar, as pure functions (R4.6).

A calendar is: the Monday–Friday week, changed by ``exceptions`` (date → is_workday) for holidays and
调休 make-up workdays. Deadlines count whole working days after the start day: a case opened on a Friday
with a 1-working-day callback deadline is due the next Monday (or later, across a holiday).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

ONE_DAY = timedelta(days=1)
# Longest run of consecutive non-working days we accept before suspecting broken data (Spring Festival is 8–9).
MAX_GAP_DAYS = 60


def is_workday(day: date, exceptions: Mapping[date, bool]) -> bool:
    found = exceptions.get(day)
    if found is not None:
        return found
    return day.weekday() < 5


def add_working_days(start: date, n: int, exceptions: Mapping[date, bool]) -> date:
    """The date that is ``n`` working days after ``start`` (``n == 0`` gives ``start`` itself)."""
    if n < 0:
        raise ValueError("n must be >= 0")
    day = start
    remaining = n
    gap = 0
    while remaining:
        day += ONE_DAY
        if is_workday(day, exceptions):
            remaining -= 1
            gap = 0
        else:
            gap += 1
            if gap > MAX_GAP_DAYS:
                raise ValueError("calendar has no working day for more than 60 days")
    return day


def working_days_between(start: date, end: date, exceptions: Mapping[date, bool]) -> int:
    """Working days in (start, end]; negative when end is before start."""
    if end < start:
        return -working_days_between(end, start, exceptions)
    count = 0
    day = start
    while day < end:
        day += ONE_DAY
        if is_workday(day, exceptions):
            count += 1
    return count


def next_workday_on_or_after(day: date, exceptions: Mapping[date, bool]) -> date:
    while not is_workday(day, exceptions):
        day += ONE_DAY
    return day
