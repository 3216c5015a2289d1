"""Report periods (R5.2): calendar months, quarters and years in 北京时间, as whole days. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

MONTH, QUARTER, YEAR = "month", "quarter", "year"
KINDS = (MONTH, QUARTER, YEAR)
KIND_NAMES = {MONTH: "月报", QUARTER: "季报", YEAR: "年报"}


@dataclass(frozen=True)
class ReportPeriod:
    kind: str
    start: date

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        if self.start != period_start(self.kind, self.start):
            raise ValueError("start must be the first day of its month, quarter or year")

    @property
    def end(self) -> date:
        """The last day (inclusive)."""
        return _next_start(self.kind, self.start) - timedelta(days=1)

    @property
    def label(self) -> str:
        if self.kind == MONTH:
            return f"{self.start.year}年{self.start.month}月"
        if self.kind == QUARTER:
            return f"{self.start.year}年第{(self.start.month - 1) // 3 + 1}季度"
        return f"{self.start.year}年"

    @property
    def kind_name(self) -> str:
        return KIND_NAMES[self.kind]

    @property
    def value(self) -> str:
        """A form value naming the period, e.g. "quarter:2026-04-01"."""
        return f"{self.kind}:{self.start.isoformat()}"

    @classmethod
    def parse(cls, value: str) -> ReportPeriod:
        """The period a form value names; ValueError when it names none."""
        kind, _sep, start = (value or "").partition(":")
        return cls(kind, date.fromisoformat(start))

    def previous(self) -> ReportPeriod:
        return ReportPeriod(self.kind, period_start(self.kind, self.start - timedelta(days=1)))

    def is_over(self, today: date) -> bool:
        return self.end < today


def period_start(kind: str, day: date) -> date:
    """The first day of the month, quarter or year ``day`` lies in."""
    if kind == MONTH:
        return day.replace(day=1)
    if kind == QUARTER:
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    if kind == YEAR:
        return date(day.year, 1, 1)
    raise ValueError(f"kind must be one of {KINDS}")


def _next_start(kind: str, start: date) -> date:
    months = {MONTH: 1, QUARTER: 3, YEAR: 12}[kind]
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def last_finished(kind: str, today: date) -> ReportPeriod:
    """The latest period of ``kind`` that ended before ``today`` (the previous month, quarter or year)."""
    return ReportPeriod(kind, period_start(kind, today)).previous()


def recent_finished(kind: str, today: date, count: int) -> list[ReportPeriod]:
    """The ``count`` latest finished periods of ``kind``, newest first."""
    out = [last_finished(kind, today)]
    while len(out) < count:
        out.append(out[-1].previous())
    return out
