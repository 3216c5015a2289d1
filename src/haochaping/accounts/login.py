"""Signing in: password, TOTP second factor, forced password change, and password/TOTP resets by administrators.

The flow (views.py is thin over this module):

1. username + password (django-axes counts failures per (username, address) pair, and, with a higher limit, per
   address; accounts.lockout);
2. for every role that can reveal personal data (handlers, supervisors), administrators and superusers a TOTP code — or, on first login, enrolment of an authenticator;
3. a new password when ``must_change_password`` is set;
4. only then ``django.contrib.auth.login``.

Between 1 and 4 the session holds a *pending* login (the user id and when the password was checked), never an
authenticated user, so nothing else in the site treats the visitor as signed in. A pending login expires after
:data:`PENDING_SECONDS`. Failed TOTP codes count towards the same lockout as wrong passwords.

Every failed login, lockout, TOTP failure and reset is logged to ``haochaping.security`` with the username and the
address — never the password or the code.
"""

from __future__ import annotations

import logging
import os
import secrets
import string
import time
from dataclasses import dataclass

import pyotp
import segno
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_ip_address
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model, login
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from .roles import SECOND_FACTOR_REQUIRED

security_log = logging.getLogger("haochaping.security")

PENDING_KEY = "hcp_pending_login"
PENDING_SECONDS = 5 * 60
# A cookie that outlives the session: its presence on the login page means "you were signed in and the
# session ended", so the page can say so instead of looking as if nothing happened.
SIGNED_IN_COOKIE = "hcp_signed_in"
TOTP_ISSUER = "政务服务好差评"
TOTP_STEP = 30
TOTP_DRIFT_STEPS = 1  # accept the previous and the next 30-second code (clock drift)
TEMP_PASSWORD_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")
TEMP_PASSWORD_LENGTH = 14


def _now() -> float:
    # One clock for TOTP steps and pending-login expiry (tests move it).
    return time.time()


def client_address(request) -> str:
    """The address axes counts failures against (so the log and the lockout agree)."""
    return get_client_ip_address(request) or "-"


def _who(username: str) -> str:
    # repr() keeps a username with line breaks from forging log lines.
    return repr(str(username)[:150])


# --- second factor policy ---------------------------------------------------------------------------------


def demo_waiver_active() -> bool:
    """Whether TOTP is waived for demo accounts: only when HAOCHAPING_DEMO=1, read at request time."""
    value = getattr(settings, "HAOCHAPING_DEMO", None)
    if value is None:
        value = os.environ.get("HAOCHAPING_DEMO", "")
    return str(value).strip() == "1"


def second_factor_required(user) -> bool:
    """Roles that can reveal personal data, administrators and superusers sign in with a TOTP code (roles
    .SECOND_FACTOR_REQUIRED), except demo accounts in a demo."""
    if not (user.is_superuser or user.role in SECOND_FACTOR_REQUIRED):
        return False
    return not (user.is_demo and demo_waiver_active())


def totp_enrolled(user) -> bool:
    return bool(user.totp_secret) and user.totp_confirmed_at is not None


# --- pending (half-authenticated) logins -------------------------------------------------------------------


@dataclass
class Pending:
    user: object
    backend: str
    next_url: str
    second_factor_done: bool


def start_pending(request, user, next_url: str = "") -> None:
    """Remember that ``user`` passed the password check; they are not signed in yet."""
    request.session.cycle_key()  # a new session id for the new privilege level
    request.session[PENDING_KEY] = {
        "uid": user.pk,
        "at": _now(),
        "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[1]),
        "next": next_url,
        "otp": False,
    }


class PendingExpired(Exception):
    """The pending login is older than PENDING_SECONDS."""


def get_pending(request) -> Pending | None:
    """The pending login, or None if there is none. Raises PendingExpired (and forgets it) when too old."""
    data = request.session.get(PENDING_KEY)
    if not data:
        return None
    if _now() - data.get("at", 0) > PENDING_SECONDS:
        clear_pending(request)
        raise PendingExpired
    user = get_user_model()._default_manager.filter(pk=data["uid"], is_active=True).first()
    if user is None:
        clear_pending(request)
        return None
    return Pending(user, data["backend"], data.get("next", ""), data.get("otp", False))


def mark_second_factor_done(request) -> None:
    data = dict(request.session[PENDING_KEY])
    data["otp"] = True
    data["at"] = _now()  # the next step (a new password) gets its own five minutes
    request.session[PENDING_KEY] = data


def clear_pending(request) -> None:
    request.session.pop(PENDING_KEY, None)


def next_step(request, pending: Pending) -> str:
    """Which step the pending login needs now: "enrol", "otp", "password" or "done"."""
    user = pending.user
    if not pending.second_factor_done and second_factor_required(user):
        return "otp" if totp_enrolled(user) else "enrol"
    if user.must_change_password:
        return "password"
    return "done"


def complete_login(request, pending: Pending) -> None:
    """Sign the user in for real (Django's login: new session key, axes resets the failure count)."""
    clear_pending(request)
    login(request, pending.user, backend=pending.backend)


# --- password step -----------------------------------------------------------------------------------------


