"""The user admin: an administrator manages users of their own region only, grants no more than they have, and
resets passwords (a temporary password shown once) and TOTP enrolments."""

from __future__ import annotations

import logging
import re

import pytest
from axes.utils import reset as reset_axes
from django.contrib.auth import get_user_model

from haochaping.accounts.admin import grantable_roles
from haochaping.accounts.roles import Role

from .. import factories
from .login_support import PASSWORD, enrol, make_user

pytestmark = pytest.mark.django_db
User = get_user_model()
CHANGELIST = "/admin/accounts/user/"
ADD = "/admin/accounts/user/add/"


@pytest.fixture(autouse=True)
def _fresh_axes():
    reset_axes()
    yield
    reset_axes()


@pytest.fixture
def county_admin(org):
    return make_user("admin-370102", Role.ADMINISTRATOR, org, region=org.county)


@pytest.fixture
def admin_client(client, county_admin):
    client.force_login(county_admin)
    return client


@pytest.fixture
def neighbour(org):
    """A handler in the neighbouring county 370103, outside the county administrator's region."""
    dept = factories.department(org.other_county, name="市中区市场监督管理局（演示）")
    return make_user("handler-370103", Role.HANDLER, None, region=org.other_county, department=dept)


def temporary_password(body: str) -> str:
    found = re.findall(r'<code class="temporary-password">([^<]+)</code>', body)
    assert len(found) == 1, "exactly one temporary password on the page"
    return found[0]


def add_form(org, **kw) -> dict:
    data = {"username": "new-handler", "is_active": "on", "is_staff": "on", "role": Role.HANDLER,
            "region": org.county.pk, "department": org.department.pk, "agency": "", "staff": ""}
    data.update(kw)
    return data


def test_list_shows_role_region_unit_staff_and_two_factor_status(admin_client, org, neighbour):
    make_user("handler-a", Role.HANDLER, org)
    make_user("assessor-a", Role.ASSESSOR, org)  # cannot reveal personal data: no second factor
    sup = make_user("sup-a", Role.SUPERVISOR, org)
    enrol(sup)
    make_user("sup-b", Role.SUPERVISOR, org)
    body = admin_client.get(CHANGELIST).content.decode()
    assert "handler-a" in body and "sup-a" in body
    assert org.department.name in body and "历下区" in body
    assert "已绑定" in body and "未绑定，首次登录时绑定" in body and "不需要" in body
    # Users of the neighbouring county are not listed, nor counted.
    assert "handler-370103" not in body


def test_user_outside_the_region_reads_as_nonexistent(admin_client, neighbour):
    response = admin_client.get(f"/admin/accounts/user/{neighbour.pk}/change/")
    assert response.status_code == 302 and response.url == "/admin/"
    assert admin_client.get(f"/admin/accounts/user/{neighbour.pk}/reset-password/").status_code == 404
    assert admin_client.post(f"/admin/accounts/user/{neighbour.pk}/reset-password/").status_code == 404
    neighbour.refresh_from_db()
    assert neighbour.check_password(PASSWORD) and not neighbour.must_change_password


def test_superusers_are_out_of_reach_of_regional_administrators(admin_client, org):
    root = make_user("root", Role.ADMINISTRATOR, None, is_superuser=True, region=org.county)
    assert "root" not in admin_client.get(CHANGELIST).content.decode()
    assert admin_client.get(f"/admin/accounts/user/{root.pk}/change/").status_code == 302


def test_choices_are_limited_to_the_region_and_the_grantable_roles(admin_client, org, neighbour):
    body = admin_client.get(ADD).content.decode()
    assert 'name="is_superuser"' not in body
    # Region and unit pickers search as the administrator types (3,211 regions are no dropdown), offering only
    # what lies in the administrator's region.
    assert 'data-field-name="department"' in body and 'data-field-name="region"' in body

    def offered(field, term=""):
        answer = admin_client.get("/admin/autocomplete/", {"app_label": "accounts", "model_name": "user",
                                                            "field_name": field, "term": term})
        assert answer.status_code == 200
        return {r["text"] for r in answer.json()["results"]}

    departments = offered("department")
    assert any(org.department.name in t for t in departments)
    assert not any(neighbour.department.name in t for t in departments)
    regions = offered("region", "区")
    assert any(org.county.name in t for t in regions) and not any(org.other_county.name in t for t in regions)


def test_roles_above_ones_own_cannot_be_granted():
    supervisor = User(role=Role.SUPERVISOR)
    assert Role.ADMINISTRATOR not in grantable_roles(supervisor)
    assert set(grantable_roles(User(role=Role.ADMINISTRATOR))) == set(Role.values)
    assert set(grantable_roles(User(role=Role.HANDLER))) == {Role.EVALUATOR, Role.STAFF, Role.HOTLINE, Role.HANDLER, Role.ASSESSOR}


