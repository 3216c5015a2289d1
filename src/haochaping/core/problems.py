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
    503: "服务暂时不可用",
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
    503: "数据库暂时不可用或繁忙，请求未完成；请在 Retry-After 秒后按原样重试（同一幂等键的重试不会重复保存）",
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


# What pydantic's error types mean, in the words a caller reads.
PYDANTIC_MESSAGES = {
    "missing": "缺少必填字段",
    "string_too_long": "内容过长",
    "string_too_short": "内容过短",
    "string_type": "应为文字",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "bool_type": "应为是或否",
    "bool_parsing": "应为是或否",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "datetime_type": "应为带时区的 ISO 8601 时间",
    "datetime_parsing": "应为带时区的 ISO 8601 时间",
    "datetime_from_date_parsing": "应为带时区的 ISO 8601 时间",
    "timezone_aware": "时间必须带时区，例如 2026-01-05T09:30:00+08:00",
    "string_pattern_mismatch": "格式不正确",
    "json_invalid": "请求体不是合法的 JSON",
    "model_attributes_type": "应为对象",
    "dict_type": "应为对象",
    "list_type": "应为列表",
    "too_long": "条目过多",
    "too_short": "条目过少",
    "greater_than": "数值过小",
    "less_than": "数值过大",
    "int_from_float": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "date_type": "应为日期，格式如 2026-01-05",
    "date_parsing": "应为日期，格式如 2026-01-05",
    "date_from_datetime_parsing": "应为日期，格式如 2026-01-05",
    "date_from_datetime_inexact": "应为日期，格式如 2026-01-05",
    "extra_forbidden": "不允许的字段",
    "value_error": "取值不正确",
}


def _field_of(loc) -> str:
    # ("body", "payload", "evaluator", "phone") → "evaluator.phone"; drop the transport prefix.
    parts = [str(p) for p in loc]
    while parts and parts[0] in ("body", "payload", "query", "path", "header", "data"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_errors(errors) -> list[dict]:
    """pydantic's errors as ``[{"field", "message"}]`` in Chinese. The submitted value is never echoed back: it
    may be personal data (a phone number, an ID number)."""
    out = []
    for e in errors:
        message = PYDANTIC_MESSAGES.get(e.get("type", ""), "取值不正确")
        if e.get("type") == "value_error" and str(e.get("msg", "")).startswith("Value error, "):
            message = str(e["msg"])[len("Value error, ") :]
        out.append({"field": _field_of(e.get("loc", ())), "message": message})
    return out
