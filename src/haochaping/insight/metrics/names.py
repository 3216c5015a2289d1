"""Translating between the codes people use (统一社会信用代码, 机构编码, 工号 …) and the ids the counters hold, and
naming the groups of a result. One query per dimension, for the ids at hand: O(groups)."""

from __future__ import annotations

from collections.abc import Iterable

from haochaping.catalog.models import ServiceItem
from haochaping.evaluation.models import Channel
from haochaping.evaluation.rules import level_text
from haochaping.org.models import Department, Platform, Region, ServiceAgency, Staff, Window

NONE_NAME = "（未关联）"  # e.g. an online 办件 has no window; its evaluations are still counted


# Sector filters (§五): government departments, public-service enterprises, or one kind of enterprise.
GOVERNMENT, ENTERPRISE = "government", "enterprise"


def sector_departments(sector: str):
    """The departments a sector filter names: ``government``, ``enterprise`` (every public-service enterprise) or
    one org.Sector code (``water``, ``power`` …)."""
    if sector == GOVERNMENT:
        return Department.objects.filter(sector="")
    if sector == ENTERPRISE:
        return Department.objects.exclude(sector="")
    return Department.objects.filter(sector=sector)


def ids_for_codes(*, department=None, agency=None, window=None, staff_no=None, item=None, platform=None,
                  sector=None) -> dict:
    """The unit ids a filter names; an empty set when the code does not exist (the filter then matches nothing)."""
    out: dict = {}
    if department:
        out["departments"] = frozenset(Department.objects.filter(credit_code=department.strip().upper()).values_list("pk", flat=True))
    if sector:
        in_sector = frozenset(sector_departments(sector).values_list("pk", flat=True))
        out["departments"] = out["departments"] & in_sector if "departments" in out else in_sector
    agency_ids = None
    if agency:
        agency_ids = frozenset(ServiceAgency.objects.filter(code=agency).values_list("pk", flat=True))
        out["agencies"] = agency_ids
    if window:
        windows = Window.objects.filter(code=window)
        if agency_ids is not None:
            windows = windows.filter(agency_id__in=agency_ids)
        out["windows"] = frozenset(windows.values_list("pk", flat=True))
    if staff_no:
        out["staff"] = frozenset(Staff.objects.filter(staff_no=staff_no).values_list("pk", flat=True))
    if item:
        out["items"] = frozenset(ServiceItem.objects.filter(implementation_code=item).values_list("pk", flat=True))
    if platform:
        out["platforms"] = frozenset(Platform.objects.filter(code=platform).values_list("pk", flat=True))
    return out


def names_for(dimension: str | None, keys: Iterable) -> dict:
    """group value → (key shown, name shown)."""
    keys = list(keys)
    if dimension is None:
        return {k: ("", "合计") for k in keys}
    ids = [k for k in keys if k not in (0, "", None)]
    out: dict = {k: ("", NONE_NAME) for k in keys if k in (0, "", None)}
    if dimension == "region":
        out |= {c: (c, n) for c, n in Region.objects.filter(code__in=ids).values_list("code", "name")}
    elif dimension == "department":
        out |= {i: (c, n) for i, c, n in Department.objects.filter(pk__in=ids).values_list("pk", "credit_code", "name")}
    elif dimension == "agency":
        out |= {i: (c, n) for i, c, n in ServiceAgency.objects.filter(pk__in=ids).values_list("pk", "code", "name")}
    elif dimension == "window":
        rows = Window.objects.filter(pk__in=ids).values_list("pk", "agency__code", "code", "agency__name", "name")
        out |= {i: (f"{ac}/{c}", f"{an} {n}") for i, ac, c, an, n in rows}
    elif dimension == "staff":
        out |= {i: (c, n) for i, c, n in Staff.objects.filter(pk__in=ids).values_list("pk", "staff_no", "name")}
    elif dimension == "item":
        rows = ServiceItem.objects.filter(pk__in=ids).values_list("pk", "implementation_code", "name")
        out |= {i: (c, n) for i, c, n in rows}
    elif dimension == "platform":
        out |= {i: (c, n) for i, c, n in Platform.objects.filter(pk__in=ids).values_list("pk", "code", "name")}
    elif dimension == "channel":
        out |= {c: (c, str(Channel(c).label) if c in Channel.values else c) for c in ids}
    elif dimension == "level":
        out |= {lv: (str(lv), level_text(lv)) for lv in ids}
    else:  # day, month: the ISO text is both key and name
        out |= {k: (str(k), str(k)) for k in ids}
    return out
