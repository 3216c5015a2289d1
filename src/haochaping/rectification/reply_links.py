"""答复查看链接 (R4.4): the SMS that tells a real-name evaluator their 差评 was answered carries a link that opens
the receipt page of that evaluation, so nobody has to find the 12-character receipt code first (it was on a kiosk
screen or a slip of paper weeks ago).

The token is a bearer secret like the receipt code: 192 random bits, stored only as its SM3 hash, valid
``VALID_DAYS`` days, redacted from every log line (haochaping.__main__.redact_tokens). It shows what the receipt
code shows, nothing more.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from haochaping.core import tokens
from haochaping.rectification.models import RectificationCase, ReplyLink

VALID_DAYS = 30


def issue(case: RectificationCase, now) -> str:
    """A new link token for ``case`` (inside the answer's transaction); only its hash is written."""
    token = secrets.token_urlsafe(24)
    ReplyLink.objects.create(case=case, token_hash=tokens.digest(token), created_at=now,
                             expires_at=now + timedelta(days=VALID_DAYS))
    return token


def url(token: str) -> str:
    return f"{settings.HAOCHAPING_PUBLIC_URL}{reverse('reply:open', args=[token])}"


@dataclass(frozen=True)
class Opened:
    evaluation_id: int | None  # None: unknown token or expired
    expired: bool = False


def open_link(token: str, now=None) -> Opened:
    """The evaluation a link opens. The first opening is recorded; an unknown or malformed token and a forged one
    read the same."""
    if not token or len(token) > 64:
        return Opened(None)
    now = now or timezone.now()
    with transaction.atomic():
        link = ReplyLink.objects.select_for_update().select_related("case").filter(
            token_hash=tokens.digest(token)).first()
        if link is None or link.case.evaluation_id is None:
            return Opened(None)
        if now >= link.expires_at:
            return Opened(None, expired=True)
        if link.opened_at is None:
            link.opened_at = now
            link.save(update_fields=["opened_at"])
    return Opened(link.case.evaluation_id)
