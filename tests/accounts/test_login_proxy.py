"""Behind a reverse proxy every request comes from the proxy's address: lockouts and limits must still count per
visitor (HAOCHAPING_TRUSTED_PROXIES), and a visitor must not escape them by writing X-Forwarded-For itself."""

from __future__ import annotations

import pytest
from django.test import Client

from haochaping.accounts.roles import Role
from haochaping.evaluation.views import receipt as views_receipt

from .login_support import PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_login_state")]

LOGIN = "/accounts/login/"
PROXY = "10.0.0.1"




def login(username, password, xff=None):
    extra = {"HTTP_X_FORWARDED_FOR": xff} if xff else {}
    return Client(REMOTE_ADDR=PROXY, **extra).post(LOGIN, {"username": username, "password": password})


def test_behind_one_proxy_a_visitors_failures_lock_that_visitor_not_everyone(org, settings):
    settings.HAOCHAPING_TRUSTED_PROXIES = 1
    settings.AXES_FAILURE_LIMIT = 3
    settings.HAOCHAPING_LOGIN_ADDRESS_FAILURE_LIMIT = 3
    make_user("jingban", Role.HANDLER, org)
    for name in ("a1", "a2", "a3"):  # several accounts: the per-address lockout, not the per-account one
        login(name, "wrong-password-123", xff="203.0.113.9")
    assert login("jingban", PASSWORD, xff="203.0.113.9").status_code == 429
    # Writing another address in front does not help: the proxy appended the real one.
    assert login("jingban", PASSWORD, xff="198.51.100.1, 203.0.113.9").status_code == 429
    # A colleague in another office, through the same proxy, signs in.
    assert login("jingban", PASSWORD, xff="198.51.100.20").status_code == 302


def test_without_declared_proxies_a_forged_header_does_not_escape_the_lockout(org, settings):
    settings.HAOCHAPING_TRUSTED_PROXIES = 0
    settings.AXES_FAILURE_LIMIT = 3
    settings.HAOCHAPING_LOGIN_ADDRESS_FAILURE_LIMIT = 3
    make_user("jingban", Role.HANDLER, org)
    for n, name in enumerate(("a1", "a2", "a3")):
        login(name, "wrong-password-123", xff=f"192.0.2.{n + 1}")
    assert login("jingban", PASSWORD, xff="192.0.2.99").status_code == 429


def test_receipt_guessing_is_limited_per_visitor_behind_the_proxy(settings):
    settings.HAOCHAPING_TRUSTED_PROXIES = 1

    def lookup(xff):
        return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=xff).post("/r/", {"code": "ABCDEFGHJKLM"})

    assert {lookup("203.0.113.9").status_code for _ in range(views_receipt.FAILURE_LIMIT)} == {404}
    assert lookup("203.0.113.9").status_code == 429
    assert lookup("198.51.100.20").status_code == 404  # someone else behind the same proxy is not blocked
