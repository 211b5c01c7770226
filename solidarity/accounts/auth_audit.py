"""Logins, failures, throttling, logouts and re-authentications in the audit chain (M11).

Threat: a phished or coerced coordinator (A3, A9) and an insider (A4) leave their traces at
the login page first. `LoginFailure` forgets its counters after 15 minutes; these entries stay,
so the organisation can reconstruct afterwards who logged in with which factor, and which
accounts were guessed at.

Conventions, as for the rest of the chain: `model` is "auth.User" and `object_pk` the account
concerned; `values` holds only names of steps and factors, never a password, a code, an
assertion or an IP address. Before the login completes nobody is proved, so the actor is
"anonymous". A username that names no account is not stored as typed (it may be a password
typed in the wrong field): the entry has an empty `object_pk` and a keyed hash of it
(`username_hash`, the blind index of the keyring's server secret), so repeated guesses of one
name can be correlated without the log holding the text.

Each function appends one entry at most (of a throttled client's repeated attempts, only the
first). Views here run without ATOMIC_REQUESTS, so the entry commits at once, whatever the
request does next.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.http import HttpRequest
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice

from solidarity.accounts import throttle
from solidarity.accounts.models import AppDevice, LoginFailure, WebAuthnCredential
from solidarity.accounts.throttle import Throttled
from solidarity.audit.context import actor_for_user
from solidarity.audit.services import append, model_label
from solidarity.safety.crypto import blind_index

ANONYMOUS = "anonymous"
USERNAME_PURPOSE = "login-username"


def _scope(waiting: Throttled) -> str:
    """Which limit held: the username's or the client's (never the address itself)."""
    return "client" if waiting.scope == LoginFailure.Scope.CLIENT else "username"


def _user_model() -> str:
    return model_label(get_user_model())


def factor_of(device: Device) -> str:
    """The name the log gives to the second factor a device proves."""
    if isinstance(device, WebAuthnCredential):
        return "security_key"
    if isinstance(device, StaticDevice):
        return "backup_code"
    if isinstance(device, AppDevice):
        return "totp"
    return type(device).__name__.lower()


def attempted_factor(assertion: str, code: str) -> str:
    """Which factor a refused second step tried, read from the form's shape alone (the same
    rule as `factors.verify_code`: six digits go to the authenticator)."""
    if assertion:
        return "security_key"
    code = code.strip().replace(" ", "").replace("-", "")
    return "totp" if code.isdigit() and len(code) == 6 else "backup_code"


def username_hash(username: str) -> str:
    return blind_index(username.strip().casefold(), USERNAME_PURPOSE)


def _account(username: str) -> Any | None:
    model = get_user_model()
    return model._default_manager.filter(**{model.USERNAME_FIELD: username}).first()


def _target(user: Any | None, username: str) -> tuple[str, dict[str, str]]:
    """The object id and extra values naming the account an anonymous attempt was aimed at."""
    account = user if user is not None else _account(username)
    if account is None:
        return "", {"username_hash": username_hash(username)}
    return str(account.pk), {}


def _by_user(action: str, user: Any, values: dict[str, Any] | None = None) -> None:
    """An entry about a known account, made by that account itself."""
    append(action, _user_model(), user.pk, values=values, actor=actor_for_user(user))


def login_succeeded(user: Any, device: Device, *, step: str = "second_factor") -> None:
    _by_user("login", user, {"factor": factor_of(device), "step": step})


def login_failed(
    step: str, *, username: str = "", user: Any | None = None, factor: str = ""
) -> None:
    """A refused password (`user` None: looked up by `username`) or second step (`user`)."""
    object_pk, values = _target(user, username)
    values["step"] = step
    if factor:
        values["factor"] = factor
    append("login_failed", _user_model(), object_pk, values=values, actor=ANONYMOUS)


def _first_while_throttled(request: HttpRequest, waiting: Throttled, target: str) -> bool:
    """Whether this is the first refusal of this throttle episode (in this process).

    Refused attempts are not counted by the throttle, so nothing bounds how many a client
    sends; an entry for each would let anyone grow the chain at will. One per username or
    client until its wait ends says the same thing.
    """
    who = throttle.client_key(request) if waiting.scope == LoginFailure.Scope.CLIENT else target
    seconds = max(1, int(waiting.wait.total_seconds()))
    return bool(cache.add(f"solidarity.auth_audit.throttled:{_scope(waiting)}:{who}", 1, seconds))


def login_throttled(
    request: HttpRequest,
    step: str,
    waiting: Throttled,
    *,
    username: str = "",
    user: Any | None = None,
) -> None:
    object_pk, values = _target(user, username)
    if not _first_while_throttled(request, waiting, object_pk or values["username_hash"]):
        return
    values.update(step=step, scope=_scope(waiting))
    append("login_throttled", _user_model(), object_pk, values=values, actor=ANONYMOUS)


def logged_out(user: Any) -> None:
    if getattr(user, "is_authenticated", False):
        _by_user("logout", user)


def reauth_succeeded(user: Any, device: Device) -> None:
    _by_user("reauth", user, {"factor": factor_of(device)})


def reauth_failed(user: Any, *, password_ok: bool, factor: str, factor_ok: bool) -> None:
    # The page does not say which factor was wrong (the person at the keyboard may not be the
    # account's owner); the log may, for whoever investigates.
    failed = [
        name for name, ok in (("password", password_ok), ("second_factor", factor_ok)) if not ok
    ]
    _by_user("reauth_failed", user, {"factor": factor, "failed": failed})


def reauth_throttled(request: HttpRequest, user: Any, waiting: Throttled) -> None:
    if not _first_while_throttled(request, waiting, str(user.pk)):
        return
    _by_user("reauth_throttled", user, {"scope": _scope(waiting)})


def sessions_ended(user: Any, count: int, *, by: Any) -> None:
    """`by` ended `count` of `user`'s logged-in sessions (their own, or as an administrator;
    None: a management command, named by the audit context)."""
    append(
        "sessions_ended",
        _user_model(),
        user.pk,
        values={"count": count, "by_owner": by is not None and by.pk == user.pk},
        actor=actor_for_user(by) if by is not None else None,
    )