def test_a_regional_administrator_cannot_create_superusers_or_users_elsewhere(admin_client, org, neighbour):
    response = admin_client.post(ADD, add_form(org, username="sneaky", is_superuser="on", region="", department=""))
    body = response.content.decode()
    assert response.status_code == 200 and not User.objects.filter(username="sneaky").exists()
    assert "超出您的管辖范围" in body or "必须指定所属行政区划" in body
    response = admin_client.post(ADD, add_form(org, username="elsewhere", region=org.other_county.pk,
                                               department=neighbour.department.pk))
    assert response.status_code == 200 and not User.objects.filter(username="elsewhere").exists()
    assert "所选项不存在或不在您的管辖范围内" in response.content.decode()
    # Granting superuser by posting the field is ignored.
    admin_client.post(ADD, add_form(org, username="plain", is_superuser="on"))
    assert User.objects.get(username="plain").is_superuser is False


def test_user_clean_rules_apply_in_chinese(admin_client, org):
    response = admin_client.post(ADD, add_form(org, username="nounit", department=""))
    assert response.status_code == 200 and not User.objects.filter(username="nounit").exists()
    assert "业务办理单位经办人必须指定所属部门或政务服务机构" in response.content.decode()
    response = admin_client.post(ADD, add_form(org, username="nostaff", role=Role.STAFF, department=""))
    assert "窗口工作人员必须关联工号" in response.content.decode()


def test_unit_must_lie_in_the_users_region(client, org, neighbour):
    root = make_user("root", Role.ADMINISTRATOR, None, is_superuser=True)
    client.force_login(root)
    response = client.post(ADD, add_form(org, username="mixed", region=org.county.pk, department=neighbour.department.pk))
    assert response.status_code == 200 and not User.objects.filter(username="mixed").exists()
    assert "所选所属部门不在该用户的所属行政区划" in response.content.decode()


def test_new_user_gets_a_temporary_password_shown_once(admin_client, org):
    response = admin_client.post(ADD, add_form(org))
    assert response.status_code == 200  # a page, not a redirect: the password is never in a URL
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    password = temporary_password(body)
    assert "只显示这一次" in body
    user = User.objects.get(username="new-handler")
    assert user.must_change_password and user.check_password(password)
    assert user.password.startswith("argon2$")
    assert password not in admin_client.get(CHANGELIST).content.decode()
    assert password not in admin_client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()


def test_reset_password_action(admin_client, org, caplog):
    user = make_user("jingban", Role.HANDLER, org)
    with caplog.at_level(logging.INFO, logger="haochaping.security"):
        response = admin_client.post(CHANGELIST, {"action": "reset_passwords", "_selected_action": [user.pk]})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    password = temporary_password(response.content.decode())
    user.refresh_from_db()
    assert user.must_change_password and not user.check_password(PASSWORD) and user.check_password(password)
    assert any("password reset" in r.getMessage() and "'jingban'" in r.getMessage() for r in caplog.records)
    assert not any(password in r.getMessage() for r in caplog.records)


def test_reset_password_button_and_login_with_the_temporary_password(admin_client, org):
    from django.test import Client

    user = make_user("pinggu", Role.ASSESSOR, org)
    change = admin_client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert f"/admin/accounts/user/{user.pk}/reset-password/" in change and "重置动态口令" in change
    confirm = admin_client.get(f"/admin/accounts/user/{user.pk}/reset-password/")
    assert confirm.status_code == 200 and "临时密码只显示一次" in confirm.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)  # a GET changes nothing
    password = temporary_password(admin_client.post(f"/admin/accounts/user/{user.pk}/reset-password/").content.decode())
    other = Client()
    response = other.post("/accounts/login/", {"username": "pinggu", "password": password})
    assert response.url == "/accounts/login/password/"
    assert "_auth_user_id" not in other.session


def test_reset_password_ends_the_users_sessions(admin_client, org):
    from django.test import Client

    user = make_user("pinggu", Role.ASSESSOR, org)
    theirs = Client()
    theirs.post("/accounts/login/", {"username": "pinggu", "password": PASSWORD})
    assert theirs.get("/admin/").status_code == 200
    admin_client.post(f"/admin/accounts/user/{user.pk}/reset-password/")
    assert theirs.get("/admin/").status_code == 302


def test_reset_totp_action_and_button(admin_client, org):
    first = make_user("sup-1", Role.SUPERVISOR, org)
    second = make_user("sup-2", Role.SUPERVISOR, org)
    enrol(first)
    enrol(second)
    response = admin_client.post(CHANGELIST, {"action": "reset_two_factor", "_selected_action": [first.pk]}, follow=True)
    assert "已重置 1 个用户的动态口令" in response.content.decode()
    first.refresh_from_db()
    assert not first.totp_secret and first.totp_confirmed_at is None
    response = admin_client.post(f"/admin/accounts/user/{second.pk}/reset-totp/")
    assert response.status_code == 302
    second.refresh_from_db()
    assert not second.totp_secret and second.totp_confirmed_at is None
    # At next login they enrol again.
    from django.test import Client

    assert Client().post("/accounts/login/", {"username": "sup-2", "password": PASSWORD}).url == "/accounts/login/enrol/"


def test_supervisors_cannot_open_the_user_admin(client, org):
    client.force_login(make_user("sup-a", Role.SUPERVISOR, org))
    assert client.get(CHANGELIST).status_code == 403
