"""The organisation admin, in Chinese, for a superuser (R2.1)."""

import pytest
from django.urls import reverse

from haochaping.org.models import (
    Department,
    ManagementAgency,
    Platform,
    Region,
    RegionPolicy,
    ServiceAgency,
    Staff,
    Window,
)
from haochaping.org.rules import make_credit_code

pytestmark = pytest.mark.django_db

ORG_MODELS = [Region, RegionPolicy, ManagementAgency, Department, ServiceAgency, Window, Staff, Platform]


@pytest.mark.parametrize("model", ORG_MODELS, ids=lambda m: m.__name__)
def test_list_and_add_pages_load_in_chinese(admin_client, org, model):
    opts = model._meta
    listing = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert listing.status_code == 200
    html = listing.content.decode()
    assert 'lang="zh-hans"' in html
    assert f"选择 {opts.verbose_name} 来修改" in html
    add = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    assert add.status_code == 200
    assert f"增加 {opts.verbose_name}" in add.content.decode()
    assert "保存" in add.content.decode()


@pytest.mark.parametrize(
    "model, attr", [(Region, "county"), (ManagementAgency, "management_agency"), (Department, "department"),
                    (ServiceAgency, "agency"), (Window, "window"), (Staff, "staff"), (Platform, "platform")],
)
def test_change_pages_load(admin_client, org, model, attr):
    obj = getattr(org, attr)
    opts = model._meta
    r = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    assert r.status_code == 200
    assert f"修改 {opts.verbose_name}" in r.content.decode()


def department_form(org, **kw):
    data = {"credit_code": make_credit_code("11370102MB0000001"), "name": "历下区人力资源和社会保障局",
            "region": org.county.code, "is_active": "on"}
    data.update(kw)
    return data


def test_department_with_a_wrong_check_character_is_refused_with_the_chinese_message(admin_client, org):
    good = make_credit_code("11370102MB0000001")
    bad = good[:-1] + ("1" if good[-1] != "1" else "2")
    r = admin_client.post(reverse("admin:org_department_add"), department_form(org, credit_code=bad))
    assert r.status_code == 200
    assert "统一社会信用代码校验位错误" in r.content.decode()
    assert not Department.objects.filter(credit_code=bad).exists()


def test_department_code_in_lower_case_is_accepted_as_upper_case(admin_client, org):
    good = make_credit_code("11370102MB0000001")
    r = admin_client.post(reverse("admin:org_department_add"), department_form(org, credit_code=good.lower()))
    assert r.status_code == 302
    assert Department.objects.get(credit_code=good).name == "历下区人力资源和社会保障局"


def test_department_with_a_forbidden_letter_names_it(admin_client, org):
    r = admin_client.post(reverse("admin:org_department_add"), department_form(org, credit_code="11370102MB000000IO"))
    assert "只允许数字和除I、O、S、V、Z外的大写字母" in r.content.decode()


def test_new_region_gets_level_and_nearest_parent(admin_client, org):
    r = admin_client.post(reverse("admin:org_region_add"), {"code": "370104", "name": "槐荫区", "parent": ""})
    assert r.status_code == 302
    region = Region.objects.get(code="370104")
    assert (region.level, region.parent_id) == (3, "370100")


def test_region_parent_must_be_an_ancestor(admin_client, org):
    r = admin_client.post(reverse("admin:org_region_add"), {"code": "370104", "name": "槐荫区", "parent": org.other_county.code})
    assert r.status_code == 200
    assert "不是行政区划“370104”的上级区划" in r.content.decode()
    assert not Region.objects.filter(code="370104").exists()


def test_region_code_is_read_only_after_creation(admin_client, org):
    url = reverse("admin:org_region_change", args=[org.county.code])
    page = admin_client.get(url).content.decode()
    assert 'name="code"' not in page
    r = admin_client.post(url, {"code": "370199", "name": "历下区（更名）", "parent": org.city.code})
    assert r.status_code == 302
    assert Region.objects.get(code="370102").name == "历下区（更名）"
    assert not Region.objects.filter(code="370199").exists()


def test_region_search_and_level_filter(admin_client, org):
    url = reverse("admin:org_region_changelist")
    found = admin_client.get(url, {"q": "历下"}).content.decode()
    assert "370102" in found and "370103" not in found
    cities = admin_client.get(url, {"level__exact": "2"}).content.decode()
    assert "济南市" in cities and "历下区" not in cities


def test_windows_are_added_inline_under_their_agency(admin_client, org):
    url = reverse("admin:org_serviceagency_change", args=[org.agency.pk])
    page = admin_client.get(url).content.decode()
    assert "综合受理1号窗口" in page
    data = {
        "code": org.agency.code, "name": org.agency.name, "kind": org.agency.kind, "region": org.county.code,
        "address": "", "is_active": "on",
        "windows-TOTAL_FORMS": "2", "windows-INITIAL_FORMS": "1", "windows-MIN_NUM_FORMS": "0", "windows-MAX_NUM_FORMS": "1000",
        "windows-0-id": str(org.window.pk), "windows-0-agency": str(org.agency.pk), "windows-0-code": "A01",
        "windows-0-name": "综合受理1号窗口", "windows-0-department": str(org.department.pk), "windows-0-is_active": "on",
        "windows-1-agency": str(org.agency.pk), "windows-1-code": "A02", "windows-1-name": "综合受理2号窗口",
        "windows-1-department": "", "windows-1-is_active": "on",
    }
    r = admin_client.post(url, data)
    assert r.status_code == 302, r.content.decode()[:2000]
    assert list(org.agency.windows.values_list("code", flat=True)) == ["A01", "A02"]


def test_staff_window_must_be_in_the_staff_agency(admin_client, org):
    other = ServiceAgency.objects.create(code="HALL-OTHER", name="市中区政务服务中心", kind="center", region=org.other_county)
    r = admin_client.post(reverse("admin:org_staff_add"), {
        "staff_no": "S-NEW", "name": "王芳", "agency": other.pk, "department": "", "window": org.window.pk, "is_active": "on",
    })
    assert r.status_code == 200
    assert "所选窗口不属于该工作人员所在的政务服务机构" in r.content.decode()


def test_region_autocomplete_for_department_form(admin_client, org):
    r = admin_client.get("/admin/autocomplete/", {"app_label": "org", "model_name": "department", "field_name": "region", "term": "历下"})
    assert r.status_code == 200
    assert [x["id"] for x in r.json()["results"]] == ["370102"]
