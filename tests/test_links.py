"""Every role lands somewhere useful and reaches its pages: a link checker signs in as each role of the demo
(`haochaping demo`), opens the page the login sends it to, and follows every same-origin link it finds, breadth
first, to a depth and a page limit. No link may answer 4xx or 5xx, except the 403s listed in ALLOWED with why."""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from haochaping.accounts.roles import Role
from haochaping.accounts.views import landing_url
from tests.demo.building import demo_built

RECORDS = 3000  # enough that every hall and department has evaluations in the dashboards' last 30 days
DEPTH = 3
PAGES = 70  # per role
User = get_user_model()

# (role, path pattern) → why a 403 there is intended. Nothing else may refuse.
ALLOWED: dict[tuple[str, str], str] = {}

# Not followed: they change state or leave the pages (logout is a POST form anyway), or are files a page links for
# download (checked by their own tests), or the admin's per-column sort and filter variants of one list.
SKIP = re.compile(r"^/(static|media)/|/logout/|\.(pdf|xlsx|csv|svg|png)(\?|$)|/reveal/|[?&](o|_changelist_filters|p)=|"
                  r"/(add|delete|history)/$|/password/$|/text-size/")


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href and not href.startswith(("mailto:", "tel:", "javascript:")):
                self.found.append(href)


def crawl(client: Client, start: str, *, pages: int = PAGES, depth_limit: int = DEPTH,
          within: str = "/") -> tuple[list[tuple[str, int, str]], int]:
    """(broken links as (path, status, found on), pages visited) from ``start``, following links under ``within``."""
    seen = {start}
    queue = deque([(start, 0, "(login)")])
    broken, visited = [], 0
    while queue and visited < pages:
        path, depth, parent = queue.popleft()
        response = client.get(path, follow=True)
        visited += 1
        if response.status_code >= 400:
            broken.append((path, response.status_code, parent))
            continue
        if depth >= depth_limit or "text/html" not in response.get("Content-Type", ""):
            continue
        here = response.request["PATH_INFO"]
        parser = Links()
        parser.feed(response.content.decode("utf-8", "replace"))
        for href in parser.found:
            url = urldefrag(urljoin(here, href))[0]
            parts = urlsplit(url)
            if parts.scheme or parts.netloc:
                continue  # another site
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if not target.startswith(within) or SKIP.search(target) or target in seen:
                continue
            seen.add(target)
            queue.append((target, depth + 1, path))
    return broken, visited


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with demo_built(django_db_blocker, RECORDS) as output:
        yield output


# One account per role, by the names `haochaping demo` prints and the README lists.
ACCOUNTS = {
    "supervisor (province)": "sup-370000",
    "supervisor (county)": "sup-370102",
    "handler (hall)": "handler-DEMO-370102-ZX",
    "handler (department)": None,  # the first demo department of 历下区
    "handler (platform operator)": None,  # 山东省大数据局
    "staff": None,  # a window staff member of 历下区政务服务中心
    "paper-form clerk": None,  # the 统一出件窗口's staff member
    "hotline operator": "hotline-370100",
    "third-party assessor": "assessor-370000",
    "administrator": "admin",
}


def _account(label: str):
    name = ACCOUNTS[label]
    if name:
        return User.objects.get(username=name)
    if label == "handler (department)":
        return User.objects.filter(role=Role.HANDLER, department__region_id="370102").order_by("username").first()
    if label == "handler (platform operator)":
        return User.objects.get(role=Role.HANDLER, department__name__startswith="山东省大数据局")
    if label == "staff":
        return User.objects.filter(role=Role.STAFF, staff__agency__code="DEMO-370102-ZX").order_by("username").first()
    return User.objects.get(role=Role.STAFF, staff__agency__code="DEMO-370102-ZX", staff__window__code="D01")


@pytest.mark.parametrize("label", list(ACCOUNTS))
def test_every_role_lands_on_a_page_and_finds_no_broken_link(demo, db, label):
    user = _account(label)
    client = Client()
    client.force_login(user)
    start = landing_url(user)
    landing = client.get(start, follow=True)
    assert landing.status_code == 200, (label, start, landing.status_code)
    broken, visited = crawl(client, start)
    refused = [(p, s, parent) for p, s, parent in broken
               if not (s == 403 and any(role == user.role and re.search(pat, p) for role, pat in ALLOWED))]
    assert refused == [], f"{label}: broken links (path, status, found on): {refused}"
    assert visited > 3, f"{label}: the landing page {start} leads nowhere"


@pytest.mark.parametrize(("label", "lands"), [
    ("supervisor (county)", "/work/supervision/"),
    ("handler (hall)", "/work/"),
    ("staff", "/insight/mine/"),
    ("paper-form clerk", "/insight/mine/"),
    ("hotline operator", "/hotline/"),
    ("third-party assessor", "/work/assessments/"),
    ("administrator", "/admin/"),
])
def test_each_role_lands_where_it_works(demo, db, label, lands):
    user = _account(label)
    client = Client()
    client.force_login(user)
    response = client.get(landing_url(user), follow=True)
    assert response.status_code == 200 and response.request["PATH_INFO"] == lands


@pytest.mark.parametrize("label", ["handler (hall)", "handler (department)", "handler (platform operator)"])
def test_a_unit_handlers_dashboard_drill_down_opens_every_unit_it_lists(demo, db, label):
    # The dashboard of a hall lists the departments serving there, a department's the halls and 综合受理 windows
    # where its 办件 were handled: each row's link opens, with figures inside the handler's own scope.
    user = _account(label)
    client = Client()
    client.force_login(user)
    broken, visited = crawl(client, "/insight/", pages=60, depth_limit=3, within="/insight/")
    assert broken == [] and visited > 5, (label, broken, visited)
