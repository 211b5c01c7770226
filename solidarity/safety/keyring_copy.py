"""The production keyring: creating it, and its encrypted copy for the day the server is lost.

Threat addressed: backups leave the keyring out on purpose (a seized backup must be ciphertext,
threat model D3, M12), so a dead disk leaves them unreadable unless the keyring was copied
somewhere, and a copy made by hand is the keys in plaintext on a USB stick. `export` encrypts
the keyring to the same offline X25519 key as the backups; `import` writes it back on a new
server, and only if it opens the database's values and drops none of the keys in use.

Copy file layout (integers big-endian), the backups' family (`audit/backup.py`):

    MAGIC | u32 n | header JSON (n bytes) | u16 m | sealed data key (m bytes) | nonce+ciphertext

The header says what the file is, the recipient key's fingerprint and the key ids inside (never
a key). The keyring file's text is encrypted with XChaCha20-Poly1305 under a random data key,
which is sealed (libsodium sealed box) to the backup public key; the associated data is the
SHA-256 of everything before the ciphertext, so an edited header fails like an edited key.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django.db.models.functions import Length
from django.utils import timezone
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.utils import random

from solidarity.audit.backup import (
    BackupError,
    existing_data,
    fsync_directory,
    place_copied_with_the_data,
    publish_new_file,
)
from solidarity.audit.keys import fingerprint
from solidarity.audit.services import append
from solidarity.core.credentials import ReadOnlyCredential

from .crypto import (
    KEY_BYTES,
    DecryptionError,
    Keyring,
    _create_keyring,
    aead_decrypt,
    aead_encrypt,
    associated_data,
    b64d,
    keyring_path,
    link_new_keyring,
    load_keyring,
    parse_keyring,
    refuse_read_only,
    write_keyring,
)
from .fields import ROW_NONCE

MAGIC = b"SOLIDARITY-KEYRING-COPY\n"
FORMAT = "solidarity-keyring-copy"
VERSION = 1
CIPHER = "x25519-sealedbox+xchacha20poly1305"
WHAT = (
    "The Solidarity keyring (personal-data keys and server secret), encrypted to the backup "
    "key named by 'recipient'. Write it back with `solidarity keyring import`."
)
# A keyring is a few hundred bytes per key; anything far larger is not a copy of one.
MAX_BYTES = 1 << 20


class KeyringCopyError(Exception):
    pass


# -- Where the keyring may be -------------------------------------------------------------------


def _refuse_credential(path: Path) -> None:
    """Never over a systemd credential: read-only, and sealed by hand (core/credentials.py)."""
    try:
        refuse_read_only(path)
    except ReadOnlyCredential as error:
        raise KeyringCopyError(str(error)) from error


def _refuse_copied_place(path: Path) -> None:
    """Neither over a credential nor beside what is copied with the data."""
    _refuse_credential(path)
    _refuse_beside_the_data(path)


def _refuse_beside_the_data(path: Path) -> None:
    """The deploy check's rule (accounts.E009): never beside what is copied with the data."""
    resolved = path.resolve()
    name = place_copied_with_the_data(resolved)
    if name is not None:
        raise KeyringCopyError(
            f"The keyring {resolved} would be inside {name}: a backup, a copy of the data "
            "or a seized disk would take the keys along with the values they protect. "
            "Point SOLIDARITY_KEYRING_FILE at a file on a tmpfs filled after boot (e.g. "
            "/run/solidarity/keyring.json)."
        )


def init_keyring() -> Keyring:
    """Create the keyring at the configured path; never over an existing one."""
    path = keyring_path()
    # The credential first: it exists, and "a keyring exists already" would hide why.
    _refuse_credential(path)
    if path.exists():
        raise KeyringCopyError(f"A keyring exists already at {path}; it was not changed.")
    _refuse_beside_the_data(path)
    if not _create_keyring(path):
        raise KeyringCopyError(f"A keyring appeared at {path} meanwhile; it was not changed.")
    return load_keyring()


# -- Export -----------------------------------------------------------------------------------


@dataclass
class Exported:
    path: Path
    key_ids: list[str]
    current: str
    recipient: str


def _prefix(header: dict[str, Any], sealed: bytes) -> bytes:
    raw = json.dumps(header, sort_keys=True).encode()
    return MAGIC + struct.pack(">I", len(raw)) + raw + struct.pack(">H", len(sealed)) + sealed


