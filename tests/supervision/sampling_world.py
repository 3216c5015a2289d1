"""A unit's evaluations of last month, for the sampling tests: real submits through the evaluation service."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from haochaping.core import crypto
from haochaping.supervision.sampling import rules
from tests import factories
from tests.supervision.conftest import submit


def last_month():
    return rules.previous_month(timezone.localdate())


def at_last_month(day: int = 10, hour: int = 10):
    start, _end = last_month()
    return timezone.make_aware(datetime.combine(start.replace(day=day), time(hour)))


def phone_record(org, item, phone: str = "13912345678", *, when=None, **kw):
    when = when or at_last_month()
    return factories.make_record(org, item, accepted_at=when - timedelta(hours=2), applicant_phone=phone,
                                 applicant_phone_index=crypto.blind_index(phone, kind="phone") if phone else "", **kw)


def rate(org, item, level: int, *, phone: str = "13912345678", evaluator_phone: str = "", day: int = 10, **kw):
    when = at_last_month(day)
    record = phone_record(org, item, phone, when=when, **kw)
    extra = {"comment": "窗口让我反复跑"} if level <= 2 else {}
    if evaluator_phone:
        extra.update(evaluator_phone=evaluator_phone, evaluator_name="张三", type="active")
    return submit(record, level, now=when - timedelta(minutes=30), channel="qr", **extra)


def month_of(org, item, levels: dict[int, int]):
    """``levels`` evaluations of each level at the org's department, spread over days 2–27 of last month."""
    out = []
    n = 0
    for level, count in levels.items():
        for _ in range(count):
            out.append(rate(org, item, level, phone=f"139{n:08d}", day=2 + n % 26))
            n += 1
    return out
