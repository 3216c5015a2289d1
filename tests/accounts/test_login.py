"""Signing in: password, lockout per (account, address), TOTP for handlers, supervisors and administrators, forced
password change, session expiry, logout, and the admin's login going through the same flow."""

from __future__ import annotations

import logging
import re
import time
from datetime import timedelta

import pyotp
import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from haochaping.accounts import login as flow
from haochaping.accounts.models import User
from haochaping.accounts.roles import Role

from .login_support import PASSWORD, enrol, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_login_state")]

LOGIN = "/accounts/login/"
OTP = "/accounts/login/otp/"
ENROL = "/accounts/login/enrol/"
NEW_PASSWORD = "/accounts/login/password/"




@pytest.fixture
def clock(monkeypatch):
    """The login flow's clock, frozen in the middle of a 30-second TOTP step; ``clock.now`` may be moved."""

    class Clock:
        now = (int(time.time()) // 30) * 30 + 15.0

        def code(self, secret: str, steps: int = 0) -> str:
            return pyotp.TOTP(secret).at(self.now + 30 * steps)

    c = Clock()
    monkeypatch.setattr(flow, "_now", lambda: c.now)
    return c


def post_login(client, username, password=PASSWORD, address="127.0.0.1", **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra}, REMOTE_ADDR=address)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- password ------------------------------------------------------------------------------------------------


def test_login_page_is_chinese(client):
    response = client.get(LOGIN)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>登录</h1>" in body and "用户名" in body and "密码" in body
    assert "csrfmiddlewaretoken" in body


def test_wrong_password_is_refused_in_chinese_without_a_session_and_is_logged(client, org, caplog):
    make_user("pinggu", Role.ASSESSOR, org)
    with caplog.at_level(logging.WARNING, logger="haochaping.security"):
        response = post_login(client, "pinggu", "wrong-password-123", address="10.1.2.3")
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()
    assert not signed_in(client)
    security = [r.getMessage() for r in caplog.records if r.name == "haochaping.security"]
    assert any("login failed" in m and "'pinggu'" in m and "10.1.2.3" in m for m in security)
    assert not any("wrong-password-123" in r.getMessage() for r in caplog.records)


def test_unknown_user_gets_the_same_message(client, db):
    response = post_login(client, "nobody", "whatever-123456")
    assert "用户名或密码不正确" in response.content.decode()
    assert not signed_in(client)


def test_empty_fields_are_named(client, db):
    body = client.post(LOGIN, {"username": "", "password": ""}).content.decode()
    assert "请输入用户名" in body and "请输入密码" in body


@pytest.mark.parametrize("role", [Role.STAFF, Role.ASSESSOR, Role.HOTLINE])
def test_roles_that_cannot_reveal_personal_data_sign_in_without_a_second_factor(client, org, role):
    make_user("renyuan", role, org)
    response = post_login(client, "renyuan")
    # Each lands where it works (accounts.views.landing_url): staff the workbench, operators the hotline page,
    # assessors their commissions.
    expected = {Role.STAFF: "/work/", Role.ASSESSOR: "/work/assessments/", Role.HOTLINE: "/hotline/"}[role]
    assert response.status_code == 302 and response.url == expected
    assert signed_in(client)


def test_passwords_are_hashed_with_argon2(org):
    user = make_user("pinggu", Role.ASSESSOR, org)
    user.set_password("Another-Password-2026")
    user.save()
    stored = User.objects.values_list("password", flat=True).get(pk=user.pk)
    assert stored.startswith("argon2$")
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_next_is_followed_but_not_to_other_sites(client, org):
    make_user("pinggu", Role.ASSESSOR, org)
    response = post_login(client, "pinggu", next="/admin/org/department/")
    assert response.url == "/admin/org/department/"
    client.post("/accounts/logout/")
    response = post_login(client, "pinggu", next="https://evil.example/steal")
    assert response.url == "/work/assessments/"  # assessors start at their commissions


