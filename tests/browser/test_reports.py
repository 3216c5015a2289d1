"""统计报告 in a real browser: a supervisor opens 报告 from the workbench, generates last month's report of their
county, finds it in the list and downloads the Excel and the PDF, which hold the figures, in Chinese, and nothing
of the evaluators. The page passes WCAG 2.1 AA checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.cache import cache

from haochaping.accounts.models import User
from haochaping.accounts.roles import Role
from haochaping.insight import metrics
from haochaping.insight.models import Report
from tests import factories
from tests.browser.test_public_pages import axe_violations
from tests.browser.test_receipt import login_cookie as sign_in
from tests.insight.painpoints_fixtures import ensure_labels
from tests.insight.reports_fixtures import (
    EVALUATOR_NAMES,
    EVALUATOR_PHONES,
    all_cell_text,
    headline,
    last_month,
    moment,
    pdf_text,
    rated,
    workbook,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fresh(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    ensure_labels()
    cache.clear()
    yield
    cache.clear()



def test_a_supervisor_generates_a_monthly_report_and_downloads_both_files(page, live_server):
    org = factories.make_org()
    item = factories.make_item(org, name="不动产登记")
    period = last_month()
    for n, level in enumerate((5, 5, 4, 3, 1)):
        rated(org, item, level, moment(period, day=2 + n), n=n, comment="排队太久" if level == 1 else "")
    supervisor = User.objects.create(username="sup-370102", role=Role.SUPERVISOR, region=org.county)

    sign_in(page, live_server, supervisor)
    page.goto("/work/supervision/")
    with page.expect_navigation():
        page.get_by_role("link", name="报告", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "统计报告"
    assert axe_violations(page) == []

    page.get_by_label("统计期间").select_option(label=f"{period.label}月报")
    page.get_by_label("报告对象").select_option(label="历下区（370102）")
    page.get_by_role("button", name="生成报告").click()
    page.wait_for_url("**/insight/reports/**")
    assert "已生成报告" in page.locator("ul.messages").inner_text()

    report = Report.objects.get()
    row = page.locator(f"#report-{report.pk}")
    assert f"历下区政务服务“好差评”{period.label}月报" in row.inner_text()
    with page.expect_download() as xlsx_download:
        row.get_by_role("link", name="Excel").click()
    with page.expect_download() as pdf_download:
        row.get_by_role("link", name="PDF").click()
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    assert pdf_download.value.suggested_filename == f"{report.title}.pdf"

    wb = workbook(Path(xlsx_download.value.path()).read_bytes())
    expected = metrics.figures(supervisor, metrics.StatsFilter(region_prefix="370102", region_code="370102",
                                                               date_from=period.start, date_to=period.end)).total
    figures = headline(wb)
    assert figures["评价数"] == expected.tally.valid == 5
    assert figures["好评率"] == pytest.approx(expected.tally.good_rate)

    text = pdf_text(Path(pdf_download.value.path()).read_bytes())
    assert report.title in text and "历下区（370102）" in text and "评价数 5" in text.replace("\n", " ")
    cells = all_cell_text(wb)
    for secret in (*EVALUATOR_NAMES, *EVALUATOR_PHONES):
        assert secret not in text and secret not in cells
