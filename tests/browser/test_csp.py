"""The strict Content-Security-Policy does not break the pages administrators and integrators use: the admin
(login, index, change lists, the kiosk registration form) and the API docs (Swagger UI) load in Chromium
without a single CSP violation."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from haochaping.evaluation import kiosk
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs before any page script, outside the page's CSP (playwright injects it through the DevTools protocol).
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def watched(page):
    """The page, recording CSP violations from the DOM event and from Chromium's console."""
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.add_init_script(RECORD_VIOLATIONS)

    def violations() -> list[str]:
        return page.evaluate("window.__csp || []") + console

    page.violations = violations
    return page


@pytest.fixture
def signed_in(watched, live_server):
    user = get_user_model().objects.create_superuser("guanliyuan", "admin@example.org", None)
    browser = Client()
    browser.force_login(user)
    watched.context.add_cookies([{
        "name": settings.SESSION_COOKIE_NAME,
        "value": browser.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server.url,
    }])
    return watched


def test_the_policy_is_enforced_in_the_browser(watched):
    # The control: an inline script injected into one of our pages is blocked and reported, so the checks
    # below would see a violation if a page had one.
    watched.goto("/")
    watched.evaluate("""() => {
        const s = document.createElement('script');
        s.textContent = 'window.__ran = true';
        document.body.appendChild(s);
    }""")
    watched.wait_for_function("window.__csp.length > 0")
    assert watched.evaluate("window.__ran === undefined")
    assert any("script-src" in v for v in watched.violations())


def test_admin_login_has_no_csp_violation(watched):
    watched.goto("/admin/login/")
    watched.wait_for_load_state("networkidle")
    assert watched.locator("input[type=password]").is_visible()
    assert watched.violations() == []


def test_admin_index_and_change_lists_have_no_csp_violation(signed_in):
    org = factories.make_org()
    kiosk.register_kiosk(org.window, "1号窗口评价器")
    for path, marker in [
        ("/admin/", "系统管理"),
        ("/admin/evaluation/kioskdevice/", "1号窗口评价器"),
        ("/admin/org/department/", "演示市场监督管理局"),
        ("/admin/evaluation/kioskdevice/add/", "登记评价器"),
        ("/admin/org/department/import/", "导入"),
    ]:
        signed_in.goto(path)
        signed_in.wait_for_load_state("networkidle")
        assert marker in signed_in.content(), path
        assert signed_in.violations() == [], path


def test_change_list_actions_work_under_the_policy(signed_in):
    # The admin's own JavaScript (select all, action bar) must run: it is what a blocked script would break.
    org = factories.make_org()
    kiosk.register_kiosk(org.window, "1号窗口评价器")
    signed_in.goto("/admin/evaluation/kioskdevice/")
    signed_in.locator("#action-toggle").check()
    assert signed_in.locator(".action-counter").inner_text().startswith("选中了 1 个")
    assert signed_in.violations() == []


def test_api_docs_render_under_the_policy(watched):
    watched.goto("/api/v1/docs")
    watched.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
    assert "好差评系统接口" in watched.locator(".swagger-ui .info .title").inner_text()
    watched.locator(".opblock-summary-path", has_text="/api/v1/evaluations").first.wait_for()
    assert watched.violations() == []
