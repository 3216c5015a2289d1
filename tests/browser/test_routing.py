"""谁办理、谁负责 in a real browser: the unit a misrouted case reached transfers it on the case page and the right
unit finds it in its queue with the transfer in the timeline and the deadlines unchanged; the handler assigned to
a real-name case reveals the evaluator's phone from the case page with a reason, and the access is logged; each
role lands on its own page after signing in (WCAG 2.1 AA on the new pages)."""

from __future__ import annotations

import uuid

import pyotp
import pytest
from axes.utils import reset as reset_axes
from django.core.cache import cache
from playwright.sync_api import expect

from haochaping.accounts.models import PersonalDataAccess
from haochaping.accounts.roles import Role
from haochaping.evaluation import services as evaluation_services
from haochaping.rectification import services
from haochaping.rectification.models import RectificationCase
from tests import factories
from tests.accounts.login_support import PASSWORD, enrol, make_user
from tests.browser.test_public_pages import axe_violations
from tests.browser.test_receipt import login_cookie, seed_labels

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = "13800001111"


@pytest.fixture(autouse=True)
def _fresh(db):
    seed_labels()
    reset_axes()
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(db):
    """A 办件 of the market department accepted at a 综合受理 window of the approval bureau, and its handlers."""
    org = factories.make_org()
    item = factories.make_item(org)
    approval = factories.department(org.county, "历下区行政审批服务局")
    org.window.department = approval
    org.window.save()
    record = factories.make_record(org, item)
    data = evaluation_services.EvaluationInput(
        idempotency_key=uuid.uuid4().hex, project_no=record.project_no, stage="complete", channel="kiosk", level=1,
        comment="工作人员态度生硬，问两句就不耐烦", evaluator_phone=PHONE)
    case = RectificationCase.objects.get(pk=evaluation_services.submit_evaluation(data, source="test").case_id)
    return {
        "org": org, "case": case, "approval": approval,
        "approval_handler": make_user("h-approval", Role.HANDLER, org, department=approval, first_name="审批"),
        "market_handler": make_user("h-market", Role.HANDLER, org),
    }


def step(page, heading: str):
    return page.locator("section.step-form", has=page.get_by_role("heading", name=heading, exact=True))


def test_the_receiving_unit_transfers_a_misrouted_case_and_the_right_unit_takes_it(page, live_server, world):
    case = world["case"]
    assert case.department_id == world["approval"].pk  # attitude at the window: the window's department
    due = (case.callback_due, case.fix_now_due, case.rectify_due)
    login_cookie(page, live_server, world["approval_handler"])
    page.goto(f"/work/cases/{case.pk}/")
    form = step(page, "转办")
    expect(form).to_contain_text("办理期限和已做的回访核实不变")
    form.get_by_label("转至单位").select_option(label=world["org"].department.name)
    form.get_by_label("转办理由").fill("回访核实，评价人反映的是审批材料问题，属办理部门")
    form.get_by_role("button", name="转办").click()
    page.wait_for_url("**/work/")
    expect(page.get_by_role("status")).to_contain_text("已转办，办理期限不变")
    page.context.clear_cookies()

    login_cookie(page, live_server, world["market_handler"])
    page.goto("/work/")
    link = page.locator(f'a[href="/work/cases/{case.pk}/"]').first  # in the unit's queue now
    expect(link).to_be_visible()
    link.click()
    page.wait_for_url(f"**/work/cases/{case.pk}/")
    expect(page.locator("#record-h + dl")).to_contain_text(world["org"].department.name)
    timeline = page.locator("table.timeline")
    expect(timeline).to_contain_text("转办")
    expect(timeline).to_contain_text("回访核实，评价人反映的是审批材料问题")
    case.refresh_from_db()
    assert (case.callback_due, case.fix_now_due, case.rectify_due) == due and case.state == "open"
    assert axe_violations(page) == []


def test_the_assigned_handler_reveals_the_phone_from_the_case_page(page, live_server, world):
    case, handler = world["case"], world["approval_handler"]
    services.assign(case.pk, handler, actor=handler)
    login_cookie(page, live_server, handler)
    page.goto(f"/work/cases/{case.pk}/")
    box = page.locator("#contact")
    expect(page.locator("#evaluation-h + dl")).to_contain_text("138****1111")
    assert PHONE not in page.content()
    assert axe_violations(page) == []
    box.get_by_label("要查看的信息").select_option(label="评价人手机号")
    box.get_by_label("查看理由").fill("回访")  # too short
    box.get_by_role("button", name="查看联系方式").click()
    expect(box).to_contain_text("至少")
    assert PHONE not in page.content() and not PersonalDataAccess.objects.exists()
    box.get_by_label("要查看的信息").select_option(label="评价人手机号")
    box.get_by_label("查看理由").fill("差评回访，电话联系评价人核实情况")
    box.get_by_role("button", name="查看联系方式").click()
    expect(page.locator(".revealed-value")).to_have_text(PHONE)
    row = PersonalDataAccess.objects.get()
    assert (row.user_id, row.field, row.reason) == (handler.pk, "evaluator_phone", "差评回访，电话联系评价人核实情况")
    assert axe_violations(page) == []


def _sign_in(page, username: str, secret: str | None) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    if secret:
        page.wait_for_url("**/accounts/login/otp/")
        page.get_by_label("动态口令").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="验证").click()


@pytest.mark.parametrize(("role", "lands", "heading"), [
    (Role.HANDLER, "/work/", "整改工作台"),
    (Role.SUPERVISOR, "/work/supervision/", None),
    (Role.STAFF, "/insight/mine/", "我的评价结果"),
    (Role.HOTLINE, "/hotline/", None),
    (Role.ASSESSOR, "/work/assessments/", None),
])
def test_each_role_lands_on_its_own_page(page, live_server, world, role, lands, heading):
    user = make_user(f"landing-{role}", role, world["org"])
    secret = enrol(user) if role in (Role.HANDLER, Role.SUPERVISOR) else None
    _sign_in(page, user.username, secret)
    page.wait_for_url(f"**{lands}")
    if heading:
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    if lands != "/admin/":
        assert axe_violations(page) == []


def test_a_clerk_reaches_paper_forms_from_the_workbench(page, live_server, world):
    clerk = make_user("clerk", Role.STAFF, world["org"])
    _sign_in(page, clerk.username, None)
    page.wait_for_url("**/insight/mine/")
    page.get_by_role("link", name="书面评价表").click()
    page.wait_for_url("**/paper/")
    expect(page.get_by_role("link", name="录入已填写的书面评价表")).to_be_visible()
    expect(page.get_by_role("link", name=world["org"].agency.name)).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("link", name="录入已填写的书面评价表").click()
    page.wait_for_url("**/paper/enter/")
