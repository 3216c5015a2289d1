"""What the cases and appeals API share: who may call (keys read, people act), pages on a date field, and request
bodies that come either as JSON or as multipart with evidence files.

Who may do what (docs/api.md "Cases and appeals"):

- an API key acts as a system, never as a person: with ``cases:read`` it reads cases and appeals of its region,
  with ``cases:write`` it registers complaints (a unit's business system, the 12345 hotline), with ``stats:read``
  it reads the case figures;
- every step of a case or an appeal (assign, callback, outcome, …, decision) is a person's act, signed in to the
  site (session cookie + CSRF token): the services check the person's role and scope; a key gets 403.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

import pydantic
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from ninja.errors import ValidationError
from ninja.security import APIKeyCookie
from ninja.utils import check_csrf

from haochaping.accounts.readers import SessionPermissionAuth, decode_cursor, encode_cursor
from haochaping.accounts.services import authenticate_api_key
from haochaping.core.middleware import refuse_non_json
from haochaping.core.problems import DomainError, invalid

CASE_PERMISSION = "rectification.view_rectificationcase"
APPEAL_PERMISSION = "rectification.view_appeal"


class PersonAuth(APIKeyCookie):
    """A person signed in to the site (session cookie), for the steps of a case or an appeal. Unsafe methods need
    the CSRF token (``X-CSRFToken`` header, from the ``csrftoken`` cookie). A request that carries an API key
    instead is refused with 403: keys act as systems, and these steps need a named person."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self):
        super().__init__(csrf=True)

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
                raise DomainError(
                    403, "权限不足", "缺少或无效的 CSRF 令牌：请在 X-CSRFToken 请求头中携带 csrftoken Cookie 的值",
                    "X-CSRFToken", code="forbidden",
                )
            return user
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer ") and authenticate_api_key(header[7:].strip()) is not None:
            raise DomainError(
                403, "权限不足", "案件和申诉的办理步骤须由工作人员登录本系统后办理，接口密钥不能办理",
                "Authorization", code="forbidden",
            )
        return None

    def authenticate(self, request, key):  # pragma: no cover - __call__ decides
        return None


class SessionAnyPermissionAuth(SessionPermissionAuth):
    """A signed-in person holding any one of ``permissions``."""

    def __init__(self, *permissions: str):
        super().__init__(permissions[0])
        self.permissions = permissions

    def authenticate(self, request, key):
        user = request.user
        if not user.is_authenticated:
            return None
        if not any(user.has_perm(p) for p in self.permissions):
            raise DomainError(403, "权限不足", "您的账号没有查看这些数据的权限", code="forbidden")
        return user


def day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def in_period(queryset: QuerySet, field: str, date_from: date | None, date_to: date | None) -> QuerySet:
    """Rows whose ``field`` (a moment) falls on the days ``date_from``..``date_to`` (inclusive, Beijing time)."""
    if date_from and date_to and date_from > date_to:
        raise invalid("起始日期不能晚于截止日期", "from")
    if date_from:
        queryset = queryset.filter(**{f"{field}__gte": day_start(date_from)})
    if date_to:
        queryset = queryset.filter(**{f"{field}__lt": day_start(date_to + timedelta(days=1))})
    return queryset


def page_by(queryset: QuerySet, field: str, cursor: str | None, limit: int) -> tuple[list, str | None, int]:
    """One page in the stable order (``field``, id), like accounts.readers.page on another moment field: the rows,
    the next page's cursor (None at the end) and the number of rows across all pages."""
    total = queryset.count()
    rows = queryset.order_by(field, "pk")
    if cursor:
        moment, pk = decode_cursor(cursor)
        rows = rows.filter(Q(**{f"{field}__gt": moment}) | Q(**{field: moment, "pk__gt": pk}))
    rows = list(rows[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(getattr(rows[-1], field), rows[-1].pk) if more else None
    return rows, next_cursor, total


MULTIPART = "multipart/form-data"
FILES_FIELD = "files"


def parse_body(request, schema: type[pydantic.BaseModel]) -> tuple[pydantic.BaseModel, list]:
    """The request body as ``schema``, from JSON or from a multipart form (whose ``files`` parts are the evidence
    files). Errors read like ninja's own: 422 naming the field, in Chinese (haochaping.api)."""
    if request.content_type == MULTIPART:
        # A blank form field means "not given", as on the pages.
        data = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken" and v != ""}
        files = request.FILES.getlist(FILES_FIELD)
    else:
        refuse_non_json(request)
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise ValidationError([{"loc": ("body",), "type": "json_invalid", "msg": ""}]) from None
        files = []
    try:
        return schema.model_validate(data), files
    except pydantic.ValidationError as exc:
        raise ValidationError([dict(e) for e in exc.errors(include_url=False, include_input=False)]) from None


def body_doc(schema: type[pydantic.BaseModel], *, files_description: str | None) -> dict:
    """``openapi_extra`` describing a body read by :func:`parse_body`: JSON, or multipart with ``files``."""
    json_schema = schema.model_json_schema()
    multipart = json.loads(json.dumps(json_schema))
    content = {"application/json": {"schema": json_schema}}
    if files_description:
        multipart.setdefault("properties", {})[FILES_FIELD] = {
            "type": "array", "items": {"type": "string", "format": "binary"}, "description": files_description,
        }
        content[MULTIPART] = {"schema": multipart}
    return {"requestBody": {"required": True, "content": content}}
