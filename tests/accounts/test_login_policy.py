"""Issue 18, item 5: who needs a second factor, the per-address lockout beside the per-(account, address) one, and
production mode refusing debug."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.test import Client

from haochaping.accounts import login as flow
from haochaping.accounts.roles import REVEAL_PERMISSION, ROLE_PERMISSIONS, Role

from .login_support import PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_login_state")]

LOGIN = "/accounts/login/"
OTP = "/accounts/login/otp/"
ENROL = "/accounts/login/enrol/"


def post_login(username, password=PASSWORD, address="127.0.0.1"):
    client = Client(REMOTE_ADDR=address)
    return client.post(LOGIN, {"username": username, "password": password})


# --- second factor -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_role_that_can_reveal_personal_data_needs_totp(org, role):
    user = make_user(f"user-{role}", role, org)
    reveals = REVEAL_PERMISSION in ROLE_PERMISSIONS[role]
    expected = reveals or role == Role.ADMINISTRATOR
    assert flow.second_factor_required(user) is expected
    # The login itself agrees: such a role is sent to enrol an authenticator, nobody is signed in before it.
    response = post_login(f"user-{role}")
    assert response.status_code == 302
    assert (response.url == ENROL) is expected
    assert user.has_perm(REVEAL_PERMISSION) is reveals


def test_a_handler_is_signed_in_only_after_the_code(org):
    make_user("jingban", Role.HANDLER, org)
    client = Client()
    response = client.post(LOGIN, {"username": "jingban", "password": PASSWORD})
    assert response.url == ENROL
    assert "_auth_user_id" not in client.session
    assert client.get("/work/").status_code == 302  # the workbench (personal data) is not reachable yet


# --- lockout per address -------------------------------------------------------------------------------------


def test_many_failures_from_one_address_over_many_accounts_lock_that_address(org, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.HAOCHAPING_LOGIN_ADDRESS_FAILURE_LIMIT = 5
    make_user("pinggu", Role.ASSESSOR, org)
    # Two tries on each of three names: every pair stays under its limit of 3.
    for name in ("a1", "a2", "a3"):
        for _ in range(2):
            post_login(name, "wrong-password-123", address="10.0.0.7")
    # Six failures reached the address's limit of 5: even a right password from there is refused.
    response = post_login("pinggu", address="10.0.0.7")
    assert response.status_code == 429 and "登录已被暂时锁定" in response.content.decode()
    # The same account from another address signs in.
    assert post_login("pinggu", address="10.0.0.8").status_code == 302


def test_below_the_address_limit_a_colleague_still_signs_in(org, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.HAOCHAPING_LOGIN_ADDRESS_FAILURE_LIMIT = 5
    make_user("pinggu", Role.ASSESSOR, org)
    # One office, one address: two colleagues mistype twice each (four failures, under both limits).
    for name in ("a1", "a2"):
        for _ in range(2):
            post_login(name, "wrong-password-123", address="10.0.0.7")
    assert post_login("pinggu", address="10.0.0.7").status_code == 302


def test_one_valid_login_does_not_clear_the_addresses_failures_on_other_accounts(org, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.HAOCHAPING_LOGIN_ADDRESS_FAILURE_LIMIT = 5
    make_user("pinggu", Role.ASSESSOR, org)
    for name in ("a1", "a2"):
        for _ in range(2):
            post_login(name, "wrong-password-123", address="10.0.0.7")
    assert post_login("pinggu", address="10.0.0.7").status_code == 302  # four failures so far
    post_login("a3", "wrong-password-123", address="10.0.0.7")  # the fifth
    assert post_login("pinggu", address="10.0.0.7").status_code == 429


def test_the_address_limit_is_higher_than_the_pair_limit_by_default(settings):
    assert settings.HAOCHAPING_LOGIN_ADDRESS_FAILURE_LIMIT > settings.AXES_FAILURE_LIMIT
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


# --- production refuses debug --------------------------------------------------------------------------------


def _start(**env_overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAOCHAPING_")}
    env.update(
        HAOCHAPING_SECRET_KEY="x" * 60,
        HAOCHAPING_SM4_KEY="00112233445566778899aabbccddeeff",
        HAOCHAPING_INDEX_KEY="ffeeddccbbaa99887766554433221100",
        HAOCHAPING_SM2_PRIVATE_KEY="3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8",
        HAOCHAPING_ALLOWED_HOSTS="example.gov.cn",
        **env_overrides,
    )
    return subprocess.run([sys.executable, "-m", "haochaping", "check"], env=env, capture_output=True, text=True,
                          timeout=120)


def test_debug_and_production_together_refuse_to_start():
    result = _start(HAOCHAPING_DEBUG="1", HAOCHAPING_PRODUCTION="1")
    assert result.returncode != 0
    assert "HAOCHAPING_DEBUG=1" in result.stderr and "HAOCHAPING_PRODUCTION=1" in result.stderr


@pytest.mark.parametrize("debug", ["0", "1"])
def test_debug_alone_or_production_alone_start(debug):
    production = "0" if debug == "1" else "1"
    result = _start(HAOCHAPING_DEBUG=debug, HAOCHAPING_PRODUCTION=production)
    assert result.returncode == 0, result.stderr
