"""Per-key rate limits (429 + Retry-After) and the log of refused keys, over real HTTP."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from haochaping.accounts import ratelimit
from haochaping.accounts.models import ApiKey, Scope
from haochaping.accounts.services import create_api_key, revoke_api_key

live = pytest.mark.django_db(transaction=True)


def client(live_server, secret: str) -> httpx.Client:
    return httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30)


def post_empty_evaluation(c: httpx.Client) -> httpx.Response:
    # Authentication (and the limit) come before the body is read: an empty body is a cheap 422 past them.
    return c.post("/api/v1/evaluations", json={})


def test_window_counts_then_refuses_then_resets():
    name = f"test:{uuid.uuid4().hex}"
    t0 = 1_000_000.0
    assert [ratelimit.hit(name, 2, now=t0 + i).allowed for i in range(2)] == [True, True]
    refused = ratelimit.hit(name, 2, now=t0 + 15.2)
    assert not refused.allowed and refused.count == 3
    assert refused.retry_after == 45  # the window opened at t0 and lasts 60 s: ceil(60 - 15.2)
    assert ratelimit.hit(name, 2, now=t0 + 59.5).retry_after == 1
    # A new window once the old one is over.
    assert ratelimit.hit(name, 2, now=t0 + 60).allowed


def test_keys_are_counted_separately():
    a, b = f"test:{uuid.uuid4().hex}", f"test:{uuid.uuid4().hex}"
    assert ratelimit.hit(a, 1, now=0).allowed
    assert not ratelimit.hit(a, 1, now=1).allowed
    assert ratelimit.hit(b, 1, now=1).allowed


@live
def test_a_key_over_its_limit_gets_429_with_retry_after_in_chinese(live_server, caplog):
    key, secret = create_api_key(name="小流量平台", scopes=[Scope.EVALUATIONS_WRITE], rate_limit_per_minute=3)
    other_key, other_secret = create_api_key(name="另一平台", scopes=[Scope.EVALUATIONS_WRITE])
    with client(live_server, secret) as c, caplog.at_level(logging.WARNING, logger="haochaping.accounts.ratelimit"):
        assert [post_empty_evaluation(c).status_code for _ in range(3)] == [422, 422, 422]
        r = post_empty_evaluation(c)
        assert r.status_code == 429
        assert r.headers["content-type"] == "application/problem+json"
        retry_after = int(r.headers["Retry-After"])
        assert 1 <= retry_after <= 60
        body = r.json()
        assert body["title"] == "请求过于频繁" and body["status"] == 429 and body["field"] == "Authorization"
        assert body["detail"] == f"该接口密钥每分钟最多请求 3 次，请在 {retry_after} 秒后重试"
        # Still refused while the window lasts, and on other endpoints too: the limit is per key.
        assert post_empty_evaluation(c).status_code == 429
        assert c.get("/api/v1/records/P-nothing").status_code == 429
    with client(live_server, other_secret) as c:
        assert post_empty_evaluation(c).status_code == 422
    logged = [r.getMessage() for r in caplog.records if r.name == "haochaping.accounts.ratelimit"]
    assert len(logged) == 1 and key.prefix in logged[0]
    assert secret not in caplog.text and secret.split("_", 2)[2] not in caplog.text


@live
def test_public_endpoints_are_not_counted_against_a_key(live_server):
    _key, secret = create_api_key(name="a", scopes=[Scope.EVALUATIONS_WRITE], rate_limit_per_minute=1)
    with client(live_server, secret) as c:
        for _ in range(3):
            assert c.get("/api/v1/levels").status_code == 200
        assert post_empty_evaluation(c).status_code == 422


def refusal_logs(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "haochaping.accounts.services"]


@live
def test_refused_keys_get_401_and_are_logged_by_prefix_only(live_server, caplog):
    expected = {"revoked": "revoked", "expired": "expired", "wrong-secret": "wrong secret", "unknown": "unknown"}
    for state, reason in expected.items():
        caplog.clear()
        key, secret = create_api_key(name=state, scopes=[Scope.EVALUATIONS_WRITE])
        presented = secret
        if state == "revoked":
            revoke_api_key(key)
        elif state == "expired":
            ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
        elif state == "wrong-secret":
            presented = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
        else:
            ApiKey.objects.filter(pk=key.pk).delete()
        with caplog.at_level(logging.WARNING, logger="haochaping.accounts.services"), client(live_server, presented) as c:
            r = post_empty_evaluation(c)
        assert r.status_code == 401, state
        assert r.headers["WWW-Authenticate"] == "Bearer"
        assert refusal_logs(caplog) == [f"API key refused: {reason} prefix={key.prefix}"], state
        assert presented.split("_", 2)[2] not in caplog.text, state


@live
def test_a_malformed_key_is_logged_without_any_of_it(live_server, caplog):
    with caplog.at_level(logging.WARNING, logger="haochaping.accounts.services"), client(live_server, "13912345678") as c:
        assert post_empty_evaluation(c).status_code == 401
    assert refusal_logs(caplog) == ["API key refused: malformed"]
    assert "13912345678" not in caplog.text
