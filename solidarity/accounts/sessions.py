"""What the accounts app keeps in the session, and the time limits on it (D8 in
docs/threat-model.md): 8 hours at most from login, 15 minutes without a request, and a
5-minute window after re-authentication for sealed reads and exports."""

from __future__ import annotations

import time
from datetime import timedelta

from django.contrib.sessions.backends.base import SessionBase

ABSOLUTE_LIMIT = timedelta(hours=8)
IDLE_LIMIT = timedelta(minutes=15)
RECENT_AUTH = timedelta(minutes=5)
# How long the password step stays valid while the second factor is asked for.
PENDING_LIMIT = timedelta(minutes=5)
# Write the "last seen" time at most this often, so that every request does not save the session.
SEEN_RESOLUTION = 60

LOGIN_AT = "accounts.login_at"
SEEN_AT = "accounts.seen_at"
AUTH_AT = "accounts.auth_at"
PENDING = "accounts.pending"


def now() -> int:
    return int(time.time())


def stamp_login(session: SessionBase) -> None:
    moment = now()
    session[LOGIN_AT] = session[SEEN_AT] = session[AUTH_AT] = moment


def stamp_reauth(session: SessionBase) -> None:
    session[AUTH_AT] = now()


def authenticated_within(session: SessionBase, max_age: timedelta) -> bool:
    at = session.get(AUTH_AT)
    return isinstance(at, int) and now() - at <= max_age.total_seconds()
