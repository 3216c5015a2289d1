"""Refuse malformed input before any view sees it, and keep every answer under /api/ a problem document.

One mechanism for every endpoint (API and pages alike), so no view has to remember it:

* a NUL character in a query parameter, a form field or anywhere in a JSON body cannot be stored (PostgreSQL text
  refuses it) and is never meaningful input: 422 naming the field under /api/, a Chinese error page elsewhere;
* a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (file parts of a multipart form excepted, as Django counts them):
  413;
* a query string over ``MAX_QUERY_STRING``: 414 (the server's own request-line limit is higher, see
  docs/operations.md, so the application answers first);
* whatever answered with an error under /api/ (Django's URL resolver for an unknown path or a malformed id, the
  method check, the CSRF check, this middleware): the response is an RFC 9457 problem document.

The submitted value is never echoed, and a field is named only when its name looks like one of ours.
"""

from __future__ import annotations

import json
import re

from django.core.exceptions import RequestDataTooBig
from django.shortcuts import render

from .problems import PROBLEM_CONTENT_TYPE, STATUS_DETAILS, problem_response

API_PREFIX = "/api/"
# Longer than any query string our clients build (filters and a cursor), below gunicorn's request-line limit.
MAX_QUERY_STRING = 4096
NUL = "\x00"
NUL_MESSAGE = "不能包含空字符（NUL）"
# A client-supplied name is quoted back only if it looks like a field name, never if it could be data.
_NAME = re.compile(r"^[A-Za-z0-9_\-\[\].]{1,64}$")
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
_BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class BadInput(Exception):
    def __init__(self, status: int, message: str, field: str):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field

    @property
    def detail(self) -> str:
        return f"{self.field}：{self.message}"


def is_json(content_type: str) -> bool:
    """``application/json`` or a ``+json`` type such as ``application/merge-patch+json``."""
    main = content_type.split(";", 1)[0].strip().lower()
    return main == "application/json" or (main.startswith("application/") and main.endswith("+json"))


def _name(raw, fallback: str) -> str:
    name = str(raw)
    return name if _NAME.match(name) else fallback


def _nul_in_pairs(pairs, fallback: str) -> str | None:
    for key, values in pairs:
        if NUL in key or any(NUL in v for v in values if isinstance(v, str)):
            return _name(key, fallback)
    return None


def nul_path(value, path: tuple = ()) -> tuple | None:
    """Where in a parsed JSON document the first string (or object key) with a NUL character sits."""
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, dict):
        for k, v in value.items():
            if NUL in k:
                return (*path, k)
            found = nul_path(v, (*path, k))
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = nul_path(v, (*path, i))
            if found is not None:
                return found
    return None


def _json_field(path: tuple) -> str:
    parts = [str(p) for p in path]
    if not parts or NUL in "".join(parts):
        return "body"
    return _name(".".join(parts), "body")


def check_request(request) -> None:
    """Raise :class:`BadInput` for input that no view could handle."""
    if len(request.META.get("QUERY_STRING", "")) > MAX_QUERY_STRING:
        raise BadInput(414, f"查询参数过长（不超过 {MAX_QUERY_STRING} 个字符）", "query")
    field = _nul_in_pairs(request.GET.lists(), "query")
    if field:
        raise BadInput(422, NUL_MESSAGE, field)
    if request.method not in _BODY_METHODS:
        return
    content_type = request.META.get("CONTENT_TYPE", "")
    try:
        if content_type.split(";", 1)[0].strip().lower() in _FORM_TYPES:
            # Parses like the view will (files streamed to disk, not counted against the limit) and is cached.
            field = _nul_in_pairs(request.POST.lists(), "form")
        else:
            body = request.body  # cached: the view reads the same bytes
            field = None
            # JSON can only carry a NUL as the escape \u0000 (a raw control character is invalid JSON): a body
            # with neither is not parsed and walked here (a batch of 1,000 items paid both on every request).
            if body and is_json(content_type) and (b"\\u0000" in body or b"\x00" in body):
                try:
                    doc = json.loads(body)
                except (ValueError, UnicodeDecodeError):
                    doc = None  # the API says what is wrong with it
                found = nul_path(doc)
                field = _json_field(found) if found is not None else None
    except RequestDataTooBig:
        raise BadInput(413, "请求内容超过允许的大小（文字内容不超过 2.5 MB）", "body") from None
    if field:
        raise BadInput(422, NUL_MESSAGE, field)


