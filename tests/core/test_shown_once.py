"""Secrets and passwords shown once (admin/shown_once.html): the API key, the kiosk device secret, the 一事一评 signing
secret and temporary passwords are shown on the page that answers the request that made them, marked as shown
once, kept out of caches, and never carried in a cookie or a redirect."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from haochaping.accounts.auth import authenticate_api_key
from haochaping.accounts.models import ApiKey, User
from haochaping.accounts.roles import Role
from haochaping.evaluation import kiosk
from haochaping.evaluation.models import KioskDevice
from haochaping.org.services import issue_secret

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.com", None))
    return client


def shown_once(response, secret_pattern: str, changelist: str) -> str:
    """The one secret on a shown-once page, after checking what every such page promises."""
    assert response.status_code == 200  # the page itself, not a redirect to a page that reads it back
    assert "no-store" in response.headers["Cache-Control"]
    body = response.content.decode()
    assert "只显示这一次" in re.search(r'<p class="errornote">([^<]+)</p>', body).group(1)
    assert f'href="{reverse(changelist)}"' in body  # the way back to the list
    found = set(re.findall(secret_pattern, body))
    assert len(found) == 1
    secret = found.pop()
    for name, cookie in response.cookies.items():
        assert name != "messages" and secret not in cookie.value, f"the secret travels in the {name} cookie"
    return secret


def test_a_new_api_key_is_shown_on_the_answer_to_the_form_not_in_a_message_cookie(admin_client, org):
    response = admin_client.post(
        reverse("admin:accounts_apikey_add"),
        {"name": "历下区业务系统", "scopes": ["records:read"], "region": org.county.code, "expires_at": ""},
    )
    secret = shown_once(response, r"hcp_[A-Za-z0-9_\-]+", "admin:accounts_apikey_changelist")
    key = ApiKey.objects.get(name="历下区业务系统")
    assert authenticate_api_key(secret).pk == key.pk
    assert f"历下区业务系统（{key.prefix}）" in response.content.decode()
    # Nothing is left over for the next page either.
    assert secret not in admin_client.get(reverse("admin:accounts_apikey_changelist")).content.decode()


def test_a_registered_kiosk_device_shows_its_secret_once(admin_client, org):
    response = admin_client.post(reverse("admin:evaluation_kioskdevice_add"), {"window": org.window.pk, "name": "1号窗口评价器"})
    secret = shown_once(response, r"hck_[A-Za-z0-9_\-]+", "admin:evaluation_kioskdevice_changelist")
    assert kiosk.authenticate_kiosk(secret) == KioskDevice.objects.get(name="1号窗口评价器")


def test_a_platform_signing_secret_is_shown_once_and_replaces_the_old_one(admin_client, org):
    old = issue_secret(org.platform)
    response = admin_client.post(
        reverse("admin:org_platform_changelist"),
        {"action": "generate_evaluation_secret", "_selected_action": [org.platform.pk]},
    )
    secret = shown_once(response, r"hcs_[A-Za-z0-9_\-]+", "admin:org_platform_changelist")
    assert secret != old
    org.platform.refresh_from_db()
    assert org.platform.evaluation_secret == secret
    # A platform without return addresses is told why its pages would be refused.
    assert "尚未填写" in response.content.decode()


def test_reset_passwords_are_shown_once(admin_client, org):
    user = User.objects.create_user("handler-1", role=Role.HANDLER, region=org.county, department=org.department)
    response = admin_client.post(
        reverse("admin:accounts_user_changelist"), {"action": "reset_passwords", "_selected_action": [user.pk]}
    )
    password = shown_once(response, r'<code class="temporary-password">([^<]+)</code>', "admin:accounts_user_changelist")
    user.refresh_from_db()
    assert user.check_password(password) and user.must_change_password
