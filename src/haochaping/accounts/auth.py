"""API key authentication for django-ninja, with scopes and per-key rate limits."""

from __future__ import annotations

from ninja.security import HttpBearer

from haochaping.core.problems import DomainError

from . import ratelimit
from .services import authenticate_api_key


class ApiKeyAuth(HttpBearer):
    """``Authorization: Bearer hcp_…``. Unknown, revoked or expired keys get 401 (logged by prefix); a key over
    its per-minute limit gets 429 with ``Retry-After``; a valid key without the required scope gets 403."""

    def __init__(self, scope: str):
        super().__init__()
        self.scope = scope

    def authenticate(self, request, token):
        key = authenticate_api_key(token)
        if key is None:
            return None
        # Counted before the scope check: a client hammering an endpoint it may not use is still throttled.
        ratelimit.check_api_key(key)
        if self.scope not in key.scopes:
            raise DomainError(403, "权限不足", f"该接口密钥没有“{self.scope}”权限", "Authorization", code="forbidden")
        request.api_key = key
        return key
