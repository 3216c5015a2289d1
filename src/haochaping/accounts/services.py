"""Creating, checking and revoking API keys. Keys are shown once and stored as SM3 hashes."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone

from haochaping.core.crypto import sm3_hex
from haochaping.core.problems import DomainError

from .models import ApiKey, Scope

KEY_PREFIX = "hcp_"


def create_api_key(*, name: str, scopes: list[str], region=None, expires_at=None) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the secret, which is never stored or shown again."""
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        raise DomainError(422, "请求内容有误", f"未知的权限范围：{', '.join(unknown)}", "scopes")
    prefix = secrets.token_hex(4)
    secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        key = ApiKey.objects.create(
            name=name, prefix=prefix, key_hash=sm3_hex(secret.encode()), scopes=list(scopes), region=region, expires_at=expires_at
        )
    return key, secret


def authenticate_api_key(secret: str) -> ApiKey | None:
    """The usable key for ``secret``, or None. Marks the key's last use (at most once a minute)."""
    if not secret.startswith(KEY_PREFIX):
        return None
    prefix = secret[len(KEY_PREFIX) :].split("_", 1)[0]
    key = ApiKey.objects.filter(prefix=prefix).first()
    if key is None or not secrets.compare_digest(key.key_hash, sm3_hex(secret.encode())):
        return None
    if not key.is_usable():
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def revoke_api_key(key: ApiKey) -> None:
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
