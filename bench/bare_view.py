"""The baseline of bench/signing_bench.py: Django's request handling and nothing else.

solidarity/urls.py routes /bench/bare/ here only when SOLIDARITY_BENCH=1 is set, which only the
benchmark does. GET hands out a CSRF token as the petition form does; POST is CSRF-checked by
the same middleware as a signature. What signing costs beyond this is the signing itself:
template, form validation, the database write and its flush to disk.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "POST"])
def bare_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return HttpResponse(b"ok", content_type="text/plain")
    token = get_token(request)
    return HttpResponse(
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">',
        content_type="text/html",
    )
