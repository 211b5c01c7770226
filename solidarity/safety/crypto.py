"""Encryption primitives and the keyring, all from PyNaCl (libsodium); nothing home-made.

Personal values are encrypted with XChaCha20-Poly1305 under a keyring key; sealed values with
XChaCha20-Poly1305 under a random data key that is wrapped (libsodium sealed box, X25519) for each
recipient. XChaCha rather than AES-GCM follows the threat model (D2): its 24-byte random nonce
has no practical collision risk, where AES-GCM's 96-bit random nonce limits a key to about 2^32
messages. Every ciphertext carries associated data naming its model, field and row, so a value
copied to another row or column fails to decrypt instead of being shown in the wrong place.

The keyring lives in a file outside the database (SOLIDARITY_KEYRING_FILE, or the systemd
credential `solidarity-keyring`; in production on a tmpfs filled after boot, threat model D3).
Without it the database holds only ciphertext.

The file (JSON, "version": 1):

    {"version": 1,
     "personal": {"current": "k…", "keys": {"k…": "<base64>"}, "created": {"k…": "<ISO, UTC>"}},
     "server_secret": "<base64>"}

"created" says when each personal key was made, for its cryptoperiod (accounts.W008). Keyrings
written before it have none, and a key made before it has no entry: readers must do without.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from nacl import bindings
from nacl.encoding import RawEncoder
from nacl.exceptions import CryptoError
from nacl.hash import blake2b
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.pwhash import argon2id
from nacl.secret import SecretBox
from nacl.utils import random

from solidarity.core.credentials import (
    KEYRING_BY_HAND,
    KEYRING_CREDENTIAL,
    credential,
    refuse_credential,
)

KEY_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_KEYBYTES
NONCE_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
PERSONAL_PREFIX = "p1"
SEALED_PREFIX = "s1"


class DecryptionError(Exception):
    """A value could not be decrypted: wrong key, wrong row, or altered bytes."""


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def b64d(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError) as error:
        raise DecryptionError("not valid base64") from error


def aead_encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = random(NONCE_BYTES)
    return nonce + bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, nonce, key)


def aead_decrypt(key: bytes, blob: bytes, aad: bytes) -> bytes:
    nonce, ciphertext = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
    try:
        return bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, aad, nonce, key)
    except CryptoError as error:
        raise DecryptionError("authentication failed") from error


def associated_data(label: str, field: str, row: str) -> bytes:
    return f"solidarity|{label}|{field}|{row}".encode()


# -- Keyring -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keyring:
    """Keys for personal data (by id, newest current) and the server secret for key wrapping."""

    path: Path
    current: str
    keys: dict[str, bytes]
    server_secret: bytes
    # When each key was made (UTC), for the keys whose date is known (see the module's doc).
    created: dict[str, datetime] = field(default_factory=dict)

    def key(self, key_id: str) -> bytes:
        try:
            return self.keys[key_id]
        except KeyError:
            raise DecryptionError(
                f"key {key_id!r} is not in the keyring {self.path}; was it removed before "
                "`solidarity rotate-keys` finished?"
            ) from None


_cache: dict[Path, tuple[float, Keyring]] = {}


def keyring_path() -> Path:
    """SOLIDARITY_KEYRING_FILE, else the systemd credential `solidarity-keyring` when the service
    was given one (core/credentials.py), else DATA_DIR/keyring.json."""
    if configured := os.environ.get("SOLIDARITY_KEYRING_FILE"):
        return Path(configured)
    if (sealed := credential(KEYRING_CREDENTIAL)) is not None:
        return sealed
    return Path(settings.DATA_DIR) / "keyring.json"


def refuse_read_only(path: Path) -> None:
    """ReadOnlyCredential, with the way by hand, for a keyring that systemd provides."""
    refuse_credential(path, "The keyring", KEYRING_BY_HAND)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _new_key_id() -> str:
    return "k" + secrets.token_hex(4)


def write_keyring(
    path: Path,
    current: str,
    keys: dict[str, bytes],
    server_secret: bytes,
    created: Mapping[str, datetime] | None = None,
) -> None:
    """Replace the keyring file atomically, mode 0600 from its first byte. `created` gives the
    dates known of its keys (those of keys not in `keys` are dropped); a key without one stays
    without, rather than be given the date of this write."""
    dates = {k: d.astimezone(UTC).isoformat() for k, d in (created or {}).items() if k in keys}
    document = {
        "version": 1,
        "personal": {
            "current": current,
            "keys": {k: b64e(v) for k, v in keys.items()},
            "created": dates,
        },
        "server_secret": b64e(server_secret),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own per call, not per process: threads of one server that first need the
    # keyring at the same moment must not write into (and then rename away) the same draft.
    partial = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
    _cache.pop(path, None)


def link_new_keyring(
    path: Path,
    current: str,
    keys: dict[str, bytes],
    server_secret: bytes,
    created: Mapping[str, datetime] | None = None,
) -> bool:
    """Write a keyring at `path` unless a file is there already (then False, nothing changed).

    Written under a temporary name, then linked into place: two processes starting together
    must end up with one keyring (the link fails for the loser, which then reads the winner's),
    and a keyring is never replaced by one that lacks its keys."""
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.new")
    write_keyring(draft, current, keys, server_secret, created)
    try:
        os.link(draft, path)
    except FileExistsError:
        return False
    finally:
        draft.unlink()
    return True


def _create_keyring(path: Path) -> bool:
    """A new keyring with one key and a server secret; False if one was there already."""
    key_id = _new_key_id()
    return link_new_keyring(path, key_id, {key_id: random(KEY_BYTES)}, random(32), {key_id: _now()})


def load_keyring() -> Keyring:
    """The keyring, created in DATA_DIR on first use outside production.

    In production (SOLIDARITY_HTTPS on) the keyring must be provided: a server that made up new
    keys silently would write values that no backup of the real keyring can read.
    """
    path = keyring_path()
    # One stat per call (every encryption asks): its time says whether the file was rotated.
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        if os.environ.get("SOLIDARITY_KEYRING_FILE") or getattr(settings, "HTTPS", False):
            raise ImproperlyConfigured(
                f"The keyring {path} does not exist. Production needs SOLIDARITY_KEYRING_FILE "
                "pointing at the keyring (kept off the database disk, e.g. on a tmpfs); see "
                "docs/threat-model.md, D3."
            ) from None
        _create_keyring(path)
        mtime = path.stat().st_mtime
    cached = _cache.get(path)
    if cached and cached[0] == mtime:
        return cached[1]
    keyring = parse_keyring(path, path.read_text(encoding="utf-8"))
    _cache[path] = (mtime, keyring)
    return keyring


def parse_keyring(path: Path, text: str) -> Keyring:
    """The keyring in `text` (the file's JSON), checked; `path` names it in errors."""
    try:
        document: dict[str, Any] = json.loads(text)
        personal = document["personal"]
        keys = {k: b64d(v) for k, v in personal["keys"].items()}
        keyring = Keyring(
            path=path,
            current=personal["current"],
            keys=keys,
            server_secret=b64d(document["server_secret"]),
            created={
                k: _parse_date(v) for k, v in personal.get("created", {}).items() if k in keys
            },
        )
    except (KeyError, ValueError, TypeError, AttributeError, DecryptionError) as error:
        raise ImproperlyConfigured(f"The keyring {path} is not readable: {error}") from error
    if keyring.current not in keyring.keys or any(
        len(k) != KEY_BYTES for k in keyring.keys.values()
    ):
        raise ImproperlyConfigured(f"The keyring {path} is inconsistent: check its current key.")
    return keyring


def _parse_date(text: str) -> datetime:
    """An ISO date or date and time; without a zone it is UTC."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def add_current_key() -> str:
    """Add a new key to the keyring and make it current; old keys stay for reading."""
    keyring = load_keyring()
    refuse_read_only(keyring.path)
    key_id = _new_key_id()
    write_keyring(
        keyring.path,
        key_id,
        {**keyring.keys, key_id: random(KEY_BYTES)},
        keyring.server_secret,
        {**keyring.created, key_id: _now()},
    )
    return key_id


def remove_keys(key_ids: set[str]) -> None:
    keyring = load_keyring()
    refuse_read_only(keyring.path)
    if keyring.current in key_ids:
        raise ValueError("the current key cannot be removed")
    keys = {k: v for k, v in keyring.keys.items() if k not in key_ids}
    write_keyring(keyring.path, keyring.current, keys, keyring.server_secret, keyring.created)


# -- Personal values ---------------------------------------------------------------------------


def encrypt_personal(plaintext: str, aad: bytes) -> str:
    keyring = load_keyring()
    blob = aead_encrypt(keyring.key(keyring.current), plaintext.encode(), aad)
    return f"{PERSONAL_PREFIX}:{keyring.current}:{b64e(blob)}"


def personal_key_id(stored: str) -> str:
    prefix, key_id, _blob = stored.split(":", 2)
    if prefix != PERSONAL_PREFIX:
        raise DecryptionError(f"not a personal ciphertext (prefix {prefix!r})")
    return key_id


def decrypt_personal(stored: str, aad: bytes) -> str:
    try:
        prefix, key_id, blob = stored.split(":", 2)
    except ValueError:
        raise DecryptionError("not a personal ciphertext") from None
    if prefix != PERSONAL_PREFIX:
        raise DecryptionError(f"not a personal ciphertext (prefix {prefix!r})")
    return aead_decrypt(load_keyring().key(key_id), b64d(blob), aad).decode()


# -- Sealed values -----------------------------------------------------------------------------


def seal(plaintext: str, aad: bytes, recipients: list[PublicKey]) -> tuple[str, list[bytes]]:
    """Encrypt under a fresh data key; return the stored text and the key wrapped per recipient."""
    data_key = random(KEY_BYTES)
    stored = f"{SEALED_PREFIX}:{b64e(aead_encrypt(data_key, plaintext.encode(), aad))}"
    return stored, [wrap_data_key(data_key, recipient) for recipient in recipients]


def wrap_data_key(data_key: bytes, recipient: PublicKey) -> bytes:
    return SealedBox(recipient).encrypt(data_key)


def unwrap_data_key(wrapped: bytes, private_key: PrivateKey) -> bytes:
    try:
        return SealedBox(private_key).decrypt(wrapped)
    except CryptoError as error:
        raise DecryptionError("this data key is not wrapped for this private key") from error


def unseal(stored: str, aad: bytes, data_key: bytes) -> str:
    prefix, _sep, blob = stored.partition(":")
    if prefix != SEALED_PREFIX:
        raise DecryptionError(f"not a sealed ciphertext (prefix {prefix!r})")
    return aead_decrypt(data_key, b64d(blob), aad).decode()


# -- Password-protected private keys -----------------------------------------------------------


@dataclass(frozen=True)
class KdfLimits:
    opslimit: int
    memlimit: int


KDF_PROFILES = {
    "moderate": KdfLimits(argon2id.OPSLIMIT_MODERATE, argon2id.MEMLIMIT_MODERATE),
    "interactive": KdfLimits(argon2id.OPSLIMIT_INTERACTIVE, argon2id.MEMLIMIT_INTERACTIVE),
}


def kdf_limits() -> KdfLimits:
    """Argon2id cost for new keys: 'moderate' (256 MiB) unless SOLIDARITY_KDF says otherwise."""
    name = getattr(settings, "SOLIDARITY_KDF", os.environ.get("SOLIDARITY_KDF", "moderate"))
    try:
        return KDF_PROFILES[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"SOLIDARITY_KDF must be one of {sorted(KDF_PROFILES)}"
        ) from None


def password_key(password: str, salt: bytes, limits: KdfLimits) -> bytes:
    """Argon2id of the password, mixed with the server secret by keyed BLAKE2b."""
    stretched = argon2id.kdf(
        SecretBox.KEY_SIZE, password.encode(), salt, limits.opslimit, limits.memlimit
    )
    return blake2b(
        stretched,
        digest_size=SecretBox.KEY_SIZE,
        key=load_keyring().server_secret,
        person=b"solidarity-ukey",
        encoder=RawEncoder,
    )


def new_salt() -> bytes:
    return random(argon2id.SALTBYTES)


def protect_private_key(
    private_key: PrivateKey, password: str, salt: bytes, limits: KdfLimits
) -> str:
    box = SecretBox(password_key(password, salt, limits))
    return b64e(bytes(box.encrypt(bytes(private_key))))


def open_private_key(encrypted: str, password: str, salt: bytes, limits: KdfLimits) -> PrivateKey:
    box = SecretBox(password_key(password, salt, limits))
    try:
        return PrivateKey(box.decrypt(b64d(encrypted)))
    except CryptoError as error:
        raise DecryptionError("wrong password for this key") from error


# -- Blind index -------------------------------------------------------------------------------


def blind_index(value: str, purpose: str) -> str:
    """A keyed hash of `value` for equality lookups on an encrypted column (one signature per
    e-mail, for instance). Keyed with the server secret, so a copy of the database alone cannot
    be checked against a list of known values, as an unkeyed SHA-256 could. `purpose` separates
    uses ("supporter-email"), so equal values in different columns do not match."""
    person = f"bidx:{purpose}".encode()[:16]
    return blake2b(
        value.encode(), digest_size=32, key=load_keyring().server_secret, person=person
    ).decode("ascii")
