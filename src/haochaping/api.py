"""The JSON API under /api/v1/: routers from each app, errors as RFC 9457 problem details in Chinese."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.renderers import JSONRenderer

from haochaping.core.middleware import refuse_non_json
from haochaping.core.openapi import document_problems
from haochaping.core.problems import (
    PROBLEM_CONTENT_TYPE,
    PYDANTIC_MESSAGES,
    STATUS_DETAILS,
    DomainError,
    problem_body,
    validation_errors,
)

log = logging.getLogger(__name__)

class ChineseJSONRenderer(JSONRenderer):
    # UTF-8 as is: readable Chinese in responses and logs of clients, not \u-escaped code points.
    json_dumps_params = {"ensure_ascii": False}


class JSONBodyParser(Parser):
    """Bodies are JSON: any other declared type is refused with 415 before the body is parsed."""

    def parse_body(self, request):
        refuse_non_json(request)
        return super().parse_body(request)


class ProblemsAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        # Every status an operation can answer, in one place (core.openapi), not repeated on each route.
        return document_problems(super().get_openapi_schema(*args, **kwargs))


api = ProblemsAPI(
    parser=JSONBodyParser(),
    renderer=ChineseJSONRenderer(),
    title="好差评系统接口",
    version="1",
    description="政务服务“好差评”：办件推送、评价提交、评价标签与回执查询。错误按 RFC 9457 以 problem details 返回。",
    urls_namespace="api-v1",
)

def problem(request, *, status: int, title: str, detail: str = "", field: str | None = None, code: str = "", errors=None, extra=None, headers=None):
    body = problem_body(status=status, title=title, detail=detail, field=field, code=code, errors=errors, extra=extra)
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = PROBLEM_CONTENT_TYPE
    for k, v in (headers or {}).items():
        response[k] = v
    return response


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    return problem(
        request, status=exc.status, title=exc.title, detail=exc.detail, field=exc.field, code=exc.code, extra=exc.extra,
        headers=exc.headers,
    )


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    errors = validation_errors(exc.errors)
    first = errors[0] if errors else {"field": "body", "message": "请求内容有误"}
    return problem(
        request, status=422, title="请求内容有误", detail=f"{first['field']}：{first['message']}", field=first["field"],
        code="invalid", errors=errors,
    )


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return problem(
        request, status=401, title="未认证", detail="缺少或无效的凭据：接口密钥（Authorization: Bearer …）或评价器密钥（X-Kiosk-Secret）不存在、已吊销或已过期",
        field="Authorization", code="unauthenticated", headers={"WWW-Authenticate": "Bearer"},
    )


# ninja reports a body that json.loads rejects as HttpError(400, "Cannot parse request body…").
BODY_PARSE_ERROR = "Cannot parse request body"


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    if isinstance(exc.__cause__, DomainError):
        # ninja wraps whatever the body parser raises (JSONBodyParser's 415) into "Cannot parse request body".
        return on_domain_error(request, exc.__cause__)
    if exc.status_code == 400 and str(exc).startswith(BODY_PARSE_ERROR):
        message = PYDANTIC_MESSAGES["json_invalid"]
        return problem(
            request, status=422, title="请求内容有误", detail=f"body：{message}", field="body", code="invalid",
            errors=[{"field": "body", "message": message}],
        )
    return problem(request, status=exc.status_code, title="请求无法处理", detail=str(exc), code="http_error")


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def on_database_unavailable(request, exc):
    # The database went away or restarted, or chose this request as a deadlock's victim: the request's transaction was rolled back (or, if the
    # connection was lost at COMMIT, its outcome is unknown), and a retry with the same idempotency key is safe either
    # way. The error's text can quote SQL, so only its SQLSTATE is logged.
    log.warning("database unavailable in %s %s: SQLSTATE %s", request.method, request.path,
                getattr(exc.__cause__, "sqlstate", None) or "-")
    return problem(request, status=503, title="服务暂时不可用", detail=STATUS_DETAILS[503], code="unavailable",
                   headers={"Retry-After": "5"})


@api.exception_handler(Exception)
def on_unexpected_error(request, exc: Exception):
    # Operators get the traceback in the log; the client gets a problem document, never internals.
    log.error("unhandled error in %s %s", request.method, request.path, exc_info=exc)
    return problem(request, status=500, title="服务器内部错误", detail="服务器处理请求时出错，请稍后重试；如持续出现请联系管理员", code="server_error")


@api.exception_handler(Http404)
def on_404(request, exc):
    return problem(request, status=404, title="未找到", detail="请求的资源不存在", code="not_found")


def _register_routers() -> None:
    from haochaping.evaluation.api import router as evaluation_router
    from haochaping.evaluation.api.kiosk import router as kiosk_router
    from haochaping.records.api import router as records_router

    api.add_router("/records", records_router)
    api.add_router("/", evaluation_router)
    api.add_router("/kiosks", kiosk_router)
    from haochaping.rectification.api import router as cases_router
    from haochaping.rectification.api.appeals import router as appeals_router

    api.add_router("/cases", cases_router)
    api.add_router("/appeals", appeals_router)
    from haochaping.insight.api import router as stats_router

    api.add_router("/stats", stats_router)
    from haochaping.exchange.api import batch_router, health_router, node_router

    api.add_router("/batch", batch_router)
    api.add_router("/exchange", node_router)
    api.add_router("/health", health_router)
    from haochaping.transparency.api import router as log_router

    api.add_router("/log", log_router)
    from haochaping.supervision.complaints.api import router as complaints_router

    api.add_router("/complaints", complaints_router)
    from haochaping.supervision.appraisal.api import router as appraisal_router
    from haochaping.supervision.assessments.api import router as assessments_router
    from haochaping.supervision.sampling.api import router as callbacks_router
    from haochaping.supervision.surveys.api import router as surveys_router

    api.add_router("/surveys", surveys_router)
    api.add_router("/callbacks", callbacks_router)
    api.add_router("/assessments", assessments_router)
    api.add_router("/appraisal", appraisal_router)


_register_routers()
