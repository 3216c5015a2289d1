"""Scopes in the admin beyond reading: what a unit or a person sees, what an administrator of one county may
create, change, import and export."""

from __future__ import annotations

import csv
import io

import pytest
import tablib
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from haochaping.accounts.models import ApiKey
from haochaping.org.models import Department, Region
from haochaping.org.resources import DepartmentResource
from haochaping.org.rules import make_credit_code

pytestmark = pytest.mark.django_db

OUT_OF_SCOPE = "超出您的管辖范围：只能填写本辖区（历下区（370102））及下级地区的数据"
NOT_OFFERED = "所选项不存在或不在您的管辖范围内"
DEPT_HEADERS = ["统一社会信用代码", "名称", "行政区划代码", "垂直管理部门", "在用"]


def login(client, world, name):
    client.force_login(world.users[name])
    return client


def listed(client, changelist: str) -> set:
    r = client.get(reverse(changelist))
    assert r.status_code == 200
    return set(r.context["cl"].queryset.values_list("pk", flat=True))


def test_a_handler_sees_only_their_units_records_and_evaluations_and_staff_only_their_own(client, world):
    a = world.a
    login(client, world, "handler_dept")
    assert listed(client, "admin:records_servicerecord_changelist") == {a.records[0].pk, a.records[2].pk}
    assert listed(client, "admin:evaluation_evaluation_changelist") == {a.evaluations[0].pk, a.evaluations[2].pk}
    login(client, world, "handler_agency")
    assert listed(client, "admin:records_servicerecord_changelist") == {a.records[0].pk, a.records[1].pk}
    assert listed(client, "admin:evaluation_evaluation_changelist") == {a.evaluations[0].pk, a.evaluations[1].pk}
    login(client, world, "staff_a")
    assert listed(client, "admin:evaluation_evaluation_changelist") == {a.evaluations[0].pk}
    assert client.get(reverse("admin:records_servicerecord_changelist")).status_code == 403
    # Another unit's evaluation reads as nonexistent to staff as well.
    r = client.get(reverse("admin:evaluation_evaluation_change", args=[a.evaluations[1].pk]))
    assert r.status_code == 302 and r["Location"] == reverse("admin:index")


def department_form(region_code: str, **kw) -> dict:
    data = {"credit_code": make_credit_code(f"11{region_code}MB0000001"), "name": "新设局", "region": region_code, "is_active": "on"}
    data.update(kw)
    return data


def test_a_county_administrator_cannot_create_a_department_in_another_county(client, world):
    login(client, world, "admin_a")
    r = client.post(reverse("admin:org_department_add"), department_form("370103"))
    assert r.status_code == 200
    assert r.context["adminform"].form.errors["region"] == [NOT_OFFERED]
    assert not Department.objects.filter(name="新设局").exists()

    r = client.post(reverse("admin:org_department_add"), department_form("370102"))
    assert r.status_code == 302
    assert Department.objects.get(name="新设局").region_id == "370102"


def test_a_county_administrator_cannot_create_a_region_outside_their_subtree(client, world):
    from django.contrib.auth.models import Permission

    # Administrators do not maintain regions by role; one granted the right still stays inside their county.
    world.users["admin_a"].user_permissions.add(Permission.objects.get(codename="add_region"))
    login(client, world, "admin_a")
    r = client.post(reverse("admin:org_region_add"), {"code": "370103001", "name": "大观园街道", "parent": ""})
    assert r.status_code == 200
    assert r.context["adminform"].form.errors["code"] == [OUT_OF_SCOPE]
    assert not Region.objects.filter(code="370103001").exists()
    r = client.post(reverse("admin:org_region_add"), {"code": "370102001", "name": "解放路街道", "parent": ""})
    assert r.status_code == 302
    assert Region.objects.get(code="370102001").parent_id == "370102"


def test_a_county_administrator_cannot_issue_a_key_for_the_whole_country(client, world):
    login(client, world, "admin_a")
    data = {"name": "全国密钥", "scopes": ["records:read"], "region": "", "expires_at_0": "", "expires_at_1": ""}
    r = client.post(reverse("admin:accounts_apikey_add"), data)
    assert r.status_code == 200
    assert r.context["adminform"].form.errors["region"] == [OUT_OF_SCOPE]
    assert not ApiKey.objects.filter(name="全国密钥").exists()
    r = client.post(reverse("admin:accounts_apikey_add"), {**data, "name": "本区密钥", "region": "370102"})
    assert r.status_code == 200 and "只显示这一次" in r.content.decode()  # the shown-once page, not a redirect
    assert ApiKey.objects.get(name="本区密钥").region_id == "370102"


