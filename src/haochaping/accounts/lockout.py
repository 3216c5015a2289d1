"""Login lockout with two limits (issue 18, item 5): per (account, address) pair, and a higher one per address.

django-axes counts failures for ``AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]``, so one person's mistyped
passwords lock only that account from that address — colleagues in the same office (behind one address) keep
signing in, and nobody elsewhere can lock an account out by guessing its password. axes has one failure limit
per lockout parameter set, so the second limit — many failures from one address across accounts, i.e. someone
trying names — is added here by summing the address's recorded attempts (``AccessAttempt`` rows in the database,
the same store and cool-off axes uses, so it holds across processes and nodes).

A successful login resets only its own pair's count (axes' reset with the pair parameters): signing in with one
valid account does not wipe the failures an address piled up on other accounts.
"""

from __future__ import annotations

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


def address_failures(request) -> int:
    """Failures from the request's address, over every account, within the cool-off period."""
    attempts = AccessAttempt.objects.filter(ip_address=request.axes_ip_address)
    if settings.AXES_COOLOFF_TIME is not None:
        attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class PairAndAddressHandler(AxesDatabaseHandler):
    """axes' database handler, locked also when the address reached ``HAOCHAPING_LOGIN_ADDRESS_FAILURE_LIMIT``."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        pair = super().get_failures(request, credentials)
        if address_failures(request) >= settings.HAOCHAPING_LOGIN_ADDRESS_FAILURE_LIMIT:
            # axes compares this number with the pair limit (is_locked, user_login_failed): reaching the address
            # limit reads as reaching it, so the lockout page, the 429 and the lockout signal follow as usual.
            return max(pair, get_failure_limit(request, credentials))
        return pair
