"""Region policy lookup: the nearest ancestor's setting wins, else the national default."""

from __future__ import annotations

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


def _nearest(code: str, field: str):
    chain = ancestor_codes(code)
    found = {
        p.region_id: getattr(p, field)
        for p in RegionPolicy.objects.filter(region_id__in=chain).only("region_id", field)
    }
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
