"""`solidarity keyring init / export / import`: the production keyring made once, private from
its first byte, and a copy of it encrypted to the offline backup key that writes back the same
keyring, holds no key readable, and is refused when damaged, for another key, or when it would
lose a key or does not open the database's values."""

from __future__ import annotations

import base64
import json
import stat
import struct
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from nacl.utils import random
from pytest_django import Settings as SettingsWrapper

from solidarity.audit.models import AuditEntry
from solidarity.core.models import Section
from solidarity.documentation.models import Person
from solidarity.safety import crypto
from solidarity.safety.crypto import add_current_key, load_keyring, write_keyring
from solidarity.safety.keyring_copy import MAGIC


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture(autouse=True)
def data_places(settings: SettingsWrapper, tmp_path: Path) -> None:
    """The places copied with the data, apart from where this test keeps its keyring."""
    settings.DATA_DIR = tmp_path / "data"
    settings.MEDIA_ROOT = tmp_path / "data" / "media"
    settings.STATIC_ROOT = tmp_path / "data" / "static"


def use_keyring(monkeypatch: pytest.MonkeyPatch, path: Path) -> Path:
    monkeypatch.setenv("SOLIDARITY_KEYRING_FILE", str(path))
    return path


@pytest.fixture
def keyring_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where production keeps it: a tmpfs of its own, named by SOLIDARITY_KEYRING_FILE."""
    return use_keyring(monkeypatch, tmp_path / "run" / "keyring.json")


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    run("backup-keygen", "--out", str(tmp_path / "keys"))
    return tmp_path / "keys"


def export(copy: Path, keys: Path) -> str:
    return run("keyring", "export", "--to", str(copy), "--recipient", str(keys / "backup.pub"))


def restore(copy: Path, key: Path, *extra: str) -> str:
    return run("keyring", "import", "--from", str(copy), "--key", str(key), *extra)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_creates_a_private_keyring_once(db: None, keyring_file: Path) -> None:
    output = run("keyring", "init")
    assert str(keyring_file) in output and "keyring export" in output
    assert mode(keyring_file) == 0o600
    keyring = load_keyring()
    assert list(keyring.keys) == [keyring.current]
    before = keyring_file.read_bytes()
    with pytest.raises(CommandError, match="exists already"):
        run("keyring", "init")
    assert keyring_file.read_bytes() == before
    assert [p.name for p in keyring_file.parent.iterdir()] == ["keyring.json"]


def test_init_refuses_a_place_copied_with_the_data(
    settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the deploy check would refuse it (accounts.E009), init refuses to put it."""
    inside = use_keyring(monkeypatch, Path(settings.DATA_DIR) / "keyring.json")
    with pytest.raises(CommandError, match="inside the data directory"):
        run("keyring", "init")
    assert not inside.exists()


def test_a_copy_writes_back_the_same_keyring(
    db: None, keyring_file: Path, keys: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("keyring", "init")
    add_current_key()  # two keys, as after a rotation
    original = load_keyring()
    copy = tmp_path / "offline" / "keyring.copy"
    output = export(copy, keys)
    assert str(copy) in output
    assert mode(copy) == 0o600
    data = copy.read_bytes()
    assert data.startswith(MAGIC)
    (size,) = struct.unpack(">I", data[len(MAGIC) : len(MAGIC) + 4])
    header = json.loads(data[len(MAGIC) + 4 : len(MAGIC) + 4 + size])
    assert header["key_ids"] == sorted(original.keys) and header["current"] == original.current
    assert "keyring" in header["what"]
    entry = AuditEntry.objects.get(action="keyring_exported")
    assert entry.values["key_ids"] == sorted(original.keys)

    fresh = use_keyring(monkeypatch, tmp_path / "new-server" / "keyring.json")
    output = restore(copy, keys / "backup.key")
    assert str(fresh) in output and "no encrypted value" in output
    assert mode(fresh) == 0o600
    assert fresh.read_bytes() == keyring_file.read_bytes()
    restored = load_keyring()
    assert restored.keys == original.keys and restored.current == original.current
    assert restored.server_secret == original.server_secret
    assert AuditEntry.objects.filter(action="keyring_imported").count() == 1


def test_the_copy_holds_no_key_in_plaintext(
    db: None, keyring_file: Path, keys: Path, tmp_path: Path
) -> None:
    run("keyring", "init")
    add_current_key()
    keyring = load_keyring()
    copy = tmp_path / "keyring.copy"
    export(copy, keys)
    data = copy.read_bytes()
    for secret in [*keyring.keys.values(), keyring.server_secret]:
        for form in (
            secret,
            base64.b64encode(secret),
            base64.urlsafe_b64encode(secret),
            base64.b64encode(secret).rstrip(b"="),
            secret.hex().encode(),
        ):
            assert form not in data
    assert b'"server_secret"' not in data and b'"personal"' not in data


@pytest.fixture
def copy_and_keys(
    db: None, keyring_file: Path, keys: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path]:
    """A copy of a keyring, and the configured keyring moved to a fresh, empty place."""
    run("keyring", "init")
    copy = tmp_path / "keyring.copy"
    export(copy, keys)
    use_keyring(monkeypatch, tmp_path / "new-server" / "keyring.json")
    return copy, keys


def test_import_refuses_another_private_key(
    copy_and_keys: tuple[Path, Path], tmp_path: Path
) -> None:
    copy, _keys = copy_and_keys
    run("backup-keygen", "--out", str(tmp_path / "other"))
    with pytest.raises(CommandError, match="not to this private key"):
        restore(copy, tmp_path / "other" / "backup.key")
    assert not crypto.keyring_path().exists()


def _rewrite_header(data: bytes, change: dict[str, object]) -> bytes:
    at = len(MAGIC)
    (size,) = struct.unpack(">I", data[at : at + 4])
    header = {**json.loads(data[at + 4 : at + 4 + size]), **change}
    raw = json.dumps(header, sort_keys=True).encode()
    return MAGIC + struct.pack(">I", len(raw)) + raw + data[at + 4 + size :]


def _flip_in_sealed_key(data: bytes) -> bytes:
    at = len(MAGIC)
    (size,) = struct.unpack(">I", data[at : at + 4])
    at += 4 + size + 2 + 10  # a byte inside the sealed data key
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda d: d[:-1] + bytes([d[-1] ^ 1]), id="ciphertext"),
        pytest.param(lambda d: d[:-20], id="truncated"),
        pytest.param(lambda d: _rewrite_header(d, {"created": "2020-01-01"}), id="header"),
        pytest.param(
            lambda d: _rewrite_header(d, {"key_ids": ["k00000000"], "current": "k00000000"}),
            id="key-ids",
        ),
        pytest.param(lambda d: _flip_in_sealed_key(d), id="sealed-key"),
    ],
)
def test_import_refuses_a_tampered_copy(
    copy_and_keys: tuple[Path, Path], tamper: Callable[[bytes], bytes]
) -> None:
    copy, keys = copy_and_keys
    copy.write_bytes(tamper(copy.read_bytes()))
    with pytest.raises(CommandError, match="damaged or was tampered with"):
        restore(copy, keys / "backup.key")
    assert not crypto.keyring_path().exists()


