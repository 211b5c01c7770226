"""First passwords that only the member knows (ASVS 6.4.1, 6.4.3).

An account made in the back office has no password. The page that saves it shows, once, a
"choose your password" link for the new member, which works once and for
`SOLIDARITY_INVITATION_HOURS` (72 by default). A password an administrator types for someone
else (the user admin's "set password") opens one login only, within the same number of hours:
right after the password step the member must choose a new one, before the second factor and
the back office.

Threats (docs/threat-model.md): an administrator, or whoever saw a password on its way, would
otherwise know a member's password for as long as the account lives (insider A4, a coerced or
seized coordinator A9); and a link or password sent by e-mail is read by a state that obtains
the mailbox from its provider (D7). So the administrator is told to hand the link over in
person or by an end-to-end encrypted messenger, never by e-mail, and the link is never stored:
not in the database, the session, the audit log nor any log line, the reverse proxy's access
log included (the token is in the link's fragment, which browsers never send: `link_path`).
It is rebuilt from nothing
but an HMAC (Django's password-reset tokens, under our own salt and the server's secret key)
over the account's state, whose password hash is a fresh random unusable one from the moment
the link is made. It therefore dies when it is used (the password changes), when a newer link
is made (a new random unusable password), when the account's e-mail or last login changes,
and when it is older than its lifetime.

Every step is in the audit chain by name and account, never with the token or the link:
`invitation_created` and `password_change_forced` (by the administrator), `invitation_used`
and `forced_password_changed` (by the member); refused links are `login_failed` entries with
the step "invitation" (accounts/auth_audit.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import User
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode

from solidarity.accounts.models import PasswordToReplace
from solidarity.audit.context import actor_for_user
from solidarity.audit.services import append, model_label

DEFAULT_HOURS = 72
# The longest parameters a real link carries, with room: longer input is refused unread.
MAX_UID = 24
MAX_TOKEN = 48
# A pasted link longer than this is refused unread (a real one is under 100 characters with
# the site's address).
MAX_LINK = 512


def lifetime_hours() -> int:
    return int(getattr(settings, "SOLIDARITY_INVITATION_HOURS", DEFAULT_HOURS))


def lifetime() -> timedelta:
    return timedelta(hours=lifetime_hours())


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """Django's password-reset tokens under a salt of their own, with our lifetime.

    The own salt keeps a token made here from being accepted by any other use of Django's
    generator (and the reverse); the lifetime is ours, not PASSWORD_RESET_TIMEOUT.
    """

    key_salt = "solidarity.accounts.invitations.InvitationTokenGenerator"

    def check_token(self, user: User | None, token: str | None) -> bool:
        if not (user and token):
            return False
        try:
            stamp, _digest = token.split("-")
            timestamp = base36_to_int(stamp)
        except ValueError:
            return False
        secrets = [self.secret, *self.secret_fallbacks]
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, timestamp, s), token)
            for s in secrets
        ):
            return False
        age = self._num_seconds(self._now()) - timestamp
        return 0 <= age <= lifetime().total_seconds()


tokens = InvitationTokenGenerator()


# -- Links --------------------------------------------------------------------------------------


def may_invite(user: AbstractBaseUser) -> bool:
    """A link is for an account whose password nobody has chosen for themselves yet: none at
    all, or one an administrator set. Someone else's own password is never replaced by one."""
    return not user.has_usable_password() or must_replace(user)


def new_link(user: User, *, by: Any) -> str:
    """Make a link (a path with its fragment) for `user` and kill every older one.

    The account's password becomes a new random unusable one: that changes what every earlier
    token was computed over, and a password an administrator set stops working.
    """
    with transaction.atomic():
        user.set_unusable_password()
        user.save(update_fields=["password"])
        PasswordToReplace.objects.filter(user_id=user.pk).delete()
        _record("invitation_created", user, by, {"hours": lifetime_hours()})
    return link_path(urlsafe_base64_encode(force_bytes(user.pk)), tokens.make_token(user))


