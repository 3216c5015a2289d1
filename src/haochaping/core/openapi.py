"""The error answers of every API operation, added to the OpenAPI document in one place.

Routes declare their success responses; what can go wrong follows from the operation's shape (authentication,
path parameters, a body) and from the layers every request passes (core.middleware, haochaping.api), so it is
derived here instead of being repeated, and forgotten, on each route. Every one is an RFC 9457 problem document.
"""

from __future__ import annotations

from .problems import PROBLEM_CONTENT_TYPE, STATUS_TITLES

PROBLEM_SCHEMA = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details；title/detail 为中文，field 指出有问题的字段（不回显提交的值）",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "description": "about:blank，# 后为错误代码"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "field": {"type": "string", "description": "有问题的字段（点号分隔的路径）或请求头"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

WHEN = {
    400: "请求格式不正确",
    401: "缺少或无效的凭据",
    403: "无权执行该操作（权限、行政区划范围或 CSRF 校验）",
    404: "资源不存在或不在调用者的权限范围内",
    409: "与现有数据冲突（重复提交、状态不允许）",
    413: "请求体超过大小上限",
    414: "查询参数过长",
    415: "请求体不是 JSON（或该操作允许的表单格式）",
    422: "字段取值有误（含未知字段、空字符、不合理的时间），field 指出字段",
    429: "请求过于频繁（接口密钥或评价器的每分钟限额），见 Retry-After",
    503: "数据库暂时不可用（重启、连接中断），请求未完成；见 Retry-After，按原样重试",
}


def statuses(method: str, operation: dict) -> set[int]:
    """The error statuses ``operation`` can answer with."""
    found = {400, 414, 422, 503}  # any request: a malformed query string, a NUL character, a bad parameter, the
    # database gone for a moment
    params = {p.get("in") for p in operation.get("parameters", [])}
    has_body = "requestBody" in operation
    if operation.get("security"):
        found |= {401, 403}
        schemes = {name for requirement in operation["security"] for name in requirement}
        if schemes & {"ApiKeyAuth", "KioskAuth"}:
            found.add(429)
    if "path" in params or has_body:
        found.add(404)  # the addressed row, or one the body names, does not exist or is out of scope
    if method in ("post", "put", "patch", "delete"):
        found |= {409, 413, 415}
    return found


def document_problems(schema: dict) -> dict:
    """``schema`` (an OpenAPI document) with every operation's error statuses and the Problem component."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses(method, operation)):
                if status in responses or str(status) in responses:
                    continue  # the route describes it itself
                responses.setdefault(status, {
                    "description": f"{STATUS_TITLES[status]}：{WHEN[status]}",
                    "content": {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF}},
                })
    return schema
