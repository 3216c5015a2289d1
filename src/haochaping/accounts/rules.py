"""Pure rules for accounts: no I/O, so they are unit-tested directly.

Personal data reveals (R7.2): a reason must be written, and one user revealing far more than usual is flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

MIN_REASON_LENGTH = 5
MAX_REASON_LENGTH = 500

# The unusual-volume rule (issue 3, item 3).
DEFAULT_DAILY_LIMIT = 50
HISTORY_DAYS = 30
HISTORY_FACTOR = 3
HISTORY_MINIMUM = 10


def reason_error(reason: str | None) -> str | None:
    """The Chinese message for an unusable reason, or None when the reason is acceptable."""
    text = (reason or "").strip()
    if not text:
        return _("请填写查看理由")
    if len(text) < MIN_REASON_LENGTH:
        return _("查看理由至少%(n)s个字，请说明为什么需要查看完整信息") % {"n": MIN_REASON_LENGTH}
    if len(text) > MAX_REASON_LENGTH:
        return _("查看理由不能超过%(n)s个字") % {"n": MAX_REASON_LENGTH}
    return None


@dataclass(frozen=True)
class Windows:
    """The two periods the rule compares: the last 24 hours, and the 30 days before them."""

    day_start: datetime
    history_start: datetime
    now: datetime


def windows(now: datetime, *, history_days: int = HISTORY_DAYS) -> Windows:
    day_start = now - timedelta(hours=24)
    return Windows(day_start=day_start, history_start=day_start - timedelta(days=history_days), now=now)


@dataclass(frozen=True)
class VolumeFlag:
    """A user whose reveals in the last 24 hours are unusual. Counts only: never whose data or which values."""

    user_id: int
    last_day: int
    history: int
    threshold: float
    reason: str  # "daily_limit" or "above_usual"

    @property
    def description(self) -> str:
        if self.reason == "daily_limit":
            return _("24小时内查看%(n)s次，超过每日上限%(limit)s次") % {"n": self.last_day, "limit": int(self.threshold)}
        return _("24小时内查看%(n)s次，超过此前30天日均次数的3倍（阈值%(limit)s次）") % {
            "n": self.last_day, "limit": f"{self.threshold:g}"}


def usual_threshold(history: int, *, history_days: int = HISTORY_DAYS, factor: int = HISTORY_FACTOR,
                    minimum: int = HISTORY_MINIMUM) -> float:
    """How many reveals in a day are still usual for someone with ``history`` reveals in the previous period."""
    return max(factor * history / history_days, minimum)


def volume_flag(user_id: int, last_day: int, history: int, *, daily_limit: int = DEFAULT_DAILY_LIMIT,
                history_days: int = HISTORY_DAYS) -> VolumeFlag | None:
    """Flag ``user_id`` when ``last_day`` reveals are above the absolute limit or above 3× their average daily count
    over the previous ``history_days`` days (that average lifted to a minimum of 10, so a first busy day is not
    flagged for a handful of lookups)."""
    if last_day > daily_limit:
        return VolumeFlag(user_id, last_day, history, daily_limit, "daily_limit")
    threshold = usual_threshold(history, history_days=history_days)
    if last_day > threshold:
        return VolumeFlag(user_id, last_day, history, threshold, "above_usual")
    return None


def volume_flags(counts, *, daily_limit: int = DEFAULT_DAILY_LIMIT, history_days: int = HISTORY_DAYS) -> list[VolumeFlag]:
    """Flags for ``counts``, an iterable of ``(user_id, last_day, history)``; most reveals first."""
    flags = [
        flag
        for user_id, last_day, history in counts
        if (flag := volume_flag(user_id, last_day, history, daily_limit=daily_limit, history_days=history_days))
    ]
    return sorted(flags, key=lambda f: (-f.last_day, f.user_id))
