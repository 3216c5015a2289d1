"""A real-name evaluator's phone, 320 px wide: the SMS says the 差评 was answered, the link opens the answer without
the receipt code, and tapping 满意 closes the case. WCAG 2.1 AA on each page."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core.cache import cache
from django.utils import timezone

from haochaping.accounts.roles import Role
from haochaping.evaluation import services as evaluation_services
from haochaping.evaluation import sms
from haochaping.rectification.models import RectificationCase, ReplyLink
from tests import factories
from tests.accounts.login_support import make_user
from tests.browser.test_public_pages import axe_violations
from tests.browser.test_receipt import seed_labels
from tests.rectification.casesteps import to_answered

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANSWER = "经核实，窗口已按办事指南受理，多收的复印件已退还，感谢您的监督。"


@pytest.fixture(autouse=True)
def _fresh(db, settings, tmp_path, live_server):
    settings.HAOCHAPING_SMS_BACKEND = "haochaping.evaluation.sms.FileSender"
    settings.HAOCHAPING_SMS_FILE = str(tmp_path / "sms.jsonl")
    settings.HAOCHAPING_PUBLIC_URL = live_server.url
    seed_labels()
    cache.clear()


def answered_case() -> RectificationCase:
    org = factories.make_org()
    record = factories.make_record(org, factories.make_item(org))
    data = evaluation_services.EvaluationInput(
        idempotency_key=uuid.uuid4().hex, project_no=record.project_no, stage="complete", channel="kiosk", level=1,
        labels=["108"], comment="要求提供指南外的材料", evaluator_name="王大爷", evaluator_phone="13800001111")
    case = RectificationCase.objects.get(pk=evaluation_services.submit_evaluation(data, source="test").case_id)
    handler = make_user("handler-1", Role.HANDLER, org)  # the handler of the window's department
    to_answered(case.pk, handler, text=ANSWER)  # commits: the SMS goes out after it
    return case


def test_the_sms_link_opens_the_answer_and_satisfied_closes_the_case(page, live_server):
    case = answered_case()
    [message] = sms.read_file_messages()
    link = re.search(rf"{re.escape(live_server.url)}/a/[A-Za-z0-9_-]+/", message["text"]).group(0)

    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(link)
    assert page.url == f"{live_server.url}/r/view/"  # the token leaves the address bar at once
    assert ANSWER in page.locator("main").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert axe_violations(page) == []
    assert ReplyLink.objects.get(case=case).opened_at is not None
    # The answer is several screens down on a phone: the first thing under the heading leads to it.
    page.get_by_role("link", name="您反映的差评已有办理答复，点此查看并告诉我们您是否满意").click()
    assert page.url.endswith("#answer-h")
    assert page.evaluate("document.getElementById('answer-h').getBoundingClientRect().top") < 640

    page.get_by_label("满意", exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="提交").click()
    assert "感谢您的确认，案件已办结" in page.locator("main").inner_text()
    assert axe_violations(page) == []
    case.refresh_from_db()
    assert (case.state, case.satisfaction) == ("closed", "satisfied")


def test_an_expired_link_says_so_and_points_to_the_receipt_code(page, live_server):
    answered_case()
    [message] = sms.read_file_messages()
    link = re.search(rf"{re.escape(live_server.url)}/a/[A-Za-z0-9_-]+/", message["text"]).group(0)
    ReplyLink.objects.update(expires_at=timezone.now())
    page.set_viewport_size({"width": 320, "height": 640})
    response = page.goto(link)
    assert response.status == 410
    assert page.get_by_role("heading", level=1).inner_text() == "链接已过期"
    assert ANSWER not in page.locator("main").inner_text()
    assert axe_violations(page) == []
    with page.expect_navigation():
        page.get_by_role("link", name="凭评价回执码查看").click()
    assert page.get_by_label("评价回执码").is_visible()
