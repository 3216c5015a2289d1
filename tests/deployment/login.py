"""Signing in to a real server over HTTP, as a browser does: the login form, then the TOTP step."""

from __future__ import annotations

import re

import httpx

from tests.accounts.login_support import code


def csrf(client: httpx.Client, url: str) -> str:
    r = client.get(url)
    assert r.status_code == 200, r.text[:500]
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', r.text)
    assert found, r.text[:1000]
    return found.group(1)


def login(client: httpx.Client, base: str, username: str, password: str, totp: str | None = None, *,
          steps: int = 0, otp_base: str | None = None) -> httpx.Response:
    """Password on ``base``, the TOTP step on ``otp_base`` (default: the same node); the final response."""
    token = csrf(client, f"{base}/accounts/login/")
    r = client.post(f"{base}/accounts/login/", data={"username": username, "password": password,
                                                     "csrfmiddlewaretoken": token})
    assert r.status_code == 302, r.text[:1000]
    if totp is not None:
        assert r.headers["location"].endswith("/accounts/login/otp/"), r.headers["location"]
        otp_base = otp_base or base
        token = csrf(client, f"{otp_base}/accounts/login/otp/")
        r = client.post(f"{otp_base}/accounts/login/otp/", data={"otp": code(totp, steps), "csrfmiddlewaretoken": token})
        assert r.status_code == 302, r.text[:1000]
    return r
