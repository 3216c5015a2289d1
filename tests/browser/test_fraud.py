"""弄虚作假线索 in a real browser: a supervisor opens the queue from the workbench, reads a burst finding's evidence,
is told in Chinese what a decision needs, confirms it, and its evaluations no longer count. WCAG 2.1 AA checks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from haochaping.accounts.models import User
from haochaping.accounts.roles import Role
from haochaping.evaluation.models import EvaluationExclusion
from haochaping.supervision.fraud import services
from haochaping.supervision.fraud.models import FindingStatus, FraudFinding
from tests import factories
from tests.browser.test_public_pages import axe_violations
from tests.browser.test_receipt import login_cookie as sign_in
from tests.supervision.conftest import submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_supervisor_confirms_a_burst_and_its_evaluations_stop_counting(page, live_server):
    org = factories.make_org()
    item = factories.make_item(org, name="不动产登记")
    start = timezone.now() - timedelta(minutes=9)
    for i in range(6):
        submit(factories.make_record(org, item), now=start + timedelta(minutes=1.5 * i), channel="qr")
    services.detect(now=timezone.now() + timedelta(minutes=1))
    finding = FraudFinding.objects.get()
    supervisor = User.objects.create(username="sup-370102", role=Role.SUPERVISOR, region=org.county)

    sign_in(page, live_server, supervisor)
    page.goto("/work/supervision/")
    with page.expect_navigation():
        page.get_by_role("link", name="弄虚作假线索", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "弄虚作假线索"
    assert axe_violations(page) == []
    with page.expect_navigation():
        page.get_by_role("link", name=f"{finding.pk:06d}").click()
    assert "短时集中好评" in page.get_by_role("heading", level=1).inner_text()
    assert "共6条" in page.locator("table caption").inner_text()
    assert axe_violations(page) == []

    page.get_by_label("确认弄虚作假（涉及评价不计入统计，单位列入问责名单）").check()
    page.get_by_role("button", name="提交核查结论").click()
    assert "请填写核查意见" in page.locator("form[novalidate]").inner_text()
    assert FraudFinding.objects.get().status == FindingStatus.OPEN

    page.get_by_label("确认弄虚作假（涉及评价不计入统计，单位列入问责名单）").check()
    page.get_by_label("核查意见").fill("调取窗口监控，系工作人员代评")
    with page.expect_navigation():
        page.get_by_role("button", name="提交核查结论").click()
    assert "核查结论已保存" in page.locator("ul.messages").inner_text()
    assert page.locator("table tbody tr", has_text="不计入（弄虚作假）").count() == 6
    assert EvaluationExclusion.objects.filter(reason="fraud").count() == 6
