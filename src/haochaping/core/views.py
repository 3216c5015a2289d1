"""Site-wide small responses that belong to no domain app."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe
from django.views.defaults import server_error as plain_server_error

FAVICON = Path(__file__).resolve().parent.parent / "static" / "haochaping" / "favicon.ico"


@cache
def _favicon() -> bytes:
    return FAVICON.read_bytes()


@require_safe
@cache_control(public=True, max_age=86400)
def favicon(request):
    """/favicon.ico: browsers ask for it on every page, the admin's included; a 404 there fills the logs."""
    return HttpResponse(_favicon(), content_type="image/x-icon")


def server_error(request):
    """handler500. A lost or refused database connection (a restart, a failover, a terminated backend, a deadlock's
    victim) answers 503 with Retry-After, so a load balancer or monitor sees "try again" rather than a fault in the
    code; every other uncaught error keeps Django's plain 500 page. Runs after something already failed: no context,
    no tags that could fail again."""
    if isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = "5"
        return response
    return plain_server_error(request)