# --- lockout -------------------------------------------------------------------------------------------------


def test_account_is_locked_from_the_address_that_failed_only(client, org, settings, caplog):
    settings.AXES_FAILURE_LIMIT = 3
    make_user("pinggu", Role.ASSESSOR, org)
    make_user("other", Role.ASSESSOR, org)
    for _ in range(3):
        post_login(client, "pinggu", "wrong-password-123", address="10.0.0.1")
    with caplog.at_level(logging.WARNING, logger="haochaping.security"):
        response = post_login(client, "pinggu", PASSWORD, address="10.0.0.1")  # right password, same address
    body = response.content.decode()
    assert response.status_code == 429
    assert "登录已被暂时锁定" in body and "30 分钟" in body
    assert not signed_in(client)
    assert any("locked out" in r.getMessage() and "'pinggu'" in r.getMessage() for r in caplog.records)
    # A colleague behind the same address is not affected, nor is the same account from elsewhere: someone
    # guessing a password from outside cannot lock its owner out.
    assert post_login(client, "other", address="10.0.0.1").status_code == 302
    client.post("/accounts/logout/")
    assert post_login(client, "pinggu", address="10.9.9.9").status_code == 302


def test_failures_spread_over_addresses_do_not_lock_the_account(client, org, settings):
    settings.AXES_FAILURE_LIMIT = 3
    make_user("pinggu", Role.ASSESSOR, org)
    for n in range(6):
        post_login(client, "pinggu", "wrong-password-123", address=f"10.0.0.{n + 1}")
    assert post_login(client, "pinggu", address="10.0.0.9").status_code == 302


def test_success_before_the_limit_clears_the_count(client, org, settings):
    settings.AXES_FAILURE_LIMIT = 3
    make_user("pinggu", Role.ASSESSOR, org)
    for _ in range(2):
        post_login(client, "pinggu", "wrong-password-123")
    assert post_login(client, "pinggu").status_code == 302
    client.post("/accounts/logout/")
    for _ in range(2):
        post_login(client, "pinggu", "wrong-password-123")
    assert post_login(client, "pinggu").status_code == 302


# --- TOTP ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.HANDLER, Role.SUPERVISOR, Role.ADMINISTRATOR])
def test_handlers_supervisors_and_administrators_need_a_totp_code(client, org, clock, role):
    user = make_user("jiandu", role, org)
    secret = enrol(user)
    response = post_login(client, "jiandu", next="/admin/")
    assert response.status_code == 302 and response.url == OTP
    assert not signed_in(client)
    # Half way in, the admin still treats the visitor as anonymous.
    assert client.get("/admin/").status_code == 302 and not signed_in(client)
    page = client.get(OTP).content.decode()
    assert "输入动态口令" in page and "jiandu" in page
    response = client.post(OTP, {"otp": clock.code(secret)})
    assert response.status_code == 302 and response.url == "/admin/"
    assert signed_in(client)
    assert client.get("/admin/").status_code == 200


def test_superuser_needs_a_totp_code_too(client, org, clock):
    user = make_user("root", Role.EVALUATOR, None, is_superuser=True)
    enrol(user)
    assert post_login(client, "root").url == OTP
    assert not signed_in(client)


def test_wrong_code_is_refused_counted_and_logged_without_the_code(client, org, clock, caplog):
    user = make_user("jiandu", Role.SUPERVISOR, org)
    secret = enrol(user)
    post_login(client, "jiandu")
    wrong = f"{(int(clock.code(secret)) + 1) % 1_000_000:06d}"
    with caplog.at_level(logging.WARNING, logger="haochaping.security"):
        response = client.post(OTP, {"otp": wrong}, REMOTE_ADDR="10.3.3.3")
    assert response.status_code == 200
    assert "动态口令不正确" in response.content.decode()
    assert not signed_in(client)
    assert AccessAttempt.objects.filter(username="jiandu").exists()
    messages = [r.getMessage() for r in caplog.records if r.name == "haochaping.security"]
    assert any("TOTP" in m and "'jiandu'" in m and "10.3.3.3" in m for m in messages)
    assert not any(wrong in r.getMessage() for r in caplog.records)


