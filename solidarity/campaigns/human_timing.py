"""Public forms must come back no sooner than a person could fill them in (ASVS 2.4.2).

Threat: a script that signs a petition, reports letters or replies to an action in a loop,
to discredit a petition with junk signatures or to flood other people's inboxes with our
confirmation e-mails. Each public form therefore carries a stamp of when it was served, signed
with SECRET_KEY (its own salt) and bound to one form of one petition, urgent action or action.
A submission that comes back sooner than `SOLIDARITY_FORM_MIN_SECONDS` (default 3: a fast
typist needs about that for a name and an e-mail address, and autofill plus a tick and a click
about two), or whose stamp is missing, forged, made for another form or older than a day, is
not saved: the form comes back with everything typed, a fresh stamp and a polite message, so
a person who was simply quick sends it again.

No database row: the stamp is checked by its signature alone, so it costs an HMAC and stops
scripts that post without waiting for the page. It is not single-use: a script that fetches one
page, waits and then sends the same stamp again and again gets through, within the per-client
limit (throttle.py) and still needing each address's confirmation, which remain the real bounds.

The check sits in the public forms only (forms.HumanTimedForm). The OSDI API's record-signature
helper (solidarity/api) validates with the plain SignForm and is not subject to it: it serves
authenticated tools, which are limited by their token instead.

The shared petition page (page_cache.py) is rendered once with `PLACEHOLDER` where the stamp
goes; `fill` puts in a stamp of its own for each response, as the page cache does with the
CSRF token, so no reader is ever given another reader's stamp and none is kept.
"""

from __future__ import annotations

import math
import secrets
import time

from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.translation import gettext_lazy as _

# The hidden field's name in every public form.
FIELD = "served"
# A stamp older than this is refused too (a tab left open for days): the person sends again.
MAX_AGE = 24 * 3600
# Random per process, like page_cache.CSRF_PLACEHOLDER: no text typed into a page (a public
# name) can contain it, so only the form's own hidden field is ever replaced.
PLACEHOLDER = "served-" + secrets.token_hex(24)

_SALT = "solidarity.campaigns.human_timing"

TOO_FAST = _(
    "That was quicker than a person usually fills in this form, so nothing has been recorded "
    "yet. Please check what you typed and send it again."
)
NOT_CHECKED = _(
    "This form was open too long or could not be checked, so nothing has been recorded yet. "
    "Please check what you typed and send it again."
)


def minimum_seconds() -> float:
    """SOLIDARITY_FORM_MIN_SECONDS; 0 (test suites, load benches) lets a form without a stamp
    through, but a stamp that is sent must still be genuine."""
    value = str(getattr(settings, "SOLIDARITY_FORM_MIN_SECONDS", "3"))
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds < MAX_AGE:
        raise ImproperlyConfigured(
            f"SOLIDARITY_FORM_MIN_SECONDS must be a number of seconds, e.g. '3', not {value!r}"
        )
    return seconds


def _signer(scope: str) -> signing.Signer:
    # The scope ("sign:<slug>", "rsvp:<pk>"...) is in the salt: a stamp served with one form
    # does not verify for another, so a stamp cannot be carried over to skip a wait.
    return signing.Signer(salt=f"{_SALT}:{scope}")


def stamp(scope: str) -> str:
    """A stamp saying that the form `scope` was served now."""
    # Milliseconds, rounded down: a stamp never claims to be younger than it is.
    return _signer(scope).sign(str(time.time_ns() // 1_000_000))


def fill(page: str, scope: str) -> str:
    """`page`, rendered with PLACEHOLDER for the stamp, with a fresh stamp of its own."""
    return page.replace(PLACEHOLDER, stamp(scope))


def check(value: str | None, scope: str) -> None:
    """Raise ValidationError unless `value` is a genuine stamp of `scope` at least the minimum
    old. Said the same way whoever signs: nothing here looks at what was typed."""
    minimum = minimum_seconds()
    if not value and minimum == 0:
        return
    try:
        served_ms = int(_signer(scope).unsign(value or ""))
    except (signing.BadSignature, ValueError):
        raise ValidationError(NOT_CHECKED, code="stamp") from None
    elapsed = time.time() - served_ms / 1000
    if elapsed > MAX_AGE:
        raise ValidationError(NOT_CHECKED, code="stamp")
    if elapsed < minimum:
        raise ValidationError(TOO_FAST, code="too_fast")