def export_keyring(target: Path, recipient: PublicKey) -> Exported:
    """Write the keyring encrypted to `recipient` into `target`, a new file (mode 0600)."""
    source = keyring_path()
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyringCopyError(f"There is no keyring at {source}: nothing to export.") from None
    try:
        keyring = parse_keyring(source, text)
    except ImproperlyConfigured as error:
        raise KeyringCopyError(str(error)) from error
    if target.exists():
        raise KeyringCopyError(f"{target} exists already; choose a new name for each copy.")
    inside = place_copied_with_the_data(target.parent.resolve())
    if inside is not None:
        # There every backup would carry the keyring's copy beside the values it opens (and
        # MEDIA_ROOT or STATIC_ROOT may be served): the holder of the backup key reads all.
        raise KeyringCopyError(
            f"{target} is inside {inside}; keep the keyring's copy away from the data."
        )
    data_key = random(KEY_BYTES)
    key_ids, recipient_print = sorted(keyring.keys), fingerprint(bytes(recipient))
    header = {
        "format": FORMAT,
        "version": VERSION,
        "what": WHAT,
        "cipher": CIPHER,
        "recipient": recipient_print,
        "created": timezone.now().isoformat(),
        "current": keyring.current,
        "key_ids": key_ids,
    }
    prefix = _prefix(header, bytes(SealedBox(recipient).encrypt(data_key)))
    body = aead_encrypt(data_key, text.encode(), hashlib.sha256(prefix).digest())
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(prefix + body)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            publish_new_file(partial, target)
        except BackupError as error:
            raise KeyringCopyError(
                f"{target} exists already; choose a new name for each copy."
            ) from error
    finally:
        partial.unlink(missing_ok=True)
    fsync_directory(target.parent)
    exported = Exported(target, key_ids, keyring.current, recipient_print)
    # Who made a copy of the keys, when, to which key and where (never a key): a copy is as
    # good as the keyring to the holder of the backup key.
    try:
        append(
            "keyring_exported",
            "settings",
            "keyring",
            values={
                "key_ids": exported.key_ids,
                "recipient": exported.recipient,
                "file": str(target.resolve()),
            },
        )
    except DatabaseError as error:
        raise KeyringCopyError(
            f"The copy was written to {target}, but the audit log could not record it: {error}"
        ) from error
    return exported


# -- Import -----------------------------------------------------------------------------------


