"""Region policy lookup: the nearest ancestor's setting wins, else the national default.

Every evaluation asks for its region's policy, so the (few) policy rows are cached per process: a change
in this process clears the cache at once (org.receivers), other processes see it within CACHE_SECONDS.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings

from .models import RegionPolicy
from .rules import region_level


def ancestor_codes(code: str) -> list[str]:
    """The region and its ancestors, nearest first (6-digit codes for province/city/county)."""
    level = region_level(code)
    chain = [code]
    if level >= 5:
        chain.append(code[:9])
    if level >= 4:
        chain.append(code[:6])
    if level >= 3:
        chain.append(code[:4] + "00")
    if level >= 2:
        chain.append(code[:2] + "0000")
    return list(dict.fromkeys(chain))


CACHE_SECONDS = 60
_lock = threading.Lock()
_snapshot: tuple[float, dict[str, dict]] | None = None
FIELDS = (
    "supplementary_days", "label_set", "callback_days", "fix_now_days", "rectify_days", "appeal_days",
    "appeal_review_days", "satisfaction_days", "publish_staff_results",
)


def invalidate() -> None:
    global _snapshot
    with _lock:
        _snapshot = None


def _policies() -> dict[str, dict]:
    global _snapshot
    now = time.monotonic()
    snap = _snapshot
    if snap is not None and now - snap[0] < CACHE_SECONDS:
        return snap[1]
    rows = {r["region_id"]: r for r in RegionPolicy.objects.order_by().values("region_id", *FIELDS)}
    with _lock:
        _snapshot = (now, rows)
    return rows


def _nearest(code: str, field: str):
    chain = ancestor_codes(code)
    policies = _policies()
    found = {c: policies[c][field] for c in chain if c in policies}
    for c in chain:
        value = found.get(c)
        if value not in (None, ""):
            return value
    return None


def supplementary_days(code: str) -> int:
    value = _nearest(code, "supplementary_days")
    return settings.HAOCHAPING_SUPPLEMENTARY_DAYS if value is None else value


def label_set(code: str) -> str:
    return _nearest(code, "label_set") or RegionPolicy.LabelSet.SATISFACTION


# Working-day periods of rectification and appeals (R4.2, R4.6, R7.3): the nearest ancestor's, else the default.
PERIOD_DEFAULTS = {
    "callback_days": 1, "fix_now_days": 5, "rectify_days": 15, "appeal_days": 3, "appeal_review_days": 5,
    "satisfaction_days": 5,
}


def period_days(code: str, name: str) -> int:
    value = _nearest(code, name)
    return PERIOD_DEFAULTS[name] if value is None else value


def publish_staff_results(code: str) -> bool:
    """Whether public pages may name staff (R5.5): off unless the region or an ancestor turns it on."""
    value = _nearest(code, "publish_staff_results")
    return bool(value)
