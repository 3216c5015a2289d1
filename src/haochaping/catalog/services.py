"""Catalog use cases. Guides are versioned: publishing adds a version, never rewrites one (R2.3)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Max

from haochaping.core.models import AuditEntry
from haochaping.core.problems import conflict, invalid

from .models import ServiceGuide, ServiceItem


def publish_guide(item: ServiceItem, *, actor: str, **elements) -> ServiceGuide:
    """Publish a new version of the item's 办事指南 with all eight elements."""
    missing = [f for f in ServiceGuide.ELEMENTS if not str(elements.get(f, "")).strip()]
    if missing:
        label = ServiceGuide._meta.get_field(missing[0]).verbose_name
        raise invalid(f"办事指南缺少“{label}”", missing[0])
    unknown = set(elements) - set(ServiceGuide.ELEMENTS)
    if unknown:
        raise invalid(f"未知的办事指南要素：{', '.join(sorted(unknown))}", sorted(unknown)[0])
    try:
        with transaction.atomic():
            # Lock the item so two publishers cannot both take the same next version number.
            ServiceItem.objects.select_for_update().filter(pk=item.pk).first()
            latest = item.guides.aggregate(v=Max("version"))["v"] or 0
            guide = ServiceGuide.objects.create(item=item, version=latest + 1, published_by=actor, **elements)
            AuditEntry.objects.create(
                actor=actor, action="guide.publish", object_type="catalog.ServiceGuide", object_id=str(guide.pk),
                data={"item": item.implementation_code, "version": guide.version},
            )
    except IntegrityError:
        raise conflict("另一位管理员刚刚发布了新版本，请刷新后重试", "version") from None
    return guide
