"""Reading a public page the way the tests need: the figures marked with data-figure, and the links."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser


def figure(text: str, name: str, key: str | None = None) -> str:
    """The first figure ``name`` on the page, or in the table row / list item marked data-key=``key``."""
    if key is not None:
        match = re.search(rf'<(tr|li) data-key="{re.escape(key)}">(.*?)</\1>', text, re.S)
        assert match, f"no row {key!r}"
        text = match.group(2)
    match = re.search(rf'data-figure="{name}">([^<]*)<', text)
    assert match, f"no figure {name!r}"
    return html.unescape(match.group(1)).strip()


def row_keys(text: str, table: str) -> list[str]:
    match = re.search(rf'data-table="{table}">(.*?)</table>', text, re.S)
    assert match, f"no table {table!r}"
    return re.findall(r'<tr data-key="([^"]*)">', match.group(1))


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)


def links(text: str) -> list[str]:
    parser = _Links()
    parser.feed(text)
    return parser.links
