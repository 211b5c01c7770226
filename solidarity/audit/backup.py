"""Encrypted backups of the whole database and the media directory, and their restore.

File layout (all integers big-endian):

    MAGIC | u32 n | header JSON (n bytes) | u16 m | sealed data key (m bytes) | stream header
    then messages: u32 length | XChaCha20-Poly1305 secretstream ciphertext

The header names the format version and the fingerprint of the recipient key. The data key is
random per backup, sealed (X25519, libsodium sealed box) to the offline public key, so the
server that writes a backup cannot read it back; a seized backup is ciphertext without that key.
The stream (libsodium secretstream) authenticates every message and their order, and marks the
last one, so a flipped byte, a dropped or reordered message and a truncated file all fail. Each
message also authenticates the file's prefix, header included.

Plaintext messages: a manifest (versions, applied migrations, row counts and content hashes),
the rows of every table (many-to-many link tables included) as their fields store them, media
files in parts, and an end marker. Rows keep their primary keys, so generic relations (which
name content types by id) and link tables come back exactly. The rows are read in one
snapshot: REPEATABLE READ on PostgreSQL, a single read transaction on SQLite (WAL lets writers go
on meanwhile).
"""

from __future__ import annotations

import datetime as dt
import decimal
import fcntl
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import struct
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.color import no_style
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from nacl import bindings as sodium
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from .context import suspended
from .keys import fingerprint

_T = TypeVar("_T")

MAGIC = b"SOLIDARITY-BACKUP\n"
FORMAT = "solidarity-backup"
VERSION = 1
CIPHER = "x25519-sealedbox+xchacha20poly1305-secretstream"
ROWS_PER_MESSAGE = 500
FILE_PART = 1 << 20
# Tables that `migrate` fills by itself; a fresh instance has rows there and is still empty.
FILLED_BY_MIGRATE = {"contenttypes.contenttype", "auth.permission", "documentation.pacecriterion"}

_TAG_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_TAG_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL


class BackupError(Exception):
    pass


# -- What is backed up, and how its content is compared ------------------------------------------


def table_models() -> list[type[models.Model]]:
    """Every model with a table of its own, many-to-many link tables included."""
    return [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy and not m._meta.swapped
    ]


def _stored(fields: Sequence[models.Field[Any, Any]], row: Sequence[Any]) -> list[Any]:
    """A row as its fields store it. Read through the model, an encrypted field would hand back
    plaintext and a sealed one a placeholder; get_prep_value gives back the stored ciphertext
    (and the canonical text of a PartialDate), which is what a backup must copy."""
    return [f.get_prep_value(v) for f, v in zip(fields, row, strict=True)]


def _normalise(value: Any) -> Any:
    """A form of a column value that is the same whichever database returned it."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = value.astimezone(dt.UTC)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value.total_seconds())
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def content_digests() -> dict[str, dict[str, Any]]:
    """Row count and SHA-256 of every table's rows in primary-key order, keyed by model label.

    Two databases with the same digests hold the same data, whichever engine each runs on.
    """
    result: dict[str, dict[str, Any]] = {}
    for model in table_models():
        fields = model._meta.concrete_fields
        digest = hashlib.sha256()
        rows = 0
        query = model._base_manager.order_by("pk").values_list(*[f.attname for f in fields])
        for row in query.iterator(chunk_size=2000):
            values = [_normalise(v) for v in _stored(fields, row)]
            digest.update(json.dumps(values, ensure_ascii=False).encode())
            digest.update(b"\n")
            rows += 1
        result[model._meta.label_lower] = {"rows": rows, "sha256": digest.hexdigest()}
    return result


def applied_migrations() -> list[str]:
    applied = MigrationRecorder(connection).applied_migrations()
    return sorted(f"{app}.{name}" for app, name in applied)


@contextmanager
def read_snapshot() -> Iterator[None]:
    """Every query inside sees the database as of one instant."""
    if connection.in_atomic_block:
        # The caller's transaction is the snapshot already.
        yield
    elif connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
    else:
        # Django opens SQLite transactions with BEGIN IMMEDIATE (settings), which would hold
        # the write lock for the whole backup. A deferred transaction that only reads is a
        # snapshot in WAL mode and leaves writers free.
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
            try:
                yield
            finally:
                cursor.execute("ROLLBACK")


def media_root() -> Path | None:
    root = getattr(settings, "MEDIA_ROOT", "")
    return Path(root) if root else None


def media_files(root: Path | None) -> list[Path]:
    if root is None or not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


# -- Writing --------------------------------------------------------------------------------------


def _batches(rows: Iterator[_T], size: int) -> Iterator[list[_T]]:
    while batch := list(islice(rows, size)):
        yield batch


class _ExactEncoder(DjangoJSONEncoder):
    """Django's encoder cuts times to milliseconds; a backup keeps every microsecond."""

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime | dt.time):
            return o.isoformat()
        return super().default(o)


