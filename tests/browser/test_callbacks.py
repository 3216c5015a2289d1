"""The callback list in a real browser: a 12345 operator opens it from the hotline page, reveals the phone of a
drawn evaluation (the access logged), records that the evaluator was asked to give five stars, and the item is
flagged for the supervisor. WCAG 2.1 A/AA checks on every page."""

from __future__ import annotations

import pytest

from haochaping.accounts.models import PersonalDataAccess, Role, User
from haochaping.supervision.sampling import services
from haochaping.supervision.sampling.models import CallbackItem, CallStatus
from tests import factories
from tests.browser.test_public_pages import axe_violations
from tests.browser.test_receipt import login_cookie as sign_in
from tests.supervision.sampling_world import last_month, rate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operator_records_a_callback(page, live_server):
    org = factories.make_org()
    item = factories.make_item(org, name="不动产登记")
    rate(org, item, 5, phone="13955556666")
    start, end = last_month()
    entry = services.draw_sample(org.department.pk, start, end).sample.items.get()
    operator = User.objects.create(username="hotline-370100", role=Role.HOTLINE, region=org.city)

    sign_in(page, live_server, operator)
    page.goto("/hotline/")
    with page.expect_navigation():
        page.get_by_role("link", name="回访清单（回访调查抽中的评价）").click()
    assert page.get_by_role("heading", level=1).inner_text() == "回访清单"
    row = page.locator("table tbody tr", has_text=f"回访{entry.pk:06d}")
    assert "139****6666" in row.inner_text() and "不动产登记" in row.inner_text()
    assert axe_violations(page) == []

    with page.expect_navigation():
        row.get_by_role("link", name=f"回访{entry.pk:06d}").click()
    assert page.locator("#phone").inner_text() == "139****6666"
    with page.expect_navigation():
        page.get_by_role("button", name="查看号码").click()
    assert page.locator("#phone").inner_text() == "13955556666"
    assert PersonalDataAccess.objects.get().user == operator
    assert axe_violations(page) == []

    page.get_by_label("已接通").check()
    page.get_by_role("group", name="“这条评价是您本人作出的吗？”").get_by_label("是").check()
    page.get_by_role("group", name="“是否有人要求或施压让您作出这个评价？”").get_by_label("是").check()
    page.get_by_role("group", name="“您现在对这次服务的满意程度？”（1最不满意，5最满意）").get_by_label("2").check()
    page.get_by_label("备注").fill("称窗口人员要求其当场打五星")
    with page.expect_navigation():
        page.get_by_role("button", name="保存回访结果").click()
    assert "回访结果已保存" in page.locator("ul.messages").inner_text()
    assert axe_violations(page) == []
    entry = CallbackItem.objects.get()
    assert entry.status == CallStatus.DONE and entry.mismatch_reasons == ["pressured"]