def test_import_refuses_an_existing_keyring_without_replace(
    db: None, keyring_file: Path, keys: Path, tmp_path: Path
) -> None:
    run("keyring", "init")
    copy = tmp_path / "keyring.copy"
    export(copy, keys)
    before = keyring_file.read_bytes()
    with pytest.raises(CommandError, match=r"exists already.*--replace"):
        restore(copy, keys / "backup.key")
    assert keyring_file.read_bytes() == before
    assert "replaced" in restore(copy, keys / "backup.key", "--replace")
    assert keyring_file.read_bytes() == before


def test_replace_refuses_a_copy_that_would_drop_a_key(
    db: None, keyring_file: Path, keys: Path, tmp_path: Path
) -> None:
    """A copy older than a rotation lacks the new key: values under it would be lost."""
    run("keyring", "init")
    old_copy = tmp_path / "before-rotation.copy"
    export(old_copy, keys)
    new_key = add_current_key()
    before = keyring_file.read_bytes()
    with pytest.raises(CommandError, match=f"lacks the key\\(s\\) {new_key}.*unreadable"):
        restore(old_copy, keys / "backup.key", "--replace")
    assert keyring_file.read_bytes() == before


def test_import_refuses_a_keyring_that_does_not_open_the_data(
    db: None, keyring_file: Path, keys: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("keyring", "init")
    real = load_keyring()
    section = Section.objects.create(slug="home", name_en="Home", kind="home")
    Person.objects.create(
        section=section, slug="a", given_name="Esenbek", family_name="A", contact="+7 700 1"
    )
    real_copy = tmp_path / "real.copy"
    export(real_copy, keys)
    # Another keyring whose key bears the real one's id: only the decryption can tell them apart.
    other = use_keyring(monkeypatch, tmp_path / "other" / "keyring.json")
    write_keyring(other, real.current, {real.current: random(crypto.KEY_BYTES)}, random(32))
    other_copy = tmp_path / "other.copy"
    export(other_copy, keys)

    fresh = use_keyring(monkeypatch, tmp_path / "new-server" / "keyring.json")
    with pytest.raises(CommandError, match="does not open this database's data"):
        restore(other_copy, keys / "backup.key")
    assert not fresh.exists()
    assert "opens the database's values (1 tried)" in restore(real_copy, keys / "backup.key")
    assert Person.objects.get(slug="a").contact == "+7 700 1"


def test_export_refuses_an_existing_target(
    db: None, keyring_file: Path, keys: Path, tmp_path: Path
) -> None:
    run("keyring", "init")
    target = tmp_path / "keyring.copy"
    target.write_bytes(b"an older copy")
    with pytest.raises(CommandError, match="exists already"):
        export(target, keys)
    assert target.read_bytes() == b"an older copy"
    assert not AuditEntry.objects.filter(action="keyring_exported").exists()


def test_export_refuses_a_place_copied_with_the_data(
    db: None, keyring_file: Path, keys: Path, settings: SettingsWrapper
) -> None:
    """A copy in the media directory would ride along in every backup (and might be served)."""
    run("keyring", "init")
    media = Path(settings.MEDIA_ROOT)
    media.mkdir(parents=True, exist_ok=True)
    target = media / "keyring.copy"
    with pytest.raises(CommandError, match="inside"):
        export(target, keys)
    assert not target.exists()
    assert not AuditEntry.objects.filter(action="keyring_exported").exists()