def _frame(header: dict[str, Any], payload: bytes) -> bytes:
    head = json.dumps(header, sort_keys=True).encode()
    return struct.pack(">I", len(head)) + head + payload


def _unframe(plain: bytes) -> tuple[dict[str, Any], bytes]:
    (size,) = struct.unpack(">I", plain[:4])
    header: dict[str, Any] = json.loads(plain[4 : 4 + size])
    return header, plain[4 + size :]


class _Writer:
    def __init__(self, out: BinaryIO, recipient: PublicKey) -> None:
        self.out = out
        key = sodium.crypto_secretstream_xchacha20poly1305_keygen()
        sealed = SealedBox(recipient).encrypt(key)
        self.state = sodium.crypto_secretstream_xchacha20poly1305_state()
        stream_header = sodium.crypto_secretstream_xchacha20poly1305_init_push(self.state, key)
        header = json.dumps(
            {
                "format": FORMAT,
                "version": VERSION,
                "cipher": CIPHER,
                "recipient": fingerprint(bytes(recipient)),
            },
            sort_keys=True,
        ).encode()
        prefix = (
            MAGIC
            + struct.pack(">I", len(header))
            + header
            + struct.pack(">H", len(sealed))
            + bytes(sealed)
            + stream_header
        )
        self.ad = hashlib.sha256(prefix).digest()
        out.write(prefix)
        self.messages = 0

    def send(self, header: dict[str, Any], payload: bytes = b"", final: bool = False) -> None:
        cipher = sodium.crypto_secretstream_xchacha20poly1305_push(
            self.state, _frame(header, payload), self.ad, _TAG_FINAL if final else _TAG_MESSAGE
        )
        self.out.write(struct.pack(">I", len(cipher)) + cipher)
        self.messages += 1


@dataclass
class BackupSummary:
    rows: int = 0
    tables: int = 0
    files: int = 0
    file_bytes: int = 0
    recipient: str = ""
    digests: dict[str, dict[str, Any]] = field(default_factory=dict)


def write_backup(out: BinaryIO, recipient: PublicKey) -> BackupSummary:
    writer = _Writer(out, recipient)
    summary = BackupSummary(recipient=fingerprint(bytes(recipient)))
    root = media_root()
    with read_snapshot():
        digests = content_digests()
        files = media_files(root)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created": timezone.now().isoformat(),
            "database": connection.vendor,
            "migrations": applied_migrations(),
            "digests": digests,
            "media_files": len(files),
        }
        writer.send({"kind": "manifest"}, json.dumps(manifest).encode())
        for model in table_models():
            fields = model._meta.concrete_fields
            header = {
                "kind": "rows",
                "model": model._meta.label_lower,
                "columns": [f.attname for f in fields],
            }
            query = model._base_manager.order_by("pk").values_list(*header["columns"])
            for batch in _batches(query.iterator(chunk_size=ROWS_PER_MESSAGE), ROWS_PER_MESSAGE):
                rows = [_stored(fields, row) for row in batch]
                writer.send(header, json.dumps(rows, cls=_ExactEncoder).encode())
    for path in files:
        relative = path.relative_to(root or Path()).as_posix()
        with path.open("rb") as handle:
            part = 0
            while True:
                chunk = handle.read(FILE_PART)
                last = len(chunk) < FILE_PART
                writer.send({"kind": "file", "path": relative, "part": part, "last": last}, chunk)
                summary.file_bytes += len(chunk)
                part += 1
                if last:
                    break
        summary.files += 1
    writer.send({"kind": "end", "messages": writer.messages + 1}, final=True)
    summary.digests = digests
    summary.tables = len(digests)
    summary.rows = sum(d["rows"] for d in digests.values())
    return summary


def _exists_already(target: Path) -> BackupError:
    return BackupError(f"{target} exists already; choose a new name for each backup.")


