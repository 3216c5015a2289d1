"""Staff pages as accessible as citizen pages (R8.3): the workbench, the dashboard and its analyses, pain points,
supervision and the admin's lists and forms, at 390 px, against WCAG 2.1 A/AA plus axe's target-size rule
(WCAG 2.2 2.5.8, off in axe by default): no violation, nothing wider than the screen, and every sideways-scrolling
box reachable by keyboard (focusable, a named region)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from haochaping.accounts.roles import Role
from tests import factories
from tests.accounts.login_support import make_user
from tests.browser.test_public_pages import WCAG_TAGS
from tests.browser.test_receipt import login_cookie
from tests.evaluation.conftest import national_labels  # noqa: F401
from tests.insight.helpers import completed_record, rate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 390


def axe_violations_phone(page) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA rules and target-size (24 × 24 px targets or enough space around them)."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": [*WCAG_TAGS, "wcag22aa"]}, "resultTypes": ["violations"],
               "rules": {"target-size": {"enabled": True}}}
    results = Axe().run(page, options=options)
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results.response["violations"]
    ]


def unreachable_scrollers(page) -> list[str]:
    """Boxes that scroll sideways but cannot take keyboard focus or have no name for a screen reader."""
    return page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => {
        const s = getComputedStyle(e);
        return (s.overflowX === 'auto' || s.overflowX === 'scroll') && e.scrollWidth > e.clientWidth + 1;
    }).filter(e => !(e.tabIndex >= 0 && (e.getAttribute('aria-label') || e.getAttribute('aria-labelledby'))))
      .map(e => e.tagName + '.' + e.className)""")


@pytest.fixture
def world(national_labels):  # noqa: F811
    cache.clear()
    org = factories.make_org()
    # Names as long as real ones: a filter's select sizes itself to its longest option.
    item = factories.make_item(org, name="国有建设用地使用权及房屋所有权转移登记（首次登记、变更登记、转移登记、注销登记）")
    factories.department(org.county, name="济南市历下区行政审批服务局（济南市历下区政务服务管理办公室）")
    for level in (5, 4, 3, 2, 1, 1, 2):
        rate(completed_record(org, item), level, channel="kiosk")
    rate(completed_record(org, item, agency=None, window=None, staff=None, platform=org.platform), 2, channel="mobile",
         questionnaire={"guide_clear": False, "suggestions": "希望简化材料"})
    yield {"org": org, "item": item}
    cache.clear()


SUPERVISOR_PAGES = [
    "/work/supervision/", "/work/supervision/figures/", "/insight/", "/insight/painpoints/", "/insight/items/",
    "/insight/platforms/", "/insight/questionnaire/", "/insight/coverage/", "/insight/evaluations/",
]
ADMIN_PAGES = [
    "/admin/", "/admin/org/region/", "/admin/org/window/", "/admin/rectification/rectificationcase/",
    "/admin/evaluation/evaluation/", "/admin/org/window/add/",
]


def check(page, path: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{path} is {width}px wide on a {WIDTH}px screen"
    assert unreachable_scrollers(page) == [], path
    assert axe_violations_phone(page) == [], path


@pytest.mark.parametrize("path", SUPERVISOR_PAGES)
def test_supervisor_pages_at_390px(page, live_server, world, path):
    login_cookie(page, live_server, make_user("sup-a11y", Role.SUPERVISOR, world["org"]))
    page.set_viewport_size({"width": WIDTH, "height": 800})
    assert page.goto(path).status == 200
    check(page, path)


def test_the_reports_page_at_390px(page, live_server, world, settings, tmp_path):
    """The list of reports scrolls inside its own box; the download links' hidden titles stay in it too."""
    from datetime import date

    from haochaping.insight.reports import periods, services

    settings.MEDIA_ROOT = tmp_path / "media"
    supervisor = make_user("sup-reports-a11y", Role.SUPERVISOR, world["org"])
    period = periods.last_finished(periods.MONTH, date(2026, 1, 15))  # December 2025: finished on any test date
    services.generate_report(supervisor, kind=period.kind, start=period.start, region_code=world["org"].county.code)
    login_cookie(page, live_server, supervisor)
    page.set_viewport_size({"width": WIDTH, "height": 800})
    assert page.goto("/insight/reports/").status == 200
    assert page.get_by_role("link", name="Excel").count() == 1
    check(page, "/insight/reports/")


def test_handler_workbench_and_case_page_at_390px(page, live_server, world):
    from haochaping.rectification.models import RectificationCase

    login_cookie(page, live_server, make_user("handler-a11y", Role.HANDLER, world["org"]))
    page.set_viewport_size({"width": WIDTH, "height": 800})
    assert page.goto("/work/").status == 200
    check(page, "/work/")
    case = RectificationCase.objects.order_by("pk").first()
    assert page.goto(f"/work/cases/{case.pk}/").status == 200
    check(page, "case page")
    assert page.goto("/insight/").status == 200
    check(page, "/insight/ (handler)")


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_at_390px(page, live_server, world, path):
    login_cookie(page, live_server, make_user("admin-a11y", Role.ADMINISTRATOR, is_superuser=True))
    page.set_viewport_size({"width": WIDTH, "height": 800})
    assert page.goto(path).status == 200
    # Select2 draws the autocomplete boxes from jQuery's (asynchronous) ready handlers: check them once drawn.
    page.wait_for_function("""() => [...document.querySelectorAll('select.admin-autocomplete')]
        .filter((s) => !s.name.includes('__prefix__'))
        .every((s) => s.nextElementSibling && s.nextElementSibling.classList.contains('select2-container'))""")
    # Django's admin lays out its own tables at this width; what it must not do is hide content from the keyboard
    # or fail the rules below.
    assert axe_violations_phone(page) == [], path


def test_the_favicon_is_served(page, live_server):
    response = page.goto("/favicon.ico")
    assert response.status == 200 and response.headers["content-type"].startswith("image/")
