"""Names the signed-in user as the actor of every change made while handling a request, and
writes the request's refusals and personal reads once it is answered; a back-office change
list showing personal columns is one of those reads (audit/personal.py)."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

from .context import acting_as, actor_for_user
from .personal import record_change_list
from .services import once_per_request, record_permission_denied


class AuditActorMiddleware:
    """Must come after AuthenticationMiddleware, which gives the request its user."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        with (
            acting_as(lambda: actor_for_user(getattr(request, "user", None))),
            once_per_request(),
        ):
            return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        """A view that refused the user (PermissionDenied, answered 403) leaves an entry."""
        if isinstance(exception, PermissionDenied):
            match = request.resolver_match
            kwargs = match.kwargs if match is not None else {}
            object_pk = kwargs.get("object_id", kwargs.get("pk", ""))
            view_name = match.view_name if match is not None else ""
            record_permission_denied(
                getattr(request, "user", None), view_name, object_pk, request.method or ""
            )

    def process_template_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        """A change list whose columns include personal fields leaves a `personal_list` entry.
        Here, not in each ModelAdmin, so that no app's list can forget it."""
        record_change_list(request, response)
        return response
