"""`haochaping demo` creates sign-in accounts for every role and place of the demo province and prints them."""

from __future__ import annotations

import io

import pytest
from axes.utils import reset as reset_axes
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from haochaping.accounts.roles import Role
from haochaping.demo import accounts as demo_accounts
from haochaping.demo import data
from haochaping.org.models import Department, ServiceAgency, Staff
from tests.demo.building import demo_built

RECORDS = 50
REGIONS = ["370000", "370100", "370200", "370102", "370103", "370112", "370202", "370203"]
User = get_user_model()


@pytest.fixture(scope="module")
def demo_output(django_db_setup, django_db_blocker):
    with demo_built(django_db_blocker, RECORDS) as output:
        yield output


@pytest.fixture
def demo(demo_output, db, monkeypatch):
    reset_axes()
    monkeypatch.delenv("HAOCHAPING_DEMO", raising=False)
    return demo_output


def test_every_role_and_place_has_an_account(demo):
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.is_demo
    for code in REGIONS:
        sup = User.objects.get(username=f"sup-{code}")
        assert (sup.role, sup.region_id, sup.is_demo, sup.is_staff) == (Role.SUPERVISOR, code, True, True)
    departments = Department.objects.filter(name__endswith=data.DEMO)
    assert departments.count() > 20
    for dept in departments:
        handler = User.objects.get(username=f"handler-{dept.credit_code}")
        assert (handler.role, handler.department_id, handler.region_id) == (Role.HANDLER, dept.pk, dept.region_id)
    agencies = ServiceAgency.objects.filter(code__startswith="DEMO-")
    assert agencies.count() >= 7
    for agency in agencies:
        handler = User.objects.get(username=f"handler-{agency.code}")
        assert (handler.role, handler.agency_id, handler.region_id) == (Role.HANDLER, agency.pk, agency.region_id)
    staff = Staff.objects.select_related("agency")
    assert staff.count() > 100
    linked = {u.staff_id: u for u in User.objects.filter(role=Role.STAFF)}
    for member in staff:
        user = linked[member.pk]
        assert (user.username, user.region_id) == (member.staff_no, member.agency.region_id)
    assert not User.objects.filter(is_demo=False).exists()
    for user in User.objects.all()[:50]:
        user.full_clean()  # the same rules as the admin applies


def test_one_argon2_password_for_all(demo):
    hashes = set(User.objects.values_list("password", flat=True))
    assert len(hashes) == 1 and hashes.pop().startswith("argon2$")
    assert User.objects.get(username="admin").check_password(demo_accounts.DEFAULT_PASSWORD)


def test_command_prints_a_table_with_the_password(demo):
    assert "演示账号：新建" in demo
    assert demo_accounts.DEFAULT_PASSWORD in demo and "HAOCHAPING_DEMO_PASSWORD" in demo
    lines = demo.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("用户名"))
    assert "角色" in lines[header] and "地区/单位" in lines[header]
    assert any(line.startswith("sup-370102") and "历下区" in line for line in lines)
    assert any(line.startswith("admin ") for line in lines)
    staff_count = Staff.objects.count()
    assert f"共 {staff_count} 个窗口工作人员账号" in demo
    # Hundreds of staff: only the first few are listed one by one.
    staff_lines = [line for line in lines if "窗口工作人员" in line and not line.startswith("……")
                   and demo_accounts.CLERK_ROLE not in line]
    assert 0 < len(staff_lines) <= 5
    # Each county center's paper-form clerk is listed by name, whatever the cut.
    clerks = [line for line in lines if demo_accounts.CLERK_ROLE in line]
    assert len(clerks) == len(data.COUNTIES)
    assert any(line.startswith("hotline-370100") for line in lines)
    assert any(line.startswith("assessor-370000") for line in lines)


def test_hotline_operators_assessor_and_clerks_have_accounts(demo):
    for code, _name in data.CITIES:
        operator = User.objects.get(username=f"hotline-{code}")
        assert (operator.role, operator.region_id, operator.is_demo) == (Role.HOTLINE, code, True)
    assessor = User.objects.get(username="assessor-370000")
    assert (assessor.role, assessor.region_id) == (Role.ASSESSOR, "370000")
    clerks = User.objects.filter(role=Role.STAFF, staff__window__code=demo_accounts.CLERK_WINDOW)
    assert clerks.count() == len(data.COUNTIES)
    for clerk in clerks:
        assert clerk.has_perm("evaluation.enter_paper_form")


def test_handler_signs_in_with_the_demo_password(demo, monkeypatch):
    monkeypatch.setenv("HAOCHAPING_DEMO", "1")  # handlers need TOTP like supervisors; `make run` waives it
    client = Client()
    response = client.post("/accounts/login/", {"username": User.objects.filter(role=Role.HANDLER).first().username,
                                                "password": demo_accounts.DEFAULT_PASSWORD})
    # A handler starts at the workbench, which shows their unit's cases.
    assert response.status_code == 302 and response.url == "/work/"
    assert client.get("/work/").status_code == 200
    assert client.get("/admin/").status_code == 200


def test_supervisor_skips_totp_only_in_demo_mode(demo, monkeypatch):
    client = Client()
    credentials = {"username": "sup-370102", "password": demo_accounts.DEFAULT_PASSWORD}
    assert client.post("/accounts/login/", credentials).url == "/accounts/login/enrol/"
    monkeypatch.setenv("HAOCHAPING_DEMO", "1")
    client = Client()
    assert client.post("/accounts/login/", credentials).url == "/work/"
    assert client.get("/work/supervision/").status_code == 200


def test_existing_demo_database_gets_missing_accounts(demo, monkeypatch):
    User.objects.filter(role=Role.STAFF).delete()
    User.objects.filter(username="sup-370203").delete()
    monkeypatch.setenv("HAOCHAPING_DEMO_PASSWORD", "Another-Demo-Password-9")
    out = io.StringIO()
    call_command("demo", records=RECORDS, stdout=out)
    text = out.getvalue()
    assert "演示数据已存在" in text
    assert f"新建 {Staff.objects.count() + 1} 个" in text
    assert "Another-Demo-Password-9" not in text and "HAOCHAPING_DEMO_PASSWORD" in text
    assert User.objects.get(username="sup-370203").check_password("Another-Demo-Password-9")
    assert User.objects.get(username="admin").check_password(demo_accounts.DEFAULT_PASSWORD)  # untouched
    # Nothing missing: a second run says nothing about accounts.
    again = io.StringIO()
    call_command("demo", records=RECORDS, stdout=again)
    assert "演示账号" not in again.getvalue()


def test_demo_people_are_shown_by_name_role_and_unit_never_by_login_name(demo):
    """Issue 17 item 7: pages show 张三（经办人，历下区人社局）; the demo's people have (generated) names too."""
    for user in User.objects.filter(is_demo=True).select_related("department", "agency", "region", "staff"):
        shown = str(user)
        assert user.username not in shown, shown
        assert user.person_name and shown.startswith(user.person_name), shown
    handler = User.objects.filter(role=Role.HANDLER, department__isnull=False).select_related("department").first()
    assert str(handler) == f"{handler.person_name}（经办人，{handler.department.name}）"
