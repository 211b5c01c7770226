"""Making, finding and revoking API tokens: the CLI and the back office both call these."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from solidarity.audit.context import actor_for_user
from solidarity.audit.services import append, model_label

from .models import ApiToken
from .scopes import SCOPES, user_may_hold

# The longest token we accept: ours are 47 characters; anything much longer is not one of ours
# and is not worth hashing.
MAX_TOKEN_LENGTH = 100
# A fixed start lets secret scanners recognise a leaked token (as GitHub's "ghp_" does), and
# keeps a token from starting with "-", which a command line would read as an option.
TOKEN_START = "sol_"  # noqa: S105  (a public marker, not a secret)
PREFIX_LENGTH = len(TOKEN_START) + 8


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(user: User, name: str, scopes: Iterable[str]) -> tuple[ApiToken, str]:
    """A new token and its secret, which is shown once and never stored."""
    wanted = sorted(set(scopes))
    if not name.strip():
        raise ValidationError("Give the token a name that says what it is for.")
    if not wanted:
        raise ValidationError("Give at least one scope: " + ", ".join(SCOPES) + ".")
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise ValidationError(
            f"Unknown scope {', '.join(unknown)}; the scopes are: {', '.join(SCOPES)}."
        )
    refused = [s for s in wanted if not user_may_hold(user, s)]
    if refused:
        raise ValidationError(
            f"{user.get_username()} may not hold {', '.join(refused)}: a token can do no more "
            "than its user, and this user lacks the permission (or is inactive)."
        )
    secret = TOKEN_START + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip(),
        scopes=wanted,
        prefix=secret[:PREFIX_LENGTH],
        key_hash=hash_token(secret),
    )
    return token, secret


def token_for_secret(secret: str) -> ApiToken | None:
    """The live token with this secret, or None; records when it was last used."""
    if not secret or len(secret) > MAX_TOKEN_LENGTH:
        return None
    digest = hash_token(secret)
    token = ApiToken.objects.select_related("user").filter(key_hash=digest).first()
    # The lookup is by an index on the hash, which leaks nothing an attacker can steer; the
    # constant-time comparison guards against a database collation that matches loosely.
    if token is None or not hmac.compare_digest(token.key_hash, digest):
        return None
    if token.revoked is not None or not token.user.is_active:
        return None
    now = timezone.now()
    # One write a minute at most: a busy integration must not turn every read into a write.
    if token.last_used is None or (now - token.last_used).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        token.last_used = now
    return token


def revoke_token(token: ApiToken) -> bool:
    """Revoke `token`; False if it was revoked already."""
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked__isnull=True).update(
            revoked=timezone.now()
        )
    return updated == 1


def rotate_token(token: ApiToken) -> tuple[ApiToken, str]:
    """A new token for the same user, with the same name and scopes, and `token` revoked, in one
    transaction: there is no moment with both or neither. Returns the new token and its
    secret, shown once like a created one.

    Rotation is how a token ends its cryptoperiod (docs/inventories.md §3) or one that may have
    been seen (a log, a colleague's screen) is replaced without a gap in what it may do. The
    scopes are checked against the user's permissions again: a rotation never keeps a scope
    the user has lost since. The audit log has the new token's creation and, on the old one,
    "api_token_rotated" naming its successor (numbers only, never a secret).
    """
    with transaction.atomic():
        old = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
        if old.revoked is not None:
            raise ValidationError(
                f"Token {old.pk} is revoked already: make a new one with 'apitoken create'."
            )
        new, secret = create_token(old.user, old.name, old.scopes)
        revoke_token(old)
        append(
            "api_token_rotated",
            model_label(ApiToken),
            old.pk,
            ["revoked"],
            values={"replaced_by": new.pk},
        )
    return new, secret


def revoke_exposed_token(token: ApiToken, reason: str) -> bool:
    """Revoke a token whose secret was seen in clear, and say so in the audit log (the token's
    number and the reason, never the secret); False if it was revoked already."""
    with transaction.atomic():
        if not revoke_token(token):
            return False
        append(
            "api_token_revoked",
            model_label(ApiToken),
            token.pk,
            ["revoked"],
            values={"reason": reason},
            actor=actor_for_user(token.user),
        )
    return True
