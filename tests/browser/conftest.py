"""Browser fixtures: Debian's Chromium driven by playwright against pytest-django's live server.

Playwright's own browser download is not used (no network at run time); the binary comes from
`make browser-deps` or HAOCHAPING_CHROMIUM. A missing browser fails the tests, it never skips them.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

DEFAULT_CHROMIUM = "/usr/bin/chromium"

# Flags that work as root on a closed network: no sandbox (root), no GPU (headless server),
# and nothing that phones home (QUIC, component updates, sync, background networking).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("HAOCHAPING_CHROMIUM") or DEFAULT_CHROMIUM
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"Chromium not found at {path!r}: run `make browser-deps` (installs Debian's chromium) "
            "or set HAOCHAPING_CHROMIUM to the browser binary",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop in this thread, which makes Django's ORM refuse to run
    # in the test body ("async context"). The ORM calls here are plain synchronous test setup.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server):
    """A fresh page (own cookies) in a Chinese-language browser, with relative URLs going to the live server.

    The test fails if the page loads anything from another host (the site must work offline and must not
    leak visitors to third parties) or throws a JavaScript error.
    """
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 800}
    )
    context.set_default_timeout(10_000)
    own_host = urlsplit(live_server.url).netloc
    foreign: list[str] = []
    errors: list[str] = []

    def on_request(request):
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != own_host:
            foreign.append(request.url)

    context.on("request", on_request)
    tab = context.new_page()
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not foreign, f"the page requested other hosts: {foreign[:5]}"
    assert not errors, f"JavaScript errors on the page: {errors[:5]}"

