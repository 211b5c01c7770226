"""Key files: the audit checkpoint signing key (Ed25519), the offline backup key (X25519) and the
sections' offline recovery keys for sealed data (X25519).

A key file is a comment line saying what the key is, then the key in base64. Private keys are
created 0600 from their first byte and never overwritten: a silently replaced backup key would
make every later backup unreadable to the people holding the old one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from nacl.public import PrivateKey, PublicKey
from nacl.signing import SigningKey, VerifyKey


class KeyFileError(Exception):
    pass


def _write(path: Path, title: str, key: bytes, private: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    except FileExistsError as error:
        raise KeyFileError(
            f"{path} exists already; refusing to overwrite a key. Move it away first."
        ) from error
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(f"# {title}\n{base64.b64encode(key).decode()}\n")


def _read(path: Path, what: str, title: str) -> bytes:
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError as error:
        raise KeyFileError(f"{what}: no such file {path}.") from error
    except (OSError, UnicodeDecodeError) as error:
        raise KeyFileError(f"{what}: cannot read {path} ({error}).") from error
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    body = "".join(line for line in lines if not line.startswith("#"))
    try:
        key = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as error:
        raise KeyFileError(f"{what}: {path} does not hold a base64 key.") from error
    # The comment line tells an audit key from a backup key, and a public from a private one:
    # all four are 32 bytes, and a mix-up must be named, not turned into a crypto failure.
    comment = lines[0].lstrip("# ") if lines and lines[0].startswith("#") else title
    if len(key) != 32 or comment != title:
        raise KeyFileError(f"{what}: {path} holds another kind of key ({comment}).")
    return key


def fingerprint(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:32]


# -- Audit checkpoint signing (Ed25519) --------------------------------------------------------

SIGNING_PRIVATE = "Solidarity audit checkpoint signing key (Ed25519, private)"
SIGNING_PUBLIC = "Solidarity audit checkpoint verification key (Ed25519, public)"


def write_signing_pair(private_path: Path, public_path: Path) -> str:
    if public_path.exists():
        raise KeyFileError(f"{public_path} exists already; refusing to overwrite a key.")
    key = SigningKey.generate()
    _write(private_path, SIGNING_PRIVATE, bytes(key), private=True)
    _write(public_path, SIGNING_PUBLIC, bytes(key.verify_key), private=False)
    return fingerprint(bytes(key.verify_key))


def read_signing_key(path: Path) -> SigningKey:
    return SigningKey(_read(path, "audit signing private key", SIGNING_PRIVATE))


def read_verify_key(path: Path) -> VerifyKey:
    return VerifyKey(_read(path, "audit verification public key", SIGNING_PUBLIC))


# -- Backups (X25519) ----------------------------------------------------------------------------

BACKUP_PRIVATE = "Solidarity backup key (X25519, private) - keep offline, never on the server"
BACKUP_PUBLIC = "Solidarity backup recipient key (X25519, public)"


def _write_x25519_pair(
    private_path: Path, public_path: Path, private_label: str, public_label: str
) -> str:
    if public_path.exists():
        raise KeyFileError(f"{public_path} exists already; refusing to overwrite a key.")
    key = PrivateKey.generate()
    _write(private_path, private_label, bytes(key), private=True)
    _write(public_path, public_label, bytes(key.public_key), private=False)
    return fingerprint(bytes(key.public_key))


def write_backup_pair(private_path: Path, public_path: Path) -> str:
    return _write_x25519_pair(private_path, public_path, BACKUP_PRIVATE, BACKUP_PUBLIC)


def read_backup_private(path: Path) -> PrivateKey:
    return PrivateKey(_read(path, "backup private key", BACKUP_PRIVATE))


def read_backup_public(path: Path) -> PublicKey:
    return PublicKey(_read(path, "backup public key", BACKUP_PUBLIC))


# -- Section recovery keys for sealed data (X25519) -----------------------------------------------

RECOVERY_PRIVATE = (
    "Solidarity section recovery key (X25519, private) - keep offline, never on the server"
)
RECOVERY_PUBLIC = "Solidarity section recovery key (X25519, public)"


def write_recovery_pair(private_path: Path, public_path: Path) -> str:
    # Labels of their own: a backup key given where a recovery key is asked is refused.
    return _write_x25519_pair(private_path, public_path, RECOVERY_PRIVATE, RECOVERY_PUBLIC)


def read_recovery_private(path: Path) -> PrivateKey:
    return PrivateKey(_read(path, "recovery private key", RECOVERY_PRIVATE))


def read_recovery_public(path: Path) -> PublicKey:
    return PublicKey(_read(path, "recovery public key", RECOVERY_PUBLIC))
