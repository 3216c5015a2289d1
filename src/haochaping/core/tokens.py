"""Secrets that are shown once and stored only as SM3 hashes: API keys (``hcp_…``) and kiosk device secrets
(``hck_…``).

A secret reads ``<kind>_<prefix>_<random>``. The prefix is public: it finds the row and names the secret in
lists and logs. The random part leaves the server once, in the response that created it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from .crypto import sm3_hex

_PREFIX_RE = re.compile(r"[0-9a-f]{8}")


@dataclass(frozen=True)
class IssuedSecret:
    prefix: str
    secret: str
    digest: str


def issue(kind: str) -> IssuedSecret:
    """A new secret of ``kind`` (e.g. ``"hcp"``), its public prefix and the SM3 digest to store."""
    prefix = secrets.token_hex(4)
    secret = f"{kind}_{prefix}_{secrets.token_urlsafe(32)}"
    return IssuedSecret(prefix=prefix, secret=secret, digest=digest(secret))


def digest(secret: str) -> str:
    return sm3_hex(secret.encode())


def prefix_of(secret: str, kind: str) -> str | None:
    """The public prefix of a secret of ``kind``, or None when ``secret`` does not have that shape."""
    if not secret or not secret.startswith(f"{kind}_"):
        return None
    prefix = secret[len(kind) + 1 :].split("_", 1)[0]
    return prefix if _PREFIX_RE.fullmatch(prefix) else None


def matches(secret: str, stored_digest: str) -> bool:
    """Constant-time comparison of ``secret`` against a stored digest."""
    return secrets.compare_digest(stored_digest, digest(secret))


def loggable(secret: str | None, kind: str) -> str:
    """What a log line may say about a presented secret: its prefix when well-formed, never the rest."""
    if not secret:
        return "(none)"
    return prefix_of(secret, kind) or "(malformed)"
