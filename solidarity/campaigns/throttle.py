"""A per-client limit on the public forms that store something and send e-mail.

A flood from one client (a script signing with made-up or, worse, other people's addresses,
each of which gets a confirmation e-mail from us) is cut off after `SOLIDARITY_FORM_RATE`
accepted submissions per window; everyone else signs as usual. Unconfirmed signatures never
count anyway, so the flood cannot inflate a count: the limit protects the inboxes of the
addresses typed in, our sending reputation and the database.

Counted in Django's default cache (settings.CACHES): with SQLite the process's memory, exact
for `solidarity serve` (one process, many threads), and a refused request writes nothing; with
PostgreSQL a table of the database (solidarity/core/cache.py), so that several app servers
behind a load balancer count each client together instead of granting one allowance each.

The client is its address (REMOTE_ADDR, or the header `SOLIDARITY_CLIENT_IP_HEADER` names when
a reverse proxy sits in front). Only a keyed hash of it goes into the cache key. Threat: a
cache dump (or a seized Redis) listing which addresses used the forms would say who, from
where, supported a campaign; the hash cannot be reversed without SECRET_KEY.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

# One reading of the client's address for every limit. The left-most X-Forwarded-For entry is
# whatever the client chose to send: a flooder who rotates it would get a fresh allowance per
# request (threat model A6), so only the entries our own proxies appended are believed.
from solidarity.accounts.throttle import client_address

_SALT = "solidarity.campaigns.throttle"


def rate(setting: str, default: str) -> tuple[int, int]:
    """(requests, seconds) from the setting named, e.g. SOLIDARITY_FORM_RATE = "30/600"."""
    value = str(getattr(settings, setting, default))
    try:
        count, seconds = (int(part) for part in value.split("/"))
    except ValueError:
        raise ImproperlyConfigured(
            f"{setting} must be 'requests/seconds', e.g. {default!r}, not {value!r}"
        ) from None
    if count < 1 or seconds < 1:
        raise ImproperlyConfigured(f"{setting} must be positive, not {value!r}")
    return count, seconds


def form_rate() -> tuple[int, int]:
    """(submissions, seconds) from SOLIDARITY_FORM_RATE, e.g. "30/600"."""
    return rate("SOLIDARITY_FORM_RATE", "30/600")


def allow(request: HttpRequest, form: str, *, limit: tuple[int, int] | None = None) -> bool:
    """Count one submission of `form` by this client; False once over the limit.

    The limit is SOLIDARITY_FORM_RATE unless `limit` (requests, seconds) is given: the public
    search counts its queries here too, at its own rate.
    """
    count, seconds = limit or form_rate()
    client = salted_hmac(_SALT, client_address(request), algorithm="sha256").hexdigest()[:32]
    window = int(time.time()) // seconds
    key = f"throttle:{form}:{client}:{window}"
    # add() then incr(): both atomic in memory and in our database cache (Django's own database
    # backend reads and then writes in incr), so concurrent requests from one client, even
    # through several servers, cannot all slip through between a read and a write.
    cache.add(key, 0, timeout=seconds * 2)
    try:
        used = cache.incr(key)
    except ValueError:  # evicted between add() and incr()
        cache.set(key, 1, timeout=seconds * 2)
        used = 1
    return used <= count
