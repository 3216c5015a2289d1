"""Bulk import/export of the organisation through the admin: CSV and Excel, Chinese headers, natural keys,
all-or-nothing imports that name the bad row (R2.1)."""

import csv
import io

import pytest
import tablib
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from haochaping.org.models import Department, Region, Staff, Window
from haochaping.org.resources import DepartmentResource, RegionResource, StaffResource, WindowResource
from haochaping.org.rules import make_credit_code

pytestmark = pytest.mark.django_db

CSV_FORMAT, XLSX_FORMAT = "0", "1"
DEPT_HEADERS = ["统一社会信用代码", "名称", "行政区划代码", "垂直管理部门", "在用"]


def bad_check(code: str) -> str:
    return code[:-1] + ("1" if code[-1] != "1" else "2")


def file_bytes(headers, rows, fmt):
    ds = tablib.Dataset(*rows, headers=headers)
    if fmt == CSV_FORMAT:
        return ds.export("csv").encode("utf-8"), "departments.csv"
    return ds.export("xlsx"), "departments.xlsx"


def upload(client, model, headers, rows, fmt):
    """The admin's first step: upload and preview (a dry run)."""
    content, name = file_bytes(headers, rows, fmt)
    url = reverse(f"admin:org_{model}_import")
    return client.post(url, {"resource": "0", "format": fmt, "import_file": SimpleUploadedFile(name, content)})


def confirm(client, model, preview):
    form = preview.context["confirm_form"]
    data = {name: form.initial.get(name, "") for name in form.fields}
    return client.post(reverse(f"admin:org_{model}_process_import"), data)


@pytest.fixture
def jinan(db):
    province = Region.objects.create(code="370000", name="山东省", level=1)
    city = Region.objects.create(code="370100", name="济南市", level=2, parent=province)
    return Region.objects.create(code="370102", name="历下区", level=3, parent=city)


GOOD = [make_credit_code("11370102MB0000001"), make_credit_code("11370102MB0000002"), make_credit_code("11370102MB0000003")]


@pytest.mark.parametrize("fmt", [CSV_FORMAT, XLSX_FORMAT], ids=["csv", "xlsx"])
def test_a_good_department_file_imports(admin_client, jinan, fmt):
    rows = [(GOOD[0], "历下区市场监督管理局", "370102", "否", "是"), (GOOD[1], "国家税务总局济南市历下区税务局", "370102", "是", "")]
    preview = upload(admin_client, "department", DEPT_HEADERS, rows, fmt)
    assert preview.status_code == 200
    assert "confirm_form" in preview.context, preview.content.decode()[-3000:]
    assert not Department.objects.exists()  # the preview is a dry run

    done = confirm(admin_client, "department", preview)
    assert done.status_code == 302
    assert [str(m) for m in get_messages(done.wsgi_request)] == ["导入成功，新增2条记录，更新0条记录，删除0条记录，忽略0条记录。"]
    tax = Department.objects.get(credit_code=GOOD[1])
    assert (tax.name, tax.region_id, tax.is_vertical, tax.is_active) == ("国家税务总局济南市历下区税务局", "370102", True, True)


@pytest.mark.parametrize("fmt", [CSV_FORMAT, XLSX_FORMAT], ids=["csv", "xlsx"])
def test_one_bad_credit_code_imports_nothing_and_names_row_and_problem(admin_client, jinan, fmt):
    rows = [
        (GOOD[0], "历下区市场监督管理局", "370102", "否", "是"),
        (bad_check(GOOD[1]), "历下区教育和体育局", "370102", "否", "是"),
        (GOOD[2], "历下区民政局", "370102", "否", "是"),
    ]
    preview = upload(admin_client, "department", DEPT_HEADERS, rows, fmt)
    assert preview.status_code == 200
    assert "confirm_form" not in preview.context
    html = preview.content.decode()
    assert "统一社会信用代码校验位错误" in html
    invalid = preview.context["result"].invalid_rows
    assert [row.number for row in invalid] == [3]  # spreadsheet row: the header is row 1
    assert invalid[0].error_dict == {"统一社会信用代码": ["统一社会信用代码校验位错误"]}
    assert "<td>3 </td>" in html
    assert not Department.objects.exists()


def test_unknown_region_and_missing_name_are_reported_by_column(admin_client, jinan):
    rows = [(GOOD[0], "", "379999", "也许", "")]
    preview = upload(admin_client, "department", DEPT_HEADERS, rows, CSV_FORMAT)
    errors = preview.context["result"].invalid_rows[0].error_dict
    assert errors["行政区划代码"] == ["行政区划代码“379999”不存在"]
    assert errors["垂直管理部门"] == ["“也许”应填“是”或“否”"]
    assert "名称" in errors
    assert not Department.objects.exists()


