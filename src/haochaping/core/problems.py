"""RFC 9457 problem details for the API, with Chinese titles and the offending field named."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field

PROBLEM_CONTENT_TYPE = "application/problem+json"


@dataclass
class DomainError(Exception):
    """A rule refused the request. Services raise it; the API turns it into problem details and pages
    show ``detail`` next to ``field``."""

    status: int
    title: str
    detail: str = ""
    field: str | None = None
    code: str = "invalid"
    extra: dict = dc_field(default_factory=dict)
    headers: dict = dc_field(default_factory=dict)  # e.g. Retry-After on a 429

    def __str__(self) -> str:
        return f"{self.code}: {self.detail or self.title}"


def not_found(detail: str, field: str | None = None) -> DomainError:
    return DomainError(404, "未找到", detail, field, code="not_found")


def conflict(detail: str, field: str | None = None, **extra) -> DomainError:
    return DomainError(409, "冲突", detail, field, code="conflict", extra=extra)


def invalid(detail: str, field: str | None = None, **extra) -> DomainError:
    return DomainError(422, "请求内容有误", detail, field, code="invalid", extra=extra)


# Titles for statuses that arise below the API's own handlers (Django's URL resolver, the method check, the body
# size limit, the CSRF check): every response under /api/ is a problem document, whichever layer answered.
STATUS_TITLES = {
    400: "请求有误",
    401: "未认证",
    403: "禁止访问",
    404: "未找到",
    405: "不支持该请求方法",
    409: "冲突",
    413: "请求内容过大",
    414: "请求地址过长",
    415: "不支持的内容类型",
    422: "请求内容有误",
    429: "请求过于频繁",
    500: "服务器内部错误",
}
STATUS_DETAILS = {
    400: "请求格式不正确",
    403: "没有执行该操作的权限",
    404: "请求的资源不存在",
    405: "该地址不支持此请求方法",
    413: "请求内容超过允许的大小",
    414: "请求地址（含查询参数）过长",
    415: "请求体必须是 JSON（Content-Type: application/json）",
    500: "服务器处理请求时出错，请稍后重试；如持续出现请联系管理员",
}


def problem_body(
    *, status: int, title: str | None = None, detail: str = "", field: str | None = None, code: str = "",
    errors=None, extra=None,
) -> dict:
    """The RFC 9457 document: ``type`` carries our short code as a fragment, ``field`` names the offending input."""
    body = {
        "type": f"about:blank#{code}" if code else "about:blank",
        "title": title or STATUS_TITLES.get(status, "请求无法处理"),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if field:
        body["field"] = field
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return body


def problem_response(status: int, **kw):
    """A problem document as a Django response, for layers that answer before the API's handlers run."""
    import json

    from django.http import HttpResponse

    kw.setdefault("detail", STATUS_DETAILS.get(status, ""))
    body = problem_body(status=status, **kw)
    return HttpResponse(
        json.dumps(body, ensure_ascii=False).encode(), status=status, content_type=PROBLEM_CONTENT_TYPE
    )
