"""This site's own address, for links that leave it (SMS invitations, answer links): pure, no settings read."""

from __future__ import annotations

# Listening on every interface says nothing about the address people reach: links then name the loopback address
# and the operator sets HAOCHAPING_PUBLIC_URL (docs/operations.md).
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]", "*"})


def default_public_url(host: str | None, port: str | int | None) -> str:
    """``http://<host>:<port>`` for the address ``haochaping serve`` listens on, so that links in messages work
    with ``PORT=8101 make run`` without setting HAOCHAPING_PUBLIC_URL as well. A wildcard host becomes 127.0.0.1;
    an IPv6 address is bracketed."""
    host = (host or "").strip()
    if host in WILDCARD_HOSTS:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    port = str(port or "8000").strip() or "8000"
    return f"http://{host}:{port}"