def test_if_the_data_changes_between_preview_and_confirm_nothing_is_imported(admin_client, jinan):
    extra = Region.objects.create(code="370104", name="槐荫区", level=3, parent_id="370100")
    rows = [(GOOD[0], "历下区市场监督管理局", "370102", "否", "是"), (GOOD[1], "槐荫区市场监督管理局", "370104", "否", "是")]
    preview = upload(admin_client, "department", DEPT_HEADERS, rows, CSV_FORMAT)
    assert "confirm_form" in preview.context
    extra.delete()
    done = confirm(admin_client, "department", preview)
    assert done.status_code == 302
    assert done.url == reverse("admin:org_department_import")
    [message] = [str(m) for m in get_messages(done.wsgi_request)]
    assert message == "导入失败，文件中的数据均未导入：第3行“行政区划代码”：行政区划代码“370104”不存在"
    assert not Department.objects.exists()


def test_reimport_updates_by_credit_code(jinan):
    Department.objects.create(credit_code=GOOD[0], name="旧名称", region=jinan)
    ds = tablib.Dataset((GOOD[0].lower(), "历下区市场监督管理局", 370102, "", ""), headers=DEPT_HEADERS)
    result = DepartmentResource().import_data(ds)
    assert not result.has_validation_errors()
    assert result.totals["update"] == 1
    assert Department.objects.get(credit_code=GOOD[0]).name == "历下区市场监督管理局"
    assert Department.objects.count() == 1


@pytest.mark.parametrize("fmt", [CSV_FORMAT, XLSX_FORMAT], ids=["csv", "xlsx"])
def test_export_has_chinese_headers_and_natural_keys(admin_client, org, fmt):
    fields = {f"departmentresource_{name}": "on" for name in DepartmentResource.fields}
    r = admin_client.post(reverse("admin:org_department_export"), {"resource": "0", "format": fmt, **fields})
    assert r.status_code == 200
    if fmt == CSV_FORMAT:
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    else:
        sheet = load_workbook(io.BytesIO(r.content)).active
        rows = [[("" if c is None else str(c)) for c in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == DEPT_HEADERS
    assert rows[1] == [org.department.credit_code, org.department.name, "370102", "否", "是"]


def test_export_form_labels_fields_in_chinese(admin_client, org):
    page = admin_client.get(reverse("admin:org_department_export")).content.decode()
    assert "统一社会信用代码" in page
    assert "Credit Code" not in page


@pytest.mark.parametrize("model", ["region", "managementagency", "serviceagency", "window", "staff", "platform"])
def test_every_org_list_offers_import_and_export(admin_client, org, model):
    for action in ("import", "export"):
        r = admin_client.get(reverse(f"admin:org_{model}_{action}"))
        assert r.status_code == 200
        assert "导入" in r.content.decode() or "导出" in r.content.decode()


def test_region_import_derives_level_and_parent(jinan):
    ds = tablib.Dataset(("370103", "市中区", ""), ("370103001", "大观园街道", "370103"), ("370105", "天桥区", "320000"),
                        headers=["行政区划代码", "名称", "上级区划代码"])
    result = RegionResource().import_data(ds)
    assert [(r.number, r.error_dict) for r in result.invalid_rows] == [
        (4, {"上级区划代码": ["行政区划代码“320000”不存在"]})
    ]
    assert not Region.objects.filter(code__in=["370103", "370103001"]).exists()  # atomic

    ds = tablib.Dataset(("370103", "市中区", ""), ("370103001", "大观园街道", "370103"), headers=["行政区划代码", "名称", "上级区划代码"])
    result = RegionResource().import_data(ds)
    assert not result.has_validation_errors() and not result.has_errors()
    assert Region.objects.get(code="370103").parent_id == "370100"
    street = Region.objects.get(code="370103001")
    assert (street.level, street.parent_id) == (4, "370103")


def test_window_and_staff_use_agency_code_and_window_number(org):
    ds = tablib.Dataset((org.agency.code, "B01", "企业开办专窗", org.department.credit_code, "是"),
                        headers=["机构编码", "窗口编号", "名称", "入驻部门统一社会信用代码", "在用"])
    result = WindowResource().import_data(ds)
    assert not result.has_validation_errors(), result.invalid_rows
    window = Window.objects.get(agency=org.agency, code="B01")
    assert window.department == org.department

    ds = tablib.Dataset(("S9001", "赵敏", org.agency.code, org.department.credit_code, "B01", "是"),
                        ("S9002", "钱进", org.agency.code, "", "Z99", "是"),
                        headers=["工号", "姓名", "机构编码", "部门统一社会信用代码", "窗口编号", "在岗"])
    result = StaffResource().import_data(ds)
    assert [(r.number, r.error_dict) for r in result.invalid_rows] == [
        (3, {"窗口编号": [f"机构“{org.agency.code}”下没有窗口“Z99”"]})
    ]
    assert not Staff.objects.filter(staff_no="S9001").exists()

    result = StaffResource().import_data(tablib.Dataset(ds[0], headers=ds.headers))
    assert not result.has_validation_errors()
    assert Staff.objects.get(staff_no="S9001").window == window

    exported = StaffResource().export(queryset=Staff.objects.filter(staff_no="S9001"))
    assert exported.headers == ["工号", "姓名", "机构编码", "部门统一社会信用代码", "窗口编号", "在岗"]
    assert list(exported[0]) == ["S9001", "赵敏", org.agency.code, org.department.credit_code, "B01", "是"]
