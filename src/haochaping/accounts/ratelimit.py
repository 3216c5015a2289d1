"""Per-key request limits for API clients (issue 3, item 5).

A fixed window of one minute per key, opened by the key's first request in it, counted in Django's cache.
The cache is ``settings.CACHES["default"]``: per process (LocMem) unless ``CACHE_URL`` points at Redis. With
more than one web process or node, set ``CACHE_URL``, or each process counts on its own and a key gets
the limit once per process.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from django.core.cache import cache

from haochaping.core.problems import DomainError

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Decision:
    allowed: bool
    count: int
    limit: int
    retry_after: int  # whole seconds until the window resets (0 while allowed)


def hit(name: str, limit: int, *, now: float | None = None, window: int = WINDOW_SECONDS) -> Decision:
    """Count one request for ``name`` against ``limit`` per ``window`` seconds."""
    now = time.time() if now is None else now
    start_key = f"ratelimit:{name}:start"
    start = cache.get(start_key)
    if start is None or now - start >= window:
        # Either no window yet or an expired one the cache has not evicted: open a new one. add() makes one
        # concurrent opener win; everyone then reads the winner's start.
        if start is not None:
            cache.delete(start_key)
        cache.add(start_key, now, timeout=window)
        start = cache.get(start_key, now)
    count_key = f"ratelimit:{name}:{int(start * 1000)}"
    # Outlives the window slightly so a late increment never recreates a counter that already expired.
    cache.add(count_key, 0, timeout=window + 5)
    try:
        count = cache.incr(count_key)
    except ValueError:  # evicted between add() and incr()
        cache.add(count_key, 1, timeout=window + 5)
        count = 1
    if count <= limit:
        return Decision(True, count, limit, 0)
    return Decision(False, count, limit, max(1, math.ceil(start + window - now)))


def enforce(name: str, limit: int, *, who: str, field: str, now: float | None = None) -> None:
    """Count a request for ``name``; over ``limit`` per minute, raise a 429 problem with ``Retry-After``.

    ``who`` names the client in Chinese (e.g. "该接口密钥") and, like ``name``, carries only a public prefix.
    """
    decision = hit(name, limit, now=now)
    if decision.allowed:
        return
    if decision.count == decision.limit + 1:
        # Once per window is enough to see who is hammering (the access log has every 429).
        log.warning("rate limit exceeded: %s limit=%d/min", name, decision.limit)
    raise DomainError(
        429,
        "请求过于频繁",
        f"{who}每分钟最多请求 {decision.limit} 次，请在 {decision.retry_after} 秒后重试",
        field,
        code="rate_limited",
        headers={"Retry-After": str(decision.retry_after)},
    )


def check_api_key(key, *, now: float | None = None) -> None:
    """Enforce ``key.rate_limit_per_minute`` (429 with ``Retry-After`` when exceeded)."""
    enforce(f"apikey:{key.prefix}", key.rate_limit_per_minute, who="该接口密钥", field="Authorization", now=now)