def test_code_must_be_six_digits(client, org, clock):
    enrol(make_user("jiandu", Role.SUPERVISOR, org))
    post_login(client, "jiandu")
    body = client.post(OTP, {"otp": "12ab"}).content.decode()
    assert "动态口令应为6位数字" in body


def test_neighbouring_steps_are_accepted_older_ones_are_not(client, org, clock):
    user = make_user("jiandu", Role.SUPERVISOR, org)
    secret = enrol(user)
    post_login(client, "jiandu")
    for stale in (-3, 2):
        assert client.post(OTP, {"otp": clock.code(secret, stale)}).status_code == 200
        assert not signed_in(client)
    assert client.post(OTP, {"otp": clock.code(secret, -1)}).status_code == 302
    assert signed_in(client)


def test_a_code_cannot_be_used_twice(client, org, clock):
    user = make_user("jiandu", Role.SUPERVISOR, org)
    secret = enrol(user)
    code = clock.code(secret)
    post_login(client, "jiandu")
    assert client.post(OTP, {"otp": code}).status_code == 302
    client.post("/accounts/logout/")
    post_login(client, "jiandu")
    response = client.post(OTP, {"otp": code})
    assert response.status_code == 200 and "已使用过" in response.content.decode()
    assert not signed_in(client)
    # An older code (previous step) after a newer one was used is a replay as well.
    assert client.post(OTP, {"otp": clock.code(secret, -1)}).status_code == 200
    clock.now += 30
    assert client.post(OTP, {"otp": clock.code(secret)}).status_code == 302


def test_a_used_code_stays_used_when_another_process_answers(client, org, clock):
    # Another web process has its own (empty) cache: the replay guard must live in the database.
    user = make_user("jiandu", Role.SUPERVISOR, org)
    secret = enrol(user)
    code = clock.code(secret)
    post_login(client, "jiandu")
    assert client.post(OTP, {"otp": code}).status_code == 302
    client.post("/accounts/logout/")
    cache.clear()
    post_login(client, "jiandu")
    assert client.post(OTP, {"otp": code}).status_code == 200
    assert not signed_in(client)


def test_totp_failures_lead_to_lockout(client, org, clock, settings):
    settings.AXES_FAILURE_LIMIT = 3
    user = make_user("jiandu", Role.SUPERVISOR, org)
    secret = enrol(user)
    post_login(client, "jiandu", address="10.0.1.1")
    wrong = f"{(int(clock.code(secret)) + 7) % 1_000_000:06d}"
    responses = [client.post(OTP, {"otp": wrong}, REMOTE_ADDR="10.0.1.1") for _ in range(3)]
    assert responses[-1].status_code == 429
    assert "登录已被暂时锁定" in responses[-1].content.decode()
    # The pending login is gone and the password alone no longer gets anywhere.
    assert client.get(OTP).url == LOGIN
    assert post_login(client, "jiandu", address="10.0.1.1").status_code == 429


def test_pending_login_expires_after_five_minutes(client, org, clock):
    user = make_user("jiandu", Role.SUPERVISOR, org)
    secret = enrol(user)
    post_login(client, "jiandu")
    clock.now += flow.PENDING_SECONDS + 1
    response = client.post(OTP, {"otp": clock.code(secret)}, follow=True)
    assert response.redirect_chain[-1][0] == LOGIN
    assert "验证已超时" in response.content.decode()
    assert not signed_in(client)
    assert client.get(OTP).url == LOGIN


