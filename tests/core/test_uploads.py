"""Upload checks on the admin's spreadsheet imports: CSV or .xlsx by extension and by content, within the size
limit; anything else is refused in Chinese, naming the file field, and nothing is imported."""

from __future__ import annotations

import io
import zipfile

import pytest
import tablib
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from haochaping.core.uploads import check_spreadsheet
from haochaping.org.models import Department, Region
from haochaping.org.rules import make_credit_code

pytestmark = pytest.mark.django_db

CSV_FORMAT, XLSX_FORMAT = "0", "1"
HEADERS = ["统一社会信用代码", "名称", "行政区划代码", "垂直管理部门", "在用"]
ROWS = [(make_credit_code("11370102MB0000001"), "历下区市场监督管理局", "370102", "否", "是")]

# The first bytes of a Windows executable and of a PNG picture: what a renamed file really is.
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(range(256)) * 4
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


@pytest.fixture
def admin_user(db, django_user_model):
    # force_login needs no password; hashing one with Argon2 would only slow the test down.
    return django_user_model.objects.create_superuser("admin", "admin@example.com", None)


@pytest.fixture
def lixia(db):
    province = Region.objects.create(code="370000", name="山东省", level=1)
    city = Region.objects.create(code="370100", name="济南市", level=2, parent=province)
    return Region.objects.create(code="370102", name="历下区", level=3, parent=city)


def good_csv(bom: bool = False) -> bytes:
    text = tablib.Dataset(*ROWS, headers=HEADERS).export("csv")
    return ("\ufeff" if bom else "").encode() + text.encode("utf-8")


def good_xlsx() -> bytes:
    return tablib.Dataset(*ROWS, headers=HEADERS).export("xlsx")


def upload(client, name, content, fmt):
    url = reverse("admin:org_department_import")
    return client.post(url, {"resource": "0", "format": fmt, "import_file": SimpleUploadedFile(name, content)})


def form_errors(response) -> dict[str, list[str]]:
    form = response.context["form"]
    return {name: [str(e) for e in errors] for name, errors in form.errors.items()}


@pytest.mark.parametrize(
    ("name", "content", "fmt", "expected"),
    [
        ("departments.csv", EXE, CSV_FORMAT, "不是 UTF-8 编码的 CSV 文本文件"),
        ("departments.xlsx", PNG, XLSX_FORMAT, "不是 Excel（.xlsx）文件"),
        ("departments.exe", EXE, CSV_FORMAT, "只接受 CSV（.csv）或 Excel（.xlsx）文件"),
        ("departments.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), XLSX_FORMAT, "只接受 CSV（.csv）或 Excel（.xlsx）文件"),
        ("departments.csv", b"", CSV_FORMAT, "空文件"),
    ],
    ids=["exe-renamed-csv", "png-renamed-xlsx", "exe", "old-xls", "empty"],
)
def test_wrong_type_is_refused_naming_the_field_and_nothing_is_imported(admin_client, lixia, name, content, fmt, expected):
    response = upload(admin_client, name, content, fmt)
    assert response.status_code == 200
    assert "confirm_form" not in response.context
    errors = form_errors(response)
    assert list(errors) == ["import_file"], errors
    (message,) = errors["import_file"]
    assert expected in message and "“导入文件”" in message
    assert not Department.objects.exists()


def test_oversized_file_is_refused_and_nothing_is_imported(admin_client, lixia, settings):
    settings.HAOCHAPING_MAX_UPLOAD_MB = 1
    body = good_csv() + b"\n".join(b"# padding line with nothing in it ......................" for _ in range(20_000))
    assert len(body) > 1024 * 1024
    response = upload(admin_client, "departments.csv", body, CSV_FORMAT)
    assert "confirm_form" not in response.context
    (message,) = form_errors(response)["import_file"]
    assert "“导入文件”过大" in message and "1 MB" in message
    assert not Department.objects.exists()


def test_extension_and_chosen_format_must_agree(admin_client, lixia):
    response = upload(admin_client, "departments.xlsx", good_xlsx(), CSV_FORMAT)
    assert "confirm_form" not in response.context
    assert form_errors(response) == {"format": ["所选格式（CSV）与文件类型（.xlsx）不一致"]}


@pytest.mark.parametrize(
    ("name", "content", "fmt"),
    [("d.csv", good_csv(), CSV_FORMAT), ("d.csv", good_csv(bom=True), CSV_FORMAT), ("D.XLSX", good_xlsx(), XLSX_FORMAT)],
    ids=["csv", "csv-with-bom", "xlsx-upper-case-name"],
)
def test_real_spreadsheets_pass_the_checks_and_preview(admin_client, lixia, name, content, fmt):
    response = upload(admin_client, name, content, fmt)
    assert response.status_code == 200
    assert "confirm_form" in response.context, form_errors(response)


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.xlsx", zip_bytes({"word/document.xml": b"<w/>"}), "不是 Excel（.xlsx）文件"),  # a zip, but no spreadsheet
        ("a.csv", "名称,代码\n历下区,370102\n".encode("gbk"), "UTF-8"),  # what older Excel saves by default
        ("a.csv", b"name,code\n\x00\x00\x01\x02,1\n", "不是 CSV 文本"),
        ("a.xlsx", zip_bytes({"[Content_Types].xml": b"<T/>", "xl/big.xml": b"0" * (3 * 1024 * 1024)}), "解压后过大"),
    ],
    ids=["zip-without-content-types", "gbk-csv", "binary-csv", "zip-bomb"],
)
def test_content_checks(settings, name, content, expected):
    settings.HAOCHAPING_MAX_UPLOAD_MB = 0.1
    with pytest.raises(ValidationError) as exc:
        check_spreadsheet(SimpleUploadedFile(name, content), label="导入文件")
    assert expected in exc.value.messages[0]


def test_a_checked_file_is_rewound_for_the_importer():
    f = SimpleUploadedFile("a.csv", good_csv())
    assert check_spreadsheet(f) == "csv"
    assert f.read() == good_csv()
