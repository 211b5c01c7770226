"""Rate limits on the API: per token, and per client address for requests without one.

Threat: a leaked or over-eager token (an integration stuck in a loop, or someone who copied it)
could page through every supporter and signature as fast as the server answers, and anyone can
hammer the public Popolo and CSV exports, which build the whole data set per request. A limit
per token caps what one token can pull per minute and keeps one client from starving the rest;
the exports have a second, slower limit of their own (ExportRateThrottle).

Rates come from SOLIDARITY_API_TOKEN_RATE and SOLIDARITY_API_CLIENT_RATE ("120/minute"; DRF's
form: a count, a slash, and second, minute, hour or day), read on every request so that tests
and `settings` overrides take effect (DRF's own throttles read their rates once, at import).
A refused request gets DRF's 429 with Retry-After, rendered like every other API error.

Counted in Django's cache, like the public-form throttle (campaigns/throttle.py): exact for one
`solidarity serve` process; several app servers must share a cache to count together. The
client address is the one accounts.throttle.client_address reads (a forged X-Forwarded-For
entry does not buy a fresh allowance), and only a keyed hash of it goes into the cache key.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.utils.crypto import salted_hmac
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from solidarity.accounts.throttle import client_address
from solidarity.campaigns import throttle

from .models import ApiToken

_SALT = "solidarity.api.throttling"


class _SettingRateThrottle(SimpleRateThrottle):
    setting = ""
    default = ""

    def get_rate(self) -> str:
        return str(getattr(settings, self.setting, self.default))


class TokenRateThrottle(_SettingRateThrottle):
    """Requests per token. Keyed by the token's row and stored hash, so that a new token that
    reuses a deleted one's id starts with a fresh allowance."""

    scope = "api_token"
    setting = "SOLIDARITY_API_TOKEN_RATE"
    default = "120/minute"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        token = request.auth
        if not isinstance(token, ApiToken):
            return None
        return self.cache_format % {
            "scope": self.scope,
            "ident": f"{token.pk}:{token.key_hash[:16]}",
        }


class ClientRateThrottle(_SettingRateThrottle):
    """Requests per client address, for requests without a token (the public exports)."""

    scope = "api_client"
    setting = "SOLIDARITY_API_CLIENT_RATE"
    default = "60/minute"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            return None
        # request._request: the Django request, which client_address is typed for.
        address = client_address(request._request)
        client = salted_hmac(_SALT, address, algorithm="sha256").hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": client}


def export_rate() -> tuple[int, int]:
    """(requests, seconds) from SOLIDARITY_EXPORT_RATE, e.g. "20/600"."""
    return throttle.rate("SOLIDARITY_EXPORT_RATE", "20/600")


class ExportRateThrottle(BaseThrottle):
    """Downloads of the public Popolo and CSV exports per client address, on top of
    ClientRateThrottle.

    Threat: each export rebuilds a whole collection (every public person, organisation, event
    with their names and sources) per request, thousands of times the work of an API page, so
    the API's per-minute client rate would still let one script keep the database busy.
    Nobody needs a fresh copy more than every few minutes. There is no exemption for staff or
    tokens: the exports take no credentials at all (PublicExportView), and a token holder who
    needs records at a higher rate has the paged OSDI API under its own token rate.

    Counted by campaigns.throttle.allow, like the public search, in fixed windows; only a
    keyed hash of the client's address goes into the cache key.
    """

    def allow_request(self, request: Request, view: Any) -> bool:
        # request._request: the Django request, which the shared counter is typed for.
        return throttle.allow(request._request, "export", limit=export_rate())

    def wait(self) -> float:
        """Seconds until this fixed window ends and the client's count starts again."""
        seconds = export_rate()[1]
        return float(seconds - int(time.time()) % seconds)