def test_steps_cannot_be_skipped(client, org, clock):
    enrol(make_user("jiandu", Role.SUPERVISOR, org))
    assert client.get(OTP).url == LOGIN  # no password yet
    post_login(client, "jiandu")
    assert client.get(NEW_PASSWORD).url == OTP
    assert client.get(ENROL).url == OTP


# --- enrolment -----------------------------------------------------------------------------------------------


def test_first_login_enrols_an_authenticator(client, org, clock):
    make_user("jiandu", Role.SUPERVISOR, org)
    response = post_login(client, "jiandu", next="/admin/")
    assert response.url == ENROL
    page = client.get(ENROL).content.decode()
    assert "绑定动态口令" in page
    assert 'src="data:image/svg+xml' in page  # the QR code, no inline script or remote image
    assert not re.search(r"<script(?![^>]*\ssrc=)", page)  # scripts only from files (CSP: no inline script)
    user = User.objects.get(username="jiandu")
    secret = user.totp_secret.reveal()
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in page  # for manual entry
    assert user.totp_confirmed_at is None and not signed_in(client)
    # Stored encrypted, not in clear text.
    with connection.cursor() as cursor:
        cursor.execute("SELECT totp_secret FROM accounts_user WHERE id = %s", [user.pk])
        raw = bytes(cursor.fetchone()[0])
    assert secret.encode() not in raw
    # Reloading keeps the same secret (an authenticator that already scanned still works).
    client.get(ENROL)
    assert User.objects.get(pk=user.pk).totp_secret.reveal() == secret
    wrong = f"{(int(clock.code(secret)) + 1) % 1_000_000:06d}"
    assert "动态口令不正确" in client.post(ENROL, {"otp": wrong}).content.decode()
    response = client.post(ENROL, {"otp": clock.code(secret)})
    assert response.status_code == 302 and response.url == "/admin/"
    assert signed_in(client)
    assert User.objects.get(pk=user.pk).totp_confirmed_at is not None
    # Next time: a code, not a new QR code.
    client.post("/accounts/logout/")
    assert post_login(client, "jiandu").url == OTP


# --- demo waiver ---------------------------------------------------------------------------------------------


def test_demo_accounts_skip_totp_only_when_the_demo_switch_is_on(client, org, clock, monkeypatch):
    make_user("sup-demo", Role.SUPERVISOR, org, is_demo=True)
    make_user("sup-real", Role.SUPERVISOR, org)
    monkeypatch.setenv("HAOCHAPING_DEMO", "1")
    assert post_login(client, "sup-demo").url == "/work/"
    assert signed_in(client)
    client.post("/accounts/logout/")
    assert post_login(client, "sup-real").url == ENROL  # not a demo account: no waiver
    monkeypatch.setenv("HAOCHAPING_DEMO", "0")
    client.logout()
    assert post_login(client, "sup-demo").url == ENROL
    monkeypatch.delenv("HAOCHAPING_DEMO")
    client.logout()
    assert post_login(client, "sup-demo").url == ENROL
    assert not signed_in(client)


def test_demo_switch_can_come_from_settings(org, settings, monkeypatch):
    user = make_user("sup-demo", Role.SUPERVISOR, org, is_demo=True)
    monkeypatch.delenv("HAOCHAPING_DEMO", raising=False)
    settings.HAOCHAPING_DEMO = "1"
    assert not flow.second_factor_required(user)
    settings.HAOCHAPING_DEMO = "0"
    assert flow.second_factor_required(user)


# --- must change password ------------------------------------------------------------------------------------


