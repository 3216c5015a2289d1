"""What the portal publishes, read through insight.metrics (同源发布): the same functions the statistics API and
the supervisors' pages use, asked as :class:`~haochaping.insight.metrics.PublicViewer` of the region. Nothing here
counts on its own; it only picks, names and anonymises.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from haochaping.evaluation.models import Evaluation
from haochaping.evaluation.rules import level_text
from haochaping.insight import metrics
from haochaping.org import policy
from haochaping.org.models import Department, Region, Staff
from haochaping.org.rules import is_region_code, region_prefix

from . import rules
from .rules import Period


def root_region() -> Region | None:
    """The deployment's own top region, where the portal opens: ``HAOCHAPING_ROOT_REGION`` when set; else the one
    province whose regions hold departments (a province's deployment loads the whole country's regions but only
    its own units); None — the whole country — when several do or none does. A province's portal should not open
    on 32 provinces of zeros."""
    code = getattr(settings, "HAOCHAPING_ROOT_REGION", "")
    if code:
        return Region.objects.filter(code=code).first()
    provinces = {c[:2] for c in Department.objects.order_by().values_list("region_id", flat=True).distinct()[:1000]}
    if len(provinces) != 1:
        return None
    return Region.objects.filter(code=f"{provinces.pop()}0000").first()


def in_root(region: Region, root: Region | None) -> bool:
    return root is None or region.code.startswith(region_prefix(root.code))


def find_region(code: str) -> Region | None:
    """The region of a code, when it lies under the portal's root (another province's page is not this portal's)."""
    if not is_region_code(code or ""):
        return None
    found = Region.objects.filter(code=code).first()
    return found if found is not None and in_root(found, root_region()) else None


def ancestors(region: Region | None, root: Region | None = None) -> list[Region]:
    """The region's ancestors below the portal's root, the highest first (for the breadcrumbs)."""
    chain = []
    current = region.parent if region else None
    while current is not None and (root is None or current.code != root.code):
        chain.append(current)
        current = current.parent
    return chain[::-1]


def children(region: Region | None) -> list[Region]:
    qs = Region.objects.filter(parent=region) if region else Region.objects.filter(parent__isnull=True)
    return list(qs.order_by("code"))


def viewer(region: Region | None) -> metrics.PublicViewer:
    return metrics.PublicViewer(region.code if region else None)


def stats_filter(region: Region | None, period: Period, department: str | None = None) -> metrics.StatsFilter:
    return metrics.StatsFilter.from_codes(
        region_code=region.code if region else None, department=department, date_from=period.start,
        date_to=period.end,
    )


def find_department(region: Region | None, credit_code: str) -> Department | None:
    """A department shown under ``region``: one of the region's own, or one with evaluations in it."""
    department = Department.objects.filter(credit_code=(credit_code or "").strip().upper()).first()
    if department is None:
        return None
    if region is None or department.region_id.startswith(region_prefix(region.code)):
        return department
    counters = metrics.StatsFilter.from_codes(region_code=region.code, department=department.credit_code)
    return department if metrics.counted(viewer(region), counters).exists() else None


@dataclass
class RegionRow:
    code: str
    name: str
    figures: metrics.Figures | None
    link: bool  # a region of the navigation (its own page), not only a group of figures


def region_rows(region: Region | None, stats: metrics.Stats) -> list[RegionRow]:
    """The next level down: every child region (with or without figures) and any other group the figures hold
    (the region's own level, "本级", when its units sit at the region itself)."""
    groups = {g.key: g for g in stats.groups}
    rows = [RegionRow(c.code, c.name, groups.pop(c.code, None), True) for c in children(region)]
    for key, group in sorted(groups.items()):
        if region is not None and key == region.code:
            rows.insert(0, RegionRow(key, f"{region.name}本级", group, False))
        else:
            rows.append(RegionRow(key, group.name, group, False))
    return rows


def department_codes(ids) -> dict[int, str]:
    return dict(Department.objects.filter(pk__in=[i for i in ids if i]).values_list("pk", "credit_code"))


# --- staff (only where the region's policy publishes them) ---------------------------------------------------------


def staff_published(region: Region | None) -> bool:
    return region is not None and policy.publish_staff_results(region.code)


def staff_rankings(region: Region | None, filters: metrics.StatsFilter) -> metrics.Rankings | None:
    """Staff results by name and 工号, or None when the region's policy keeps them private (the default). Each
    person is shown only when the policy of their own unit's region publishes them too, so a county that turned
    publication off stays private on its province's page."""
    if not staff_published(region):
        return None
    result = metrics.rankings(viewer(region), filters, by="staff")
    keys = [r.key for r in result.ranked + result.apart]
    homes = {
        no: agency_region or department_region
        for no, agency_region, department_region in Staff.objects.filter(staff_no__in=keys)
        .values_list("staff_no", "agency__region_id", "department__region_id")
    }
    allowed = {no for no, home in homes.items() if home and policy.publish_staff_results(home)}
    result.ranked = [r for r in result.ranked if r.key in allowed]
    result.apart = [r for r in result.apart if r.key in allowed]
    return result


# --- anonymised cases ----------------------------------------------------------------------------------------------


def case_queryset(region: Region | None, filters: metrics.StatsFilter) -> QuerySet:
    """The cases behind the published case figures, newest first, reading only the structured columns."""
    return (
        metrics.public_cases(viewer(region), filters)
        .order_by("-opened_at", "-pk")
        .values(*rules.CASE_SOURCE_FIELDS)
    )


def _labels(evaluation_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    through = Evaluation.labels.through
    out: dict[int, list[tuple[str, str]]] = defaultdict(list)
    rows = (through.objects.filter(evaluation_id__in=evaluation_ids)
            .values_list("evaluation_id", "label__code", "label__text").order_by("evaluation_id", "label__code"))
    for evaluation_id, code, text in rows:
        out[evaluation_id].append((code, text))
    return out


def _day(moment):
    return timezone.localtime(moment).date() if moment else None


def public_rows(rows: list[dict]) -> list[dict]:
    """Anonymise a batch of case rows (:data:`rules.CASE_SOURCE_FIELDS`) into published rows."""
    labels = _labels([r["evaluation_id"] for r in rows if r["evaluation_id"]])
    out = []
    for row in rows:
        level = row.get("evaluation__level")
        out.append(rules.public_case(
            row, labels=labels.get(row["evaluation_id"], []),
            level_text=level_text(level, policy.label_set(row["region_id"])) if level else "",
            opened_on=_day(row["opened_at"]), handled_on=_day(row["handled_at"]), closed_on=_day(row["closed_at"]),
        ))
    return out


def iter_public_cases(region: Region | None, filters: metrics.StatsFilter, batch: int = 500) -> Iterator[dict]:
    """Every published case of the selection, in batches (for the downloads)."""
    qs = case_queryset(region, filters)
    start = 0
    while True:
        rows = list(qs[start:start + batch])
        if not rows:
            return
        yield from public_rows(rows)
        start += batch
