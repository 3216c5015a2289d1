"""监督查评 answering in a real browser on a 320 px phone: the open link checks the phone by SMS code, the
questions fit the screen, a missing answer is named next to its question, the answer is stored, and the same
phone is refused clearly afterwards. Every step passes the WCAG 2.1 A/AA scan (axe-core)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from haochaping.accounts.models import Role, User
from haochaping.evaluation import sms
from haochaping.supervision.surveys.models import SurveyAnswer, SurveyResponse
from tests import factories
from tests.browser.test_public_pages import axe_violations
from tests.supervision.test_survey_services import build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"the page is {width}px wide on a 320px screen"
    assert axe_violations(page) == []


def test_answering_a_survey_on_a_320px_phone(page, live_server, settings, tmp_path):
    cache.clear()  # the SMS code limits count in the cache
    settings.HAOCHAPING_SMS_BACKEND = "haochaping.evaluation.sms.FileSender"
    settings.HAOCHAPING_SMS_FILE = str(tmp_path / "sms.jsonl")
    org = factories.make_org()
    supervisor = User.objects.create(username="sup-370102", role=Role.SUPERVISOR, region=org.county)
    survey = build(supervisor, org)
    page.set_viewport_size({"width": 320, "height": 640})

    page.goto(f"/s/{survey.link_key}/?c=qr")
    assert page.get_by_role("heading", level=1).inner_text() == survey.title
    fits(page)
    page.get_by_label("手机号（用于核验每人只答一次）").fill("13900000001")
    with page.expect_navigation():
        page.get_by_role("button", name="获取验证码").click()
    code = sms.read_file_messages(tmp_path / "sms.jsonl")[-1]["text"].split("验证码为")[1][:6]
    page.get_by_label("短信验证码").fill(code)
    with page.expect_navigation():
        page.get_by_role("button", name="验证并开始作答").click()
    fits(page)

    # Only the scale answered: question 1 is required.
    page.get_by_role("group", name="2. 您对办事服务的满意程度（必答）").get_by_label("4分").check()
    with page.expect_navigation():
        page.get_by_role("button", name="提交问卷").click()
    assert "第1题为必答题，请作答" in page.get_by_role("group", name="1. 您是否了解新政策？（必答）").inner_text()
    assert page.get_by_role("group", name="2. 您对办事服务的满意程度（必答）").get_by_label("4分").is_checked()
    assert not SurveyResponse.objects.exists()
    fits(page)

    page.get_by_label("听说过").check()
    page.get_by_label("预约").check()
    page.get_by_label("取件").check()
    page.get_by_label("您的回答").fill("希望增加周末窗口")
    page.screenshot(path=str(tmp_path / "survey.png"), full_page=True)
    with page.expect_navigation():
        page.get_by_role("button", name="提交问卷").click()
    assert "问卷已提交，感谢您的参与" in page.locator("main").inner_text()
    fits(page)
    response = SurveyResponse.objects.get()
    assert response.channel == "qr"
    assert sorted((a.question.position, a.choices, a.scale, a.text) for a in SurveyAnswer.objects.all()) == [
        (1, [1], None, ""), (2, [], 4, ""), (3, [0, 2], None, ""), (4, [], None, "希望增加周末窗口")]

    # The same phone once more: refused before any question, in plain words.
    page.context.clear_cookies()
    page.goto(f"/s/{survey.link_key}/")
    page.get_by_label("手机号（用于核验每人只答一次）").fill("13900000001")
    with page.expect_navigation():
        page.get_by_role("button", name="获取验证码").click()
    assert "这个手机号已经提交过这份问卷，每人只能作答一次" in page.get_by_role("alert").inner_text()
    fits(page)
    assert SurveyResponse.objects.count() == 1
