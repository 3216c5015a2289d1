"""The paper form entry page in a real browser: WCAG 2.1 AA, before and after an error."""

from __future__ import annotations

import pytest

from haochaping.accounts.models import User
from haochaping.accounts.roles import Role
from haochaping.org.models import Staff
from tests import factories
from tests.browser.test_public_pages import axe_violations
from tests.browser.test_receipt import login_cookie as sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



def test_paper_entry_page_passes_axe_and_names_errors(page, live_server):
    org = factories.make_org()
    staff = Staff.objects.create(staff_no="S-PAPER", name="张华", agency=org.agency, department=org.department)
    user = User.objects.create(username="colleague", role=Role.STAFF, region=org.county, staff=staff)
    sign_in(page, live_server, user)

    page.goto("/paper/enter/")
    assert page.get_by_role("heading", level=1).inner_text() == "录入书面评价表"
    assert axe_violations(page) == []

    page.get_by_label("表单编号").fill("NO-SUCH-FORM")
    with page.expect_navigation():
        page.get_by_role("button", name="录入").click()
    alerts = " ".join(page.get_by_role("alert").all_inner_texts())
    assert "没有这个表单编号" in alerts and "请上传“评价表扫描件”" in alerts
    assert axe_violations(page) == []

    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
