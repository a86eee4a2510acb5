"""Bearer-token authentication for the store API, with one scope per operation."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from shopkeep.stores.models import ApiToken
from shopkeep.stores.permissions import token_allows
from shopkeep.stores.services import token_authenticate


class InsufficientScope(Exception):
    def __init__(self, scope: str) -> None:
        super().__init__(scope)
        self.scope = scope


class TokenAuth(HttpBearer):
    """``Authorization: Bearer sk_...``; sets ``request.store`` and ``request.api_token``.

    A missing, unknown, revoked or expired key is 401 with the same message; a valid key
    without the operation's scope is 403 naming the scope it lacks.
    """

    openapi_scheme = "bearer"

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        api_token = token_authenticate(token.strip())
        if api_token is None:
            return None
        if not token_allows(api_token.scopes, self.scope):
            raise InsufficientScope(self.scope)
        request.store = api_token.store
        request.api_token = api_token
        return api_token


def scope(name: str) -> TokenAuth:
    return TokenAuth(name)
