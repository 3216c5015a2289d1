"""The workbench pages (/work/): who sees which cases, the queue order, forms shown only when allowed, refusals
in Chinese next to the field with nothing changed, out of scope = 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from haochaping.accounts.models import Role, User
from haochaping.rectification.models import CaseTransition, RectificationCase
from haochaping.rectification.rules import State
from tests import factories

from .conftest import submit

pytestmark = pytest.mark.django_db


def case_for(org, item, **kw):
    case = RectificationCase.objects.get(evaluation=submit(factories.make_record(org, item), **kw).evaluation)
    # Opened a while ago, so a callback "five minutes ago" (the form takes minutes) is after the opening.
    RectificationCase.objects.filter(pk=case.pk).update(opened_at=case.opened_at - timedelta(hours=1))
    case.refresh_from_db()
    return case


@pytest.fixture
def case(org, item):
    return case_for(org, item)


@pytest.fixture
def as_user(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def step_url(case, name):
    return f"/work/cases/{case.pk}/steps/{name}/"


# --- who may use the workbench ------------------------------------------------------------------------------


def test_anonymous_is_sent_to_the_login_page(client, case):
    for url in ("/work/", f"/work/cases/{case.pk}/", "/work/supervision/", "/work/complaints/new/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_an_evaluator_account_never_sees_the_workbench(as_user, case):
    evaluator = User.objects.create(username="citizen", role=Role.EVALUATOR)
    client = as_user(evaluator)
    assert client.get("/work/").status_code == 403
    response = client.get(f"/work/cases/{case.pk}/")
    assert response.status_code == 403
    assert "业务办理单位经办人员" in response.content.decode()


def test_a_supervisor_landing_on_the_queue_goes_to_the_supervision_list(as_user, people):
    response = as_user(people["supervisor"]).get("/work/")
    assert response.status_code == 302 and response["Location"] == "/work/supervision/"


def test_window_staff_land_on_their_own_results(as_user, org):
    staff_user = User.objects.create(username="S1", role=Role.STAFF, staff=org.staff, region=org.county)
    response = as_user(staff_user).get("/work/")
    assert response.status_code == 302 and response["Location"] == "/insight/mine/"


def test_the_site_header_links_signed_in_insiders_to_the_workbench(as_user, client, people, org):
    assert 'href="/work/"' not in client.get("/").content.decode()
    assert 'href="/work/">工作台' in as_user(people["handler"]).get("/").content.decode()


# --- the handler's queue -----------------------------------------------------------------------------------


def test_the_queue_lists_my_cases_and_my_units_with_deadline_and_markers(as_user, people, org, item):
    mine = case_for(org, item)
    other = case_for(org, item)
    RectificationCase.objects.filter(pk=mine.pk).update(assignee=people["handler"])
    page = as_user(people["handler"]).get("/work/").content.decode()
    mine_table, unit_table = page.split('id="unit-h"')
    assert f"{mine.pk:06d}" in mine_table and f"{other.pk:06d}" not in mine_table
    # Unassigned first in the unit's list.
    assert unit_table.index(f"{other.pk:06d}") < unit_table.index(f"{mine.pk:06d}")
    assert "回访核实" in page and ("剩余" in page or "今天到期" in page)
    assert item.name in page and "非常不满意" in page


def test_the_queue_is_due_soonest_first(as_user, people, org, item):
    later = case_for(org, item)
    sooner = case_for(org, item)
    RectificationCase.objects.filter(pk=sooner.pk).update(callback_due=timezone.localdate() - timedelta(days=3))
    unit = as_user(people["handler"]).get("/work/").content.decode().split('id="unit-h"')[1]
    assert unit.index(f"{sooner.pk:06d}") < unit.index(f"{later.pk:06d}")
    assert "已逾期" in unit


def test_another_units_handler_does_not_see_the_case(as_user, people, case):
    client = as_user(people["other_handler"])
    assert f"{case.pk:06d}" not in client.get("/work/").content.decode()
    assert client.get(f"/work/cases/{case.pk}/").status_code == 404
    assert client.post(step_url(case, "callback"), {}).status_code == 404
    assert client.get(f"/work/cases/{case.pk + 999}/").status_code == 404


def test_the_queue_keeps_to_a_flat_number_of_queries(as_user, people, org, item, django_assert_max_num_queries):
    client = as_user(people["handler"])
    case_for(org, item)
    client.get("/work/")  # warm the calendar and policy caches
    with django_assert_max_num_queries(12) as one:
        client.get("/work/")
    for _ in range(19):
        case_for(org, item)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get("/work/")
    assert response.content.decode().count("/work/cases/") >= 20


# --- the case page -----------------------------------------------------------------------------------------


def test_the_case_page_shows_the_evaluation_masked_deadlines_and_timeline(as_user, people, org, item):
    evaluation = submit(factories.make_record(org, item), evaluator_name="张三丰", evaluator_phone="13912345678").evaluation
    case = RectificationCase.objects.get(evaluation=evaluation)
    page = as_user(people["handler"]).get(f"/work/cases/{case.pk}/").content.decode()
    assert "13912345678" not in page and "张三丰" not in page
    assert "139****5678" in page
    assert "窗口要求提供指南外的材料" in page
    assert "回访核实" in page and "立行立改或解释说明" in page
    assert "立案" in page  # the timeline's first row
    assert org.department.name in page


def test_a_handler_sees_the_callback_form_but_not_the_supervisors(as_user, people, case):
    page = as_user(people["handler"]).get(f"/work/cases/{case.pk}/").content.decode()
    assert f'action="{step_url(case, "callback")}"' in page
    assert f'action="{step_url(case, "assign")}"' in page
    for name in ("outcome", "answer", "send_back", "note", "confirm"):
        assert f'action="{step_url(case, name)}"' not in page


def test_an_anonymous_case_says_what_its_callback_is(as_user, people, org, item, case):
    assert not case.is_real_name
    page = as_user(people["handler"]).get(f"/work/cases/{case.pk}/").content.decode()
    assert "匿名评价人没有留下联系方式：请选择“未联系上”" in page
    real = case_for(org, item, evaluator_phone="13912345678")
    assert "匿名评价人没有留下联系方式" not in as_user(people["handler"]).get(f"/work/cases/{real.pk}/").content.decode()


def test_a_supervisor_sees_supervision_forms_not_the_handlers(as_user, people, case):
    page = as_user(people["supervisor"]).get(f"/work/cases/{case.pk}/").content.decode()
    assert f'action="{step_url(case, "note")}"' in page
    assert f'action="{step_url(case, "callback")}"' not in page


def test_a_supervisor_cannot_take_a_handlers_step(as_user, people, case):
    response = as_user(people["supervisor"]).post(step_url(case, "answer"), {"answer-answer": "已整改"})
    assert response.status_code == 403
    assert RectificationCase.objects.get(pk=case.pk).state == State.OPEN


def callback_data(**kw):
    data = {
        "callback-at": (timezone.localtime() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
        "callback-method": "phone", "callback-reached": "1", "callback-contact": "评价人本人",
        "callback-facts": "窗口确实要求了指南外的材料",
    }
    data.update(kw)
    return data


def test_recording_the_callback_moves_the_case_and_redirects_with_a_message(as_user, people, case):
    client = as_user(people["handler"])
    response = client.post(step_url(case, "callback"), callback_data())
    assert response.status_code == 302 and response["Location"] == f"/work/cases/{case.pk}/"
    case.refresh_from_db()
    assert case.state == State.CALLED_BACK and case.callback_method == "phone"
    page = client.get(f"/work/cases/{case.pk}/").content.decode()
    assert "已记录回访核实" in page
    assert f'action="{step_url(case, "outcome")}"' in page


def test_a_callback_in_the_future_is_refused_next_to_the_field_with_nothing_changed(as_user, people, case):
    before = CaseTransition.objects.filter(case=case).count()
    future = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = as_user(people["handler"]).post(step_url(case, "callback"), callback_data(**{"callback-at": future}))
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="id_callback-at_error"' in page and "回访时间不能晚于现在" in page
    case.refresh_from_db()
    assert case.state == State.OPEN and CaseTransition.objects.filter(case=case).count() == before


def test_a_missing_callback_field_is_named_in_chinese(as_user, people, case):
    response = as_user(people["handler"]).post(step_url(case, "callback"), callback_data(**{"callback-facts": ""}))
    assert response.status_code == 422
    assert "请填写核实情况" in response.content.decode()
    assert RectificationCase.objects.get(pk=case.pk).state == State.OPEN


def test_a_step_not_allowed_in_the_current_state_is_refused_in_chinese(as_user, people, case):
    response = as_user(people["handler"]).post(step_url(case, "answer"), {"answer-answer": "已整改"})
    assert response.status_code == 409
    assert "案件当前状态为“待回访核实”" in response.content.decode()
    assert RectificationCase.objects.get(pk=case.pk).state == State.OPEN


def outcome_data(**kw):
    data = {"outcome-outcome": "deadline", "outcome-problem": "窗口一次性告知不到位",
            "outcome-measures": "修订告知单并培训", "outcome-responsible_person": "窗口负责人",
            "outcome-deadline": (timezone.localdate() + timedelta(days=3)).isoformat()}
    data.update(kw)
    return data


@pytest.fixture
def called_back(as_user, people, case):
    assert as_user(people["handler"]).post(step_url(case, "callback"), callback_data()).status_code == 302
    return case


def test_an_outcome_without_its_required_fields_shows_each_error(as_user, people, called_back):
    response = as_user(people["handler"]).post(
        step_url(called_back, "outcome"), outcome_data(**{"outcome-measures": "", "outcome-responsible_person": ""}))
    assert response.status_code == 422
    page = response.content.decode()
    assert "限期整改须在台账中写明整改措施" in page and "限期整改须在台账中写明责任人" in page
    assert 'id="id_outcome-measures_error"' in page
    assert RectificationCase.objects.get(pk=called_back.pk).state == State.CALLED_BACK


def test_a_deadline_in_the_past_is_refused(as_user, people, called_back):
    past = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = as_user(people["handler"]).post(step_url(called_back, "outcome"),
                                               outcome_data(**{"outcome-deadline": past}))
    assert response.status_code == 422
    assert "整改期限不能早于今天" in response.content.decode()


def test_the_outcome_form_says_the_rectification_deadline_before_a_later_date_is_refused(as_user, people, called_back):
    called_back.refresh_from_db()
    page = as_user(people["handler"]).get(f"/work/cases/{called_back.pk}/").content.decode()
    assert f"不晚于限期整改期限{called_back.rectify_due.isoformat()}" in page


def test_the_rectification_path_to_the_answer(as_user, people, called_back):
    client = as_user(people["handler"])
    case = called_back
    assert client.post(step_url(case, "outcome"), outcome_data()).status_code == 302
    assert client.post(step_url(case, "progress"), {"progress-note": "已修订告知单"}).status_code == 302
    page = client.get(f"/work/cases/{case.pk}/").content.decode()
    assert "整改台账" in page and "已修订告知单" in page
    from django.core.files.uploadedfile import SimpleUploadedFile

    evidence = SimpleUploadedFile("告知单.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    response = client.post(step_url(case, "complete"), {"complete-evidence": "新告知单已上墙", "complete-files": evidence})
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert client.post(step_url(case, "answer"), {"answer-answer": "已修订一次性告知单"}).status_code == 302
    case.refresh_from_db()
    assert case.state == State.ANSWERED and case.answer == "已修订一次性告知单"
    page = client.get(f"/work/cases/{case.pk}/").content.decode()
    for label in ("回访核实", "确定处理结果", "填报整改进展", "整改台账完成", "答复评价人"):
        assert label in page
    # Closing now would take away the evaluator's 满意/不满意: the step says so, and that it usually closes itself.
    assert "一般不必办结：评价人确认满意、或确认期限过后，系统自动办结" in page


def test_an_extension_asked_for_is_no_longer_pending_once_the_rectification_is_done(as_user, people, called_back):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = as_user(people["handler"])
    case = called_back
    case.refresh_from_db()
    later = (case.rectify_due + timedelta(days=10)).isoformat()
    assert client.post(step_url(case, "outcome"), outcome_data(**{
        "outcome-deadline": later, "outcome-extension_reason": "需采购设备"})).status_code == 302
    assert "待监督人员审批" in client.get(f"/work/cases/{case.pk}/").content.decode()
    evidence = SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    assert client.post(step_url(case, "complete"), {"complete-evidence": "已完成", "complete-files": evidence}).status_code == 302
    page = client.get(f"/work/cases/{case.pk}/").content.decode()
    assert "整改已完成，不再需要审批" in page and "待监督人员审批" not in page


def test_a_handlers_not_adopted_proposal_waits_for_the_supervisor(as_user, people, called_back):
    case = called_back
    response = as_user(people["handler"]).post(step_url(case, "outcome"), {
        "outcome-outcome": "mistaken", "outcome-evidence": "评价人确认误触"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == State.CALLED_BACK and case.proposed_outcome == "mistaken"
    page = as_user(people["supervisor"]).get(f"/work/cases/{case.pk}/").content.decode()
    assert f'action="{step_url(case, "confirm")}"' in page
    response = as_user(people["supervisor"]).post(step_url(case, "confirm"), {"confirm-note": ""})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == State.NOT_ADOPTED


def test_a_supervision_note_needs_text_and_is_then_on_the_timeline(as_user, people, case):
    client = as_user(people["supervisor"])
    response = client.post(step_url(case, "note"), {"note-note": ""})
    assert response.status_code == 422 and "请填写督办意见" in response.content.decode()
    assert client.post(step_url(case, "note"), {"note-note": "请尽快回访"}).status_code == 302
    assert "请尽快回访" in client.get(f"/work/cases/{case.pk}/").content.decode()


def test_assigning_a_handler(as_user, people, case):
    client = as_user(people["handler"])
    response = client.post(step_url(case, "assign"), {"assign-assignee": people["handler"].pk})
    assert response.status_code == 302
    assert RectificationCase.objects.get(pk=case.pk).assignee == people["handler"]
    response = client.post(step_url(case, "assign"), {"assign-assignee": people["other_handler"].pk})
    assert response.status_code == 422 and "承办人须为责任单位在岗的经办人员" in response.content.decode()


def test_a_far_supervisor_gets_404(as_user, people, case):
    client = as_user(people["far_supervisor"])
    assert client.get(f"/work/cases/{case.pk}/").status_code == 404
    assert client.post(step_url(case, "note"), {"note-note": "x"}).status_code == 404


def test_a_later_ledger_date_waits_for_the_supervisors_approval(as_user, people, called_back):
    case = called_back
    later = (case.rectify_due + timedelta(days=10)).isoformat()
    response = as_user(people["handler"]).post(step_url(case, "outcome"), outcome_data(**{
        "outcome-deadline": later, "outcome-extension_reason": "需采购设备"}))
    assert response.status_code == 302
    page = as_user(people["supervisor"]).get(f"/work/cases/{case.pk}/").content.decode()
    assert "待监督人员审批" in page and f'action="{step_url(case, "extension")}"' in page
    client = as_user(people["supervisor"])
    assert client.post(step_url(case, "extension"), {}).status_code == 422  # approve or not: required
    assert client.post(step_url(case, "extension"), {"extension-approve": "1"}).status_code == 302
    case.ledger.refresh_from_db()
    assert case.ledger.extension_approved
    page = client.get(f"/work/cases/{case.pk}/").content.decode()
    assert f'action="{step_url(case, "extension")}"' not in page and "审批整改延期" in page


def test_the_supervisor_sends_an_answered_case_back(as_user, people, called_back):
    case = called_back
    handler = as_user(people["handler"])
    handler.post(step_url(case, "outcome"), {"outcome-outcome": "explained", "outcome-detail": "按规定需现场核验",
                                             "outcome-legal_basis": "《食品经营许可管理办法》"})
    handler.post(step_url(case, "answer"), {"answer-answer": "已解释"})
    assert RectificationCase.objects.get(pk=case.pk).state == State.ANSWERED
    client = as_user(people["supervisor"])
    response = client.post(step_url(case, "send_back"), {"send_back-note": ""})
    assert response.status_code == 422 and "请写明退回重办的理由" in response.content.decode()
    assert client.post(step_url(case, "send_back"), {"send_back-note": "解释不充分"}).status_code == 302
    assert RectificationCase.objects.get(pk=case.pk).state == State.CALLED_BACK


def test_the_supervisor_rejects_a_proposal(as_user, people, called_back):
    case = called_back
    as_user(people["handler"]).post(step_url(case, "outcome"), {"outcome-outcome": "malicious",
                                                                 "outcome-evidence": "同一号码连续差评"})
    client = as_user(people["supervisor"])
    assert client.post(step_url(case, "reject"), {"reject-note": "证据不足"}).status_code == 302
    case.refresh_from_db()
    assert case.state == State.CALLED_BACK and not case.proposed_outcome
    page = as_user(people["handler"]).get(f"/work/cases/{case.pk}/").content.decode()
    assert f'action="{step_url(case, "outcome")}"' in page and "证据不足" in page


def test_the_case_page_says_deadlines_keep_running_during_an_appeal(as_user, people, case, org):
    from haochaping.rectification.models import Appeal

    staff_user = User.objects.create(username="S9", role=Role.STAFF, staff=org.staff, region=org.county)
    Appeal.objects.create(case=case, evaluation=case.evaluation, appellant=staff_user, party="staff",
                          explanation="评价人误解", submitted_at=timezone.now(),
                          review_due=timezone.localdate() + timedelta(days=7))
    page = as_user(people["handler"]).get(f"/work/cases/{case.pk}/").content.decode()
    assert "申诉审核期间，案件办理期限照常计算" in page and "已提交" in page
    assert "申诉已提交" in as_user(people["handler"]).get("/work/").content.decode()


@pytest.mark.parametrize(("state", "marker"), [("submitted", "申诉已提交"), ("under_review", "申诉审核中"),
                                               ("upheld", "申诉成立"), ("rejected", "申诉不成立")])
def test_the_queue_marks_a_cases_appeal_once_in_every_state(as_user, people, case, org, state, marker):
    from haochaping.rectification.models import Appeal

    staff_user = User.objects.create(username="S9", role=Role.STAFF, staff=org.staff, region=org.county)
    Appeal.objects.create(case=case, evaluation=case.evaluation, appellant=staff_user, party="staff", state=state,
                          explanation="评价人误解", submitted_at=timezone.now(),
                          review_due=timezone.localdate() + timedelta(days=7))
    page = as_user(people["handler"]).get("/work/").content.decode()
    assert f'<span class="marker marker-appeal">{marker}</span>' in page
    assert "申诉申诉" not in page


def test_a_complaint_case_speaks_of_the_complainant_not_an_evaluator(as_user, people, org):
    """A 投诉 has a 投诉人, not a 评价人: the callback and answer steps, their messages and the timeline say so, while a
    差评's case keeps saying 评价人 (the tests above)."""
    from haochaping.rectification import services

    case = services.open_complaint(summary="窗口人员态度差", actor=people["supervisor"], department=org.department)
    RectificationCase.objects.filter(pk=case.pk).update(opened_at=case.opened_at - timedelta(hours=1))
    client = as_user(people["handler"])
    page = client.get(f"/work/cases/{case.pk}/").content.decode()
    assert "是否联系上投诉人" in page and "不要填写投诉人的手机号等个人信息" in page and "评价人" not in page
    # About a department, not a 办件: nowhere to transfer it, so the handler is told whom to ask.
    assert 'id="no-transfer"' in page and "请联系政务服务管理机构的监督人员改派" in page

    refused = client.post(step_url(case, "callback"), callback_data(**{"callback-reached": ""}))
    assert refused.status_code == 422 and "请说明是否联系上投诉人" in refused.content.decode()
    assert client.post(step_url(case, "callback"), callback_data(**{"callback-contact": "投诉人本人"})).status_code == 302
    assert client.post(step_url(case, "outcome"), {
        "outcome-outcome": "explained", "outcome-detail": "已向投诉人说明窗口当日人员安排",
        "outcome-legal_basis": "《政务服务中心运行规范》"}).status_code == 302
    page = client.get(f"/work/cases/{case.pk}/").content.decode()
    assert "答复投诉人" in page and "评价人" not in page

    answered = client.post(step_url(case, "answer"), {"answer-answer": "已批评教育当事人员"}, follow=True)
    page = answered.content.decode()
    assert "已答复投诉人" in page  # the success message
    assert "电话；已联系上投诉人" in page  # the callback's line in the timeline
    assert "<dt>答复投诉人</dt>" in page and "评价人" not in page
