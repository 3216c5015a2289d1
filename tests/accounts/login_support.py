"""Helpers for the login tests: users with a known password (hashed once, Argon2 is slow by design) and TOTP codes."""

from __future__ import annotations

import functools
import time

import pyotp
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from haochaping.accounts.roles import Role

from .. import factories

PASSWORD = "Zhengwu-Fuwu-2026!"


@functools.cache
def password_hash() -> str:
    return make_password(PASSWORD)


def make_user(username: str, role: str = Role.HANDLER, org=None, **kw):
    """A user of ``role`` placed in ``org`` (tests.factories.Org) as the role needs."""
    fields = {"role": role, "is_staff": True}
    if org is not None and role != Role.ADMINISTRATOR:
        fields["region"] = org.county
    if org is not None and role == Role.HANDLER:
        fields["department"] = org.department
    if org is not None and role == Role.STAFF:
        fields["staff"] = org.staff
    fields.update(kw)
    return get_user_model().objects.create(username=username, password=password_hash(), **fields)


def enrol(user, secret: str | None = None) -> str:
    """Give ``user`` a confirmed TOTP secret; returns it."""
    from django.utils import timezone

    secret = secret or pyotp.random_base32()
    user.totp_secret = secret
    user.totp_confirmed_at = timezone.now()
    user.save(update_fields=["totp_secret", "totp_confirmed_at"])
    return secret


def code(secret: str, steps: int = 0) -> str:
    """The code of ``secret`` ``steps`` 30-second steps from now."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps)


def new_org():
    return factories.make_org()
