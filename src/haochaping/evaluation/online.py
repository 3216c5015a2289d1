"""一事一评 (R3.5): how a platform signs a request to open the region's evaluation page, and how the page checks it.

    canonical = "&".join(f"{quote(k)}={quote(v)}" for k, v in sorted(params) if k != "sig")   # RFC 3986, UTF-8
    sig = hex(HMAC-SM3(evaluation_secret, canonical))

``ts`` is Unix seconds; a request is accepted within MAX_SKEW of the server's clock. docs/api.md "一事一评页面".
The functions here are pure; issuing a platform's secret is the platform's business (org.services.issue_secret).
"""

from __future__ import annotations

import hmac as std_hmac
import time
from urllib.parse import quote, urlencode, urlsplit

from cryptography.hazmat.primitives import hashes, hmac

REQUIRED = ("platform", "project_no", "stage", "return_url", "ts", "sig")
OPTIONAL = ("client",)
MAX_SKEW = 10 * 60  # seconds


def canonical(params: dict) -> str:
    """The signed string: every parameter but ``sig``, sorted by name, percent-encoded (RFC 3986, UTF-8)."""
    return "&".join(f"{quote(str(k), safe='')}={quote(str(v), safe='')}" for k, v in sorted(params.items()) if k != "sig")


def signature(secret: str, params: dict) -> str:
    mac = hmac.HMAC(secret.encode(), hashes.SM3())
    mac.update(canonical(params).encode())
    return mac.finalize().hex()


def sign(secret: str, params: dict, now: float | None = None) -> dict:
    """``params`` with ``ts`` (if missing) and ``sig`` added: what a platform puts in the page's query string."""
    signed = {k: str(v) for k, v in params.items() if k != "sig"}
    signed.setdefault("ts", str(int(now if now is not None else time.time())))
    signed["sig"] = signature(secret, signed)
    return signed


def signed_url(base: str, secret: str, params: dict, now: float | None = None) -> str:
    return f"{base}?{urlencode(sign(secret, params, now))}"


def signature_ok(secret: str, params: dict) -> bool:
    return bool(secret) and std_hmac.compare_digest(signature(secret, params), str(params.get("sig", "")).lower())


def ts_problem(ts: str, now: float, max_age: int = MAX_SKEW):
    """(field, message) when ``ts`` is not a time within ``max_age`` seconds of now (either side), else None."""
    try:
        value = int(ts)
    except (TypeError, ValueError):
        return "ts", "时间戳（ts）应为整数秒"
    if value > now + MAX_SKEW:
        return "ts", "时间戳（ts）晚于当前时间，请核对平台服务器时钟"
    if now - value > max_age:
        return "ts", "评价请求已过期，请返回原页面重新打开评价"
    return None


def prefixes(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def return_url_problem(url: str, allowed: list[str]):
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "return_url", "返回地址（return_url）应为完整的 http(s) 地址"
    if "@" in parts.netloc or "\\" in url or not any(_under(url, p) for p in allowed):
        return "return_url", "返回地址（return_url）不在该平台登记的允许范围内"
    return None


def _under(url: str, prefix: str) -> bool:
    # A prefix ends at a boundary: "https://a.gov.cn" must not admit "https://a.gov.cn.evil.example" or
    # "https://a.gov.cn@evil.example", nor "/app" admit "/application".
    if not url.startswith(prefix):
        return False
    return prefix.endswith("/") or len(url) == len(prefix) or url[len(prefix)] in "/?#"


def with_query(url: str, **params) -> str:
    """``url`` with ``params`` appended to its query string (keeping what it already has, dropping its fragment)."""
    base = url.split("#", 1)[0]
    return f"{base}{'&' if '?' in base else '?'}{urlencode(params)}"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
