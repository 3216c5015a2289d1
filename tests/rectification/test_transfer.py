"""谁办理、谁负责 end to end: a bad review opens its case at the unit the rule names, the receiving unit transfers a
misrouted case (recorded, nothing reset), the unit holding a case sees its evaluation (admin and API), and the
assigned handler of a real-name case reveals the evaluator's phone from the case page, access-logged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from haochaping.accounts.models import PersonalDataAccess, Role, User
from haochaping.core.models import AuditEntry
from haochaping.rectification import services
from haochaping.rectification.models import CaseTransition, RectificationCase
from tests import factories

from .conftest import submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def units(org):
    """A 办件 of the market department, accepted at a 综合受理 window stationed by the approval bureau, and an
    online platform run by the big-data bureau; a handler for each."""
    approval = factories.department(org.county, "历下区行政审批服务局")
    bigdata = factories.department(org.province, "山东省大数据局")
    window = org.window
    window.department = approval
    window.save()
    platform = org.platform
    platform.operator = bigdata
    platform.save()

    def handler(name, dept):
        return User.objects.create(username=name, role=Role.HANDLER, is_staff=True, region=dept.region, department=dept)

    return {
        "approval": approval, "bigdata": bigdata, "window": window, "platform": platform,
        "market_handler": handler("h-market", org.department), "approval_handler": handler("h-approval", approval),
        "bigdata_handler": handler("h-bigdata", bigdata),
        "supervisor": User.objects.create(username="sup-370102", role=Role.SUPERVISOR, is_staff=True, region=org.county),
    }


def online_record(org, item, units):
    return factories.make_record(org, item, agency=None, window=None, staff=None, platform=units["platform"])


def open_case(record, **kw):
    return RectificationCase.objects.get(pk=submit(record, **kw).case_id)


def test_a_platform_fault_online_opens_at_the_operator_and_a_materials_complaint_at_the_department(org, item, units):
    fault = open_case(online_record(org, item, units), comment="网上申报页面打不开，登录一直报错")
    materials = open_case(online_record(org, item, units), labels=["109"], comment="")
    assert fault.department_id == units["bigdata"].pk and fault.platform_id == units["platform"].pk
    assert materials.department_id == org.department.pk and materials.platform_id == units["platform"].pk


def test_at_a_window_of_another_department_attitude_goes_to_it_and_materials_to_the_record_department(org, item, units):
    attitude = open_case(factories.make_record(org, item), comment="工作人员态度生硬，问两句就不耐烦。")
    materials = open_case(factories.make_record(org, item), comment="要求补交的材料办事指南上没写")
    assert (attitude.department_id, attitude.agency_id) == (units["approval"].pk, org.agency.pk)
    assert (materials.department_id, materials.agency_id) == (org.department.pk, org.agency.pk)


def test_the_receiving_unit_transfers_a_misrouted_case_keeping_deadlines_and_state(org, item, units):
    case = open_case(online_record(org, item, units), comment="App里的办理进度一直不更新")
    assert case.department_id == units["bigdata"].pk
    services.assign(case.pk, units["bigdata_handler"], actor=units["bigdata_handler"])
    before = RectificationCase.objects.values("state", "callback_due", "fix_now_due", "rectify_due", "opened_at",
                                              "appeal_due").get(pk=case.pk)
    services.transfer(case.pk, org.department.pk, reason="经核查平台运行正常，系审批环节未及时办理", actor=units["bigdata_handler"])
    case.refresh_from_db()
    assert case.department_id == org.department.pk and case.platform_id == units["platform"].pk
    assert case.assignee_id is None  # the old unit's handler no longer holds it
    after = RectificationCase.objects.values(*before).get(pk=case.pk)
    assert after == before
    row = CaseTransition.objects.filter(case=case).last()
    assert (row.action, row.from_state, row.to_state, row.actor_id) == ("transfer", "open", "open", units["bigdata_handler"].pk)
    assert "山东省大数据局" in row.note and org.department.name in row.note and "审批环节" in row.note
    audit = AuditEntry.objects.get(action="case.transfer", object_id=str(case.pk))
    assert audit.data["from_department"] == units["bigdata"].pk and audit.data["to_department"] == org.department.pk
    # The new unit has it (and its evaluation); the old one no longer sees it.
    assert services.transfer_choices(case) == [units["bigdata"]]
    with pytest.raises(Exception) as refused:
        services.record_callback(case.pk, services.CallbackInput(
            at=timezone.now(), method="phone", reached=True, contact="本人", facts="核实"), actor=units["bigdata_handler"])
    assert getattr(refused.value, "status", None) == 404


def test_a_transfer_after_the_callback_keeps_the_callback(org, item, units):
    case = open_case(factories.make_record(org, item), comment="工作人员态度生硬")
    RectificationCase.objects.filter(pk=case.pk).update(opened_at=case.opened_at - timedelta(hours=1))
    services.record_callback(case.pk, services.CallbackInput(
        at=timezone.now() - timedelta(minutes=5), method="phone", reached=True, contact="评价人本人",
        facts="评价人反映的是材料清单问题"), actor=units["approval_handler"])
    services.transfer(case.pk, org.department.pk, reason="回访核实系材料清单问题", actor=units["approval_handler"])
    case.refresh_from_db()
    assert (case.state, case.department_id, case.callback_facts) == ("called_back", org.department.pk, "评价人反映的是材料清单问题")


@pytest.mark.parametrize(("target", "reason", "status", "field"), [
    ("bigdata", "理由充分的转办", 422, "department"),  # the 办件 names no platform
    ("market", "", 422, "reason"),
    ("approval", "理由充分的转办", 422, "department"),  # already there
    ("nobody", "理由充分的转办", 422, "department"),
])
def test_a_transfer_is_refused_with_the_field_named_and_nothing_written(org, item, units, target, reason, status, field):
    case = open_case(factories.make_record(org, item), comment="工作人员态度生硬")
    target_id = {"bigdata": units["bigdata"].pk, "market": org.department.pk, "approval": units["approval"].pk,
                 "nobody": None}[target]
    with pytest.raises(Exception) as refused:
        services.transfer(case.pk, target_id, reason=reason, actor=units["approval_handler"])
    assert (refused.value.status, refused.value.field) == (status, field)
    assert not CaseTransition.objects.filter(case=case, action="transfer").exists()
    assert RectificationCase.objects.get(pk=case.pk).department_id == units["approval"].pk


def test_no_transfer_after_an_outcome_is_a_conflict(org, item, units):
    case = open_case(factories.make_record(org, item), comment="工作人员态度生硬")
    RectificationCase.objects.filter(pk=case.pk).update(state="rectifying")
    with pytest.raises(Exception) as refused:
        services.transfer(case.pk, org.department.pk, reason="转错了", actor=units["approval_handler"])
    assert refused.value.status == 409
    assert services.transfer_choices(RectificationCase.objects.get(pk=case.pk)) == []


def test_a_unit_that_does_not_hold_the_case_cannot_transfer_it(org, item, units):
    case = open_case(factories.make_record(org, item), comment="工作人员态度生硬")
    with pytest.raises(Exception) as refused:
        services.transfer(case.pk, org.department.pk, reason="不是我们的", actor=units["bigdata_handler"])
    assert refused.value.status == 404


def test_a_supervisor_transfers_a_case_in_their_region(org, item, units):
    case = open_case(factories.make_record(org, item), comment="工作人员态度生硬")
    services.transfer(case.pk, org.department.pk, reason="监督发现转办单位有误", actor=units["supervisor"])
    assert RectificationCase.objects.get(pk=case.pk).department_id == org.department.pk


# --- the evaluation of a case, for the unit that holds the case ---------------------------------------------------


def test_the_window_department_sees_the_evaluation_of_its_case_and_no_other(org, item, units, client):
    case = open_case(factories.make_record(org, item), comment="工作人员态度生硬", evaluator_phone="13800001111")
    other = submit(factories.make_record(org, item), level=5, comment="").evaluation  # no case: not theirs
    client.force_login(units["approval_handler"])
    assert client.get(f"/api/v1/evaluations/{case.evaluation_id}").status_code == 200
    assert client.get(f"/api/v1/evaluations/{other.pk}").status_code == 404
    listed = client.get("/api/v1/evaluations").json()
    assert [row["id"] for row in listed["items"]] == [case.evaluation_id]
    assert client.get(f"/admin/evaluation/evaluation/{case.evaluation_id}/change/").status_code == 200
    assert client.get(f"/admin/evaluation/evaluation/{other.pk}/change/").status_code == 302  # "不存在" → list


def test_after_a_transfer_the_new_unit_sees_the_evaluation_and_the_old_one_does_not(org, item, units, client):
    case = open_case(online_record(org, item, units), comment="登录不上")
    client.force_login(units["bigdata_handler"])
    assert client.get(f"/api/v1/evaluations/{case.evaluation_id}").status_code == 200
    services.transfer(case.pk, org.department.pk, reason="系审批问题，转审批部门", actor=units["bigdata_handler"])
    assert client.get(f"/api/v1/evaluations/{case.evaluation_id}").status_code == 404
    client.force_login(units["market_handler"])
    assert client.get(f"/api/v1/evaluations/{case.evaluation_id}").status_code == 200


# --- 查看联系方式 -----------------------------------------------------------------------------------------------


def test_the_assignee_reveals_the_phone_from_the_case_page_with_a_reason_logged(org, item, units, client):
    case = open_case(factories.make_record(org, item), comment="工作人员态度生硬", evaluator_phone="13800001111")
    handler = units["approval_handler"]
    services.assign(case.pk, handler, actor=handler)
    client.force_login(handler)
    page = client.get(f"/work/cases/{case.pk}/").content.decode()
    assert "查看联系方式" in page and "13800001111" not in page and "138****1111" in page
    # Where the case can be transferred, the form is there and no "ask the supervisor" hint.
    assert 'id="step-transfer"' in page and 'id="no-transfer"' not in page
    short = client.post(f"/work/cases/{case.pk}/contact/", {"contact-field": "evaluator_phone", "contact-reason": "回访"})
    assert short.status_code == 422 and "13800001111" not in short.content.decode()
    assert not PersonalDataAccess.objects.exists()
    shown = client.post(f"/work/cases/{case.pk}/contact/",
                        {"contact-field": "evaluator_phone", "contact-reason": "差评回访，电话联系评价人核实情况"})
    assert shown.status_code == 200 and "13800001111" in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    row = PersonalDataAccess.objects.get()
    assert (row.user_id, row.subject_type, row.subject_id, row.field, row.reason) == (
        handler.pk, "evaluation.evaluation", str(case.evaluation_id), "evaluator_phone", "差评回访，电话联系评价人核实情况")


def test_only_the_assignee_of_a_real_name_case_gets_the_action(org, item, units, client):
    case = open_case(factories.make_record(org, item), comment="工作人员态度生硬", evaluator_phone="13800001111")
    services.assign(case.pk, units["approval_handler"], actor=units["approval_handler"])
    colleague = User.objects.create(username="h-approval-2", role=Role.HANDLER, is_staff=True, region=org.county,
                                    department=units["approval"])
    client.force_login(colleague)
    assert "查看联系方式" not in client.get(f"/work/cases/{case.pk}/").content.decode()
    refused = client.post(f"/work/cases/{case.pk}/contact/",
                          {"contact-field": "evaluator_phone", "contact-reason": "差评回访，电话联系评价人"})
    assert refused.status_code == 403 and "13800001111" not in refused.content.decode()
    anonymous = open_case(factories.make_record(org, item), comment="工作人员态度生硬")
    services.assign(anonymous.pk, colleague, actor=colleague)
    assert "查看联系方式" not in client.get(f"/work/cases/{anonymous.pk}/").content.decode()
    assert not PersonalDataAccess.objects.exists()


def test_the_transfer_form_on_the_case_page(org, item, units, client):
    case = open_case(factories.make_record(org, item), comment="工作人员态度生硬")
    client.force_login(units["approval_handler"])
    page = client.get(f"/work/cases/{case.pk}/").content.decode()
    assert "转办" in page and org.department.name in page
    bad = client.post(f"/work/cases/{case.pk}/steps/transfer/", {"transfer-department": org.department.pk, "transfer-reason": ""})
    assert bad.status_code == 422 and "请填写转办理由" in bad.content.decode()
    done = client.post(f"/work/cases/{case.pk}/steps/transfer/",
                       {"transfer-department": org.department.pk, "transfer-reason": "回访核实系材料问题"})
    assert done.status_code == 302 and done["Location"] == "/work/"  # no longer theirs: back to the queue
    assert RectificationCase.objects.get(pk=case.pk).department_id == org.department.pk
    # Transferred away: the approval bureau no longer sees the case.
    assert client.get(f"/work/cases/{case.pk}/").status_code == 404


def test_the_api_transfers_by_credit_code_with_problem_details(org, item, units, client):
    case = open_case(factories.make_record(org, item), comment="工作人员态度生硬")
    client.force_login(units["approval_handler"])
    url = f"/api/v1/cases/{case.pk}/transfer"
    bad = client.post(url, {"department": units["bigdata"].credit_code, "reason": "转错了单位"}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["field"] == "department"
    missing = client.post(url, {"department": org.department.credit_code, "reason": " "}, content_type="application/json")
    assert missing.status_code == 422 and missing.json()["field"] == "reason"
    done = client.post(url, {"department": org.department.credit_code, "reason": "回访核实系材料问题"},
                       content_type="application/json")
    assert done.status_code == 200, done.content
    assert RectificationCase.objects.get(pk=case.pk).department_id == org.department.pk
    # Now the approval bureau's no more: the same 404 as any case it does not hold.
    again = client.post(url, {"department": units["approval"].credit_code, "reason": "再转回来"}, content_type="application/json")
    assert again.status_code == 404


def test_figures_and_dashboard_lists_do_not_widen(org, item, units):
    # The window's department holds the case and sees its evaluation, but counts only its own evaluations.
    from haochaping.core.scoping import scope
    from haochaping.evaluation.models import Evaluation
    from haochaping.insight import metrics

    case = open_case(factories.make_record(org, item), comment="工作人员态度生硬")
    handler = units["approval_handler"]
    assert list(scope(Evaluation.objects.all(), handler).values_list("pk", flat=True)) == [case.evaluation_id]
    assert not scope(Evaluation.objects.all(), handler, widened=False).exists()
    assert not metrics.evaluations(handler, metrics.StatsFilter()).exists()