def read_copy(path: Path, key: PrivateKey) -> tuple[dict[str, Any], Keyring]:
    """The header and the keyring of a copy, refused if damaged, edited or for another key."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise KeyringCopyError(f"Cannot read {path}: {error}") from error
    if len(data) > MAX_BYTES or not data.startswith(MAGIC):
        raise KeyringCopyError(f"{path} is not a copy of a Solidarity keyring.")
    damaged = KeyringCopyError(
        f"The keyring copy {path} is damaged or was tampered with; nothing was written."
    )
    at = len(MAGIC)
    try:
        (size,) = struct.unpack_from(">I", data, at)
        header: dict[str, Any] = json.loads(data[at + 4 : at + 4 + size])
        at += 4 + size
        (sealed_size,) = struct.unpack_from(">H", data, at)
        sealed = data[at + 2 : at + 2 + sealed_size]
        at += 2 + sealed_size
    except (struct.error, ValueError) as error:
        raise damaged from error
    if not isinstance(header, dict) or len(sealed) != sealed_size:
        raise damaged
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise KeyringCopyError(
            f"{path} is of format {header.get('format')!r} version {header.get('version')!r}; "
            f"this version of Solidarity reads {FORMAT} version {VERSION}."
        )
    ours = fingerprint(bytes(key.public_key))
    if header.get("recipient") != ours:
        raise KeyringCopyError(
            f"This copy was encrypted to the key with fingerprint {header.get('recipient')}, "
            f"not to this private key ({ours})."
        )
    try:
        data_key = SealedBox(key).decrypt(sealed)
        text = aead_decrypt(data_key, data[at:], hashlib.sha256(data[:at]).digest()).decode()
    except (CryptoError, DecryptionError, UnicodeDecodeError) as error:
        raise damaged from error
    try:
        keyring = parse_keyring(path, text)
    except ImproperlyConfigured as error:
        raise KeyringCopyError(str(error)) from error
    if sorted(keyring.keys) != header.get("key_ids") or keyring.current != header.get("current"):
        raise damaged
    return header, keyring


@dataclass
class DataCheck:
    """One stored value per encrypted column, tried with the imported keyring."""

    tried: int = 0
    opened: int = 0
    failed: list[str] = field(default_factory=list)


def check_against_data(keyring: Keyring) -> DataCheck:
    """Decrypt one stored value of each encrypted column with `keyring` (not the configured
    one), as the field would: key named by the ciphertext, bound to model, field and row."""
    from .rotation import encrypted_fields

    check = DataCheck()
    try:
        for model, fields in encrypted_fields():
            for f in fields:
                row = (
                    model._base_manager.annotate(_stored_length=Length(f.attname))
                    .filter(_stored_length__gt=0)
                    .values_list(f.attname, ROW_NONCE)
                    .first()
                )
                if row is None:
                    continue
                check.tried += 1
                stored, nonce = str(row[0]), row[1]
                aad = associated_data(model._meta.label, f.name, str(nonce))
                try:
                    _tag, key_id, blob = stored.split(":", 2)
                    aead_decrypt(keyring.keys[key_id], b64d(blob), aad)
                except (ValueError, KeyError, DecryptionError):
                    check.failed.append(f"{model._meta.label}.{f.name}")
                    continue
                check.opened += 1
    except DatabaseError:  # not migrated yet: nothing is encrypted
        return DataCheck()
    return check


@dataclass
class Imported:
    path: Path
    key_ids: list[str]
    current: str
    replaced: bool
    check: DataCheck
    audited: bool


def import_keyring(source: Path, key: PrivateKey, *, replace: bool = False) -> Imported:
    """Write the keyring of the copy `source` at the configured path, after every check: a
    keyring that lost a key, or is not this database's, would make values unreadable."""
    _header, keyring = read_copy(source, key)
    path = keyring_path()
    _refuse_copied_place(path)
    if path.exists() and not replace:
        raise KeyringCopyError(
            f"A keyring exists already at {path}; nothing was written. Pass --replace to "
            "replace it (refused if the copy lacks any of its keys)."
        )
    created = keyring.created
    if path.exists():
        try:
            existing = parse_keyring(path, path.read_text(encoding="utf-8"))
        except ImproperlyConfigured as error:
            raise KeyringCopyError(
                f"{error} Move it away by hand if it is beyond repair; nothing was written."
            ) from error
        dropped = sorted(set(existing.keys) - set(keyring.keys))
        if dropped:
            raise KeyringCopyError(
                f"The copy lacks the key(s) {', '.join(dropped)} of the keyring at {path}: "
                "values encrypted under them would become unreadable. Nothing was written."
            )
        changed = sorted(k for k in existing.keys if existing.keys[k] != keyring.keys[k])
        if changed or existing.server_secret != keyring.server_secret:
            what = f"the key(s) {', '.join(changed)}" if changed else "the server secret"
            raise KeyringCopyError(
                f"The copy holds another {what} than the keyring at {path}: values, "
                "blind indexes or users' keys made under the present one would become "
                "unreadable. Nothing was written."
            )
        # The same keys: a date the keyring knows and an older copy does not is kept.
        created = {**existing.created, **keyring.created}
    check = check_against_data(keyring)
    if check.tried and not check.opened:
        raise KeyringCopyError(
            "This keyring does not open this database's data: none of "
            f"{check.tried} stored value(s) tried ({', '.join(check.failed)}) decrypts with "
            "it. Nothing was written."
        )
    if path.exists():
        write_keyring(path, keyring.current, keyring.keys, keyring.server_secret, created)
    elif not link_new_keyring(path, keyring.current, keyring.keys, keyring.server_secret, created):
        raise KeyringCopyError(f"A keyring appeared at {path} meanwhile; nothing was written.")
    # Audited on a live database only: a restore writes the keyring first and then needs an
    # empty database (`restore` refuses one holding anything, an audit entry included).
    audited = False
    try:
        audited = bool(existing_data())
    except DatabaseError:
        audited = False
    if audited:
        try:
            append(
                "keyring_imported",
                "settings",
                "keyring",
                values={"key_ids": sorted(keyring.keys), "replaced": replace},
            )
        except DatabaseError as error:
            raise KeyringCopyError(
                f"The keyring was written to {path}, but the audit log could not record it: {error}"
            ) from error
    return Imported(path, sorted(keyring.keys), keyring.current, replace, check, audited)
