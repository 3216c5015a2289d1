"""The 评价器 admin: register a device (secret shown once on the response page), list with window and last seen,
deactivate; scoped like every other admin page."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from haochaping.accounts.models import User
from haochaping.accounts.roles import Role
from haochaping.core.crypto import sm3_hex
from haochaping.evaluation import kiosk
from haochaping.evaluation.models import KioskDevice
from haochaping.org.models import ServiceAgency, Window

pytestmark = pytest.mark.django_db

ADD = "admin:evaluation_kioskdevice_add"
LIST = "admin:evaluation_kioskdevice_changelist"


@pytest.fixture
def admin_user(db, django_user_model):
    return django_user_model.objects.create_superuser("admin", "admin@example.com", None)


def test_registering_shows_the_secret_once_and_stores_its_hash(admin_client, org):
    form = admin_client.get(reverse(ADD))
    assert form.status_code == 200
    assert "登记评价器" in form.content.decode()

    response = admin_client.post(reverse(ADD), {"window": org.window.pk, "name": "1号窗口评价器"})
    assert response.status_code == 200
    page = response.content.decode()
    secret = re.search(r'<code id="kiosk-secret">(hck_[^<]+)</code>', page).group(1)
    device = KioskDevice.objects.get()
    assert (device.name, device.window_id) == ("1号窗口评价器", org.window.pk)
    assert device.secret_hash == sm3_hex(secret.encode())
    assert "只显示这一次" in page
    assert "no-store" in response["Cache-Control"]
    assert kiosk.authenticate_kiosk(secret).pk == device.pk
    # Nowhere else: not in the list, not on the device's own page.
    assert secret not in admin_client.get(reverse(LIST)).content.decode()
    assert secret not in admin_client.get(reverse("admin:evaluation_kioskdevice_change", args=[device.pk])).content.decode()


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"name": "评价器"}, "window", "这个字段是必填项"),
    ({"window": "", "name": "评价器"}, "window", "这个字段是必填项"),
    ({"window": "999999", "name": "评价器"}, "window", "所选窗口不存在或不在您的管辖范围内"),
    ({"window": "ORG", "name": ""}, "name", "这个字段是必填项"),
])
def test_bad_registration_is_refused_in_chinese_and_writes_nothing(admin_client, org, data, field, message):
    data = {k: (org.window.pk if v == "ORG" else v) for k, v in data.items()}
    response = admin_client.post(reverse(ADD), data)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert "hck_" not in response.content.decode()
    assert not KioskDevice.objects.exists()


def test_the_list_shows_window_and_last_seen(admin_client, org):
    device, secret = kiosk.register_kiosk(org.window, "1号窗口评价器")
    kiosk.authenticate_kiosk(secret)
    page = admin_client.get(reverse(LIST)).content.decode()
    assert "1号窗口评价器" in page and device.prefix in page and org.window.name in page
    assert "最近在线" in page and "政务服务机构" in page
    assert re.search(r'<td class="field-last_seen_at[^"]*">(\d{4}年[^<]*)</td>', page), "last seen not shown"


def test_deactivate_action_stops_the_device(admin_client, org):
    device, secret = kiosk.register_kiosk(org.window, "评价器")
    response = admin_client.post(reverse(LIST), {"action": "deactivate_devices", "_selected_action": [device.pk]})
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["已停用 1 台评价器，它们提交的评价将被拒绝"]
    assert KioskDevice.objects.get(pk=device.pk).is_active is False
    assert kiosk.authenticate_kiosk(secret) is None


def test_a_device_is_never_deleted_nor_moved(admin_client, org):
    device, _secret = kiosk.register_kiosk(org.window, "评价器")
    change = admin_client.get(reverse("admin:evaluation_kioskdevice_change", args=[device.pk]))
    form = change.context["adminform"].form
    assert list(form.fields) == ["name"]  # window, state and secret are not editable
    assert admin_client.get(reverse("admin:evaluation_kioskdevice_delete", args=[device.pk])).status_code == 403


def test_a_regional_administrator_registers_only_in_their_region(client, org):
    other_agency = ServiceAgency.objects.create(code="HALL-SZ", name="市中区政务服务中心", kind="center", region=org.other_county)
    other_window = Window.objects.create(agency=other_agency, code="B01", name="市中区1号窗口")
    admin = User.objects.create_user("xz-admin", role=Role.ADMINISTRATOR, region=org.county, is_staff=True)
    client.force_login(admin)

    form = client.get(reverse(ADD))
    assert form.status_code == 200
    offered = list(form.context["form"].fields["window"].queryset)
    assert offered == [org.window]

    refused = client.post(reverse(ADD), {"window": other_window.pk, "name": "越界评价器"})
    assert "所选窗口不存在或不在您的管辖范围内" in " ".join(refused.context["form"].errors["window"])
    assert not KioskDevice.objects.exists()

    kiosk.register_kiosk(other_window, "市中区评价器")
    assert "市中区评价器" not in client.get(reverse(LIST)).content.decode()


def test_a_supervisor_may_look_but_not_register_or_deactivate(client, org):
    device, _secret = kiosk.register_kiosk(org.window, "评价器")
    supervisor = User.objects.create_user("sup", role=Role.SUPERVISOR, region=org.county, is_staff=True)
    client.force_login(supervisor)
    assert "评价器" in client.get(reverse(LIST)).content.decode()
    assert client.get(reverse(ADD)).status_code == 403
    assert client.post(reverse(ADD), {"window": org.window.pk, "name": "x"}).status_code == 403
    client.post(reverse(LIST), {"action": "deactivate_devices", "_selected_action": [device.pk]})
    assert KioskDevice.objects.get(pk=device.pk).is_active is True
    assert KioskDevice.objects.count() == 1
