"""No personal data on the portal, ever (R5.5, R7.2): crawl every page and download reachable from /public/ and
look for the markers planted in every private field (tests/disclosure/world.py). Staff appear by name and 工号
only where the region's policy publishes staff results — both settings tested."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from haochaping.evaluation.models import Evaluation
from haochaping.transparency import services as log_services

from . import world as world_module
from .pages import links

pytestmark = pytest.mark.django_db
MAX_PAGES = 400


def crawl(client, start: str = "/public/") -> dict[str, str]:
    """Every same-site page under /public/ (and the item guides it links to), by URL → body text."""
    seen: dict[str, str] = {}
    queue = [start]
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        assert len(seen) < MAX_PAGES, "the crawl does not end"
        response = client.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        # Large open-data files (the log's leaves) stream: they are read whole all the same.
        raw = b"".join(response.streaming_content) if response.streaming else response.content
        body = raw.decode("utf-8")
        seen[url] = body
        if not response["Content-Type"].startswith("text/html"):
            continue
        for href in links(body):
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith("#"):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if not target.startswith("/"):
                target = urlsplit(url).path + target
            if target.startswith(("/public/", "/items/")) and target not in seen:
                queue.append(target)
    return seen


CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]*">')


def leaks(pages: dict[str, str], strings: list[str]) -> list[tuple[str, str]]:
    # The header's 大字版 form carries a random CSRF token, which may contain any three letters by chance.
    bodies = {url: CSRF_INPUT.sub("", body) for url, body in pages.items()}
    assert all("csrfmiddlewaretoken" not in body for body in bodies.values())
    return [(url, s) for url, body in bodies.items() for s in strings if s and s in body]


def test_no_page_or_download_carries_personal_data_or_free_text(client, db):
    world = world_module.build()
    log_services.seal()  # the verifiable log's leaves are published too (docs/verifiable-log.md)
    pages = crawl(client)
    downloads = [u for u in pages if u.startswith("/public/opendata/") and u != "/public/opendata/"]
    # The crawl really reached every kind of page and file.
    assert any("/departments/" in u for u in pages) and any(u.startswith("/public/cases/") for u in pages)
    assert {u.split("?")[0] for u in downloads} >= {f"/public/opendata/{d}.{f}" for d in
                                                    ("figures", "rankings", "rectification", "cases")
                                                    for f in ("csv", "json")}
    assert {"/public/opendata/log/checkpoints.json", "/public/opendata/log/leaves.jsonl"} <= set(downloads)
    assert '"kind":"evaluation"' in pages["/public/opendata/log/leaves.jsonl"]
    assert any("/items/" in u for u in pages)
    # Cases are published (structured), so the scan would see a leak if there were one.
    assert "立行立改" in pages[f"/public/cases/?region={world.org.county.code}"]

    private = world.private_strings() + [world_module.STAFF_NAME, world_module.STAFF_NO, "MKA", "****"]
    # The 存证摘要 (leaf_hash) is each log leaf's digest by design — salted by the receipt code it covers, so it
    # confirms nothing to a guesser (docs/verifiable-log.md §2): in the leaves file, and nowhere else.
    digests = set(Evaluation.objects.values_list("leaf_hash", flat=True))
    found = leaks(pages, private)
    assert {s for u, s in found if u.startswith("/public/opendata/log/leaves.jsonl")} == digests
    assert [(u, s) for u, s in found if not u.startswith("/public/opendata/log/leaves.jsonl")] == []


def test_staff_results_are_published_only_where_the_policy_says(client, db):
    world_module.build(publish_staff=True)
    pages = crawl(client)
    staff_pages = {u for u, body in pages.items() if world_module.STAFF_NAME in body}
    county = "/public/regions/370102/"
    assert county in staff_pages
    assert f"工号{world_module.STAFF_NO}" in pages[county]
    # Only the pages of the county (where the policy is on) and its departments; never a file, never a case.
    assert all(u.startswith(county) for u in staff_pages), staff_pages
    # Still nothing about evaluators or free text.
    assert leaks(pages, [s for s in world_module.M.values()] + world_module.PHONES) == []


def test_a_county_that_keeps_staff_private_stays_private_on_its_province_page(client, db):
    from haochaping.org.models import RegionPolicy

    world = world_module.build(publish_staff=False)
    RegionPolicy.objects.create(region=world.org.province, publish_staff_results=True)
    text = client.get(f"/public/regions/{world.org.province.code}/").content.decode()
    assert "工作人员评价结果" in text  # the province publishes …
    assert world_module.STAFF_NAME not in text  # … but not the county's staff, whose own policy says no
