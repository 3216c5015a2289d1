"""The public portal in a real browser, without logging in: from the portal home (the deployment's province) down to a county and a
department, downloading the CSV; WCAG 2.1 A/AA clean (axe), usable at 320 px and in large-text mode."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.browser.test_public_pages import axe_violations
from tests.disclosure import world as world_module
from tests.evaluation.conftest import national_labels  # noqa: F401  (bad evaluations need the label dictionary)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    cache.clear()
    built = world_module.build()
    yield built
    cache.clear()


def test_home_to_county_to_department_to_csv(page, world):
    org = world.org
    page.goto("/")
    page.get_by_role("link", name="评价结果公开（满意度、排名、差评整改情况和开放数据）").click()
    page.wait_for_url("**/public/")
    # The deployment's own province, not 全国 with 32 provinces of zeros.
    assert page.get_by_role("heading", level=1).inner_text() == f"{org.province.name}政务服务“好差评”结果公开"
    assert axe_violations(page) == []

    page.get_by_role("link", name=org.city.name, exact=True).first.click()
    page.get_by_role("link", name=org.county.name, exact=True).first.click()
    page.wait_for_url(f"**/public/regions/{org.county.code}/")
    assert page.get_by_role("heading", level=1).inner_text() == f"{org.county.name}政务服务“好差评”结果公开"
    assert page.locator('dd[data-figure="evaluations"]').inner_text() == "7"
    assert axe_violations(page) == []

    page.get_by_role("link", name=org.department.name).first.click()
    page.wait_for_url(f"**/departments/{org.department.credit_code}/")
    assert page.get_by_role("heading", level=1).inner_text() == org.department.name
    assert axe_violations(page) == []

    with page.expect_download() as info:
        page.locator("ul.downloads a[href*=\"figures.csv\"][href*=\"by=month\"]").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    text = open(download.path(), encoding="utf-8-sig").read()
    header, total = text.splitlines()[:2]
    assert header.startswith("region_code,period_from,period_to,group_by,key,name,evaluations")
    assert ",total,,合计,7," in total


def test_cases_and_opendata_pages_are_accessible_and_choose_a_period_without_script(page, world):
    page.goto(f"/public/cases/?region={world.org.county.code}")
    assert page.locator("tr[data-case]").count() == 6
    assert axe_violations(page) == []
    page.get_by_label("统计期间", exact=True).select_option(index=1)  # this year
    page.get_by_role("button", name="查看").click()
    page.wait_for_url("**period=*")
    assert "region=" in page.url
    page.goto("/public/opendata/")
    assert axe_violations(page) == []


def test_phone_width_and_large_text(page, world):
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"/public/regions/{world.org.county.code}/")
    page.get_by_role("button", name="大字版").click()
    page.wait_for_function("document.documentElement.classList.contains('large-text')")
    assert page.url.endswith(f"/public/regions/{world.org.county.code}/")
    # Nothing wider than the screen: wide tables scroll inside their own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    # ...and a row's name is not squeezed to a character or two per line (CJK text breaks anywhere): on the demo
    # province's page that made the phone page 65 000 px tall.
    narrowest = page.evaluate(
        "Math.min(...Array.from(document.querySelectorAll('tbody th[scope=row]'))"
        ".map(th => th.getBoundingClientRect().width / parseFloat(getComputedStyle(th).fontSize)))"
    )
    assert 6 <= narrowest < 1000  # in characters; 1000 would mean no row header was found
    assert axe_violations(page) == []
