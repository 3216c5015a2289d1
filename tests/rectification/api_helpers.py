"""Clients for the cases and appeals API over real HTTP: people signed in (session cookie + CSRF token) and keys."""

from __future__ import annotations

import httpx
from django.conf import settings
from django.test import Client
from django.utils.crypto import get_random_string

from haochaping.rectification.models import CaseTransition, RectificationCase
from tests import factories

from .conftest import submit

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def person(live_server, user, *, csrf: bool = True) -> httpx.Client:
    """``user`` signed in to the site, as a browser would call the API: the session cookie, and the CSRF cookie
    echoed in ``X-CSRFToken`` (unless ``csrf`` is False)."""
    django_client = Client()
    django_client.force_login(user)
    cookies = {settings.SESSION_COOKIE_NAME: django_client.cookies[settings.SESSION_COOKIE_NAME].value}
    headers = {}
    if csrf:
        token = get_random_string(32)
        cookies[settings.CSRF_COOKIE_NAME] = token
        headers["X-CSRFToken"] = token
    return httpx.Client(base_url=live_server.url, cookies=cookies, headers=headers, timeout=30)


def keyed(live_server, scopes, region=None) -> httpx.Client:
    _key, secret = factories.make_api_key(scopes=scopes, region=region)
    return httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30)


def open_case(record, **kw) -> RectificationCase:
    """A 差评 submitted through the evaluation service, which opens its case."""
    return RectificationCase.objects.get(pk=submit(record, **kw).case_id)


def actions(case) -> list[str]:
    return list(CaseTransition.objects.filter(case_id=case.pk).order_by("at", "pk").values_list("action", flat=True))


def problem(r: httpx.Response, status: int, field: str | None = None) -> dict:
    """The RFC 9457 body of a refusal, checked for status, content type, a Chinese detail and the field."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers["content-type"]
    body = r.json()
    assert body["status"] == status
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body.get("detail", "") + body["title"]), body
    if field is not None:
        assert body.get("field") == field, body
    return body


def callback_body(**kw) -> dict:
    from django.utils import timezone

    body = {"at": timezone.localtime().isoformat(), "method": "phone", "reached": True, "contact": "评价人本人",
            "facts": "窗口多要了一份材料，属实"}
    body.update(kw)
    return body