def test_changing_an_out_of_scope_object_reads_as_nonexistent_and_changes_nothing(client, world):
    login(client, world, "admin_a")
    b_dept = world.b.departments[0]
    r = client.post(reverse("admin:org_department_change", args=[b_dept.pk]), department_form("370102", credit_code=b_dept.credit_code))
    assert r.status_code == 302 and r["Location"] == reverse("admin:index")
    assert "不存在" in [str(m) for m in get_messages(r.wsgi_request)][0]
    b_dept.refresh_from_db()
    assert (b_dept.name, b_dept.region_id) == ("市中区市场监督管理局", "370103")


def test_moving_an_own_department_to_another_county_is_refused(client, world):
    login(client, world, "admin_a")
    mine = world.a.departments[0]
    data = department_form("370103", credit_code=mine.credit_code, name=mine.name)
    r = client.post(reverse("admin:org_department_change", args=[mine.pk]), data)
    assert r.status_code == 200 and r.context["adminform"].form.errors["region"] == [NOT_OFFERED]
    mine.refresh_from_db()
    assert mine.region_id == "370102"


def test_choices_and_autocomplete_offer_only_what_the_user_sees(client, world):
    login(client, world, "admin_a")
    params = {"app_label": "org", "model_name": "department", "field_name": "region"}
    assert client.get("/admin/autocomplete/", {**params, "term": "市中"}).json()["results"] == []
    assert [x["id"] for x in client.get("/admin/autocomplete/", {**params, "term": "历下"}).json()["results"]] == ["370102"]
    page = client.get(reverse("admin:org_staff_add")).content.decode()
    assert "市中" not in page  # no county-B agency, department or window among the choices


def export_rows(client) -> list[list[str]]:
    fields = {f"departmentresource_{name}": "on" for name in DepartmentResource.fields}
    r = client.post(reverse("admin:org_department_export"), {"resource": "0", "format": "0", **fields})
    assert r.status_code == 200, r.content.decode()[-2000:]
    return list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))


def test_the_csv_export_of_a_scoped_user_holds_only_their_rows(client, world):
    login(client, world, "sup_a")
    rows = export_rows(client)
    assert rows[0] == DEPT_HEADERS
    assert sorted(r[0] for r in rows[1:]) == sorted(d.credit_code for d in world.a.departments)
    login(client, world, "sup_city")
    assert len(export_rows(client)) == 1 + 4


def upload(client, rows):
    content = tablib.Dataset(*rows, headers=DEPT_HEADERS).export("csv").encode("utf-8")
    return client.post(
        reverse("admin:org_department_import"),
        {"resource": "0", "format": "0", "import_file": SimpleUploadedFile("departments.csv", content)},
    )


def test_an_import_with_a_row_of_another_county_imports_nothing_and_names_the_row(client, world):
    login(client, world, "admin_a")
    new_a, new_b = make_credit_code("11370102MB0000077"), make_credit_code("11370103MB0000078")
    preview = upload(client, [(new_a, "历下区新设局", "370102", "否", "是"), (new_b, "市中区新设局", "370103", "否", "是")])
    assert preview.status_code == 200
    assert "confirm_form" not in preview.context
    invalid = preview.context["result"].invalid_rows
    assert [(row.number, row.error_dict) for row in invalid] == [(3, {"行政区划代码": [OUT_OF_SCOPE]})]
    assert OUT_OF_SCOPE in preview.content.decode()
    assert not Department.objects.filter(credit_code__in=[new_a, new_b]).exists()


def test_an_import_cannot_take_over_a_row_of_another_county(client, world):
    login(client, world, "admin_a")
    theirs = world.b.departments[0]
    preview = upload(client, [(theirs.credit_code, "被改名的局", "370102", "否", "是")])
    invalid = preview.context["result"].invalid_rows
    assert [(row.number, row.error_dict) for row in invalid] == [(2, {"统一社会信用代码": [OUT_OF_SCOPE]})]
    theirs.refresh_from_db()
    assert (theirs.name, theirs.region_id) == ("市中区市场监督管理局", "370103")


def test_importing_needs_the_right_to_add_or_change(client, world):
    login(client, world, "sup_a")  # may look, not write
    assert client.get(reverse("admin:org_department_import")).status_code == 403
    assert client.get(reverse("admin:org_department_export")).status_code == 200