def _is_problem(response) -> bool:
    content_type = response.get("Content-Type", "")
    return content_type.startswith(PROBLEM_CONTENT_TYPE) or content_type.startswith("application/json")


class InputGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        is_api = request.path.startswith(API_PREFIX)
        try:
            check_request(request)
        except BadInput as exc:
            if is_api:
                errors = [{"field": exc.field, "message": exc.message}] if exc.status == 422 else None
                return problem_response(
                    exc.status, detail=exc.detail, field=exc.field, code=_CODES.get(exc.status, "invalid"), errors=errors
                )
            # Pages: the error in Chinese on the site's own page, with the status the page's own form errors use.
            context = {"title": "提交的内容无法处理", "detail": exc.detail}
            return render(request, "core/bad_request.html", context, status=exc.status)
        response = self.get_response(request)
        if is_api and response.status_code >= 400 and not _is_problem(response):
            return self._as_problem(response)
        return response

    @staticmethod
    def _as_problem(response):
        status = response.status_code
        problem = problem_response(status, detail=STATUS_DETAILS.get(status, ""), code=_CODES.get(status, "http_error"))
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                problem[header] = response[header]
        return problem


_CODES = {422: "invalid", 400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 413: "too_large",
          414: "uri_too_long", 415: "unsupported_media_type", 500: "server_error",
          503: "unavailable"}


def refuse_non_json(request) -> None:
    """415 for a non-empty body that does not say it is JSON (an empty body reads as "no fields given")."""
    from .problems import DomainError

    if request.body and not is_json(request.META.get("CONTENT_TYPE", "")):
        raise DomainError(
            415, "不支持的内容类型", STATUS_DETAILS[415], "Content-Type", code="unsupported_media_type"
        )


# --- the device cookie (R7.1, R8.2) ---------------------------------------------------------------------------
# A random, meaningless value a browser keeps for a year. Evaluations store only its blind index, and so do staff
# sign-ins, so the fraud detectors can tell an evaluation submitted from the rated staff member's own browser. It
# survives signing out, which a session does not. Not personal data: it names a browser, not a person, and the
# clear value is never stored.
DEVICE_COOKIE = "hcp_device"
DEVICE_COOKIE_AGE = 365 * 24 * 3600
_DEVICE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def device_id(request) -> str:
    """The browser's device cookie value ("" for clients without one, e.g. API callers)."""
    return getattr(request, "device_id", "") or ""


class DeviceCookieMiddleware:
    """Gives every page visitor a device cookie, and makes its value available as ``request.device_id``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        import secrets

        value = request.COOKIES.get(DEVICE_COOKIE, "")
        fresh = not _DEVICE_RE.match(value)
        if request.path.startswith("/api/"):
            # API clients are systems, not browsers: no cookie for them.
            request.device_id = "" if fresh else value
            return self.get_response(request)
        if fresh:
            value = secrets.token_urlsafe(24)
        request.device_id = value
        response = self.get_response(request)
        # Pages only, and never on a response a shared cache may keep (open-data downloads are public): one
        # cached Set-Cookie would hand the same device value to everyone behind the cache.
        page = response.get("Content-Type", "").startswith("text/html")
        if fresh and page and "public" not in response.get("Cache-Control", ""):
            response.set_cookie(DEVICE_COOKIE, value, max_age=DEVICE_COOKIE_AGE, httponly=True, samesite="Lax",
                                secure=request.is_secure())
        return response