def fsync_directory(directory: Path) -> None:
    """Make a rename or deletion in `directory` durable: without it a crash may undo the new
    name after the older backups' deletions reached the disk."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_new_file(partial: Path, target: Path) -> None:
    """Give the complete file its final name without ever replacing a file of that name (a
    concurrent run may have taken it since the check): a hard link fails if the name exists."""
    try:
        os.link(partial, target)
    except FileExistsError as error:
        raise _exists_already(target) from error
    except OSError:
        # A file system without hard links: rename, after checking the name once more.
        if target.exists():
            raise _exists_already(target) from None
        os.replace(partial, target)


def backup_to_file(target: Path, recipient: PublicKey) -> BackupSummary:
    """Write the backup under a temporary name and give it its name once complete and on
    disk, so a failed run never leaves a file that looks like a backup."""
    if target.exists():
        raise _exists_already(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            summary = write_backup(handle, recipient)
            handle.flush()
            os.fsync(handle.fileno())
        publish_new_file(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    fsync_directory(target.parent)
    return summary


# -- A series of backups in one directory ---------------------------------------------------------
#
# Threat addressed: a backup kept for ever keeps an erased supporter's (encrypted) data for ever;
# an operator's own pruning script that deletes the wrong file loses the only good backup. So the
# series has one naming rule, and only files named by it are ever counted or deleted, only after
# the new backup is complete, and never the one just written.

SERIES_NAME = re.compile(r"solidarity-\d{8}T\d{6}Z\.backup")


def series_name(moment: dt.datetime) -> str:
    """The file name of a backup of the series made at `moment` (UTC, to the second); names sort
    in the order the backups were made."""
    return f"solidarity-{moment.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}.backup"


def series_backups(directory: Path) -> list[str]:
    """The names of the series' backups in `directory`, oldest first. Anything else there (the
    temporary ".….partial" file of a run in progress included) is not one of them."""
    return sorted(
        entry.name
        for entry in os.scandir(directory)
        if SERIES_NAME.fullmatch(entry.name) and entry.is_file(follow_symlinks=False)
    )


def place_copied_with_the_data(directory: Path) -> str | None:
    """The name of the place copied with the data (the data directory, MEDIA_ROOT, …) that
    `directory` is inside, or None: the places the keyring's deploy check keeps the keys out of."""
    from solidarity.accounts.checks import copied_with_the_data

    for name, place in copied_with_the_data():
        if directory.is_relative_to(place):
            return name
    return None


@dataclass
class SeriesBackup:
    path: Path
    summary: BackupSummary
    deleted: list[str] = field(default_factory=list)


def backup_into(directory: Path, recipient: PublicKey, keep: int) -> SeriesBackup:
    """Write a new backup of the series into `directory`, then delete the oldest of the series
    beyond the newest `keep` (the new one always among them)."""
    if keep < 1:
        raise BackupError(f"Keep at least one backup (asked to keep {keep}).")
    if not directory.is_dir():
        raise BackupError(f"{directory} is not a directory; create it first.")
    resolved = directory.resolve()
    inside = place_copied_with_the_data(resolved)
    if inside is not None:
        # A backup there would be copied (and perhaps served) with the data, and be backed up
        # again by the next run.
        raise BackupError(
            f"{resolved} is inside {inside}; keep the backups in a directory outside of it."
        )
    lock = os.open(resolved, os.O_RDONLY)
    try:
        # Two runs at once could each delete the other's new file; the second one stops here.
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise BackupError(f"Another backup into {resolved} is running.") from error
        target = resolved / series_name(timezone.now())
        summary = backup_to_file(target, recipient)
        result = SeriesBackup(path=target, summary=summary)
        others = [name for name in series_backups(resolved) if name != target.name]
        for name in others[: max(len(others) - (keep - 1), 0)]:
            try:
                (resolved / name).unlink()
            except FileNotFoundError:
                continue
            except OSError as error:
                raise BackupError(
                    f"The backup {target} was written, but {name} could not be deleted: "
                    f"{error.strerror}."
                ) from error
            result.deleted.append(name)
        if result.deleted:
            fsync_directory(resolved)
    finally:
        os.close(lock)
    return result


# -- Reading --------------------------------------------------------------------------------------


