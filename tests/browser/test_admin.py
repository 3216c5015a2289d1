"""The Django admin, where administrators maintain the catalog, speaks Chinese and lets a superuser in (through the
site's login: password, then a TOTP code)."""

from __future__ import annotations

import pyotp
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Zhengwu-Fuwu-2026!"
TOTP_SECRET = pyotp.random_base32()


@pytest.fixture
def superuser(db):
    user = get_user_model().objects.create_superuser("guanliyuan", "admin@example.org", PASSWORD)
    user.totp_secret, user.totp_confirmed_at = TOTP_SECRET, timezone.now()
    user.save()
    return user


def test_admin_login_page_is_chinese(page, db):
    page.goto("/admin/")
    page.wait_for_url("**/accounts/login/?next=%2Fadmin%2F")
    assert page.evaluate("document.documentElement.lang") == "zh-Hans"
    assert page.title() == "登录 - 政务服务“好差评”"
    assert page.get_by_label("用户名").is_visible()
    assert page.get_by_label("密码").is_visible()
    assert page.get_by_role("button", name="登录").is_visible()


def test_superuser_logs_in_and_sees_the_catalog(page, superuser):
    page.goto("/admin/login/")
    page.get_by_label("用户名").fill("guanliyuan")
    page.get_by_label("密码").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/accounts/login/otp/")
    page.get_by_label("动态口令").fill(pyotp.TOTP(TOTP_SECRET).now())
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/")
    assert page.get_by_role("heading", level=1).inner_text() == "系统管理"
    assert page.get_by_role("link", name="政务服务事项", exact=True).is_visible()


def test_wrong_password_is_refused_in_chinese(page, superuser):
    page.goto("/admin/login/")
    page.get_by_label("用户名").fill("guanliyuan")
    page.get_by_label("密码").fill("wrong-password-123")
    page.get_by_role("button", name="登录").click()
    assert "用户名或密码不正确" in page.locator(".errornote").inner_text()
    assert page.url.endswith("/accounts/login/")
