"""The page's choice lists: the items, units and regions with bad reviews in a period, most first. For whole-region
scopes from the counters (``metrics.bad_review_counts``: no request reads the 差评, issue 14); for a unit's or a
staff member's own scope (which may include evaluations routed to them) one grouped query over their 差评. The
default period's lists of whole-region scopes are also stored with the snapshot (:mod:`.snapshots`)."""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.db.models import Count

from haochaping.core.scoping import visibility_for

from . import CACHE_SECONDS, Named, Period, bad_reviews_queryset, fingerprint


def _key(kind: str, actor, period: Period, limit: int) -> str:
    v = visibility_for(actor)
    raw = repr((kind, v.everything, v.region_prefix, v.department_id, v.agency_id, v.staff_id, period, limit,
                fingerprint(actor, period, bad_reviews_queryset(actor, period))))
    return "insight:painpoints:" + hashlib.sha256(raw.encode()).hexdigest()


def filter_choices(actor, period: Period, limit: int = 300) -> tuple[list[Named], list[Named]]:
    """The items and units with bad reviews in ``period`` that ``actor`` may see, most reviews first. Cached like
    :func:`.pain_points`, under the same fingerprint."""
    key = _key("choices", actor, period, limit)
    result = cache.get(key)
    if result is None:
        result = item_and_unit_choices(actor, period, limit)
        cache.set(key, result, CACHE_SECONDS)
    return result


def region_choices(actor, period: Period, limit: int = 300) -> list[Named]:
    """The regions with bad reviews in ``period`` that ``actor`` may see, most reviews first. Cached like
    :func:`filter_choices`."""
    key = _key("regions", actor, period, limit)
    result = cache.get(key)
    if result is None:
        result = regions_of(actor, period, limit)
        cache.set(key, result, CACHE_SECONDS)
    return result


def item_and_unit_choices(actor, period: Period, limit: int = 300) -> tuple[list[Named], list[Named]]:
    from haochaping.catalog.models import ServiceItem
    from haochaping.org.models import Department

    return _ranked(actor, period, "item", ServiceItem, limit), _ranked(actor, period, "department", Department, limit)


def regions_of(actor, period: Period, limit: int = 300) -> list[Named]:
    from haochaping.org.models import Region

    return _ranked(actor, period, "region", Region, limit)


def _ranked(actor, period: Period, by: str, model, limit: int) -> list[Named]:
    from .. import metrics

    counts = metrics.bad_review_counts(actor, metrics.StatsFilter(date_from=period.start, date_to=period.end), by)
    if counts is None:
        column = f"{by}_id"
        counts = dict(bad_reviews_queryset(actor, period).values_list(column).annotate(n=Count("pk")).order_by())
    ranked = sorted(counts.items(), key=lambda kn: (-kn[1], kn[0]))[:limit]
    found = dict(model.objects.filter(pk__in=[k for k, _n in ranked]).values_list("pk", "name"))
    return [Named(k, found.get(k, str(k)), n) for k, n in ranked]
