"""Names the signed-in user as the actor of every change made while handling a request."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from .context import acting_as, actor_for_user


class AuditActorMiddleware:
    """Must come after AuthenticationMiddleware, which gives the request its user."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        with acting_as(lambda: actor_for_user(getattr(request, "user", None))):
            return self.get_response(request)
