"""Working-day arithmetic on the Chinese calendar, as pure functions (R4.6).

A calendar is: the Monday–Friday week, changed by ``exceptions`` (date → is_workday) for holidays and
调休 make-up workdays. Deadlines count whole working days after the start day: a case opened on a Friday
with a 1-working-day callback deadline is due the next Monday (or later, across a holiday).

``WorkCalendar`` answers in O(log E) for E exceptions, whatever the span: the Monday–Friday count is
arithmetic and the exceptions are a sorted list with prefix sums. Statistics that measure long spans
(overdue days over a year, say) therefore cost the same as a one-day callback deadline.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate

from django.utils.translation import gettext as _

ONE_DAY = timedelta(days=1)
# A single holiday stretch longer than this in an entered arrangement is a typing mistake (Spring Festival is 8–9).
MAX_HOLIDAY_RUN = 15


def weekdays_through(day: date) -> int:
    """Monday–Friday days from 0001-01-01 (a Monday, ordinal 1) through ``day``."""
    ordinal = day.toordinal()
    return ordinal // 7 * 5 + min(ordinal % 7, 5)


def weekdays_between(start: date, end: date) -> int:
    """Monday–Friday days in (start, end]; negative when end is before start."""
    return weekdays_through(end) - weekdays_through(start)


class WorkCalendar:
    """An immutable working-day calendar: Monday–Friday, changed by ``exceptions``."""

    __slots__ = ("_exceptions", "_dates", "_prefix")

    def __init__(self, exceptions: Mapping[date, bool] | None = None):
        self._exceptions: dict[date, bool] = dict(exceptions or {})
        # Only entries that change the Monday–Friday answer move a count: +1 for a weekend workday,
        # -1 for a weekday holiday. A weekday marked "workday" (harmless, but admins do it) is ignored.
        deltas = sorted(
            (day, 1 if workday else -1)
            for day, workday in self._exceptions.items()
            if bool(workday) != (day.weekday() < 5)
        )
        self._dates = [day for day, _ in deltas]
        self._prefix = list(accumulate((delta for _, delta in deltas), initial=0))

    @property
    def exceptions(self) -> Mapping[date, bool]:
        return self._exceptions

    def is_workday(self, day: date) -> bool:
        return is_workday(day, self._exceptions)

    def count(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.count(end, start)
        shift = self._prefix[bisect_right(self._dates, end)] - self._prefix[bisect_right(self._dates, start)]
        return weekdays_between(start, end) + shift

    def add(self, start: date, n: int) -> date:
        """The date that is ``n`` working days after ``start`` (``n == 0`` gives ``start`` itself)."""
        if n < 0:
            raise ValueError("n must be >= 0")
        if n == 0:
            return start
        # Find the first day d > start with count(start, d) == n: that day is a working day (the count
        # only grows on working days). Grow an upper bound, then bisect between the bounds.
        low = start  # count(start, low) < n
        high = start + timedelta(days=n * 7 // 5 + 3)
        while (found := self.count(start, high)) < n:
            # Holidays ate into the estimate; each pass at least covers the working days still missing.
            # Terminates: beyond the last exception the week is plain Monday–Friday.
            low = high
            high += timedelta(days=(n - found) * 7 // 5 + 7)
        while (high - low).days > 1:
            middle = low + timedelta(days=(high - low).days // 2)
            if self.count(start, middle) >= n:
                high = middle
            else:
                low = middle
        return high

    def next_workday_on_or_after(self, day: date) -> date:
        return day if self.is_workday(day) else self.add(day, 1)


def _calendar(exceptions: Mapping[date, bool] | WorkCalendar) -> WorkCalendar:
    return exceptions if isinstance(exceptions, WorkCalendar) else WorkCalendar(exceptions)


def is_workday(day: date, exceptions: Mapping[date, bool] | WorkCalendar) -> bool:
    if isinstance(exceptions, WorkCalendar):
        return exceptions.is_workday(day)
    found = exceptions.get(day)
    if found is not None:
        return bool(found)
    return day.weekday() < 5


def add_working_days(start: date, n: int, exceptions: Mapping[date, bool] | WorkCalendar) -> date:
    """The date that is ``n`` working days after ``start`` (``n == 0`` gives ``start`` itself)."""
    return _calendar(exceptions).add(start, n)


def working_days_between(start: date, end: date, exceptions: Mapping[date, bool] | WorkCalendar) -> int:
    """Working days in (start, end]; negative when end is before start."""
    return _calendar(exceptions).count(start, end)


def next_workday_on_or_after(day: date, exceptions: Mapping[date, bool] | WorkCalendar) -> date:
    return _calendar(exceptions).next_workday_on_or_after(day)


# --- Regions --------------------------------------------------------------------------------------------

_DIGITS = re.compile(r"^\d+$")


def canonical_region_code(code: str | None) -> str:
    """The one spelling of a GB/T 2260 code that calendar rows are stored under: "" for the nation,
    6 digits for a province, city or county, 9 for a township, 12 for a village. ``370102000000`` and
    ``370102`` are the same county, so an override entered either way must be found either way."""
    code = (code or "").strip()
    if not code:
        return ""
    if not _DIGITS.match(code) or len(code) not in (6, 9, 12):
        raise ValueError("region code must be 6, 9 or 12 digits")
    padded = code.ljust(12, "0")
    if padded[6:] == "000000":
        return padded[:6]
    if padded[9:] == "000":
        return padded[:9]
    return padded


def region_chain(code: str | None) -> tuple[str, ...]:
    """The region codes whose calendar rows apply to ``code``: the nation first, the region itself last,
    so later (nearer) rows win when merged."""
    canonical = canonical_region_code(code)
    if not canonical:
        return ("",)
    padded = canonical.ljust(12, "0")
    chain = ["", padded[:2] + "0000", padded[:4] + "00", padded[:6]]
    if len(canonical) >= 9:
        chain.append(padded[:9])
    if len(canonical) == 12:
        chain.append(padded)
    # A province's "city" and "county" spellings are itself; keep each code once, in order.
    return tuple(dict.fromkeys(chain))


def merge_chain(rows_by_code: Mapping[str, Mapping[date, bool]], chain: Iterable[str]) -> dict[date, bool]:
    """Merge the rows of each code in ``chain``, nearest (last) winning."""
    merged: dict[date, bool] = {}
    for code in chain:
        merged.update(rows_by_code.get(code, {}))
    return merged


# --- Published years ------------------------------------------------------------------------------------


def unpublished_years(years: Iterable[int], published: Iterable[int]) -> list[int]:
    """The years of ``years`` without a published arrangement, in order."""
    done = set(published)
    return sorted({year for year in years if year not in done})


def years_to_watch(today: date, ahead: int = 2) -> range:
    """This year and the next ``ahead``: a deadline set now may land in any of them."""
    return range(today.year, today.year + ahead + 1)


def fallback_notice(years: Iterable[int]) -> str:
    """The warning an administrator reads (Chinese, user-facing)."""
    listed = "、".join(_("%(year)s年") % {"year": year} for year in years)
    return _("%(years)s尚未录入国务院节假日安排，期限暂按周一至周五计算") % {"years": listed} if listed else ""


# --- The chinese-calendar package's data ----------------------------------------------------------------


@dataclass(frozen=True)
class SeedDay:
    date: date
    is_workday: bool
    name: str


def package_exceptions(
    holidays: Mapping[date, str], workdays: Mapping[date, str], chinese_names: Mapping[str, str], years: Iterable[int]
) -> list[SeedDay]:
    """The days of the package's tables that differ from Monday–Friday, within ``years``.

    ``holidays``/``workdays`` map dates to the package's English holiday names; ``chinese_names`` maps those
    to Chinese. Weekend holidays and weekday workdays change nothing and are left out, so the table holds
    exactly the exceptions an administrator would enter from the State Council notice."""
    wanted = set(years)
    days: list[SeedDay] = []
    for day, english in holidays.items():
        if day.year in wanted and day.weekday() < 5:
            days.append(SeedDay(day, False, chinese_names.get(english, english)[:50]))
    for day, english in workdays.items():
        if day.year in wanted and day.weekday() >= 5:
            days.append(SeedDay(day, True, f"{chinese_names.get(english, english)}调休上班"[:50]))
    return sorted(days, key=lambda d: d.date)


# --- A year's arrangement as an administrator types it --------------------------------------------------

_DATE = r"(\d{4})[-./年](\d{1,2})[-./月](\d{1,2})日?"
_HOLIDAY_LINE = re.compile(rf"^{_DATE}(?:\s*(?:至|到|~|～|—|--)\s*{_DATE})?\s*(.*)$")
_WORKDAY_LINE = re.compile(rf"^{_DATE}\s*(.*)$")


class ArrangementError(ValueError):
    """A line of an entered arrangement cannot be read; the message is Chinese and names the line."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def _make_date(parts: tuple[str, str, str], field: str, line_no: int) -> date:
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        raise ArrangementError(_("第%(line)s行的日期不存在：%(text)s") % {"line": line_no, "text": "-".join(parts)}, field) from None


