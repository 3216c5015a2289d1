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
