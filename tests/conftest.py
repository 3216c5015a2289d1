"""Shared fixtures. Data is built with the factories in tests/factories.py; each test runs in a transaction
that is rolled back (pytest-django), except live-server tests, which flush."""

from __future__ import annotations

import os

import pytest

from . import clock, factories

_skipped: list[str] = []


def pytest_configure(config):
    # Before any fixture or test module runs, so module-scoped data (the demo) is built on the same date.
    clock.start()


def pytest_report_header(config):
    value = clock.moment()
    return f"clock: {'real' if value is None else value.isoformat() + ' (HAOCHAPING_TEST_NOW, ticking)'}"


def pytest_runtest_setup(item):
    # A pg_only test run on SQLite (plain `pytest tests/…`, where `make test` deselects them) races threads that
    # SQLite serialises: it fails obscurely or hangs. Say at once what it needs instead.
    if item.get_closest_marker("pg_only"):
        from django.conf import settings

        if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
            pytest.fail(
                "needs PostgreSQL: run it with DATABASE_URL=postgres://… (make test-pg), "
                "or leave it out with -m 'not pg_only' as make test does",
                pytrace=False,
            )


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    # In CI nothing may be skipped: a test that cannot find its database or browser must fail there.
    if os.environ.get("CI") and _skipped:
        session.config.pluginmanager.get_plugin("terminalreporter").write_line(
            f"CI: {len(_skipped)} skipped test(s) count as failures: {', '.join(_skipped[:10])}", red=True
        )
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    # The calendar and region policies are cached per process; each test's database starts over, so must they.
    from haochaping.core import calendar
    from haochaping.org import policy

    calendar.invalidate()
    policy.invalidate()
    yield
    calendar.invalidate()
    policy.invalidate()


@pytest.fixture
def org(db):
    return factories.make_org()


@pytest.fixture
def item(org):
    return factories.make_item(org)


@pytest.fixture
def api_key(db):
    return factories.make_api_key()


@pytest.fixture
def http(live_server, api_key):
    """A real HTTP client against the live server, authenticated with a key holding every scope."""
    import httpx

    _key, secret = api_key
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30) as client:
        yield client


@pytest.fixture
def anon_http(live_server):
    import httpx

    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        yield client
