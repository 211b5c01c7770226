"""`solidarity backup` writes one file, encrypted to an offline key, holding every table and the
media; `solidarity restore` brings it back into a fresh instance with the same row counts and
content hashes, on SQLite and on PostgreSQL. A wrong key or a damaged file changes nothing."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from pytest_django import Settings

from solidarity.audit.backup import MAGIC, content_digests
from solidarity.audit.models import AuditEntry
from solidarity.audit.services import verify_chain
from solidarity.core.models import Section
from solidarity.documentation.models import Organisation, PaceCriterion, Person, Recognition
from tests.conftest import ensure_pace_criteria

WHEREABOUTS_CANARY = "CANARY-whereabouts-flat-12-Abay-street-9c1e"
NOTES_CANARY = "CANARY-internal-notes-5d2b"
FAMILY_NAME = "Qoszhanuly-Backupson"
PHOTO = b"\xff\xd8\xff\xe0 a photo of a protest " * 100


def run(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    run("backup-keygen", "--out", str(tmp_path / "keys"))
    return tmp_path / "keys"


@pytest.fixture
def media(settings: Settings, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    (root / "articles" / "2012").mkdir(parents=True)
    (root / "articles" / "2012" / "protest.jpg").write_bytes(PHOTO)
    settings.MEDIA_ROOT = root
    return root


def make_data() -> Person:
    section = Section.objects.create(slug="srk", name_en="Socialist Resistance", kind="home")
    person = Person.objects.create(
        section=section,
        slug="ainur-backupson",
        given_name="Ainur",
        family_name=FAMILY_NAME,
        internal_notes=NOTES_CANARY,
    )
    person.names.create(name="Айнур Қосжанұлы", language="kk", script="cyrl")
    organisation = Organisation.objects.create(
        section=section, slug="amnesty", name_en="Amnesty International", kind="political"
    )
    recognition = Recognition.objects.create(
        section=section, person=person, recognised_by=organisation, date="2012-06"
    )
    ensure_pace_criteria()
    recognition.criteria.add(*PaceCriterion.objects.order_by("code")[:2])
    User.objects.create_user("coordinator", password="a long test passphrase")
    # Written past the model on purpose: whatever the field does to protect it, the backup
    # must not depend on it to keep the value unreadable.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Person._meta.db_table} SET whereabouts = %s WHERE id = %s",  # noqa: S608 - constant table name
            [WHEREABOUTS_CANARY, person.pk],
        )
    return person


def test_backup_keygen_writes_a_private_key_only_its_owner_can_read(keys: Path) -> None:
    """The private key is 0600 from its creation; the command never overwrites a key."""
    assert stat.S_IMODE((keys / "backup.key").stat().st_mode) == 0o600
    assert "BEGIN" not in (keys / "backup.pub").read_text()
    with pytest.raises(CommandError, match="refusing to overwrite"):
        run("backup-keygen", "--out", str(keys))


def test_a_backup_holds_no_plaintext(db: None, keys: Path, tmp_path: Path) -> None:
    """Neither a whereabouts canary stored in the clear, nor internal notes, nor a person's
    name can be found in the backup file: only the format header is readable."""
    make_data()
    backup = tmp_path / "nightly.backup"
    output = run("backup", "--to", str(backup), "--recipient", str(keys / "backup.pub"))
    assert "Backup written" in output
    data = backup.read_bytes()
    assert data.startswith(MAGIC)
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    for secret in (WHEREABOUTS_CANARY, NOTES_CANARY, FAMILY_NAME, "Қосжанұлы", "coordinator"):
        assert secret.encode() not in data, secret
        assert secret.encode("utf-16-le") not in data, secret
    with pytest.raises(CommandError, match="exists already"):
        run("backup", "--to", str(backup), "--recipient", str(keys / "backup.pub"))


def _cli_env(target: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["SOLIDARITY_DATA_DIR"] = str(target)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "solidarity", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def fresh_database() -> Iterator[str | None]:
    """The DATABASE_URL of an empty database of the suite's kind (None: SQLite in DATA_DIR)."""
    if connection.vendor != "postgresql":
        yield None
        return
    params = connection.settings_dict
    name = f"{params['NAME']}_restore"[:63]
    conninfo = {
        "host": params["HOST"] or "127.0.0.1",
        "port": params["PORT"] or 5432,
        "user": params["USER"],
        "password": params["PASSWORD"],
        "dbname": params["NAME"],
    }
    with psycopg.connect(**conninfo, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = (
        f"postgres://{params['USER']}:{params['PASSWORD']}@{conninfo['host']}:"
        f"{conninfo['port']}/{name}"
    )
    try:
        yield url
    finally:
        with psycopg.connect(**conninfo, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Run in the restored instance: its content digests, whether its audit chain verifies, and the
# id a new section gets there (sequences must continue after the restored rows).
INSPECT = (
    "import json\n"
    "from solidarity.audit.backup import content_digests\n"
    "from solidarity.audit.services import verify_chain\n"
    "from solidarity.core.models import Section\n"
    "digests = content_digests()\n"
    "chain = verify_chain()\n"
    "new = Section.objects.create(slug='after', name_en='After', kind='national')\n"
    "print(json.dumps({'digests': digests, 'chain_ok': chain.ok, 'entries': chain.entries, "
    "'new_pk': new.pk}))\n"
)


def test_a_backup_restores_into_a_fresh_instance_with_equal_content(
    db: None, keys: Path, media: Path, tmp_path: Path, fresh_database: str | None
) -> None:
    """Backed up here, restored by the CLI into a fresh database of the same engine: every
    table has the same row count and content hash, the media come back, the audit chain still
    verifies, and new rows get fresh ids."""
    make_data()
    backup = tmp_path / "nightly.backup"
    run("backup", "--to", str(backup), "--recipient", str(keys / "backup.pub"))
    expected = content_digests()
    assert expected["documentation.person"]["rows"] == 1
    assert expected["documentation.recognition_criteria"]["rows"] == 2
    assert expected["audit.auditentry"]["rows"] == AuditEntry.objects.count() > 5

    env = _cli_env(tmp_path / "restored", fresh_database)
    restored = _cli(env, "restore", "--from", str(backup), "--key", str(keys / "backup.key"))
    assert restored.returncode == 0, restored.stderr
    assert "content hashes match" in restored.stdout
    assert "1 media files" in restored.stdout

    inspected = _cli(env, "shell", "-c", INSPECT)
    assert inspected.returncode == 0, inspected.stderr
    found = json.loads(inspected.stdout.strip().splitlines()[-1])
    actual = found["digests"]
    assert {label: d["rows"] for label, d in actual.items()} == {
        label: d["rows"] for label, d in expected.items()
    }
    assert actual == expected
    assert found["chain_ok"]
    assert found["entries"] == expected["audit.auditentry"]["rows"]
    assert found["new_pk"] > max(s.pk for s in Section.objects.all())
    photo = tmp_path / "restored" / "media" / "articles" / "2012" / "protest.jpg"
    assert photo.read_bytes() == PHOTO

    again = _cli(env, "restore", "--from", str(backup), "--key", str(keys / "backup.key"))
    assert again.returncode == 1
    assert "Refusing to restore into a database that holds data" in again.stderr


def _assert_refused(backup: Path, key: Path, message: str) -> None:
    before = content_digests()
    with pytest.raises(CommandError, match=message):
        run("restore", "--from", str(backup), "--key", str(key), "--force")
    assert content_digests() == before


def test_a_wrong_key_or_a_damaged_file_changes_nothing(
    db: None, keys: Path, tmp_path: Path
) -> None:
    """Another key, a flipped byte anywhere, a cut or an extended file: restore fails loudly,
    says why, and the database is as it was (even with --force)."""
    make_data()
    backup = tmp_path / "nightly.backup"
    run("backup", "--to", str(backup), "--recipient", str(keys / "backup.pub"))
    Section.objects.create(slug="after-backup", name_en="After the backup", kind="national")

    run("backup-keygen", "--out", str(tmp_path / "other"))
    _assert_refused(
        backup, tmp_path / "other" / "backup.key", "encrypted to the key with fingerprint"
    )
    _assert_refused(backup, keys / "backup.pub", "another kind of key")

    data = backup.read_bytes()
    header_end = data.index(b"}") + 1
    for position, message in [
        (header_end + 10, "cannot be opened with this private key"),
        (len(data) // 2, "damaged or was tampered with"),
        (len(data) - 1, "damaged or was tampered with"),
    ]:
        damaged = tmp_path / f"damaged-{position}.backup"
        damaged.write_bytes(data[:position] + bytes([data[position] ^ 1]) + data[position + 1 :])
        _assert_refused(damaged, keys / "backup.key", message)

    cut = tmp_path / "cut.backup"
    cut.write_bytes(data[: len(data) - 40])
    _assert_refused(cut, keys / "backup.key", "truncated")
    extended = tmp_path / "extended.backup"
    extended.write_bytes(data + b"\x00")
    _assert_refused(extended, keys / "backup.key", "data after its end marker")
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    _assert_refused(not_a_backup, keys / "backup.key", "not a Solidarity backup")


def test_restore_refuses_a_database_with_data_unless_forced(
    db: None, keys: Path, tmp_path: Path
) -> None:
    """Without --force, a database that holds records is left alone and the error names what
    it holds."""
    make_data()
    backup = tmp_path / "nightly.backup"
    run("backup", "--to", str(backup), "--recipient", str(keys / "backup.pub"))
    before = content_digests()
    with pytest.raises(CommandError, match=r"holds data \(.*core\.section"):
        run("restore", "--from", str(backup), "--key", str(keys / "backup.key"))
    assert content_digests() == before


@pytest.mark.django_db(transaction=True)
def test_a_forced_restore_replaces_data_and_media_with_the_backup(
    keys: Path, media: Path, tmp_path: Path
) -> None:
    """With --force the database and the media directory end up exactly as backed up: rows
    added since are gone, a deleted photo is back, the audit chain verifies."""
    make_data()
    backup = tmp_path / "nightly.backup"
    run("backup", "--to", str(backup), "--recipient", str(keys / "backup.pub"))
    expected = content_digests()

    Section.objects.create(slug="after-backup", name_en="After the backup", kind="national")
    Person.objects.all().delete()
    photo = media / "articles" / "2012" / "protest.jpg"
    photo.unlink()
    (media / "stray.txt").write_text("not in the backup")

    output = run("restore", "--from", str(backup), "--key", str(keys / "backup.key"), "--force")
    assert "content hashes match" in output
    assert content_digests() == expected
    assert photo.read_bytes() == PHOTO
    assert not (media / "stray.txt").exists()
    assert verify_chain().ok
    section = Section.objects.create(slug="new", name_en="New", kind="national")
    assert section.pk > max(s.pk for s in Section.objects.exclude(pk=section.pk))
