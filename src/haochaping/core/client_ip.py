"""The address a request came from, behind the reverse proxies a deployment declares.

Login lockouts (django-axes, per address), the receipt lookup limit and the kiosk activation limit count per
address. Behind nginx or a load balancer every request's REMOTE_ADDR is the proxy's, so without this one visitor's
failures would lock out the whole province. Each proxy appends the address it received the request from to
X-Forwarded-For; with N trusted proxies (``HAOCHAPING_TRUSTED_PROXIES``) the Nth entry from the right is the
address the outermost proxy saw, which a client cannot forge (entries further left can be). With no trusted
proxies (the default) the header is ignored, so a client talking to the server directly cannot pick an address.

The count alone trusts the header from whoever sends it: a visitor who reaches a node's port directly, past the
proxies, could write any address there. ``HAOCHAPING_TRUSTED_PROXY_NETWORKS`` names where the proxies connect
from; when set, the header is believed only when the sender (REMOTE_ADDR) and the inner proxies' entries are in
those networks, and otherwise the request counts against the address that sent it.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str, variable: str) -> tuple[Network, ...]:
    """Comma-separated addresses or networks ("10.0.0.5, 10.0.1.0/24, fd00::/8"); a wrong one names the variable."""
    networks = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{variable} must be comma-separated addresses or networks (10.0.0.5,10.0.1.0/24): {part!r} is neither"
            ) from None
    return tuple(networks)


def _from_proxy(address: str) -> bool:
    networks = settings.HAOCHAPING_TRUSTED_PROXY_NETWORKS
    if not networks:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or with N trusted proxies the Nth X-Forwarded-For entry from the right.
    A request with fewer entries than proxies, or an entry that is not an IP address, falls back to REMOTE_ADDR
    (a request that did not pass every proxy is counted against the address that sent it); so does one whose
    sender or inner proxies are outside ``HAOCHAPING_TRUSTED_PROXY_NETWORKS`` when that is set."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    hops = settings.HAOCHAPING_TRUSTED_PROXIES
    if hops <= 0:
        return remote
    entries = [e.strip() for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    entries = [e for e in entries if e]
    if len(entries) < hops:
        return remote
    # The sender and the proxies between it and the outermost one (the entries right of the client's).
    if not all(_from_proxy(a) for a in (remote, *entries[len(entries) - hops + 1:])):
        return remote
    candidate = entries[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def forwarded_proto_believed(request) -> bool:
    """Whether ``X-Forwarded-Proto`` (which tells Django the visitor used https, ``SECURE_PROXY_SSL_HEADER``) may
    be believed: with ``HAOCHAPING_TRUSTED_PROXY_NETWORKS`` set, only from a sender in those networks; without it,
    as before (a TLS-terminating proxy in front is the documented deployment)."""
    if not settings.HAOCHAPING_TRUSTED_PROXY_NETWORKS:
        return True
    return _from_proxy(request.META.get("REMOTE_ADDR", "") or "")


class ForwardedProtoMiddleware:
    """Drops ``X-Forwarded-Proto`` from a request that did not come from a declared proxy, before SecurityMiddleware
    and CSRF read ``request.is_secure()``: a visitor reaching a node's port directly cannot claim https."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "HTTP_X_FORWARDED_PROTO" in request.META and not forwarded_proto_believed(request):
            del request.META["HTTP_X_FORWARDED_PROTO"]
        return self.get_response(request)
