"""Service items and their versioned guides in the admin (R2.2, R2.3)."""

import pytest
import tablib
from django.urls import reverse

from haochaping.catalog.models import ServiceGuide, ServiceItem
from haochaping.catalog.resources import ServiceItemResource
from haochaping.core.models import AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db


def guide_form(item, **kw):
    return {"item": item.pk, **factories.guide_elements(**kw)}


def test_item_and_guide_pages_load_in_chinese(admin_client, item):
    factories.make_guide(item)
    for url in (
        reverse("admin:catalog_serviceitem_changelist"),
        reverse("admin:catalog_serviceitem_add"),
        reverse("admin:catalog_serviceitem_change", args=[item.pk]),
        reverse("admin:catalog_serviceguide_changelist"),
        reverse("admin:catalog_serviceguide_add"),
    ):
        r = admin_client.get(url)
        assert r.status_code == 200, url
        assert 'lang="zh-hans"' in r.content.decode()


def test_adding_a_guide_publishes_version_2_and_keeps_version_1(admin_client, item):
    v1 = factories.make_guide(item)
    r = admin_client.post(reverse("admin:catalog_serviceguide_add"), guide_form(item, time_limit="承诺3个工作日"))
    assert r.status_code == 302
    versions = list(item.guides.order_by("version").values_list("version", "time_limit", "published_by"))
    assert versions == [(1, "法定20个工作日，承诺5个工作日", "test"), (2, "承诺3个工作日", "admin")]
    v1_again = ServiceGuide.objects.get(pk=v1.pk)
    assert [getattr(v1_again, f) for f in ServiceGuide.ELEMENTS] == [getattr(v1, f) for f in ServiceGuide.ELEMENTS]
    assert item.current_guide().version == 2
    assert AuditEntry.objects.filter(action="guide.publish", data__version=2).exists()


def test_the_first_guide_of_an_item_is_version_1(admin_client, item):
    r = admin_client.post(reverse("admin:catalog_serviceguide_add"), guide_form(item))
    assert r.status_code == 302
    assert list(item.guides.values_list("version", flat=True)) == [1]


def test_a_guide_missing_an_element_is_refused(admin_client, item):
    r = admin_client.post(reverse("admin:catalog_serviceguide_add"), guide_form(item, evaluation_channels="  "))
    assert r.status_code == 200
    assert "这个字段是必填项。" in r.content.decode()
    assert not item.guides.exists()


def test_new_version_form_starts_from_the_current_text(admin_client, item):
    factories.make_guide(item, fees="按国家标准收取")
    page = admin_client.get(reverse("admin:catalog_serviceguide_add"), {"item": item.pk}).content.decode()
    assert "按国家标准收取" in page


def test_existing_guide_versions_cannot_be_changed_or_deleted(admin_client, item):
    guide = factories.make_guide(item)
    change_url = reverse("admin:catalog_serviceguide_change", args=[guide.pk])
    page = admin_client.get(change_url)
    assert page.status_code == 200  # viewable ...
    assert 'name="time_limit"' not in page.content.decode()  # ... but not editable
    assert admin_client.post(change_url, guide_form(item, time_limit="改写")).status_code == 403
    assert admin_client.post(reverse("admin:catalog_serviceguide_delete", args=[guide.pk]), {"post": "yes"}).status_code == 403
    bulk = admin_client.post(
        reverse("admin:catalog_serviceguide_changelist"), {"action": "delete_selected", "_selected_action": [guide.pk], "post": "yes"}
    )
    assert bulk.status_code in (200, 302)
    guide.refresh_from_db()
    assert guide.time_limit == "法定20个工作日，承诺5个工作日"
    assert ServiceGuide.objects.filter(pk=guide.pk).exists()


