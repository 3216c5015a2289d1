"""Paper evaluation forms (R3.2): numbered forms printed per agency, entered once by someone who is not the rated
staff member, with the scan attached."""

from __future__ import annotations

import io

import pypdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from haochaping.accounts.models import User
from haochaping.accounts.roles import Role
from haochaping.core.problems import DomainError
from haochaping.evaluation import services
from haochaping.evaluation.models import Evaluation, PaperForm
from haochaping.org.models import ServiceAgency, Staff
from tests import factories
from tests.pdf_fonts import assert_fonts_embedded

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def record(org, item):
    return factories.make_record(org, item)


@pytest.fixture
def colleague(org):
    """A window staff member at the same hall who did not handle the 办件."""
    staff = Staff.objects.create(staff_no=f"S{factories.seq():05d}", name="张华", agency=org.agency, department=org.department)
    return User.objects.create(username="colleague", role=Role.STAFF, region=org.county, staff=staff)


@pytest.fixture
def rated_staff_user(org):
    return User.objects.create(username="liming", role=Role.STAFF, region=org.county, staff=org.staff)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def scan(name="form.png", content=PNG, content_type="image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def entry(form, record, **overrides):
    data = {"form_number": form.number, "project_no": record.project_no, "level": "5", "comment": "", "scan": scan()}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def form(org):
    return services.create_paper_forms(org.agency, 1)[0]


# --- printing -----------------------------------------------------------------------------------------------------


def test_printing_creates_numbered_forms_and_one_pdf_page_each(org, colleague):
    client = signed_in(colleague)
    page = client.get(f"/paper/print/{org.agency.pk}/?count=3")
    assert page.status_code == 200 and org.agency.name in page.content.decode()
    assert 'href="/paper/enter/"' in page.content.decode()  # a window colleague enters filled forms too
    assert PaperForm.objects.count() == 0  # looking at the page prints nothing

    response = client.post(f"/paper/print/{org.agency.pk}/", {"count": "3"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    numbers = sorted(PaperForm.objects.filter(agency=org.agency).values_list("number", flat=True))
    assert numbers == [f"{org.agency.code}-00000{n}" for n in (1, 2, 3)]
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 3
    assert_fonts_embedded(response.content)  # prints the same on a machine without Chinese fonts
    for page_obj, number in zip(reader.pages, numbers, strict=True):
        text = page_obj.extract_text()
        assert number in text
        assert org.agency.name in text
        for words in ("办件编号", "非常满意", "非常不满意", "意见和建议"):
            assert words in text

    client.post(f"/paper/print/{org.agency.pk}/", {"count": "2"})
    assert PaperForm.objects.filter(agency=org.agency).count() == 5
    assert PaperForm.objects.filter(number=f"{org.agency.code}-000005").exists()


def test_print_count_is_checked(org, colleague):
    response = signed_in(colleague).post(f"/paper/print/{org.agency.pk}/", {"count": "0"})
    assert response.status_code == 422
    assert "打印份数应为 1 至 200 之间的整数" in response.content.decode()
    assert signed_in(colleague).post(f"/paper/print/{org.agency.pk}/", {"count": "abc"}).status_code == 422
    assert PaperForm.objects.count() == 0


def test_print_is_scoped_and_needs_permission(org):
    other_agency = ServiceAgency.objects.create(code="HALL-B", name="市中区政务服务中心", kind="center", region=org.other_county)
    supervisor = User.objects.create(username="sup", role=Role.SUPERVISOR, region=org.county)
    page = signed_in(supervisor).get(f"/paper/print/{org.agency.pk}/")
    assert page.status_code == 200
    # A supervisor prints but does not enter: no link to a page that would refuse them; a way back instead.
    assert 'href="/paper/enter/"' not in page.content.decode() and 'href="/paper/"' in page.content.decode()
    assert signed_in(supervisor).post(f"/paper/print/{other_agency.pk}/", {"count": "1"}).status_code == 404
    hotline = User.objects.create(username="op", role=Role.HOTLINE, region=org.county)
    assert signed_in(hotline).get(f"/paper/print/{org.agency.pk}/").status_code == 403
    assert PaperForm.objects.count() == 0


# --- entering -----------------------------------------------------------------------------------------------------


def test_entry_writes_the_paper_evaluation_and_marks_the_form(org, record, form, colleague):
    client = signed_in(colleague)
    assert client.get("/paper/enter/").status_code == 200
    response = client.post("/paper/enter/", entry(form, record, level="2", labels=["207"], comment="态度不好"))
    assert response.status_code == 302
    ev = Evaluation.objects.get(record=record)
    assert (ev.channel, ev.level, ev.stage, ev.comment) == ("paper", 2, "complete", "态度不好")
    assert list(ev.labels.values_list("code", flat=True)) == ["207"]
    form.refresh_from_db()
    assert form.evaluation == ev and form.entered_by == colleague and form.entered_at is not None
    assert form.scan.name.endswith(f"{form.number}.png")
    assert form.scan.read() == PNG
    page = client.get(response["Location"])
    assert f"评价表 {form.number} 已录入" in page.content.decode() and ev.receipt_code in page.content.decode()


def test_a_form_number_is_entered_once(org, item, record, form, colleague):
    client = signed_in(colleague)
    client.post("/paper/enter/", entry(form, record))
    another = factories.make_record(org, item)
    response = client.post("/paper/enter/", entry(form, another, level="4"))
    assert response.status_code == 409
    assert "该评价表编号已录入过，每张评价表只能录入一次" in response.content.decode()
    assert Evaluation.objects.count() == 1


def test_staff_cannot_enter_a_form_about_their_own_record(record, form, rated_staff_user):
    response = signed_in(rated_staff_user).post("/paper/enter/", entry(form, record))
    assert response.status_code == 403
    assert "不能录入评价本人所办办件的书面评价表" in response.content.decode()
    assert Evaluation.objects.count() == 0
    form.refresh_from_db()
    assert form.evaluation is None and not form.scan


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (None, "请上传“评价表扫描件”"),
        (scan("form.exe", b"MZ\x90\x00", "application/octet-stream"), "只接受 JPG、PNG 图片或 PDF 文件"),
        (scan("form.png", b"GIF89a....", "image/png"), "内容不是PNG文件"),
        (scan("form.pdf", b"", "application/pdf"), "是空文件"),
    ],
)
def test_scan_is_required_and_checked(record, form, colleague, upload, message):
    response = signed_in(colleague).post("/paper/enter/", entry(form, record, scan=upload))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert Evaluation.objects.count() == 0


def test_oversized_scan_is_refused(settings, record, form, colleague):
    settings.HAOCHAPING_MAX_UPLOAD_MB = 1
    big = scan("form.pdf", PDF + b"0" * (1024 * 1024), "application/pdf")
    response = signed_in(colleague).post("/paper/enter/", entry(form, record, scan=big))
    assert response.status_code == 422
    assert "过大：文件不能超过 1 MB" in response.content.decode()
    assert Evaluation.objects.count() == 0


def test_a_pdf_scan_is_accepted(record, form, colleague):
    response = signed_in(colleague).post("/paper/enter/", entry(form, record, scan=scan("扫描.PDF", PDF, "application/pdf")))
    assert response.status_code == 302
    form.refresh_from_db()
    assert form.scan.name.endswith(f"{form.number}.pdf")


def test_out_of_scope_agency_form_is_unknown(org, item, colleague):
    other_agency = ServiceAgency.objects.create(code="HALL-B", name="市中区政务服务中心", kind="center", region=org.other_county)
    other_form = services.create_paper_forms(other_agency, 1)[0]
    other_record = factories.make_record(org, item, agency=other_agency, window=None, region=org.other_county)
    response = signed_in(colleague).post("/paper/enter/", entry(other_form, other_record))
    assert response.status_code == 422
    assert "没有这个表单编号，或该表单不属于您可以录入的政务服务机构" in response.content.decode()
    assert Evaluation.objects.count() == 0


def test_record_must_belong_to_the_forms_agency(org, item, form, colleague):
    other_agency = ServiceAgency.objects.create(code="HALL-C", name="另一中心", kind="center", region=org.county)
    elsewhere = factories.make_record(org, item, agency=other_agency, window=None)
    response = signed_in(colleague).post("/paper/enter/", entry(form, elsewhere))
    assert response.status_code == 404
    assert "该政务服务机构没有这个办件编号" in response.content.decode()
    assert Evaluation.objects.count() == 0


def test_bad_input_is_named_in_chinese(record, form, colleague):
    response = signed_in(colleague).post("/paper/enter/", entry(form, record, form_number="", project_no="", level="9"))
    text = response.content.decode()
    assert response.status_code == 422
    for message in ("请填写表单编号", "请填写评价表上的办件编号", "请选择评价表上勾选的评价等级"):
        assert message in text
    bad = signed_in(colleague).post("/paper/enter/", entry(form, record, level="1"))
    assert bad.status_code == 422  # a bad level needs a label or a comment (R3.4)
    assert Evaluation.objects.count() == 0


def test_users_without_the_permission_cannot_enter(org):
    supervisor = User.objects.create(username="sup", role=Role.SUPERVISOR, region=org.county)
    refused = signed_in(supervisor).get("/paper/enter/")
    assert refused.status_code == 403 and 'href="/paper/"' in refused.content.decode()  # not a dead end
    assert Client().get("/paper/enter/").status_code == 302


# --- the rule in services ---------------------------------------------------------------------------------------


def _input(record, **kw):
    data = dict(idempotency_key=f"paper-test-{factories.seq()}", project_no=record.project_no, stage="complete",
                channel="paper", level=5)
    data.update(kw)
    return services.EvaluationInput(**data)


def test_services_allow_a_paper_entry_only_with_permission_and_not_by_the_rated_staff(record, colleague, rated_staff_user, org):
    with pytest.raises(DomainError) as own:
        services.submit_evaluation(_input(record), source="t", actor=rated_staff_user, paper_entry=True)
    assert own.value.status == 403
    supervisor = User.objects.create(username="sup", role=Role.SUPERVISOR, region=org.county)
    with pytest.raises(DomainError) as unpermitted:
        services.submit_evaluation(_input(record), source="t", actor=supervisor, paper_entry=True)
    assert unpermitted.value.detail == "没有录入书面评价表的权限"
    with pytest.raises(DomainError) as anonymous:
        services.submit_evaluation(_input(record), source="t", actor=None, paper_entry=True)
    assert anonymous.value.status == 403
    with pytest.raises(DomainError) as wrong_channel:
        services.submit_evaluation(_input(record, channel="qr"), source="t", actor=colleague, paper_entry=True)
    assert wrong_channel.value.field == "channel"
    # Without the paper flag the same colleague is an insider and may not rate (R7.1).
    with pytest.raises(DomainError) as insider:
        services.submit_evaluation(_input(record), source="t", actor=colleague)
    assert insider.value.status == 403
    assert Evaluation.objects.count() == 0
    result = services.submit_evaluation(_input(record), source="t", actor=colleague, paper_entry=True)
    assert result.evaluation.channel == "paper"