def test_must_change_password_comes_before_anything_else(client, org):
    user = make_user("pinggu", Role.ASSESSOR, org, must_change_password=True)
    response = post_login(client, "pinggu", next="/admin/")
    assert response.url == NEW_PASSWORD
    assert not signed_in(client)
    assert client.get("/admin/").status_code == 302 and not signed_in(client)
    page = client.get(NEW_PASSWORD).content.decode()
    assert "修改密码" in page
    weak = client.post(NEW_PASSWORD, {"new_password1": "12345678", "new_password2": "12345678"}).content.decode()
    assert "密码太短，至少需要10个字符" in weak and "密码只包含数字" in weak and "这个密码太常见了" in weak
    assert "This password" not in weak
    mismatch = client.post(NEW_PASSWORD, {"new_password1": "Qingdao-Shinan-77", "new_password2": "Qingdao-Shinan-78"})
    assert "两次输入的新密码不一致" in mismatch.content.decode()
    same = client.post(NEW_PASSWORD, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert "不能与原密码" in same.content.decode()
    assert not signed_in(client)
    response = client.post(NEW_PASSWORD, {"new_password1": "Qingdao-Shinan-77", "new_password2": "Qingdao-Shinan-77"})
    assert response.status_code == 302 and response.url == "/admin/"
    assert signed_in(client)
    user.refresh_from_db()
    assert not user.must_change_password and user.check_password("Qingdao-Shinan-77")


def test_second_factor_then_new_password(client, org, clock):
    user = make_user("jiandu", Role.SUPERVISOR, org, must_change_password=True)
    secret = enrol(user)
    assert post_login(client, "jiandu").url == OTP
    assert client.post(OTP, {"otp": clock.code(secret)}).url == NEW_PASSWORD
    assert not signed_in(client)
    response = client.post(NEW_PASSWORD, {"new_password1": "Qingdao-Shinan-77", "new_password2": "Qingdao-Shinan-77"})
    assert response.status_code == 302 and signed_in(client)


# --- sessions, logout, admin ---------------------------------------------------------------------------------


def test_session_ends_after_thirty_idle_minutes():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST  # each request pushes the end back: idle time counts


def test_expired_session_is_sent_back_to_login_with_a_chinese_message(client, org):
    make_user("pinggu", Role.ASSESSOR, org)
    post_login(client, "pinggu")
    assert client.get("/admin/").status_code == 200
    session = Session.objects.get(session_key=client.session.session_key)
    assert session.expire_date > timezone.now() + timedelta(minutes=29)
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith(LOGIN + "?next=")
    body = response.content.decode()
    assert "登录已超时" in body and "30分钟" in body
    # Said once: a later visit to the login page is a plain login page.
    assert "登录已超时" not in client.get(LOGIN).content.decode()


def test_logout_needs_post(client, org):
    make_user("pinggu", Role.ASSESSOR, org)
    post_login(client, "pinggu")
    assert client.get("/accounts/logout/").status_code == 405
    assert signed_in(client)
    response = client.post("/accounts/logout/", follow=True)
    assert not signed_in(client)
    body = response.content.decode()
    assert "您已安全退出" in body and "登录已超时" not in body


def test_admin_logout_goes_through_the_same_view(client, org):
    make_user("pinggu", Role.ASSESSOR, org)
    post_login(client, "pinggu")
    response = client.post("/admin/logout/")
    assert response.status_code == 302 and response.url == LOGIN
    assert not signed_in(client)


def test_admin_login_is_this_flow(client, org, clock):
    response = client.get("/admin/")
    assert response.url == "/admin/login/?next=/admin/"
    response = client.get(response.url)
    assert response.status_code == 302 and response.url == LOGIN + "?next=%2Fadmin%2F"
    # Posting credentials to the admin's own login signs nobody in.
    user = make_user("jiandu", Role.SUPERVISOR, org)
    enrol(user)
    client.post("/admin/login/", {"username": "jiandu", "password": PASSWORD})
    assert not signed_in(client)


def test_signed_in_user_without_admin_access_is_told_not_looped(client, org):
    make_user("pingjia", Role.EVALUATOR, None, is_staff=False)
    post_login(client, "pingjia")
    response = client.get("/admin/", follow=True)
    assert response.status_code == 200 and len(response.redirect_chain) == 2
    assert "您已登录为" in response.content.decode()