def _check_year(day: date, year: int, field: str, line_no: int) -> None:
    # The New Year holiday may begin on 30/31 December of the year before (as in 2019).
    if not (date(year - 1, 12, 1) <= day <= date(year, 12, 31)):
        raise ArrangementError(
            _("第%(line)s行的日期%(day)s不在%(year)s年的安排范围内") % {"line": line_no, "day": day, "year": year}, field
        )


def parse_arrangement(year: int, holidays_text: str, workdays_text: str) -> list[SeedDay]:
    """Read a State Council notice typed as lines.

    Holidays, one stretch a line: ``2027-01-01 至 2027-01-03 元旦`` (or one date). Make-up workdays, one a
    line: ``2027-02-06 春节调休上班``. Every day of a holiday stretch is stored (weekends too: harmless, and
    the table then reads like the notice). Raises ``ArrangementError`` naming the field and line."""
    by_date: dict[date, SeedDay] = {}
    for line_no, raw in enumerate(holidays_text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = _HOLIDAY_LINE.match(line)
        if not match:
            raise ArrangementError(_("第%(line)s行无法识别，应写作“2027-01-01 至 2027-01-03 元旦”") % {"line": line_no}, "holidays")
        groups = match.groups()
        first = _make_date(groups[0:3], "holidays", line_no)
        last = _make_date(groups[3:6], "holidays", line_no) if groups[3] else first
        name = groups[6].strip() or _("节假日")
        if last < first:
            raise ArrangementError(_("第%(line)s行的结束日期早于开始日期") % {"line": line_no}, "holidays")
        if (last - first).days + 1 > MAX_HOLIDAY_RUN:
            raise ArrangementError(
                _("第%(line)s行的假期超过%(max)s天，请检查日期") % {"line": line_no, "max": MAX_HOLIDAY_RUN}, "holidays"
            )
        for day in (first + timedelta(days=k) for k in range((last - first).days + 1)):
            _check_year(day, year, "holidays", line_no)
            if day in by_date:
                raise ArrangementError(_("第%(line)s行的日期%(day)s重复出现") % {"line": line_no, "day": day}, "holidays")
            by_date[day] = SeedDay(day, False, name[:50])
    for line_no, raw in enumerate(workdays_text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = _WORKDAY_LINE.match(line)
        if not match:
            raise ArrangementError(_("第%(line)s行无法识别，应写作“2027-02-06 春节调休上班”") % {"line": line_no}, "workdays")
        groups = match.groups()
        day = _make_date(groups[0:3], "workdays", line_no)
        _check_year(day, year, "workdays", line_no)
        if day in by_date:
            raise ArrangementError(_("第%(line)s行的日期%(day)s已作为放假日期填写") % {"line": line_no, "day": day}, "workdays")
        by_date[day] = SeedDay(day, True, (groups[3].strip() or _("调休上班"))[:50])
    return sorted(by_date.values(), key=lambda d: d.date)
