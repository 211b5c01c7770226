"""Re-authentication before sealed reads and exports (M10 in docs/threat-model.md).

A session that logged in hours ago may be on a laptop left open, or in the hands of someone who
relayed a phished code once. Before a view shows sealed data or produces an export, the person
must type their password and a second-factor code again; that opens a window of 5 minutes.

Use it on function views::

    from solidarity.accounts.decorators import require_recent_auth

    @require_recent_auth
    def whereabouts(request, pk): ...

    @require_recent_auth(max_age=timedelta(minutes=2))
    def export_signers(request, pk): ...

on class-based views with the mixin (first among the bases)::

    class WhereaboutsView(RecentAuthRequiredMixin, DetailView):
        recent_auth_max_age = timedelta(minutes=5)

and on admin views with `method_decorator(require_recent_auth)` or by wrapping the view in
`get_urls()`. An anonymous visitor is sent to the login page; a logged-in user whose last
authentication is older than `max_age` is sent to the re-authentication page, which returns
them to the same URL afterwards. For a POST the data is not replayed: the user comes back to
the URL by GET, so a POST-only export view should render its confirmation form on GET.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, overload
from urllib.parse import urlencode

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from solidarity.accounts.sessions import RECENT_AUTH, authenticated_within

View = Callable[..., HttpResponse]


def recent_auth_redirect(request: HttpRequest, max_age: timedelta) -> HttpResponse | None:
    """The redirect a request needs before it may proceed, or None if it may proceed now."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("accounts:login"))
    verified = getattr(user, "is_verified", None)
    if callable(verified) and verified() and authenticated_within(request.session, max_age):
        return None
    query = urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
    return HttpResponseRedirect(f"{reverse('accounts:reauth')}?{query}")


@overload
def require_recent_auth(view: View, *, max_age: timedelta = ...) -> View: ...
@overload
def require_recent_auth(
    view: None = None, *, max_age: timedelta = ...
) -> Callable[[View], View]: ...
def require_recent_auth(
    view: View | None = None, *, max_age: timedelta = RECENT_AUTH
) -> View | Callable[[View], View]:
    """Let the view run only within `max_age` of the user's last password + code."""

    def decorate(inner: View) -> View:
        @wraps(inner)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            redirect = recent_auth_redirect(request, max_age)
            if redirect is not None:
                return redirect
            return inner(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


class RecentAuthRequiredMixin:
    """Class-based twin of `require_recent_auth`."""

    recent_auth_max_age: timedelta = RECENT_AUTH

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        redirect = recent_auth_redirect(request, self.recent_auth_max_age)
        if redirect is not None:
            return redirect
        response: HttpResponse = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        return response


class RecentAuthAdminMixin:
    """ModelAdmin twin: a POST that changes privileges needs a recent password + code.

    Threat (ASVS 7.5.3): a session left open, or taken over after one relayed code, must not be
    enough to make its holder (or a confederate) a superuser, a section coordinator or a member
    of a powerful group. Viewing the pages stays as it is; the POST that would grant or withdraw
    is answered with the re-authentication page and saves nothing. Afterwards the user comes
    back to the form by GET and submits it again.

    By default every add, change and delete is such a POST (a role or a group is nothing but
    privileges); `grants_privileges` narrows it for models that hold other data too.
    """

    recent_auth_max_age: timedelta = RECENT_AUTH

    def grants_privileges(self, request: HttpRequest, object_id: str | None) -> bool:
        return True

    def _stale(self, request: HttpRequest, object_id: str | None) -> HttpResponse | None:
        if request.method != "POST" or not self.grants_privileges(request, object_id):
            return None
        return recent_auth_redirect(request, self.recent_auth_max_age)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        redirect = self._stale(request, object_id)
        if redirect is not None:
            return redirect
        response: HttpResponse = super().changeform_view(  # type: ignore[misc]
            request, object_id, form_url, extra_context
        )
        return response

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        redirect = self._stale(request, object_id)
        if redirect is not None:
            return redirect
        response: HttpResponse = super().delete_view(  # type: ignore[misc]
            request, object_id, extra_context
        )
        return response

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Bulk actions ("delete selected") withdraw privileges in one POST too.
        redirect = self._stale(request, None) if "action" in request.POST else None
        if redirect is not None:
            return redirect
        response: HttpResponse = super().changelist_view(  # type: ignore[misc]
            request, extra_context
        )
        return response