def link_path(uid: str, token: str) -> str:
    """The link's path, `/accounts/welcome/#u=…&t=…`.

    The token travels after "#", which a browser never sends: a query string would be written
    to the reverse proxy's access log (and the browser's history), and whoever read that log
    before the member used the link could choose the member's password. The page's script
    (static/accounts/invitation.js) moves the fragment into its POST form and out of the
    address bar; without JavaScript the member pastes the link (`link_parameters`).
    """
    return f"{reverse('accounts:invitation')}#{urlencode({'u': uid, 't': token})}"


def link_parameters(pasted: str) -> tuple[str, str]:
    """The `u` and `t` of a link the member pasted: the whole link, or only what follows its
    "#" (or the "?" of a link made before the token moved to the fragment). Empty strings for
    what is not there; nothing is checked here."""
    # Messengers and mail clients break a long link over lines: no part of it is white space.
    text = "".join(pasted.split())
    if len(text) > MAX_LINK:
        return "", ""
    for separator in ("#", "?"):
        if separator in text:
            text = text.rsplit(separator, 1)[1]
            break
    parameters = parse_qs(text)
    return parameters.get("u", [""])[0], parameters.get("t", [""])[0]


def invited_user(uid: str) -> Any | None:
    """The active account a link's `u` parameter names, if any (nothing checked yet)."""
    if not uid or len(uid) > MAX_UID:
        return None
    try:
        pk = urlsafe_base64_decode(uid).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    model = get_user_model()
    try:
        user = model._default_manager.filter(pk=pk).first()
    except (ValueError, TypeError):
        return None
    return user if user is not None and user.is_active else None


def link_works(user: User | None, token: str) -> bool:
    """Whether `token` is the current link of `user`, unused and not expired."""
    if user is None or not token or len(token) > MAX_TOKEN or user.has_usable_password():
        return False
    return tokens.check_token(user, token)


def accept(user: User, token: str, password: str) -> bool:
    """Set the password the member chose through their link; False if the link died meanwhile
    (used in another tab an instant before, or a newer one made): nothing changes then."""
    model = get_user_model()
    with transaction.atomic():
        # Locked and checked again: two submissions of one link must not both set a password.
        locked = model._default_manager.select_for_update().filter(pk=user.pk).first()
        if locked is None or not link_works(locked, token):
            return False
        locked.set_password(password)
        locked.save(update_fields=["password"])
        PasswordToReplace.objects.filter(user_id=locked.pk).delete()
        _record("invitation_used", locked, locked)
    return True


# -- Passwords an administrator set ---------------------------------------------------------------


def must_replace(user: AbstractBaseUser) -> bool:
    return PasswordToReplace.objects.filter(user_id=user.pk).exists()


def one_time_password_expired(user: AbstractBaseUser) -> bool:
    """Whether `user`'s password is one an administrator set longer ago than a link lives: it
    then opens nothing, like a wrong password (the member asks for a new link)."""
    since = timezone.now() - lifetime()
    return PasswordToReplace.objects.filter(user_id=user.pk, at__lt=since).exists()


def password_set_by_administrator(user: AbstractBaseUser, *, by: Any) -> bool:
    """After `by` set `user`'s password in the back office: it now opens one login only.

    Returns whether the member must replace it. Not when administrators set their own (nobody
    else learnt it), nor when the password was disabled (it opens nothing).
    """
    with transaction.atomic():
        if user.pk == getattr(by, "pk", None) or not user.has_usable_password():
            PasswordToReplace.objects.filter(user_id=user.pk).delete()
            return False
        PasswordToReplace.objects.update_or_create(user_id=user.pk, defaults={"at": timezone.now()})
        _record("password_change_forced", user, by)
    return True


def replace_forced_password(user: AbstractBaseUser, password: str) -> None:
    """The member chose their own password in place of the one an administrator set."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        PasswordToReplace.objects.filter(user_id=user.pk).delete()
        _record("forced_password_changed", user, user)


def _record(
    action: str, user: AbstractBaseUser, by: Any, values: dict[str, Any] | None = None
) -> None:
    # Names and the account only: the token and the link never enter the chain (D9). `by` None
    # is a management command (reset_second_factor), named by the audit context.
    actor = actor_for_user(by) if by is not None else None
    append(action, model_label(get_user_model()), user.pk, values=values, actor=actor)
