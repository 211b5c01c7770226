"""Token authentication for the API, Action Network style, and per-token scopes.

A token comes in the `OSDI-API-Token` header (what Action Network's clients send) or as
`Authorization: Token …`. There is no session authentication: a browser signed in to the back
office must not be able to reach the API through a page on another site.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from .models import ApiToken
from .scopes import SCOPES, user_may_hold
from .tokens import token_for_secret

if TYPE_CHECKING:
    from rest_framework.views import APIView

HEADER = "OSDI-API-Token"


def _secret(request: Request) -> str | None:
    if header := request.META.get("HTTP_OSDI_API_TOKEN"):
        return str(header).strip()
    authorization = str(request.META.get("HTTP_AUTHORIZATION", ""))
    keyword, _space, value = authorization.partition(" ")
    if keyword.lower() == "token" and value.strip():
        return value.strip()
    return None


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        secret = _secret(request)
        if secret is None:
            return None
        token = token_for_secret(secret)
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API token.")
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # A value here makes a missing or bad token a 401 rather than a 403.
        return 'Token realm="api"'


class HasScopes(BasePermission):
    """Let a request through only with a live token that holds the view's scope for its method.

    A view names its scopes in `required_scopes` ({"GET": "people:read", …}); a method it does
    not name is refused, so forgetting a scope closes a door instead of opening it.
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            raise exceptions.NotAuthenticated(
                f"Send an API token in the {HEADER} header (or 'Authorization: Token …')."
            )
        required: dict[str, str] = getattr(view, "required_scopes", {})
        method = "GET" if request.method in ("HEAD", "OPTIONS") else str(request.method)
        scope = required.get(method)
        if scope is None or scope not in SCOPES:
            raise exceptions.PermissionDenied("This method is not open to API tokens here.")
        if scope not in token.scopes:
            raise exceptions.PermissionDenied(
                f"This token lacks the scope '{scope}' ({SCOPES[scope][1]}). Make a token with "
                f"--scope {scope}."
            )
        if not user_may_hold(token.user, scope):
            raise exceptions.PermissionDenied(
                f"The token's user no longer has the permission behind '{scope}'."
            )
        return True
