"""Plain-HTTP requests to the API, under SOLIDARITY_HTTPS: refused, and their token revoked.

Pages are redirected to HTTPS (SECURE_SSL_REDIRECT), but /api/ is exempt (ASVS 4.1.2): an
integration's request over plain HTTP has already carried its token past every network tap on
the way (threat model: a state's passive interception of traffic), and a redirect would make
the call work while hiding that. Such a token must be taken as captured, so it is revoked at
once and the refusal says so; the integration fails loudly until it is given a new token and
an https:// address. An active attacker who drops the request instead of passing it on is not
stopped by this: only the client's own configuration (https:// in its base URL) is.

The public exports under /api/ (`/api/popolo/`, `/api/export/`: pages of the public site,
accounts/hosts.py) need no token: a reader who follows an http:// link to one is redirected
like any page. Only a request to one that carries a token is refused, and the token revoked.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse

from solidarity.accounts.hosts import side_of

from .auth import token_secret
from .tokens import revoke_exposed_token, token_for_secret

# Everything under /api/, as SECURE_REDIRECT_EXEMPT (settings.py) exempts it from the redirect;
# an address that is no view still refuses, and still revokes a token sent to it.
API_PATH = "/api/"
HTTPS_REQUIRED = (
    "This API answers only over HTTPS: use an https:// address. A token sent over plain HTTP "
    "must be taken as seen by others, so any token sent with this request is now revoked; "
    "make a new one (solidarity apitoken create) and send it over HTTPS only."
)


class PlainHttpApiMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # is_secure() believes X-Forwarded-Proto only as SECURE_PROXY_SSL_HEADER allows, i.e.
        # from the reverse proxy in front of the app under SOLIDARITY_HTTPS.
        path = request.path_info
        if settings.HTTPS and path.startswith(API_PATH) and not request.is_secure():
            if side_of(path) == "public" and not token_secret(request):
                # As SecurityMiddleware redirects every page (it skips all of /api/).
                host = settings.SECURE_SSL_HOST or request.get_host()
                return HttpResponsePermanentRedirect(f"https://{host}{request.get_full_path()}")
            return refuse_plain_http(request)
        return self.get_response(request)


def refuse_plain_http(request: HttpRequest) -> HttpResponse:
    """403 with the API's error body. Not 400: the request is well-formed, and the API
    documents 403 on every operation (as IIS's "403.4 SSL required"). Not a redirect: a client
    following it would send the token in clear again, and a POST would turn into a GET."""
    secret = token_secret(request)
    token = token_for_secret(secret) if secret else None
    if token is not None:
        revoke_exposed_token(token, "sent_over_plain_http")
    # Same answer whether a live token was sent or not: it tells a listener nothing more.
    return JsonResponse({"error": HTTPS_REQUIRED, "detail": HTTPS_REQUIRED}, status=403)
