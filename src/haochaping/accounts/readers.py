"""Reading lists through the API: who may read (a key with the read scope, or a signed-in person with the view
permission), what they see (core.scoping.scope, nothing else), and how much at a time (cursor pages).

Out-of-scope rows are absent from lists, from totals and from detail lookups (404), exactly as if they did not
exist.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from ninja import Field
from ninja.security import SessionAuth

from haochaping.core.problems import DomainError, invalid
from haochaping.core.schemas import QuerySchema
from haochaping.core.scoping import scope
from haochaping.org.rules import region_prefix

from .auth import ApiKeyAuth

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


class SessionPermissionAuth(SessionAuth):
    """A person signed in to the site (session cookie; CSRF checked on unsafe methods) who holds ``permission``."""

    def __init__(self, permission: str):
        super().__init__(csrf=True)
        self.permission = permission

    def authenticate(self, request, key):
        user = request.user
        if not user.is_authenticated:
            return None
        if not user.has_perm(self.permission):
            raise DomainError(403, "权限不足", "您的账号没有查看这些数据的权限", code="forbidden")
        return user


def readers(key_scope: str, permission: str) -> list:
    """The ``auth`` of a read endpoint: an API key holding ``key_scope`` or a session user with ``permission``."""
    return [ApiKeyAuth(key_scope), SessionPermissionAuth(permission)]


def scoped(request, queryset: QuerySet) -> QuerySet:
    """``queryset`` narrowed to what the authenticated key or person may see."""
    return scope(queryset, request.auth)


class UnitFilters(QuerySchema):
    """Filters shared by the 办件 and evaluation lists, plus the page."""

    region_code: str | None = Field(
        None, pattern=r"^(\d{6}|\d{9}|\d{12})$", description="行政区划代码；包含其下级地区"
    )
    department: str | None = Field(None, max_length=18, description="部门统一社会信用代码")
    agency: str | None = Field(None, max_length=40, description="政务服务机构编码")
    window: str | None = Field(None, max_length=40, description="窗口编号（通常与机构编码同用）")
    staff_no: str | None = Field(None, max_length=40, description="工作人员工号")
    date_from: date | None = Field(None, alias="from", description="起始日期（含），按北京时间")
    date_to: date | None = Field(None, alias="to", description="截止日期（含），按北京时间")
    cursor: str | None = Field(None, max_length=200, description="上一页返回的 next_cursor；第一页不填")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"每页条数，最多{MAX_LIMIT}")

    def apply(self, queryset: QuerySet) -> QuerySet:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise invalid("起始日期不能晚于截止日期", "from")
        if self.region_code:
            queryset = queryset.filter(region__pk__startswith=region_prefix(self.region_code))
        if self.department:
            queryset = queryset.filter(department__credit_code=self.department.strip().upper())
        if self.agency:
            queryset = queryset.filter(agency__code=self.agency)
        if self.window:
            queryset = queryset.filter(window__code=self.window)
        if self.staff_no:
            queryset = queryset.filter(staff__staff_no=self.staff_no)
        if self.date_from:
            queryset = queryset.filter(created_at__gte=_day_start(self.date_from))
        if self.date_to:
            queryset = queryset.filter(created_at__lt=_day_start(self.date_to + timedelta(days=1)))
        return queryset


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def encode_cursor(created_at: datetime, pk: int) -> str:
    raw = json.dumps([created_at.isoformat(), pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment, pk = json.loads(raw)
        moment = datetime.fromisoformat(moment)
        if not isinstance(pk, int) or moment.tzinfo is None:
            raise ValueError
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError, UnicodeDecodeError):
        raise invalid("翻页游标无效，请使用上一页返回的 next_cursor", "cursor") from None
    return moment, pk


def page(queryset: QuerySet, filters: UnitFilters) -> tuple[list, str | None, int]:
    """One page in the stable order (created_at, id): the rows, the cursor of the next page (None at the end),
    and the number of rows matching the filters (within scope) across all pages."""
    total = queryset.count()
    rows = queryset.order_by("created_at", "pk")
    if filters.cursor:
        moment, pk = decode_cursor(filters.cursor)
        rows = rows.filter(Q(created_at__gt=moment) | Q(created_at=moment, pk__gt=pk))
    rows = list(rows[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].pk) if more else None
    return rows, next_cursor, total
