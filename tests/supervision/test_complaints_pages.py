"""综合点评 on the workbench: a walk-in or 意见箱 complaint typed in opens a case; errors in Chinese next to their
field with nothing written; the list and a complaint's page scoped like every supervisor page; the complainant's
contact masked, revealed only with a reason and logged; attachments served only in scope."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from haochaping.accounts.models import PersonalDataAccess, Role, User
from haochaping.rectification.models import RectificationCase
from haochaping.supervision.complaints import services
from haochaping.supervision.models import SocialReview
from tests import factories

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def hotline(org):
    return User.objects.create(username="op-1", role=Role.HOTLINE, is_staff=True, region=org.county)


def test_a_walk_in_complaint_is_registered_with_its_file_and_opens_a_case(client, people, org):
    client.force_login(people["supervisor"])
    assert "登记投诉或建议" in client.get("/work/intake/new/").content.decode()
    response = client.post("/work/intake/new/", {
        "source": "walk_in", "nature": "complaint", "summary": "窗口工作人员玩手机，不理睬群众",
        "staff_no": org.staff.staff_no, "name": "赵六", "phone": "13900002222",
        "files": [SimpleUploadedFile("照片.pdf", PDF)],
    })
    assert response.status_code == 302, response.content.decode()
    complaint = SocialReview.objects.get()
    assert response.url == f"/work/intake/{complaint.pk}/"
    assert complaint.source == "walk_in" and complaint.staff_id == org.staff.pk
    assert complaint.case.department_id == org.staff.department_id and complaint.registered_by == people["supervisor"]
    page = client.get(response.url).content.decode()
    assert "139****2222" in page and "赵*" in page and "13900002222" not in page
    assert "照片.pdf" in page
    file = complaint.attachments.get()
    download = client.get(f"/work/intake/{complaint.pk}/files/{file.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    listing = client.get("/work/intake/").content.decode()
    assert f"{complaint.pk:06d}" in listing and "现场" in listing


def test_bad_input_is_refused_next_to_the_field_and_nothing_is_written(client, people, org):
    client.force_login(people["supervisor"])
    cases = [
        ({"source": "box", "nature": "complaint", "summary": ""}, "请填写投诉或建议的内容"),
        ({"source": "box", "nature": "complaint", "summary": "大厅没有饮水机"}, "请指明被投诉的单位、工作人员、事项或办件"),
        ({"source": "hotline", "nature": "complaint", "summary": "电话打不通", "department": org.department.pk},
         "请填写工单编号或平台编号"),
        ({"source": "box", "nature": "complaint", "summary": "态度差", "department": org.department.pk, "phone": "abc"},
         "电话号码格式不正确"),
        ({"source": "box", "nature": "complaint", "summary": "态度差", "project_no": "NOPE"}, "没有找到这个办件编号"),
        ({"source": "box", "nature": "complaint", "summary": "态度差", "department": org.department.pk,
          "files": [SimpleUploadedFile("x.exe", b"MZ" * 10)]}, "只接受 JPG、PNG 图片或 PDF 文件"),
        ({"source": "email", "nature": "complaint", "summary": "态度差", "department": org.department.pk}, "选择一个有效的选项"),
    ]
    for data, message in cases:
        response = client.post("/work/intake/new/", data)
        assert response.status_code == 422, data
        assert message in response.content.decode(), (data, message)
    assert not SocialReview.objects.exists() and not RectificationCase.objects.exists()


def test_a_resent_platform_number_is_not_registered_twice(client, hotline, org):
    client.force_login(hotline)
    data = {"source": "gov_platform", "nature": "suggestion", "reference": "GOV-2026-001", "summary": "建议延长午间服务",
            "department": org.department.pk}
    first = client.post("/work/intake/new/", data)
    second = client.post("/work/intake/new/", data)
    assert first.status_code == second.status_code == 302 and first.url == second.url
    assert SocialReview.objects.count() == 1 and RectificationCase.objects.count() == 1


def test_the_contact_is_revealed_only_with_a_reason_and_logged(client, people, org):
    complaint = services.register(services.ComplaintInput(
        source="box", summary="意见箱来信：叫号系统经常故障", department=org.department, phone="13700003333",
    ), actor=people["supervisor"]).complaint
    client.force_login(people["supervisor"])
    url = f"/work/intake/{complaint.pk}/"
    refused = client.post(url, {"contact-field": "complainant_phone", "contact-reason": ""})
    assert refused.status_code == 422 and "13700003333" not in refused.content.decode()
    assert not PersonalDataAccess.objects.exists()
    shown = client.post(url, {"contact-field": "complainant_phone", "contact-reason": "回访核实投诉情况"})
    assert shown.status_code == 200 and "13700003333" in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.field, access.subject_id) == (people["supervisor"], "complainant_phone", str(complaint.pk))


def test_out_of_scope_is_not_found_and_handlers_may_not_use_intake(client, people, org):
    complaint = services.register(services.ComplaintInput(
        source="walk_in", summary="现场反映：材料被要求重复提交", department=org.department), actor=None).complaint
    client.force_login(people["far_supervisor"])
    assert f"{complaint.pk:06d}" not in client.get("/work/intake/").content.decode()
    assert client.get(f"/work/intake/{complaint.pk}/").status_code == 404
    assert client.post(f"/work/intake/{complaint.pk}/", {"contact-field": "complainant_phone",
                                                        "contact-reason": "回访核实投诉情况"}).status_code == 404
    client.force_login(people["handler"])
    assert client.get("/work/intake/").status_code == 403
    assert client.get("/work/intake/new/").status_code == 403


def test_the_admin_configures_a_mailbox_with_a_write_only_encrypted_password(client, org):
    from haochaping.supervision.models import IntakeMailbox

    admin = User.objects.create(username="root", is_superuser=True, is_staff=True)
    client.force_login(admin)
    form = {"name": "投诉邮箱", "host": "imap.example.gov.cn", "port": "993", "use_ssl": "on", "username": "tousu",
            "folder": "INBOX", "region": org.county.code, "department": org.department.pk, "is_active": "on"}
    refused = client.post("/admin/supervision/intakemailbox/add/", form)
    assert refused.status_code == 200 and "请填写邮箱密码" in refused.content.decode()
    assert client.post("/admin/supervision/intakemailbox/add/", {**form, "new_password": "S3cret-pass"}).status_code == 302
    mailbox = IntakeMailbox.objects.get()
    assert mailbox.password.reveal() == "S3cret-pass" and bytes(mailbox.password.blob) != b"S3cret-pass"
    page = client.get(f"/admin/supervision/intakemailbox/{mailbox.pk}/change/").content.decode()
    assert "S3cret-pass" not in page
    # Saved again without a new password: the old one stays.
    client.post(f"/admin/supervision/intakemailbox/{mailbox.pk}/change/", {**form, "port": "143"})
    mailbox.refresh_from_db()
    assert mailbox.port == 143 and mailbox.password.reveal() == "S3cret-pass"


def test_a_number_another_region_registered_is_refused_without_showing_it(client, people, org):
    far_department = factories.department(org.other_county)
    services.register(services.ComplaintInput(source="platform", reference="PF-1", summary="平台来件：窗口态度差",
                                              department=org.department), actor=None)
    client.force_login(people["far_supervisor"])
    response = client.post("/work/intake/new/", {"source": "platform", "nature": "complaint", "reference": "PF-1",
                                                 "summary": "平台来件", "department": far_department.pk})
    assert response.status_code == 409 and "该编号已由其他地区登记" in response.content.decode()
    assert SocialReview.objects.count() == 1


def test_a_unit_may_not_register_complaints_about_itself(people, org):
    from haochaping.core.problems import DomainError

    with pytest.raises(DomainError) as exc:
        services.register(services.ComplaintInput(source="box", summary="", department=org.department),
                          actor=people["handler"])
    assert exc.value.status == 403 and not SocialReview.objects.exists()
