"""What the supervision API (surveys, callback sampling, assessments, appraisal) shares: who may call it and how
its lists page.

A person signed in to the site (session cookie; CSRF checked on unsafe methods) is admitted when the matching page
would admit them — the predicates are the pages' own (each sub-package's services or views), so the API and the
pages never disagree about access. Figures without personal data are also open to keys holding ``stats:read``.
What a caller then sees is core.scoping.scope, through the same services the pages use.

Lists page by id (``next_cursor`` is the last id of the page), like the other routers' cursor pages: ``items``,
``next_cursor`` (None at the end) and ``total`` (rows matching across all pages)."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet
from ninja import Field
from ninja.security import SessionAuth

from haochaping.accounts.auth import ApiKeyAuth
from haochaping.accounts.models import Scope
from haochaping.core.problems import DomainError
from haochaping.core.schemas import QuerySchema

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


class PersonAuth(SessionAuth):
    def __init__(self, allow: Callable[[object], bool], refusal: str):
        super().__init__(csrf=True)
        self.allow = allow
        self.refusal = refusal

    def authenticate(self, request, key):
        user = request.user
        if not user.is_authenticated:
            return None
        if not self.allow(user):
            raise DomainError(403, "权限不足", self.refusal, code="forbidden")
        return user


def figure_readers(person: PersonAuth) -> list:
    """A key holding ``stats:read`` or a person ``person`` admits."""
    return [ApiKeyAuth(Scope.STATS_READ), person]


class PageFilters(QuerySchema):
    cursor: str | None = Field(None, max_length=20, pattern=r"^\d+$", description="上一页返回的 next_cursor；第一页不填")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"每页条数，最多{MAX_LIMIT}")


def page_by_id(queryset: QuerySet, filters: PageFilters, out: Callable) -> dict:
    total = queryset.count()
    rows = queryset.order_by("pk")
    if filters.cursor:
        rows = rows.filter(pk__gt=int(filters.cursor))
    rows = list(rows[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return {"items": [out(r) for r in rows], "next_cursor": str(rows[-1].pk) if more else None, "total": total}
