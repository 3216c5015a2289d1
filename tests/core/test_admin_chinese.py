"""The admin is Chinese throughout whatever language the browser asks for — Django's own pages, the project's apps
and the third-party ones (django-axes' login lockouts, django-tasks' results): never English and Chinese mixed."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db

# Words that are names, not untranslated text (protocols, formats, header names, the product's own terms).
ALLOWED = {"IP", "HTTP", "Accept", "User", "Agent", "GET", "POST", "SHA", "API", "SMS", "TOTP", "Excel", "PDF", "CSV",
           "JSON", "URL", "SM", "UTC"}


def english_words(html: str) -> set[str]:
    html = re.sub(r"<(script|style|select)\b.*?</\1>", " ", html, flags=re.S)
    # A list's rows are data (a login record's path, a username), not the admin's text.
    html = re.sub(r'(<table id="result_list">.*?)<tbody>.*?</tbody>', r"\1", html, flags=re.S)
    html = re.sub(r'<a [^>]*class="[^"]*skip-to-content-link[^"]*"[^>]*>.*?</a>', " ", html, flags=re.S)
    text = unescape(re.sub(r"<[^>]+>", " ", html))
    return {w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in ALLOWED}


@pytest.fixture
def admin_browser_in_english():
    user = get_user_model().objects.create(username="10001", is_superuser=True, is_staff=True, role="administrator")
    client = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    client.force_login(user)
    from axes.models import AccessLog

    AccessLog.objects.all().delete()  # the sign-in's own record: its path "<unknown>" is data, shown in the filter
    return client


@pytest.mark.parametrize("path", [
    "/admin/", "/admin/axes/", "/admin/axes/accessattempt/", "/admin/axes/accessfailurelog/", "/admin/axes/accesslog/",
    "/admin/django_tasks_database/dbtaskresult/", "/admin/org/region/", "/admin/accounts/user/",
])
def test_the_admin_is_chinese_for_an_english_browser(admin_browser_in_english, path):
    response = admin_browser_in_english.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'lang="zh-hans"' in html
    main = html[html.index('<div id="content"'):] if '<div id="content"' in html else html
    assert english_words(main) == set(), path
