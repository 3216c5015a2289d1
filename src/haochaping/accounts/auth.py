"""API key authentication for django-ninja, with scopes."""

from __future__ import annotations

from ninja.security import HttpBearer

from haochaping.core.problems import DomainError

from .services import authenticate_api_key


class ApiKeyAuth(HttpBearer):
    """``Authorization: Bearer hcp_…``. A valid key without the required scope is refused with 403."""

    def __init__(self, scope: str):
        super().__init__()
        self.scope = scope

    def authenticate(self, request, token):
        key = authenticate_api_key(token)
        if key is None:
            return None
        if self.scope not in key.scopes:
            raise DomainError(403, "权限不足", f"该接口密钥没有“{self.scope}”权限", "Authorization", code="forbidden")
        request.api_key = key
        return key