def check_password(request, username: str, password: str):
    """The active user for these credentials, or None. Counts the failure (django-axes) and logs it.

    When the username or the address is locked out, returns None and django-axes marks the request so the
    lockout page is shown instead of the form.
    """
    user = authenticate(request, username=username, password=password)
    if user is None and not getattr(request, "axes_locked_out", False):
        security_log.warning("login failed: wrong username or password user=%s address=%s", _who(username),
                             client_address(request))
    return user


def is_locked_out(request, username: str) -> bool:
    return not AxesProxyHandler.is_allowed(request, {"username": username})


def count_failure(request, username: str) -> None:
    """Count a failed second factor towards the same lockout as a wrong password."""
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


@receiver(user_locked_out)
def _log_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    security_log.warning("login locked out user=%s address=%s", _who(username or ""), ip_address or "-")


# --- TOTP --------------------------------------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.get_username(), issuer_name=TOTP_ISSUER)


def qr_data_uri(uri: str) -> str:
    """The otpauth URI as an SVG QR code in a data: URI (the CSP allows data: images, no inline script)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def pending_enrolment_secret(user) -> str:
    """The not yet confirmed secret shown on the enrolment page; kept (encrypted) on the user, so reloading
    the page does not invalidate an authenticator that already scanned it."""
    if user.totp_secret and user.totp_confirmed_at is None:
        return user.totp_secret.reveal()
    secret = new_totp_secret()
    with transaction.atomic():
        user.totp_secret = secret
        user.totp_confirmed_at = None
        user.totp_last_step = None
        user.save(update_fields=["totp_secret", "totp_confirmed_at", "totp_last_step"])
    return secret


def _matching_step(secret: str, code: str, now: float) -> int | None:
    code = (code or "").strip().replace(" ", "")
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_STEP)
    current = totp.timecode(now)
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(user, secret: str, step: int) -> bool:
    """Record that the code of ``step`` was used; False when it (or a later one) was used before (replay).

    One conditional UPDATE in the database, so two web processes (or nodes) presented with the same code
    cannot both accept it.
    """
    from django.db.models import Q

    from .models import User

    claimed = (
        User.objects.filter(pk=user.pk)
        .filter(Q(totp_last_step__isnull=True) | Q(totp_last_step__lt=step))
        .update(totp_last_step=step)
    )
    if claimed:
        user.totp_last_step = step
    return bool(claimed)


def verify_totp(request, user, code: str, *, secret: str | None = None) -> bool:
    """Whether ``code`` is a valid, unused TOTP code for the user (±1 time step). Failures count towards
    lockout and are logged (without the code)."""
    secret = secret or (user.totp_secret.reveal() if user.totp_secret else "")
    step = _matching_step(secret, code, _now()) if secret else None
    if step is not None and _claim_step(user, secret, step):
        return True
    reason = "replayed code" if step is not None else "wrong code"
    security_log.warning("login failed: TOTP %s user=%s address=%s", reason, _who(user.get_username()),
                         client_address(request))
    count_failure(request, user.get_username())
    return False


def confirm_enrolment(request, user, code: str) -> bool:
    """Bind the authenticator that produced ``code`` to the user's pending secret."""
    if not (user.totp_secret and user.totp_confirmed_at is None):
        return False
    if not verify_totp(request, user, code):
        return False
    with transaction.atomic():
        user.totp_confirmed_at = timezone.now()
        user.save(update_fields=["totp_confirmed_at"])
    security_log.info("TOTP enrolled user=%s address=%s", _who(user.get_username()), client_address(request))
    return True


# --- password change and administrator resets ---------------------------------------------------------------


def set_new_password(request, user, password: str) -> None:
    """Store the user's own new password (already validated) and lift ``must_change_password``."""
    with transaction.atomic():
        user.set_password(password)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
    security_log.info("password changed by user=%s address=%s", _who(user.get_username()), client_address(request))


def generate_temporary_password() -> str:
    return "".join(secrets.choice(TEMP_PASSWORD_ALPHABET) for _ in range(TEMP_PASSWORD_LENGTH))


def reset_password(user, *, by, request=None) -> str:
    """Give ``user`` a temporary password they must change at next login; returns it (show it once, never
    store or log it). Existing sessions of the user end, because their session hash depends on the password."""
    password = generate_temporary_password()
    with transaction.atomic():
        user.set_password(password)
        user.must_change_password = True
        user.save(update_fields=["password", "must_change_password"])
    security_log.warning("password reset user=%s by=%s address=%s", _who(user.get_username()),
                         _who(by.get_username()), client_address(request) if request else "-")
    return password


def reset_totp(user, *, by, request=None) -> None:
    """Forget the user's authenticator; they enrol a new one at next login."""
    with transaction.atomic():
        user.totp_secret = None
        user.totp_confirmed_at = None
        user.totp_last_step = None
        user.save(update_fields=["totp_secret", "totp_confirmed_at", "totp_last_step"])
    security_log.warning("TOTP reset user=%s by=%s address=%s", _who(user.get_username()),
                         _who(by.get_username()), client_address(request) if request else "-")
