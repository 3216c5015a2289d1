"""The appeal pages (/work/appeals/…) with Django's test client: who may open what, scoping (404 like
nonexistent), errors in Chinese next to the field, evidence downloads through the scope."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from haochaping.accounts.models import Role, User
from haochaping.evaluation.models import Evaluation, EvaluationExclusion
from haochaping.org.models import Staff
from haochaping.rectification.models import Appeal, CaseAttachment, RectificationCase
from haochaping.rectification.services import appeals
from tests import factories

from .conftest import submit

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"



@pytest.fixture
def case(record):
    result = submit(record, level=1, labels=["109"], comment="窗口要求提供指南外的材料",
                    evaluator_name="王大锤", evaluator_phone="13800001111")
    return RectificationCase.objects.get(pk=result.case_id)


@pytest.fixture
def staff_user(org):
    return User.objects.create(username="S-rated", role=Role.STAFF, region=org.county, staff=org.staff)


@pytest.fixture
def colleague(org):
    staff = Staff.objects.create(staff_no="S-OTHER", name="赵六", agency=org.agency, department=org.department)
    return User.objects.create(username="S-colleague", role=Role.STAFF, region=org.county, staff=staff)


@pytest.fixture
def appeal(case, staff_user):
    return appeals.submit_appeal(case.pk, actor=staff_user, explanation="评价人当日未到窗口",
                                 files=[SimpleUploadedFile("监控截图.pdf", PDF)])


def as_user(client, user):
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


def error_next_to(html: str, field: str) -> str:
    found = re.search(rf'<p class="error" role="alert" id="{field}-error">([^<]+)</p>', html)
    assert found, f"no error shown for {field}"
    return found.group(1)


# --- the rated party's pages --------------------------------------------------------------------------------


def test_signed_out_visitors_go_to_the_login_page(client, case, appeal):
    for url in ("/work/appeals/", "/work/appeals/mine/", f"/work/appeals/new/{case.pk}/", f"/work/appeals/{appeal.pk}/",
                f"/work/appeals/{appeal.pk}/files/{appeal.attachments.get().pk}/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url


@pytest.mark.parametrize("who", ["staff", "handler"])
def test_the_rated_party_sees_what_they_may_appeal_with_the_deadline(client, case, staff_user, people, who):
    user = staff_user if who == "staff" else people["handler"]
    html = text(as_user(client, user).get("/work/appeals/mine/"))
    assert "可申诉的差评" in html
    assert f"/work/appeals/new/{case.pk}/" in html
    assert case.appeal_due.isoformat() in html
    assert re.search(r"剩余\d+个工作日|今天截止", html)
    assert "申诉审核期间，案件办理期限照常计算" in html
    # Never who wrote the review.
    assert "13800001111" not in html and "王大锤" not in html and "王*" not in html


def test_every_workbench_page_links_to_the_appeals_and_the_case_to_its_appeal(client, appeal, staff_user, people):
    nav = re.compile(r'<nav class="workbench-nav".*?</nav>', re.S)
    supervisor = nav.search(text(as_user(client, people["supervisor"]).get("/work/supervision/"))).group(0)
    assert 'href="/work/appeals/">申诉审核</a>' in supervisor and 'href="/insight/painpoints/">差评痛点</a>' in supervisor
    handler = nav.search(text(as_user(client, people["handler"]).get("/work/"))).group(0)
    assert 'href="/work/appeals/mine/">差评申诉</a>' in handler
    # On an appeal page the link is marked current, and shown once.
    staff = nav.search(text(as_user(client, staff_user).get("/work/appeals/mine/"))).group(0)
    assert staff.count('href="/work/appeals/mine/"') == 1 and 'aria-current="page">我的申诉</a>' in staff
    # The case under appeal leads its supervisor to the appeal.
    assert "/work/appeals/new/" not in text(as_user(client, people["handler"]).get(f"/work/cases/{appeal.case_id}/"))
    case_page = text(as_user(client, people["supervisor"]).get(f"/work/cases/{appeal.case_id}/"))
    assert f'href="/work/appeals/{appeal.pk}/">审核申诉</a>' in case_page


def test_the_case_page_offers_the_rated_unit_an_appeal_while_the_period_lasts(client, case, people):
    html = text(as_user(client, people["handler"]).get(f"/work/cases/{case.pk}/"))
    assert f'href="/work/appeals/new/{case.pk}/">提出申诉</a>' in html
    assert "/work/appeals/new/" not in text(as_user(client, people["supervisor"]).get(f"/work/cases/{case.pk}/"))
    RectificationCase.objects.filter(pk=case.pk).update(appeal_due=timezone.localdate() - timedelta(days=1))
    assert "/work/appeals/new/" not in text(as_user(client, people["handler"]).get(f"/work/cases/{case.pk}/"))


def test_mine_leaves_out_what_cannot_be_appealed_any_more(client, case, staff_user):
    RectificationCase.objects.filter(pk=case.pk).update(appeal_due=timezone.localdate() - timedelta(days=1))
    html = text(as_user(client, staff_user).get("/work/appeals/mine/"))
    assert f"/work/appeals/new/{case.pk}/" not in html
    assert "暂无可申诉的差评" in html


def test_mine_shows_the_appeals_and_their_states(client, appeal, staff_user, people):
    html = text(as_user(client, staff_user).get("/work/appeals/mine/"))
    assert f"/work/appeals/{appeal.pk}/" in html and "已提交" in html
    appeals.decide_appeal(appeal.pk, actor=people["supervisor"], upheld=False, note="不成立")
    assert "申诉不成立" in text(client.get("/work/appeals/mine/"))


@pytest.mark.parametrize("who", ["colleague", "other_handler"])
def test_someone_else_neither_lists_nor_opens_the_case(client, case, colleague, people, who):
    user = colleague if who == "colleague" else people[who]
    as_user(client, user)
    assert f"/work/appeals/new/{case.pk}/" not in text(client.get("/work/appeals/mine/"))
    assert client.get(f"/work/appeals/new/{case.pk}/").status_code == 404
    assert client.get("/work/appeals/new/999999/").status_code == 404
    response = client.post(f"/work/appeals/new/{case.pk}/", {"explanation": "理由"})
    assert response.status_code == 404
    assert not Appeal.objects.exists()


def test_supervisors_do_not_appeal(client, case, people):
    as_user(client, people["supervisor"])
    for url in ("/work/appeals/mine/", f"/work/appeals/new/{case.pk}/"):
        response = client.get(url)
        assert response.status_code == 403
        assert "被评价的窗口工作人员或业务办理单位经办人" in text(response)


def test_the_form_shows_the_review_without_personal_data(client, case, staff_user):
    html = text(as_user(client, staff_user).get(f"/work/appeals/new/{case.pk}/"))
    assert 'enctype="multipart/form-data"' in html
    assert 'for="explanation"' in html and 'for="files"' in html
    assert "需提供办事指南之外的申报材料" in html and "窗口要求提供指南外的材料" in html and "非常不满意" in html
    assert "13800001111" not in html and "王大锤" not in html


def test_a_blank_explanation_is_shown_next_to_the_field_and_nothing_is_written(client, case, staff_user, media):
    response = as_user(client, staff_user).post(
        f"/work/appeals/new/{case.pk}/", {"explanation": "  ", "files": [SimpleUploadedFile("a.pdf", PDF)]})
    assert response.status_code == 422
    assert error_next_to(text(response), "explanation") == "请写明申诉理由"
    assert not Appeal.objects.exists() and not list(media.rglob("*.pdf"))


def test_a_bad_file_is_shown_next_to_the_field_and_the_text_is_kept(client, case, staff_user):
    response = as_user(client, staff_user).post(
        f"/work/appeals/new/{case.pk}/",
        {"explanation": "评价人未到窗口", "files": [SimpleUploadedFile("run.exe", b"MZ\x90\x00")]})
    assert response.status_code == 422
    html = text(response)
    assert "申诉证据" in error_next_to(html, "files")
    assert "评价人未到窗口</textarea>" in html
    assert not Appeal.objects.exists()


def test_an_appeal_with_evidence_is_filed_and_opens_its_page(client, case, staff_user):
    response = as_user(client, staff_user).post(f"/work/appeals/new/{case.pk}/", {
        "explanation": "当日监控显示评价人未到窗口",
        "files": [SimpleUploadedFile("监控截图.pdf", PDF), SimpleUploadedFile("签到表.png", b"\x89PNG\r\n\x1a\n" + b"0" * 8)],
    })
    appeal = Appeal.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/work/appeals/{appeal.pk}/"
    assert appeal.attachments.count() == 2
    page = client.get(response["Location"])
    html = text(page)
    assert "申诉已提交" in html and "当日监控显示评价人未到窗口" in html
    assert "监控截图.pdf" in html
    # The rated staff member reads it but does not decide it.
    assert "提交审核结论" not in html


def test_after_the_period_the_form_says_why_and_offers_nothing(client, case, staff_user):
    RectificationCase.objects.filter(pk=case.pk).update(appeal_due=timezone.localdate() - timedelta(days=1))
    as_user(client, staff_user)
    html = text(client.get(f"/work/appeals/new/{case.pk}/"))
    assert "已超过申诉期限" in html and "提交申诉" not in html
    response = client.post(f"/work/appeals/new/{case.pk}/", {"explanation": "理由"})
    assert response.status_code == 422
    assert "已超过申诉期限" in text(response) and "提交申诉" not in text(response)
    assert not Appeal.objects.exists()


def test_a_second_appeal_is_refused(client, appeal, case, people):
    html = text(as_user(client, people["handler"]).get(f"/work/appeals/new/{case.pk}/"))
    assert "每条差评只能申诉一次" in html and "提交申诉" not in html


# --- review ---------------------------------------------------------------------------------------------------


def test_the_queue_lists_due_soonest_first_and_marks_the_overdue(client, org, item, appeal, people):
    other_case = RectificationCase.objects.get(pk=submit(factories.make_record(org, item)).case_id)
    later = appeals.submit_appeal(other_case.pk, actor=people["handler"], explanation="理由")
    Appeal.objects.filter(pk=appeal.pk).update(review_due=timezone.localdate() + timedelta(days=10))
    Appeal.objects.filter(pk=later.pk).update(review_due=timezone.localdate() - timedelta(days=1))
    html = text(as_user(client, people["supervisor"]).get("/work/appeals/"))
    assert html.index(f"/work/appeals/{later.pk}/") < html.index(f"/work/appeals/{appeal.pk}/")
    assert 'class="overdue"' in html and "逾期" in html


def test_the_queue_is_for_supervisors_of_the_region(client, appeal, people, staff_user):
    assert f"/work/appeals/{appeal.pk}/" not in text(as_user(client, people["far_supervisor"]).get("/work/appeals/"))
    for user in (people["handler"], staff_user):
        response = as_user(client, user).get("/work/appeals/")
        assert response.status_code == 403 and "政务服务管理机构的监督人员" in text(response)


def test_the_appeal_page_shows_what_waits_on_what(client, appeal, case, people):
    html = text(as_user(client, people["supervisor"]).get(f"/work/appeals/{appeal.pk}/"))
    assert "申诉审核期间，案件办理期限照常计算" in html
    assert appeal.review_due.isoformat() in html
    assert case.callback_due.isoformat() in html and "回访核实" in html
    assert "待回访核实" in html
    assert "需提供办事指南之外的申报材料" in html and "窗口要求提供指南外的材料" in html
    assert "13800001111" not in html and "王大锤" not in html
    assert f"/work/appeals/{appeal.pk}/files/" in html and "/media/" not in html
    assert 'id="unit-bad-reviews">1<' in html
    assert "开始审核" in html and "提交审核结论" in html


@pytest.mark.parametrize("who", ["far_supervisor", "other_handler", "colleague"])
def test_out_of_scope_appeals_are_not_found(client, appeal, people, colleague, who):
    as_user(client, colleague if who == "colleague" else people[who])
    file_id = appeal.attachments.get().pk
    for url in (f"/work/appeals/{appeal.pk}/", f"/work/appeals/{appeal.pk}/files/{file_id}/"):
        assert client.get(url).status_code == 404, url
    assert client.get("/work/appeals/999999/").status_code == 404
    assert client.post(f"/work/appeals/{appeal.pk}/", {"action": "decide", "upheld": "1", "note": "x"}).status_code == 404
    appeal.refresh_from_db()
    assert appeal.state == "submitted"


def test_a_decision_without_reasons_is_refused_in_chinese(client, appeal, people):
    response = as_user(client, people["supervisor"]).post(f"/work/appeals/{appeal.pk}/", {"action": "decide", "upheld": "1"})
    assert response.status_code == 422
    assert error_next_to(text(response), "note") == "请写明审核意见"
    response = client.post(f"/work/appeals/{appeal.pk}/", {"action": "decide", "note": "意见"})
    assert error_next_to(text(response), "upheld") == "请选择申诉成立或不成立"
    appeal.refresh_from_db()
    assert appeal.state == "submitted" and not EvaluationExclusion.objects.exists()


def test_a_handler_cannot_decide(client, appeal, people):
    response = as_user(client, people["handler"]).post(f"/work/appeals/{appeal.pk}/", {"action": "decide", "upheld": "1",
                                                                                    "note": "成立"})
    assert response.status_code == 403
    assert "监督人员" in text(response)
    assert "提交审核结论" not in text(client.get(f"/work/appeals/{appeal.pk}/"))


def test_a_supervisor_starts_and_upholds_the_appeal(client, appeal, case, people):
    as_user(client, people["supervisor"])
    response = client.post(f"/work/appeals/{appeal.pk}/", {"action": "start_review"})
    assert response.status_code == 302
    assert "已开始审核" in text(client.get(response["Location"]))
    response = client.post(f"/work/appeals/{appeal.pk}/", {"action": "decide", "upheld": "1", "note": "监控证实评价人未到窗口"})
    assert response.status_code == 302
    html = text(client.get(response["Location"]))
    assert "申诉成立：该差评已不计入统计，案件已办结" in html
    assert 'id="unit-bad-reviews">0<' in html
    assert "提交审核结论" not in html
    case.refresh_from_db()
    assert case.state == "closed"
    assert not Evaluation.objects.countable().filter(pk=case.evaluation_id).exists()
    # Deciding again is a conflict shown on the page.
    response = client.post(f"/work/appeals/{appeal.pk}/", {"action": "decide", "upheld": "0", "note": "改判"})
    assert response.status_code == 409
    assert "不能变更" in text(response)


def test_a_rejected_appeal_says_the_case_goes_on(client, appeal, case, people):
    as_user(client, people["supervisor"])
    response = client.post(f"/work/appeals/{appeal.pk}/", {"action": "decide", "upheld": "0", "note": "证据不足"})
    html = text(client.get(response["Location"]))
    assert "申诉不成立：案件继续办理" in html
    case.refresh_from_db()
    assert case.state == "open"


# --- evidence downloads -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["supervisor", "handler", "staff"])
def test_evidence_downloads_as_an_attachment_for_those_who_see_the_appeal(client, appeal, people, staff_user, who):
    as_user(client, staff_user if who == "staff" else people[who])
    attachment = appeal.attachments.get()
    response = client.get(f"/work/appeals/{appeal.pk}/files/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == PDF


def test_only_the_appeals_own_evidence_downloads(client, appeal, case, people):
    other = CaseAttachment(case=case, purpose=CaseAttachment.Purpose.LEDGER, original_name="台账.pdf", size=len(PDF),
                           uploaded_at=timezone.now())
    other.file.save("ledger.pdf", ContentFile(PDF), save=True)
    as_user(client, people["supervisor"])
    assert client.get(f"/work/appeals/{appeal.pk}/files/{other.pk}/").status_code == 404
    assert client.get(f"/work/appeals/{appeal.pk}/files/999999/").status_code == 404
