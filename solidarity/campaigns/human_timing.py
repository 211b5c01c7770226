"""Public forms must come back no sooner than a person could fill them in (ASVS 2.4.2).

Threat: a script that signs a petition, reports letters or replies to an action in a loop,
to discredit a petition with junk signatures or to flood other people's inboxes with our
confirmation e-mails. Each public form therefore carries a stamp of when it was served, signed
with SECRET_KEY (its own salt) and bound to one form of one petition, urgent action or action.
A submission that comes back sooner than `SOLIDARITY_FORM_MIN_SECONDS` (default 3: a fast
typist needs about that for a name and an e-mail address, and autofill plus a tick and a click
about two), or whose stamp is missing, forged, made for another form, older than a day or
used already, is not saved: the form comes back with everything typed, a fresh stamp and a
polite message, so a person who was simply quick sends it again.

Each stamp is used once. Threat: a script that fetches one page, waits the minimum and then
sends the same stamp again and again, which the signature alone would let through. The first
submission stored under a stamp marks it used in the shared cache (settings.CACHES: with
PostgreSQL a table every app server reads, core/cache.py), under a keyed hash of the stamp,
for MAX_AGE, after which the stamp is refused as too old anyway; a later one with the same
stamp is answered as a stamp that could not be checked, word for word, so the script is not
told what it got wrong. Each stamp holds a random part, so two pages served in the same
millisecond (two readers, or one script loading in parallel) get two stamps, one use each.
The per-client limit (throttle.py) and each address's confirmation remain the bounds on a
script that loads a page for every submission.

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
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.crypto import salted_hmac
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
    """A stamp saying that the form `scope` was served now: "<milliseconds>.<random>", signed."""
    # Milliseconds, rounded down: a stamp never claims to be younger than it is. The random
    # part makes each stamp its own, to be used once (see `use`).
    served_ms = time.time_ns() // 1_000_000
    return _signer(scope).sign(f"{served_ms}.{secrets.token_hex(8)}")


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
        # A stamp served before stamps had a random part is the time alone: good for its day.
        served_ms = int(_signer(scope).unsign(value or "").partition(".")[0])
    except (signing.BadSignature, ValueError):
        raise ValidationError(NOT_CHECKED, code="stamp") from None
    elapsed = time.time() - served_ms / 1000
    if elapsed > MAX_AGE:
        raise ValidationError(NOT_CHECKED, code="stamp")
    if elapsed < minimum:
        raise ValidationError(TOO_FAST, code="too_fast")


def use(value: str | None) -> bool:
    """Mark the stamp `value`, which `check` has passed, as used; False if it already was.

    Called just before what the form carries is stored (forms.HumanTimedForm.use_stamp says
    why there). No stamp (let through by a minimum of 0) has nothing to use up. `add` is
    atomic in memory and in the database cache, so of two submissions sent at once with one
    stamp, through one server or two, only one is stored; a cache that fails to write refuses
    (the person sends the form again, with the fresh stamp it comes back with).
    """
    if not value:
        return True
    # Threat: a cache dump listing stamps would say when each supporter opened which form.
    used = "human-timing:used:" + salted_hmac(_SALT, value, algorithm="sha256").hexdigest()
    return bool(cache.add(used, 1, timeout=MAX_AGE))
