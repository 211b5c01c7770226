"""Login throttling per username and per client, with a finite cool-off.

Why our own small model and not django-axes: axes' useful configuration here (lockout by the
pair username+IP) does not stop one address guessing many usernames nor many addresses guessing
one username, it stores client IP addresses and usernames in clear in its tables (the threat
model forbids keeping IPs), and it watches only the password step, while we must count the
second-factor step as well. What we need is two counters with a sliding window; that is a
table with one index and three functions.

Rules (M8 in docs/threat-model.md):
- 5 failures for one username in 15 minutes: that username waits until the oldest of them is
  15 minutes old. Unknown usernames are counted exactly like real ones, so the answer never
  tells whether an account exists.
- 20 failures from one client in 15 minutes: that client waits the same way. IPv6 clients are
  grouped by /64, since one host usually holds a whole /64.
- Nothing is ever locked for longer than the window, and nobody else is affected: there is no
  global lockout an adversary could use to keep every coordinator out before an urgent action.
- Attempts refused while throttled are not counted, so hammering does not prolong the wait.

Behind a reverse proxy, set SOLIDARITY_TRUSTED_PROXIES to the number of proxies in front of
the app, or every client would share the proxy's address (and its limit).
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import ngettext

from solidarity.accounts.models import LoginFailure

WINDOW = timedelta(minutes=15)
USERNAME_LIMIT = 5
CLIENT_LIMIT = 20

Scope = LoginFailure.Scope


@dataclass(frozen=True)
class Throttled:
    """Why a login attempt is refused now, and for how long."""

    scope: LoginFailure.Scope
    wait: timedelta

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.wait.total_seconds() / 60))

    @property
    def message(self) -> str:
        return ngettext(
            "Too many failed attempts. Please wait %(n)d minute and try again. "
            "Nothing else is locked: other people can still log in.",
            "Too many failed attempts. Please wait %(n)d minutes and try again. "
            "Nothing else is locked: other people can still log in.",
            self.minutes,
        ) % {"n": self.minutes}


def client_address(request: HttpRequest) -> str:
    """The client's address as seen by the first proxy we trust, or the socket peer.

    SOLIDARITY_TRUSTED_PROXIES (a count) reads X-Forwarded-For; SOLIDARITY_CLIENT_IP_HEADER
    names another header a proxy sets (e.g. HTTP_X_REAL_IP), the one public forms use too.
    """
    proxies = int(getattr(settings, "SOLIDARITY_TRUSTED_PROXIES", 0))
    header = str(getattr(settings, "SOLIDARITY_CLIENT_IP_HEADER", "") or "")
    if not header and proxies > 0:
        header = "HTTP_X_FORWARDED_FOR"
    if header:
        entries = [
            part.strip() for part in str(request.META.get(header, "")).split(",") if part.strip()
        ]
        # Each trusted proxy appends the address it saw; entries further left are whatever
        # the client chose to send and cannot be believed.
        depth = max(proxies, 1)
        if len(entries) >= depth:
            return entries[-depth]
    return str(request.META.get("REMOTE_ADDR", ""))


def _client_network(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _key(scope: LoginFailure.Scope, value: str) -> str:
    normal = value.strip().casefold() if scope is Scope.USERNAME else _client_network(value)
    digest: str = salted_hmac(
        f"solidarity.accounts.throttle.{scope.value}", normal, algorithm="sha256"
    ).hexdigest()
    return digest


def _wait(scope: LoginFailure.Scope, value: str, limit: int) -> timedelta | None:
    now = timezone.now()
    recent = list(
        LoginFailure.objects.filter(scope=scope, key=_key(scope, value), at__gt=now - WINDOW)
        .order_by("-at")
        .values_list("at", flat=True)[:limit]
    )
    if len(recent) < limit:
        return None
    # The attempt that brought the count to the limit must leave the window first.
    return recent[limit - 1] + WINDOW - now


def client_key(request: HttpRequest) -> str:
    """The client's counter key (a keyed hash of its network, never the address)."""
    return _key(Scope.CLIENT, client_address(request))


def check(request: HttpRequest, username: str) -> Throttled | None:
    """Whether this username or this client must wait before trying again."""
    waits = [
        Throttled(Scope.USERNAME, wait)
        for wait in [_wait(Scope.USERNAME, username, USERNAME_LIMIT)]
        if wait is not None
    ] + [
        Throttled(Scope.CLIENT, wait)
        for wait in [_wait(Scope.CLIENT, client_address(request), CLIENT_LIMIT)]
        if wait is not None
    ]
    return max(waits, key=lambda t: t.wait) if waits else None


def record_failure(request: HttpRequest, username: str) -> None:
    """Count one failed attempt against the username and the client."""
    now = timezone.now()
    LoginFailure.objects.filter(at__lte=now - WINDOW).delete()
    LoginFailure.objects.bulk_create(
        [
            LoginFailure(scope=Scope.USERNAME, key=_key(Scope.USERNAME, username), at=now),
            LoginFailure(
                scope=Scope.CLIENT, key=_key(Scope.CLIENT, client_address(request)), at=now
            ),
        ]
    )


def clear_username(username: str) -> None:
    """Forget a username's failures once its owner has proved both factors.

    The client's count is kept: a guesser who also owns one account must not be able to wipe
    their address's record by logging in to it.
    """
    LoginFailure.objects.filter(scope=Scope.USERNAME, key=_key(Scope.USERNAME, username)).delete()
