"""The home page is where a citizen lands from a search: it must say how to rate a service, not only where the
figures are."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_home_says_how_to_rate_and_leads_to_the_receipt(client):
    page = client.get("/").content.decode()
    for way in ("评价器", "二维码", "短信", "12345", "纸质评价表"):
        assert way in page
    assert 'href="/r/"' in page
    assert client.get("/r/").status_code == 200
