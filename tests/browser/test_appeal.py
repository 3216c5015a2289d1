"""An appeal end to end in a real browser: the rated staff member appeals a bad review with an evidence file, a
supervisor of the region downloads the evidence and upholds the appeal, and the review leaves the unit's
statistics: the 差评数 on the appeal page and the unit's dashboard figures (insight.metrics)."""

from __future__ import annotations

import uuid

import pytest

from haochaping.accounts.models import User
from haochaping.accounts.roles import Role
from haochaping.evaluation import services as evaluation_services
from haochaping.evaluation.models import Evaluation, EvaluationExclusion, Label
from haochaping.rectification.models import Appeal, RectificationCase
from tests import factories
from tests.browser.test_public_pages import axe_violations
from tests.browser.test_receipt import login_cookie as sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"



def bad_review(org, item):
    # Live-server tests flush every table, the seeded label dictionary too.
    Label.objects.get_or_create(code="109", defaults={"text": "需提供办事指南之外的申报材料", "level": 1})
    record = factories.make_record(org, item)
    data = evaluation_services.EvaluationInput(
        idempotency_key=uuid.uuid4().hex, project_no=record.project_no, stage="complete", channel="kiosk", level=1,
        labels=["109"], comment="窗口要求提供指南外的材料", evaluator_phone="13800001111",
    )
    result = evaluation_services.submit_evaluation(data, source="test")
    return RectificationCase.objects.get(pk=result.case_id)


def test_a_staff_member_appeals_and_a_supervisor_upholds_it(page, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    org = factories.make_org()
    item = factories.make_item(org)
    case = bad_review(org, item)
    staff = User.objects.create(username="S-rated", role=Role.STAFF, region=org.county, staff=org.staff)
    supervisor = User.objects.create(username="sup-370102", role=Role.SUPERVISOR, region=org.county)

    # The rated staff member finds the review among those they may appeal, with its deadline.
    sign_in(page, live_server, staff)
    page.goto("/work/appeals/mine/")
    assert page.get_by_role("heading", level=1).inner_text() == "差评申诉"
    assert case.appeal_due.isoformat() in page.locator("table.appeals").first.inner_text()
    with page.expect_navigation():
        page.locator(f'a[href="/work/appeals/new/{case.pk}/"]').click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("提出申诉")
    assert axe_violations(page) == []

    # An empty explanation is refused next to the field, in Chinese.
    with page.expect_navigation():
        page.get_by_role("button", name="提交申诉").click()
    assert page.locator("#explanation-error").inner_text() == "请写明申诉理由"
    assert axe_violations(page) == []

    page.get_by_label("申诉理由").fill("当日监控显示评价人未到本窗口办理该事项")
    page.get_by_label("申诉证据").set_input_files([{"name": "监控截图.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    with page.expect_navigation():
        page.get_by_role("button", name="提交申诉").click()
    assert "申诉已提交" in page.get_by_role("status").inner_text()
    assert "申诉审核期间，案件办理期限照常计算" in page.locator("main").inner_text()
    appeal = Appeal.objects.get()
    assert appeal.attachments.count() == 1

    # The supervisor of the region reviews it from the queue.
    sign_in(page, live_server, supervisor)
    # Before the decision the unit's dashboard counts the bad review.
    page.goto(f"/insight/?department={org.department.credit_code}")
    assert (page.locator("#fig-evaluations").inner_text(), page.locator("#fig-bad-rate").inner_text(),
            page.locator("#fig-excluded").inner_text()) == ("1", "100.0%", "0")
    page.goto("/work/appeals/")
    assert page.get_by_role("heading", level=1).inner_text() == "申诉审核"
    with page.expect_navigation():
        page.get_by_role("link", name=str(case)).click()
    assert page.locator("#unit-bad-reviews").inner_text() == "1"
    main = page.locator("main").inner_text()
    assert "需提供办事指南之外的申报材料" in main and "窗口要求提供指南外的材料" in main
    assert "13800001111" not in main and "138****1111" not in main
    assert axe_violations(page) == []

    with page.expect_download() as download:
        page.get_by_role("link", name="监控截图.pdf").click()
    assert download.value.suggested_filename == "监控截图.pdf"
    assert open(download.value.path(), "rb").read() == PDF

    page.get_by_label("申诉成立（该差评不计入统计，案件办结）").check()
    page.get_by_label("审核意见").fill("监控证实评价人当日未到窗口，差评与事实不符")
    with page.expect_navigation():
        page.get_by_role("button", name="提交审核结论").click()
    assert "申诉成立" in page.get_by_role("status").inner_text()
    # The review no longer counts in the unit's figures, but is still kept.
    assert page.locator("#unit-bad-reviews").inner_text() == "0"
    assert "已办结" in page.locator("main").inner_text()
    assert EvaluationExclusion.objects.filter(evaluation_id=case.evaluation_id, source=f"appeal:{appeal.pk}").exists()
    assert Evaluation.objects.filter(pk=case.evaluation_id).exists()
    assert not Evaluation.objects.countable().filter(is_bad=True, department_id=org.department.pk).exists()
    # The unit's statistics (the dashboard, from insight.metrics): the review left the figures and is counted apart.
    page.goto(f"/insight/?department={org.department.credit_code}")
    assert (page.locator("#fig-evaluations").inner_text(), page.locator("#fig-excluded").inner_text()) == ("0", "1")
    page.goto(f"/work/appeals/{appeal.pk}/")
    # Checked without the one-off success message: its list markup belongs to the workbench base template.
    page.reload()
    assert axe_violations(page) == []

    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
