"""Django's CSRF check, made to work with `Referrer-Policy: no-referrer`.

Under `no-referrer` a browser sends `Origin: null` with every form POST, to our own site too
(Fetch: a request whose referrer policy is no-referrer serialises its origin as null), and
Django's CsrfViewMiddleware refuses a null origin. `Sec-Fetch-Site` says where the request
really came from: the browser sets it and a page cannot (it is a forbidden header name), so
`same-origin` there is the proof the null origin hides. This middleware, placed just before
Django's, turns such a null origin into our own origin and leaves everything else to Django:
the token check, and the refusal of every other origin.

Threat: a cross-site form (or a sandboxed frame, which also sends `Origin: null`) posting with a
reader's cookies; such a request carries `Sec-Fetch-Site: cross-site` (or `none`) and keeps its
null origin, which Django refuses.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.views import csrf

from solidarity.accounts.throttle import client_key
from solidarity.audit.services import record_refused_request

# Django's reasons, as short codes: the reason for a bad origin repeats the origin sent,
# which the sender chose; the log keeps only which check failed.
_REASONS = (
    ("Origin checking failed", "bad_origin"),
    ("Referer checking failed", "bad_referer"),
    ("CSRF cookie", "no_cookie"),
    ("CSRF token missing", "no_token"),
    ("CSRF token", "bad_token"),
)


class SameOriginNullOriginMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if (
            request.META.get("HTTP_ORIGIN") == "null"
            and request.headers.get("Sec-Fetch-Site") == "same-origin"
        ):
            scheme = "https" if request.is_secure() else "http"
            request.META["HTTP_ORIGIN"] = f"{scheme}://{request.get_host()}"
        return self.get_response(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Django's 403 page for a failed CSRF check (settings.CSRF_FAILURE_VIEW), with an entry in
    the audit log (ASVS 16.3.2): a cross-site page trying to make a member's browser post to
    the back office leaves a trace, once a minute per client and view."""
    code = next((short for prefix, short in _REASONS if reason.startswith(prefix)), "other")
    match = getattr(request, "resolver_match", None)
    record_refused_request(
        "csrf_refused",
        getattr(request, "user", None),
        match.view_name if match is not None else "",
        request.method or "",
        code,
        once_per=client_key(request),
    )
    return csrf.csrf_failure(request, reason)
