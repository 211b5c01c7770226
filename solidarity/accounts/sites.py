"""The admin site every back-office page is served by: it demands a verified second factor.

It becomes `django.contrib.admin.site` through `SolidarityAdminConfig` (apps.py), so the
apps' `admin.site.register(...)` calls need no change. Its login page is the accounts login,
which asks for the password and then the second factor (or sets one up).
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse


class SolidarityAdminSite(admin.AdminSite):
    def register(
        self,
        model_or_iterable: Any,
        admin_class: type[admin.ModelAdmin[Any]] | None = None,
        **options: Any,
    ) -> None:
        # Every list of the back office searches by POST and a session token, never with the
        # name in the URL (proxy logs, a seized laptop's history: search/private_search.py).
        # Done here so that no ModelAdmin, ours or Django's, can be registered without it.
        from solidarity.search.private_search import with_private_search

        super().register(
            model_or_iterable, with_private_search(admin_class or admin.ModelAdmin), **options
        )

    def autocomplete_view(self, request: HttpRequest) -> HttpResponse:
        # The pickers' typed name is posted, never put in the URL and so in a proxy's access
        # log (threat model M19): search/private_autocomplete.py, and the widgets' script.
        from solidarity.search.private_autocomplete import PostedAutocompleteJsonView

        # as_view() is typed as answering any HttpResponseBase; this view answers JSON.
        view = PostedAutocompleteJsonView.as_view(admin_site=self)
        return cast("HttpResponse", view(request))

    def has_permission(self, request: HttpRequest) -> bool:
        verified = getattr(request.user, "is_verified", None)
        return (
            super().has_permission(request)
            and callable(verified)
            and bool(verified())
            and not _lacks_required_key(request)
        )

    # The stubs say TemplateResponse; a redirect to re-authenticate is an HttpResponse.
    def password_change(  # type: ignore[override]
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Only someone who just gave the password and a code may replace the password: the old
        # password alone is what a shoulder-surfer or a keylogger has (ASVS 7.5.1).
        # Imported here: this module is loaded while the app registry is still being filled.
        from solidarity.accounts.decorators import recent_auth_redirect
        from solidarity.accounts.sessions import RECENT_AUTH

        redirect = recent_auth_redirect(request, RECENT_AUTH)
        if redirect is not None:
            return redirect
        response = super().password_change(request, extra_context)
        if request.method == "POST" and response.status_code == 302:
            # Django keeps this session and logs out the others (the session hash changed):
            # their rows go too, so the list of sessions says what is true.
            from solidarity.accounts import signed_in

            signed_in.end_others(request)
        return response

    # The stubs say TemplateResponse; the accounts logout answers with a redirect.
    def logout(  # type: ignore[override]
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The header's "Log out" button, on every back-office page, posts here: it must do what
        # the accounts logout does (audit it, tell the browser to drop what it kept, ASVS
        # 14.3.1), not Django's, which does neither and leaves a page of the back office open.
        from solidarity.accounts.views import logout

        return logout(request)

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        target = request.GET.get(REDIRECT_FIELD_NAME) or reverse(
            "admin:index", current_app=self.name
        )
        if request.user.is_authenticated and _lacks_required_key(request):
            # A session that began before the user's role required a key (the login itself
            # sends such a user to register one): register it before the back office opens.
            return redirect_to_login(target, reverse("accounts:key_add"))
        return redirect_to_login(target, reverse("accounts:login"))


def _lacks_required_key(request: HttpRequest) -> bool:
    from solidarity.accounts import security_keys

    user = request.user
    return bool(
        user.is_authenticated
        and security_keys.required_for(user)
        and not security_keys.has_key(user)
    )
