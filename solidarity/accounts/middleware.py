"""Security headers on every response, the HTTP methods we answer, and session time limits.

`SecurityHeadersMiddleware` sits near the top of MIDDLEWARE, so it also sees static files
served by WhiteNoise, 404 and 500 pages and the CSRF failure page. Django's SecurityMiddleware
already sets nosniff, Referrer-Policy, Cross-Origin-Opener-Policy and (under SOLIDARITY_HTTPS)
HSTS; django-csp sets the Content-Security-Policy. This one adds what Django lacks.

`AllowedMethodsMiddleware`, just below it, refuses TRACE, CONNECT and unknown methods.

`SessionTimeoutMiddleware` ends a logged-in session 15 minutes after its last request or
8 hours after login, whichever comes first (D8 in docs/threat-model.md). Both limits are
enforced here, on the server, because the cookie's own expiry is under the client's control.
It also logs out a session that was ended from the list of logged-in sessions
(`accounts/signed_in.py`).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponseBase, HttpResponseNotAllowed
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext

from solidarity.accounts import hosts, signed_in
from solidarity.accounts.sessions import (
    ABSOLUTE_LIMIT,
    IDLE_LIMIT,
    LOGIN_AT,
    SEEN_AT,
    SEEN_RESOLUTION,
    now,
)

# Features no page of ours uses; denying them means injected content cannot use them either.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), "
    "publickey-credentials-get=(self), usb=()"
)

Handler = Callable[[HttpRequest], HttpResponseBase]


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        headers = response.headers
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        # XFrameOptionsMiddleware is innermost and never sees WhiteNoise's responses.
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        # Not for /accounts/ on a host that does not serve it: its 404 must be any missing
        # page's (accounts/hosts.py).
        login_pages = request.path.startswith("/accounts/") and not hosts.hides(request)
        if self._logged_in(request) or login_pages:
            # A page of the back office must not stay in a shared or stolen browser's cache.
            patch_cache_control(response, no_store=True, private=True)
        return response

    @staticmethod
    def _logged_in(request: HttpRequest) -> bool:
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return False
        user = getattr(request, "user", None)
        return bool(user is not None and user.is_authenticated)


class AllowedMethodsMiddleware:
    """Answers 405 to any method but those our views serve, for every path, before any view,
    static file or redirect sees the request.

    Threat addressed: a function view answers every method, TRACE like GET. Django's CSRF
    middleware counts TRACE as safe, so a view that acts on anything but GET would act on a
    cross-site TRACE without a token; a TRACE that some layer echoes hands cookies and
    headers back to a script (cross-site tracing); CONNECT asks us to be a tunnel. None of
    them, nor an unknown method, is ours to answer (ASVS 13.4.4).
    """

    ALLOWED = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method not in self.ALLOWED:
            return HttpResponseNotAllowed(self.ALLOWED)
        return self.get_response(request)


class SessionTimeoutMiddleware:
    """Must come after AuthenticationMiddleware and MessageMiddleware."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.user.is_authenticated:
            self._enforce(request)
        return self.get_response(request)

    @staticmethod
    def _enforce(request: HttpRequest) -> None:
        session = request.session
        if not signed_in.still_signed_in(request):
            # Ended by its user from another device or by an administrator (a seized laptop).
            logout(request)
            messages.info(request, gettext("This session was ended. Please log in again."))
            return
        moment = now()
        login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
        if not isinstance(login_at, int) or not isinstance(seen_at, int):
            # A session made without our login view (a test's force_login, or one created
            # before this app existed): the limits start now.
            session[LOGIN_AT] = session[SEEN_AT] = moment
            return
        if moment - login_at > ABSOLUTE_LIMIT.total_seconds():
            logout(request)
            hours = int(ABSOLUTE_LIMIT.total_seconds() // 3600)
            messages.info(
                request,
                gettext("Your session ended %(n)d hours after login. Please log in again.")
                % {"n": hours},
            )
        elif moment - seen_at > IDLE_LIMIT.total_seconds():
            logout(request)
            minutes = int(IDLE_LIMIT.total_seconds() // 60)
            messages.info(
                request,
                gettext(
                    "Your session ended after %(n)d minutes without activity. Please log in again."
                )
                % {"n": minutes},
            )
        elif moment - seen_at >= SEEN_RESOLUTION:
            session[SEEN_AT] = moment
            signed_in.seen(session)
