"""A supervisor signs in with password and a TOTP code in a real browser and reaches the admin; on first login the
authenticator is enrolled from the page (QR code shown under the strict CSP, secret readable for manual entry)."""

from __future__ import annotations

import pyotp
import pytest
from axes.utils import reset as reset_axes
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone

from haochaping.accounts.roles import Role
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Zhengwu-Fuwu-2026!"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(autouse=True)
def _fresh_login_state():
    reset_axes()
    cache.clear()  # the TOTP replay guard
    yield
    cache.clear()


@pytest.fixture
def supervisor(db):
    org = factories.make_org()
    return get_user_model().objects.create_user(
        "sup-370102", password=PASSWORD, role=Role.SUPERVISOR, region=org.county, is_staff=True
    )


def axe_violations(page) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
    return [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:5]} for v in results.response["violations"]]


def sign_in_with_password(page):
    page.goto("/admin/")
    page.wait_for_url("**/accounts/login/?next=%2Fadmin%2F")
    assert page.title() == "登录 - 政务服务“好差评”"
    page.get_by_label("用户名").fill("sup-370102")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_supervisor_signs_in_with_a_totp_code_and_reaches_the_admin(page, supervisor):
    secret = pyotp.random_base32()
    supervisor.totp_secret = secret
    supervisor.totp_confirmed_at = timezone.now()
    supervisor.save()

    sign_in_with_password(page)
    page.wait_for_url("**/accounts/login/otp/")
    assert page.get_by_role("heading", level=1).inner_text() == "输入动态口令"
    assert axe_violations(page) == []
    # Half signed in: the admin is still closed.
    page.goto("/admin/")
    page.wait_for_url("**/accounts/login/?next=%2Fadmin%2F")
    page.goto("/accounts/login/otp/")

    field = page.get_by_label("动态口令")
    field.fill("000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.get_by_role("button", name="验证").click()
    assert "动态口令不正确" in page.locator(".errorlist").inner_text()

    page.get_by_label("动态口令").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="验证").click()
    page.wait_for_url("**/admin/")
    assert page.get_by_role("heading", level=1).inner_text() == "系统管理"

    # Logging out from the admin ends the session.
    page.get_by_role("button", name="注销").click()
    page.wait_for_url("**/accounts/login/")
    assert "您已安全退出" in page.locator("main").inner_text()
    page.goto("/admin/")
    page.wait_for_url("**/accounts/login/?next=%2Fadmin%2F")


def test_first_login_enrols_the_authenticator_from_the_page(page, supervisor):
    sign_in_with_password(page)
    page.wait_for_url("**/accounts/login/enrol/")
    qr = page.get_by_role("img", name="动态口令绑定二维码（无法扫描时请手动输入下方密钥）")
    # The QR code is a data: image, which the Content-Security-Policy allows; a blocked image has no width.
    assert qr.evaluate("img => img.complete && img.naturalWidth > 100")
    assert axe_violations(page) == []
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("动态口令").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="完成绑定").click()
    page.wait_for_url("**/admin/")
    assert page.get_by_role("heading", level=1).inner_text() == "系统管理"
    supervisor.refresh_from_db()
    assert supervisor.totp_confirmed_at is not None and supervisor.totp_secret.reveal() == secret


def test_the_password_box_is_as_large_as_the_user_name_box(page, supervisor):
    # Someone who types slowly on a phone or a large-text screen sees both boxes alike, full width and tall enough to hit.
    for width in (390, 1366):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/accounts/login/")
        name, password = page.get_by_label("用户名").bounding_box(), page.get_by_label("密码").bounding_box()
        assert (round(password["width"]), round(password["height"])) == (round(name["width"]), round(name["height"]))
        assert password["height"] >= 44  # the touch target the site's other text boxes have (2.75rem)
