"""Site-wide small responses that belong to no domain app."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.http import HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

FAVICON = Path(__file__).resolve().parent.parent / "static" / "haochaping" / "favicon.ico"


@cache
def _favicon() -> bytes:
    return FAVICON.read_bytes()


@require_safe
@cache_control(public=True, max_age=86400)
def favicon(request):
    """/favicon.ico: browsers ask for it on every page, the admin's included; a 404 there fills the logs."""
    return HttpResponse(_favicon(), content_type="image/x-icon")