class BackupReader:
    """Decrypts a backup file message by message; every failure is a BackupError."""

    def __init__(self, path: Path, key: PrivateKey) -> None:
        self.path = path
        self.key = key
        try:
            self.size = path.stat().st_size
        except OSError as error:
            raise BackupError(f"Cannot read the backup {path}: {error.strerror}.") from error

    def _exact(self, handle: BinaryIO, size: int, what: str) -> bytes:
        data = handle.read(size)
        if len(data) != size:
            raise BackupError(f"The backup {self.path} is truncated ({what} is cut short).")
        return data

    def messages(self) -> Iterator[tuple[dict[str, Any], bytes]]:
        with self.path.open("rb") as handle:
            if handle.read(len(MAGIC)) != MAGIC:
                raise BackupError(f"{self.path} is not a Solidarity backup.")
            (size,) = struct.unpack(">I", self._exact(handle, 4, "the header"))
            raw_header = self._exact(handle, size, "the header")
            try:
                header = json.loads(raw_header)
            except ValueError as error:
                raise BackupError(f"The header of {self.path} is damaged.") from error
            if header.get("format") != FORMAT or header.get("version") != VERSION:
                raise BackupError(
                    f"{self.path} is a backup of format {header.get('format')!r} version "
                    f"{header.get('version')!r}; this version of Solidarity reads version "
                    f"{VERSION}."
                )
            ours = fingerprint(bytes(self.key.public_key))
            if header.get("recipient") != ours:
                raise BackupError(
                    f"This backup was encrypted to the key with fingerprint "
                    f"{header.get('recipient')}, not to this private key ({ours})."
                )
            (sealed_size,) = struct.unpack(">H", self._exact(handle, 2, "the key"))
            sealed = self._exact(handle, sealed_size, "the key")
            stream_header = self._exact(
                handle,
                sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES,
                "the stream header",
            )
            try:
                data_key = SealedBox(self.key).decrypt(sealed)
            except CryptoError as error:
                raise BackupError(
                    "The backup's data key cannot be opened with this private key: wrong key, "
                    "or the file was tampered with."
                ) from error
            prefix = MAGIC + struct.pack(">I", size) + raw_header
            prefix += struct.pack(">H", sealed_size) + sealed + stream_header
            ad = hashlib.sha256(prefix).digest()
            state = sodium.crypto_secretstream_xchacha20poly1305_state()
            sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, stream_header, data_key)
            number = 0
            while True:
                length_bytes = handle.read(4)
                if len(length_bytes) < 4:
                    raise BackupError(
                        f"The backup {self.path} is truncated: it ends after {number} messages, "
                        "before its end marker."
                    )
                (length,) = struct.unpack(">I", length_bytes)
                cipher = self._exact(handle, length, f"message {number + 1}")
                number += 1
                try:
                    plain, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(
                        state, cipher, ad
                    )
                except (CryptoError, RuntimeError, ValueError) as error:
                    raise BackupError(
                        f"The backup {self.path} is damaged or was tampered with: message "
                        f"{number} fails authentication. Nothing was restored from it."
                    ) from error
                header_, payload = _unframe(plain)
                if tag == _TAG_FINAL:
                    if handle.read(1):
                        raise BackupError(
                            f"The backup {self.path} has data after its end marker: it was "
                            "tampered with."
                        )
                    return
                yield header_, payload


@dataclass
class RestoreSummary:
    rows: int = 0
    tables: int = 0
    files: int = 0
    created: str = ""
    messages: list[str] = field(default_factory=list)


def _check_backup(reader: BackupReader) -> dict[str, Any]:
    """Read the whole file once, so that a damaged or forged one is refused before anything
    is touched."""
    manifest: dict[str, Any] | None = None
    for header, payload in reader.messages():
        if header.get("kind") == "manifest":
            manifest = json.loads(payload)
    if manifest is None:
        raise BackupError(f"The backup {reader.path} has no manifest.")
    return manifest


def existing_data() -> list[str]:
    tables = set(connection.introspection.table_names())
    found = [
        model._meta.label_lower
        for model in table_models()
        if model._meta.db_table in tables
        and model._meta.label_lower not in FILLED_BY_MIGRATE
        and model._base_manager.exists()
    ]
    root = media_root()
    if media_files(root):
        found.append(f"media files in {root}")
    return found


