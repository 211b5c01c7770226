"""Rotating Django's SECRET_KEY (ASVS 11.1.1), and checking our own HMACs under the old keys.

A rotation writes a new key to the key file and keeps the old one, newest first, in the
fallbacks file (settings.SECRET_KEY_FALLBACKS). After a restart everything new is made under
the new key, and whatever was made under an old key still verifies while that key is kept.

What SECRET_KEY keys, and what a rotation does to each (docs/inventories.md §3):

- Verified under the fallbacks too, so they survive while the old key is kept: sessions
  (Django's auth hash and session data signature), invitation links (accounts/invitations.py,
  Django's token generator), the forms' served-at stamps (campaigns/human_timing.py, Django's
  `signing`), and supporters' unsubscribe links (campaigns/services.py, `matches_any_key`).
- Confirmation links: only the SHA-256 of the token is stored and looked up, so a link already
  mailed works whatever the key; a mail sent after the rotation for a signature made before
  carries the token made under the key it was made with (`campaigns.services.signature_token`).
- Keyed hashes that simply start again: throttle counters (accounts/throttle.py,
  campaigns/throttle.py, api/throttling.py) and cache keys (core/cache.py). A client's count
  restarts at zero once, which relaxes a rate limit for one window at most.
- Article HTML stamps (publishing/services.py) are not accepted under an old key: articles are
  converted afresh on each read (safe, only slower) until `solidarity rerender_articles`.
- Not keyed with SECRET_KEY, untouched: backup codes, blind indexes, WebAuthn user handles and
  wrapped private keys (the keyring's server secret), API tokens and session keys at rest
  (unkeyed SHA-256 of long random values).

Threat addressed: a key in use for years may have been copied along the way (an old backup, a
departed administrator, a seized disk of a server since retired), and with it anyone can forge
a new member's invitation link. A rotation ends that, and a routine one costs nobody a session
or a link. A key that may have leaked must not be kept as a fallback (`compromised=True`).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from solidarity.core.credentials import SECRET_KEY_BY_HAND, refuse_credential

# How long an old key stays a fallback. Everything made under a key is short-lived (sessions 8 h,
# invitations 72 h, form stamps 24 h) except the unsubscribe link in a mail, which lives as long
# as the mail is kept; every later mail to the supporter carries a link under the new key. 90
# days covers the mails of a campaign's active weeks without keeping an old key in use for long.
FALLBACK_DAYS = 90
# The cryptoperiod recommended for SECRET_KEY: a year, within NIST SP 800-57 Part 1's two years
# for a symmetric authentication key (§5.3.6), and earlier when someone who could read it leaves.
CRYPTOPERIOD_DAYS = 365


class RotationError(Exception):
    pass


def all_keys() -> list[str]:
    """SECRET_KEY, then each fallback: the keys a token made by this server may be under."""
    return [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]


def matches_any_key(token: str, make: Callable[[str], str]) -> bool:
    """Whether `token` is what `make(key)` gives for SECRET_KEY or one of its fallbacks.

    Each key is tried and compared in constant time, without stopping at a match: the time
    taken says nothing about which key (or how much of a forged token) matched.
    """
    found = False
    for key in all_keys():
        found |= constant_time_compare(make(key), token)
    return found


@dataclass(frozen=True)
class Rotation:
    key_file: Path
    fallbacks_file: Path
    kept: int  # old keys now in the fallbacks file
    remove_after: date | None  # None when the old key was not kept


def rotate(
    key_file: Path, fallbacks_file: Path, *, compromised: bool = False, today: date | None = None
) -> Rotation:
    """Write a new key to `key_file` and put the old one first in `fallbacks_file`.

    With `compromised`, no old key is kept, the earlier ones neither: they lay beside the one
    that leaked. The fallbacks file is written first, so an interruption between the two writes
    leaves the old key current (and also listed, which is harmless), never lost. Refused
    (ReadOnlyCredential) for a key or fallbacks file that systemd provides, before any write.
    """
    refuse_credential(key_file, "The secret key", SECRET_KEY_BY_HAND)
    refuse_credential(fallbacks_file, "The secret key's fallbacks file", SECRET_KEY_BY_HAND)
    if not key_file.is_file():
        raise RotationError(f"The key file {key_file} does not exist.")
    old = key_file.read_text().strip()
    if not old:
        raise RotationError(f"The key file {key_file} is empty.")
    owner = _owner(key_file)
    earlier = _lines(fallbacks_file)
    kept = [] if compromised else [old, *(key for key in earlier if key != old)]
    _write_private(fallbacks_file, "".join(f"{key}\n" for key in kept), owner)
    _write_private(key_file, secrets.token_urlsafe(50) + "\n", owner)
    start = today or timezone.localdate()
    return Rotation(
        key_file=key_file,
        fallbacks_file=fallbacks_file,
        kept=len(kept),
        remove_after=None if compromised else start + timedelta(days=FALLBACK_DAYS),
    )


def _lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def _owner(path: Path) -> tuple[int, int] | None:
    """The owner the new files must have: None for ours. A key file the server cannot read
    would stop it at the next start, so a run as another user is refused, and root hands the
    files to the key file's owner."""
    status = path.stat()
    if status.st_uid == os.geteuid():
        return None
    if os.geteuid() == 0:
        return status.st_uid, status.st_gid
    raise RotationError(
        f"{path} belongs to another user (uid {status.st_uid}): run this command as that user, "
        "the one the server runs as, so that the server can read the new key."
    )


def _write_private(path: Path, text: str, owner: tuple[int, int] | None) -> None:
    """Replace `path` atomically with `text`, mode 0600 from its first byte (another local
    user must never read a key, not even during the write)."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)  # whatever the umask
            if owner is not None:
                os.fchown(handle.fileno(), *owner)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)
