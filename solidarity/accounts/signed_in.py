"""Logged-in sessions a user can see and end (ASVS 7.5.2; threat model M9).

Every login makes a `SignedInSession` row and puts its public id into the session. On each
request `SessionTimeoutMiddleware` asks `still_signed_in`: a session whose row is gone was
ended — by its user from another device, or by an administrator after a member's phone was
seized — and is logged out there and then. The session store's row (`HashedSession`) is left to
expire (its key is not stored here, so it cannot be looked up); without our row it logs nobody
in.

Ending one's own sessions is a protective act, so it needs no re-authentication: someone whose
laptop was just taken must be able to do it from a borrowed phone at once. For the same reason a
coordinator can end every session of a member of their sections (`members_of`, `may_end_for`):
when a member is arrested at night, the phone in police hands is logged in, and the member
cannot reach a keyboard nor the administrators be woken.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.base import SessionBase
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django_otp.models import Device

from solidarity.accounts import auth_audit
from solidarity.accounts.models import SignedInSession
from solidarity.accounts.sessions import ABSOLUTE_LIMIT, IDLE_LIMIT
from solidarity.safety.models import Role
from solidarity.safety.policy import RoleName

SESSION_KEY = "accounts.signed_in"

# Coarse names only, most specific first (Edge and Opera also say "Chrome", Chrome says
# "Safari"). The full user agent, with versions, would help fingerprint a member's device.
_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]{0,30}")


def describe_device(user_agent: str) -> str:
    """ "Firefox on Linux", from a user agent; an unknown client by its first word, cut short."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "")
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), "")
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or system
    first = _TOKEN.match(user_agent.strip())
    return first.group(0) if first else ""


def start(request: HttpRequest, user: Any, device: Device | None = None) -> SignedInSession:
    """Record the session `request` has just logged `user` into."""
    record = SignedInSession.objects.create(
        user=user,
        device=describe_device(request.headers.get("User-Agent", "")),
        factor=auth_audit.factor_of(device) if device is not None else "",
    )
    request.session[SESSION_KEY] = str(record.public_id)
    return record


def current_id(session: SessionBase) -> str:
    value = session.get(SESSION_KEY)
    return value if isinstance(value, str) else ""


def still_signed_in(request: HttpRequest) -> bool:
    """False if this logged-in session was ended elsewhere (its row is gone).

    A session made without our login view (a test's `force_login`, one from before this
    existed) has no row yet: it gets one now, as the time limits start counting for it then.
    """
    wanted = current_id(request.session)
    if not wanted:
        start(request, request.user)
        return True
    return SignedInSession.objects.filter(public_id=wanted, user_id=_pk(request.user)).exists()


def seen(session: SessionBase) -> None:
    """Move the "last request" time (called at most once a minute per session)."""
    wanted = current_id(session)
    if wanted:
        SignedInSession.objects.filter(public_id=wanted).update(seen_at=timezone.now())


def active(user: Any) -> QuerySet[SignedInSession]:
    """The user's sessions still within both time limits, most recently used first."""
    moment = timezone.now()
    return SignedInSession.objects.filter(
        user_id=user.pk,
        seen_at__gt=moment - IDLE_LIMIT,
        started_at__gt=moment - ABSOLUTE_LIMIT,
    ).order_by("-seen_at", "-started_at")


def end(user: Any, public_id: str, *, by: Any) -> int:
    """End one of `user`'s sessions; how many ended (0 if it was not theirs or is gone)."""
    try:
        uuid.UUID(public_id)
    except ValueError:
        return 0
    return _end(SignedInSession.objects.filter(user_id=user.pk, public_id=public_id), user, by)


def end_others(request: HttpRequest) -> int:
    """End every session of the requesting user but the one making the request."""
    others = SignedInSession.objects.filter(user_id=_pk(request.user))
    current = current_id(request.session)
    if current:
        others = others.exclude(public_id=current)
    return _end(others, request.user, request.user)


def end_all(user: Any, *, by: Any) -> int:
    """End every session of `user` (an administrator's act, e.g. after a device was seized)."""
    return _end(SignedInSession.objects.filter(user_id=user.pk), user, by)


def members_of(coordinator: Any) -> QuerySet[Any]:
    """The users whose sessions `coordinator` may end: those with a role in a section they
    coordinate, themselves and superusers excepted (their own list serves them; an
    administrator is the administrators' to log out). Each with `sessions`, how many of their
    sessions are within both time limits, and ordered by username."""
    sections = Role.objects.filter(user_id=_pk(coordinator), role=RoleName.COORDINATOR).values(
        "section_id"
    )
    moment = timezone.now()
    live = Q(
        signed_in_sessions__seen_at__gt=moment - IDLE_LIMIT,
        signed_in_sessions__started_at__gt=moment - ABSOLUTE_LIMIT,
    )
    members = Role.objects.filter(section_id__in=sections).values("user_id")
    return (
        get_user_model()
        .objects.filter(pk__in=members, is_superuser=False, is_active=True)
        .exclude(pk=_pk(coordinator))
        .annotate(sessions=Count("signed_in_sessions", filter=live))
        .order_by("username")
    )


def may_end_for(coordinator: Any, user_pk: Any) -> Any | None:
    """The member `user_pk` if `coordinator` may end their sessions, else None (the same
    answer for a user who does not exist and one outside their sections)."""
    return members_of(coordinator).filter(pk=user_pk).first()


def finished(session: SessionBase) -> None:
    """Forget the row of a session that is logging out."""
    wanted = current_id(session)
    if wanted:
        SignedInSession.objects.filter(public_id=wanted).delete()


def _pk(user: Any) -> Any:
    # request.user is typed as possibly anonymous; these are called for logged-in users only.
    return user.pk


def _end(rows: QuerySet[SignedInSession], user: Any, by: Any) -> int:
    count, _per_model = rows.delete()
    if count:
        auth_audit.sessions_ended(user, count, by=by)
    return count
