"""评价器 (kiosk devices): tablets bound to one window by a device secret (R3.1, R7.1).

The secret is shown once, when the device is registered, and stored as an SM3 hash like API keys
(``core.tokens``). A device authenticates with the ``X-Kiosk-Secret`` header; its evaluations are accepted
only for its own window's 办件 (checked in ``services.submit_evaluation``).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from haochaping.core import tokens
from haochaping.core.problems import DomainError, invalid

from .models import KioskDevice, KioskSession

log = logging.getLogger(__name__)

SECRET_KIND = "hck"
HEADER = "X-Kiosk-Secret"
LAST_SEEN_EVERY_SECONDS = 60


def register_kiosk(window, name: str) -> tuple[KioskDevice, str]:
    """Register a device at ``window``; returns the row and its secret, which is never stored or shown again."""
    name = (name or "").strip()
    if not name:
        raise invalid("请填写设备名称", "name")
    if len(name) > KioskDevice._meta.get_field("name").max_length:
        raise invalid("设备名称不能超过100个字", "name")
    issued = tokens.issue(SECRET_KIND)
    with transaction.atomic():
        device = KioskDevice.objects.create(window=window, name=name, prefix=issued.prefix, secret_hash=issued.digest)
    log.info("kiosk registered: prefix=%s window=%s", device.prefix, window.pk)
    return device, issued.secret


def authenticate_kiosk(secret: str | None) -> KioskDevice | None:
    """The active device for ``secret``, or None (logged with the prefix only). Marks the device as seen,
    at most once a minute so a busy tablet does not write on every request."""
    prefix = tokens.prefix_of(secret or "", SECRET_KIND)
    if prefix is None:
        log.warning("kiosk refused: malformed secret")
        return None
    device = KioskDevice.objects.select_related("window").filter(prefix=prefix).first()
    if device is None:
        log.warning("kiosk refused: unknown prefix=%s", prefix)
        return None
    if not tokens.matches(secret, device.secret_hash):
        log.warning("kiosk refused: wrong secret prefix=%s", prefix)
        return None
    if not device.is_active:
        log.warning("kiosk refused: deactivated prefix=%s", prefix)
        return None
    now = timezone.now()
    if device.last_seen_at is None or (now - device.last_seen_at).total_seconds() >= LAST_SEEN_EVERY_SECONDS:
        KioskDevice.objects.filter(pk=device.pk).update(last_seen_at=now)
        device.last_seen_at = now
    return device


def deactivate(device: KioskDevice) -> bool:
    """Stop ``device`` from submitting (lost, stolen or replaced). Returns False if it was already inactive.

    Deactivation is final: a replacement is registered anew and gets a new secret."""
    with transaction.atomic():
        changed = KioskDevice.objects.filter(pk=device.pk, is_active=True).update(is_active=False)
    if changed:
        device.is_active = False
        log.info("kiosk deactivated: prefix=%s", device.prefix)
    return bool(changed)


def set_current(device: KioskDevice, record, stage: str, *, set_by: str) -> KioskSession:
    """Show ``record``'s ``stage`` on ``device`` (pushed by the window's business system).

    Refused when the device is deactivated (409), the 办件 was handled at another window (403, R7.1: a device rates
    only its own window) or the stage has not happened yet (422)."""
    if not device.is_active:
        raise DomainError(409, "冲突", "该评价器已停用，不能推送办件", "prefix", code="conflict")
    if record.window_id != device.window_id:
        log.warning("kiosk current refused: prefix=%s got a 办件 of another window", device.prefix)
        raise DomainError(403, "禁止操作", "该办件不属于本评价器所在窗口", "project_no", code="forbidden")
    if stage not in ("accept", "complete"):
        raise invalid("评价环节应为 accept（受理）或 complete（办结）", "stage")
    if record.stage_time(stage) is None:
        raise invalid("该办件尚未受理" if stage == "accept" else "该办件尚未办结，不能评价办结环节", "stage")
    with transaction.atomic():
        session, _created = KioskSession.objects.update_or_create(
            device=device, defaults={"record": record, "stage": stage, "set_at": timezone.now(), "set_by": set_by[:100]}
        )
    return session


def clear_current(device: KioskDevice, *, record=None, stage: str = "") -> bool:
    """Clear what ``device`` shows. With ``record`` (after a rating), only if it still shows that 办件 stage, so a
    rating that arrives late (queued offline) never clears the next citizen's 办件. Returns whether it cleared."""
    qs = KioskSession.objects.filter(device=device, record__isnull=False)
    if record is not None:
        qs = qs.filter(record=record, stage=stage)
    with transaction.atomic():
        return bool(qs.update(record=None, stage="", set_at=timezone.now()))


def current(device: KioskDevice) -> KioskSession | None:
    """The device's session with its current 办件 (item, window, staff loaded), or None when it shows nothing."""
    return (
        KioskSession.objects.select_related("record__item", "record__window", "record__staff")
        .filter(device=device, record__isnull=False)
        .first()
    )
