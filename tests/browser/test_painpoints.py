"""差评痛点 in a real browser: a supervisor opens the pain points of their region, reads a topic's example
comments (and no evaluator's name or phone), turns the topic into a 集中问题 for the responsible department,
and finds it in the list of open 集中问题 with its deadline. The page passes WCAG 2.1 AA checks."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from haochaping.accounts.models import User
from haochaping.accounts.roles import Role
from haochaping.insight.painpoints import services
from haochaping.rectification.models import RectificationCase
from tests import factories
from tests.browser.test_public_pages import axe_violations
from tests.browser.test_receipt import login_cookie as sign_in
from tests.insight.painpoints_fixtures import THEMES, bad_review, ensure_labels

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fresh(db):
    ensure_labels()
    cache.clear()
    yield
    cache.clear()



def test_a_supervisor_turns_a_pain_point_into_a_focus_issue(page, live_server):
    org = factories.make_org()
    item = factories.make_item(org, name="不动产登记")
    for theme, comments in THEMES.items():
        for comment in comments * 2:
            bad_review(org, item, comment=comment, labels=["109"] if theme == "queue" else [], name="欧阳娜娜",
                       phone="13911112222")
    services.assign_pending()  # the worker's periodic task classifies them
    supervisor = User.objects.create(username="sup-370102", role=Role.SUPERVISOR, region=org.county)

    sign_in(page, live_server, supervisor)
    page.goto("/insight/painpoints/")
    assert page.get_by_role("heading", level=1).inner_text() == "差评痛点分析"
    main = page.locator("main").inner_text()
    assert "欧阳娜娜" not in main and "13911112222" not in main
    assert axe_violations(page) == []

    topic = page.locator("article.pp-topic", has_text="排队等候时间长").first
    heading = topic.get_by_role("heading", level=3).inner_text()
    examples = topic.locator("ul.pp-examples").inner_text()
    assert any(c in examples for c in THEMES["queue"])
    topic.locator("summary", has_text="列为集中问题").click()
    summary = topic.get_by_label("问题概述")
    assert summary.input_value().startswith("差评集中反映")
    summary.fill("窗口排队时间过长，请增开窗口并推行预约办理。")
    topic.get_by_label("责任部门").select_option(label=org.department.name)
    topic.get_by_role("button", name="列为集中问题").click()
    page.wait_for_url("**/insight/painpoints/**")

    case = RectificationCase.objects.get(kind="focus_issue")
    assert case.department_id == org.department.pk and case.summary.startswith("窗口排队时间过长")
    assert "已列为集中问题" in page.locator("ul.messages").inner_text()
    listed = page.locator("#focus-issues table").inner_text()
    assert f"{case.pk:06d}" in listed and "窗口排队时间过长" in listed and org.department.name in listed
    assert case.rectify_due.isoformat() in listed
    assert heading  # the topic is still shown after the redirect
    assert page.locator("article.pp-topic").count() >= 2