def _clear_all_tables() -> None:
    tables = [m._meta.db_table for m in table_models()]
    statements = connection.ops.sql_flush(no_style(), tables, allow_cascade=True)
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _load_rows(header: dict[str, Any], rows: list[list[Any]]) -> None:
    try:
        model = apps.get_model(str(header["model"]))
    except LookupError as error:
        raise BackupError(f"The backup holds rows of an unknown model {header['model']}.") from (
            error
        )
    columns = [str(c) for c in header["columns"]]
    ours = [f.attname for f in model._meta.concrete_fields]
    if sorted(columns) != sorted(ours):
        raise BackupError(
            f"The backup's {model._meta.label} has the columns {', '.join(columns)}; this "
            f"installation's has {', '.join(ours)}. Restore with the version that made it."
        )
    for row in rows:
        # A raw save writes the attributes as given, through get_prep_value only: stored
        # ciphertexts go back unchanged, no field re-encrypts, no timestamp is renewed.
        instance = model(**dict(zip(columns, row, strict=True)))
        instance.save_base(raw=True, force_insert=True)


def _reset_sequences() -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), table_models())
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _safe_relative(path: str) -> Path:
    relative = Path(path)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise BackupError(f"The backup names an unsafe media path {path!r}; refusing it.")
    return relative


def _replace_media(staging: Path, root: Path) -> None:
    """Make the media directory hold exactly the backup's files (it was empty, or --force)."""
    root.mkdir(parents=True, exist_ok=True)
    for child in root.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    if staging.exists():
        for child in staging.iterdir():
            child.rename(root / child.name)


def restore_from_file(
    path: Path,
    key: PrivateKey,
    force: bool = False,
    progress: Callable[[str], None] = lambda line: None,
) -> RestoreSummary:
    reader = BackupReader(path, key)
    manifest = _check_backup(reader)
    progress(f"The backup of {manifest['created']} is intact and was opened with this key.")
    root = media_root()
    if manifest.get("media_files") and root is None:
        raise BackupError(
            f"The backup holds {manifest['media_files']} media files, but MEDIA_ROOT is not "
            "set: there is nowhere to restore them."
        )
    found = existing_data()
    if found and not force:
        raise BackupError(
            "Refusing to restore into a database that holds data ("
            + ", ".join(found[:8])
            + (", …" if len(found) > 8 else "")
            + "). Restore into a fresh instance, or pass --force to replace everything."
        )
    progress("Bringing the database schema up to date (migrate)…")
    call_command("migrate", interactive=False, verbosity=0, stdout=io.StringIO())
    ours, theirs = applied_migrations(), sorted(manifest["migrations"])
    if ours != theirs:
        only_backup = sorted(set(theirs) - set(ours))
        only_here = sorted(set(ours) - set(theirs))
        raise BackupError(
            "The backup was made by another version of Solidarity: "
            f"migrations only in the backup: {only_backup or 'none'}; "
            f"only in this installation: {only_here or 'none'}. Restore with the version that "
            "made it, then upgrade."
        )
    summary = RestoreSummary(created=str(manifest["created"]))
    staging = None
    if root is not None:
        root.parent.mkdir(parents=True, exist_ok=True)
        staging = root.parent / f".{root.name}.restore-{secrets.token_hex(4)}"
    try:
        with suspended(), transaction.atomic():
            _clear_all_tables()
            for header, payload in reader.messages():
                kind = header.get("kind")
                if kind == "rows":
                    _load_rows(header, json.loads(payload))
                elif kind == "file" and staging is not None:
                    target = staging / _safe_relative(str(header["path"]))
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with target.open("ab" if header["part"] else "wb") as handle:
                        handle.write(payload)
                    summary.files += bool(header["last"])
            if summary.files != int(manifest.get("media_files", 0)):
                raise BackupError(
                    f"The backup lists {manifest.get('media_files')} media files but holds "
                    f"{summary.files}. Nothing was restored."
                )
            connection.check_constraints()
            _reset_sequences()
            restored = content_digests()
            expected = manifest["digests"]
            differing = sorted(
                label
                for label in set(expected) | set(restored)
                if expected.get(label) != restored.get(label)
            )
            if differing:
                raise BackupError(
                    "The restored data does not match the backup's content hashes for: "
                    + ", ".join(differing)
                    + ". Nothing was restored."
                )
        summary.tables = len(restored)
        summary.rows = sum(d["rows"] for d in restored.values())
        if staging is not None and root is not None:
            _replace_media(staging, root)
    finally:
        if staging is not None and staging.exists():
            shutil.rmtree(staging)
    return summary
