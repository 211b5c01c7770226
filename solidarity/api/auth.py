"""Token authentication for the API, Action Network style, and per-token scopes.

A token comes in the `OSDI-API-Token` header (what Action Network's clients send) or as
`Authorization: Token …`. There is no session authentication: a browser signed in to the back
office must not be able to reach the API through a page on another site.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from solidarity.accounts.throttle import client_key
from solidarity.audit.services import record_refused_request

from .models import ApiToken
from .scopes import SCOPES, user_may_hold
from .tokens import token_for_secret

if TYPE_CHECKING:
    from rest_framework.views import APIView

HEADER = "OSDI-API-Token"


def token_secret(request: HttpRequest | Request) -> str | None:
    """The token a request carries, whether or not it is a live one."""
    if header := request.META.get("HTTP_OSDI_API_TOKEN"):
        return str(header).strip()
    authorization = str(request.META.get("HTTP_AUTHORIZATION", ""))
    keyword, _space, value = authorization.partition(" ")
    if keyword.lower() == "token" and value.strip():
        return value.strip()
    return None


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        secret = token_secret(request)
        if secret is None:
            return None
        token = token_for_secret(secret)
        if token is None:
            # A guessed, stolen-and-revoked or mistyped token: never the secret itself.
            record_refused_request(
                "api_token_refused",
                None,
                _view_name(request),
                str(request.method),
                "unknown_or_revoked",
                once_per=client_key(request),
            )
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
            self._refuse(request, token, "method_not_open")
            raise exceptions.PermissionDenied("This method is not open to API tokens here.")
        if scope not in token.scopes:
            self._refuse(request, token, f"lacks_scope:{scope}")
            raise exceptions.PermissionDenied(
                f"This token lacks the scope '{scope}' ({SCOPES[scope][1]}). Make a token with "
                f"--scope {scope}."
            )
        if not user_may_hold(token.user, scope):
            self._refuse(request, token, f"user_lacks_permission:{scope}")
            raise exceptions.PermissionDenied(
                f"The token's user no longer has the permission behind '{scope}'."
            )
        return True

    @staticmethod
    def _refuse(request: Request, token: ApiToken, reason: str) -> None:
        """A live token asked for more than it may (ASVS 16.3.2): logged under the token's user,
        once a minute per token and view (the token's rate limit bounds the rest)."""
        record_refused_request(
            "api_refused",
            token.user,
            _view_name(request),
            str(request.method),
            reason,
            once_per=f"token:{token.pk}",
        )


def _view_name(request: Request) -> str:
    # The URL name, never the path: a path may hold the slug of an unpublished record.
    match = getattr(request._request, "resolver_match", None)
    return match.view_name if match is not None else ""