def test_item_page_shows_versions_read_only(admin_client, item):
    factories.make_guide(item)
    factories.make_guide(item, time_limit="承诺3个工作日")
    r = admin_client.get(reverse("admin:catalog_serviceitem_change", args=[item.pk]))
    html = r.content.decode()
    assert "第1版全文" in html and "第2版全文" in html
    assert 'name="guides-0-time_limit"' not in html and 'name="guides-0-evaluation_channels"' not in html
    assert "guides-0-DELETE" not in html
    # Saving the item does not touch its guides.
    data = {
        "implementation_code": item.implementation_code, "basic_code": item.basic_code, "name": "食品经营许可证核发（更名）",
        "basis": item.basis, "item_type": item.item_type, "department": item.department_id, "region": item.region_id,
        "lead_department": "", "is_active": "on",
        "guides-TOTAL_FORMS": "2", "guides-INITIAL_FORMS": "2", "guides-MIN_NUM_FORMS": "0", "guides-MAX_NUM_FORMS": "0",
    }
    for i, g in enumerate(item.guides.all()):
        data[f"guides-{i}-id"] = g.pk
        data[f"guides-{i}-item"] = item.pk
    r = admin_client.post(reverse("admin:catalog_serviceitem_change", args=[item.pk]), data)
    assert r.status_code == 302, r.content.decode()[:3000]
    assert ServiceItem.objects.get(pk=item.pk).name == "食品经营许可证核发（更名）"
    assert item.guides.count() == 2


def test_cross_department_item_needs_a_lead_department(admin_client, org, item):
    other = factories.department(org.county, name="历下区卫生健康局")
    data = {
        "implementation_code": "11370102MB0000001XK00009", "basic_code": "000019999", "name": "公共场所卫生许可",
        "basis": "", "item_type": "01", "department": org.department.pk, "region": org.county.code,
        "lead_department": "", "cooperating_departments": [other.pk], "is_active": "on",
        "guides-TOTAL_FORMS": "0", "guides-INITIAL_FORMS": "0", "guides-MIN_NUM_FORMS": "0", "guides-MAX_NUM_FORMS": "0",
    }
    r = admin_client.post(reverse("admin:catalog_serviceitem_add"), data)
    assert r.status_code == 200
    assert "跨部门事项须指定牵头部门" in r.content.decode()
    r = admin_client.post(reverse("admin:catalog_serviceitem_add"), {**data, "lead_department": org.department.pk})
    assert r.status_code == 302
    assert list(ServiceItem.objects.get(implementation_code="11370102MB0000001XK00009").cooperating_departments.all()) == [other]


ITEM_HEADERS = ["实施编码", "基本编码", "事项名称", "事项类型", "设定依据", "实施部门统一社会信用代码", "行政区划代码",
                "牵头部门统一社会信用代码", "协同部门统一社会信用代码", "在用"]


def test_items_import_with_department_credit_codes(org):
    other = factories.department(org.county, name="历下区卫生健康局")
    ds = tablib.Dataset(
        ("11370102MB0000001XK00001", "000011", "公共场所卫生许可", "行政许可", "", org.department.credit_code, "370102",
         org.department.credit_code, f"{other.credit_code}；", "是"),
        ("11370102MB0000001XK00002", "000012", "老年人优待证办理", "20", "", org.department.credit_code, "370102", "", "", ""),
        headers=ITEM_HEADERS,
    )
    result = ServiceItemResource().import_data(ds)
    assert not result.has_errors() and not result.has_validation_errors(), result.invalid_rows
    first = ServiceItem.objects.get(implementation_code="11370102MB0000001XK00001")
    assert (first.item_type, first.lead_department, list(first.cooperating_departments.all())) == ("01", org.department, [other])
    assert ServiceItem.objects.get(implementation_code="11370102MB0000001XK00002").item_type == "20"

    exported = ServiceItemResource().export(queryset=ServiceItem.objects.filter(pk=first.pk))
    assert exported.headers == ITEM_HEADERS
    assert exported[0][3] == "行政许可"
    assert exported[0][8] == other.credit_code


def test_item_import_rejects_bad_rows_whole(org):
    ds = tablib.Dataset(
        ("11370102MB0000001XK00001", "000011", "公共场所卫生许可", "01", "", org.department.credit_code, "370102", "", "", ""),
        ("11370102MB0000001XK00002", "000012", "某事项", "99", "", org.department.credit_code, "370102", "",
         org.department.credit_code, ""),
        headers=ITEM_HEADERS,
    )
    result = ServiceItemResource().import_data(ds)
    [bad] = result.invalid_rows
    assert bad.number == 3
    assert bad.error_dict["牵头部门统一社会信用代码"] == ["跨部门事项须填写牵头部门"]
    assert bad.error_dict["事项类型"][0].startswith("“99”不是可选值（可选：行政许可、")
    assert not ServiceItem.objects.filter(implementation_code__startswith="11370102MB0000001XK0000").exists()


def test_item_admin_offers_import_and_export(admin_client, item):
    for action in ("import", "export"):
        assert admin_client.get(reverse(f"admin:catalog_serviceitem_{action}")).status_code == 200
