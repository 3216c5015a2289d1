"""The address a request came from, behind the reverse proxies a deployment declares.

Login lockouts (django-axes, per address), the receipt lookup limit and the kiosk activation limit count per
address. Behind nginx or a load balancer every request's REMOTE_ADDR is the proxy's, so without this one visitor's
failures would lock out the whole province. Each proxy appends the address it received the request from to
X-Forwarded-For; with N trusted proxies (``HAOCHAPING_TRUSTED_PROXIES``) the Nth entry from the right is the
address the outermost proxy saw, which a client cannot forge (entries further left can be). With no trusted
proxies (the default) the header is ignored, so a client talking to the server directly cannot pick an address.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or with N trusted proxies the Nth X-Forwarded-For entry from the right.
    A request with fewer entries than proxies, or an entry that is not an IP address, falls back to REMOTE_ADDR
    (a request that did not pass every proxy is counted against the address that sent it)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    hops = settings.HAOCHAPING_TRUSTED_PROXIES
    if hops <= 0:
        return remote
    entries = [e.strip() for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    entries = [e for e in entries if e]
    if len(entries) < hops:
        return remote
    candidate = entries[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
