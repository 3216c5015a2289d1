"""Public bulletins (§四(四)), at /public/bulletins/: the 通报 a management agency chose to make public
(supervision.bulletins.services.published), newest first. No login; only the title, type, issuing region, date
and text the agency published — never who acknowledged it."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_safe

from haochaping.org.rules import region_prefix
from haochaping.supervision.bulletins.services import published

from . import queries
from .views import cacheable, not_found

PAGE_SIZE = 20


def _published():
    root = queries.root_region()
    rows = published()
    return rows.filter(region__pk__startswith=region_prefix(root.code)) if root else rows


@require_safe
def bulletin_list(request):
    page = Paginator(_published(), PAGE_SIZE).get_page(request.GET.get("page"))
    return cacheable(render(request, "disclosure/bulletins.html", {"page": page, "root": queries.root_region()}))


@require_safe
def bulletin_detail(request, bulletin_id: int):
    bulletin = _published().filter(pk=bulletin_id).first()
    if bulletin is None:
        return not_found(request, "没有这份公开通报")
    return cacheable(render(request, "disclosure/bulletin.html", {"bulletin": bulletin, "root": queries.root_region()}))
