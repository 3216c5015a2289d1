"""Creating, checking and revoking API keys. Keys are shown once and stored as SM3 hashes."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from haochaping.core import tokens
from haochaping.core.problems import DomainError

from .models import ApiKey, Scope

log = logging.getLogger(__name__)

KEY_KIND = "hcp"
KEY_PREFIX = f"{KEY_KIND}_"


def create_api_key(
    *, name: str, scopes: list[str], region=None, expires_at=None, rate_limit_per_minute: int | None = None
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the secret, which is never stored or shown again."""
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        raise DomainError(422, "请求内容有误", f"未知的权限范围：{', '.join(unknown)}", "scopes")
    issued = tokens.issue(KEY_KIND)
    extra = {} if rate_limit_per_minute is None else {"rate_limit_per_minute": rate_limit_per_minute}
    with transaction.atomic():
        key = ApiKey.objects.create(
            name=name, prefix=issued.prefix, key_hash=issued.digest, scopes=list(scopes), region=region,
            expires_at=expires_at, **extra,
        )
    return key, issued.secret


def authenticate_api_key(secret: str) -> ApiKey | None:
    """The usable key for ``secret``, or None. Marks the key's last use (at most once a minute)."""
    # Refusals are logged with the public prefix only: the secret itself never reaches a log.
    prefix = tokens.prefix_of(secret, KEY_KIND)
    if prefix is None:
        log.warning("API key refused: malformed")
        return None
    key = ApiKey.objects.filter(prefix=prefix).order_by().first()
    if key is None:
        log.warning("API key refused: unknown prefix=%s", prefix)
        return None
    if not tokens.matches(secret, key.key_hash):
        log.warning("API key refused: wrong secret prefix=%s", prefix)
        return None
    if not key.is_usable():
        log.warning("API key refused: %s prefix=%s", "revoked" if key.revoked_at else "expired", prefix)
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def revoke_api_key(key: ApiKey) -> None:
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
