"""Creating, checking and revoking API keys. Keys are shown once and stored as SM3 hashes."""

from __future__ import annotations

import hashlib
import logging
import threading

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
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


# Per-process cache of verified keys (issue 14: the ORM look-up and the SM3 digest cost ~0.5 ms a request). Keyed by
# a SHA-256 of the presented secret (never the secret itself). A hit still reads the key's row, with one prepared
# statement and no ORM, and is used only while that row is exactly as it was when the key was verified: a key
# revoked, expired, edited or deleted anywhere (another process, the `apikey` command, a queryset update) is refused
# or looked up afresh on its very next request.
KEY_CACHE_MAX = 1000
_STATE_COLUMNS = ("prefix", "key_hash", "scopes", "region_id", "expires_at", "revoked_at", "rate_limit_per_minute")
_key_cache: dict[bytes, tuple[tuple, ApiKey]] = {}
_key_cache_lock = threading.Lock()
_STATE_SQL: dict[str, str] = {}


def _cache_slot(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _state(pk) -> tuple | None:
    """The key row's columns that decide whether and how it may be used, as the driver gives them."""
    if connection.vendor not in _STATE_SQL:
        q = connection.ops.quote_name
        cols = ", ".join(q(ApiKey._meta.get_field(c.removesuffix("_id")).column) for c in _STATE_COLUMNS)
        _STATE_SQL[connection.vendor] = f"SELECT {cols} FROM {q(ApiKey._meta.db_table)} WHERE {q('id')} = %s"
    with connection.cursor() as cursor:
        cursor.execute(_STATE_SQL[connection.vendor], [pk])
        return cursor.fetchone()


def forget_api_key(pk=None) -> None:
    """Drop cached keys (all of them, or the one with primary key ``pk``)."""
    with _key_cache_lock:
        if pk is None:
            _key_cache.clear()
            return
        for slot in [s for s, (_state_, k) in _key_cache.items() if k.pk == pk]:
            del _key_cache[slot]


@receiver(post_save, sender=ApiKey, dispatch_uid="accounts.forget_saved_api_key")
@receiver(post_delete, sender=ApiKey, dispatch_uid="accounts.forget_deleted_api_key")
def _forget_changed_key(sender, instance, **kwargs):
    forget_api_key(instance.pk)


def authenticate_api_key(secret: str) -> ApiKey | None:
    """The usable key for ``secret``, or None. Marks the key's last use (at most once a minute)."""
    slot = _cache_slot(secret or "")
    cached = _key_cache.get(slot)
    key = None
    if cached is not None:
        if _state(cached[1].pk) == cached[0] and cached[1].is_usable():
            key = cached[1]
        else:
            forget_api_key(cached[1].pk)
    if key is None:
        key = _look_up(secret)
        if key is None:
            return None
        with _key_cache_lock:
            if len(_key_cache) >= KEY_CACHE_MAX:
                _key_cache.clear()
            _key_cache[slot] = (_state(key.pk), key)
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def _look_up(secret: str) -> ApiKey | None:
    # Refusals are logged with the public prefix only: the secret itself never reaches a log.
    prefix = tokens.prefix_of(secret, KEY_KIND)
    if prefix is None:
        log.warning("API key refused: malformed")
        return None
    key = ApiKey.objects.select_related("region").filter(prefix=prefix).order_by().first()
    if key is None:
        log.warning("API key refused: unknown prefix=%s", prefix)
        return None
    if not tokens.matches(secret, key.key_hash):
        log.warning("API key refused: wrong secret prefix=%s", prefix)
        return None
    if not key.is_usable():
        log.warning("API key refused: %s prefix=%s", "revoked" if key.revoked_at else "expired", prefix)
        return None
    return key


def revoke_api_key(key: ApiKey) -> None:
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    forget_api_key(key.pk)
