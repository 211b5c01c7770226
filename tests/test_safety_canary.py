"""A copy of the database holds no plaintext of personal or sealed values.

Canaries are written through the real code paths (model saves, the CLI); then the raw bytes of
the SQLite database file and its write-ahead log are searched, and on any database every column
of every table is read back raw. The application, with the right keys, still reads them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from pytest_django.fixtures import Settings

from solidarity.core.models import Section
from solidarity.documentation.models import Person
from solidarity.documentation.models import Testimony as SealedTestimony
from solidarity.safety.keys import read_sealed, setup_user_key, unlock_private_key
from solidarity.safety.models import Role

CONTACT = "CNRY-CONTACT-3f9a1c"
WHEREABOUTS = "CNRY-WHEREABOUTS-7d2e4b"
WITNESS = "CNRY-WITNESS-5b81f0"
ACCOUNT = "CNRY-ACCOUNT-e4c27a"
CANARIES = (CONTACT, WHEREABOUTS, WITNESS, ACCOUNT)
PASSWORD = "coordinator long passphrase"

WRITE = f"""
from django.contrib.auth.models import User
from solidarity.core.models import Section
from solidarity.documentation.models import Person, Testimony
from solidarity.safety.keys import setup_user_key
from solidarity.safety.models import Role
from django.conf import settings

section = Section.objects.create(slug="home", name_en="Home", kind="home")
user = User.objects.create_user("alia", password="{PASSWORD}", is_staff=True)
Role.objects.create(user=user, section=section, role="coordinator")
setup_user_key(user, "{PASSWORD}")
from django.db import transaction
with transaction.atomic():  # sealed values are written only in a transaction (safety/fields.py)
    Person.objects.create(
        section=section, slug="canary", given_name="Canary", family_name="Person",
        contact="{CONTACT}", whereabouts="{WHEREABOUTS}",
    )
    Testimony.objects.create(
        section=section, reference="T-1", witness="{WITNESS}", account="{ACCOUNT}",
    )
# While this connection is still open the write-ahead log holds the newest pages.
database = settings.DATABASES["default"]["NAME"]
for path in (database, database + "-wal"):
    if os.path.exists(path):
        data = open(path, "rb").read()
        for canary in {CANARIES!r}:
            if canary.encode() in data:
                print("LEAK", canary, "in", path)
        print("CHECKED", path, len(data))
"""

READ = f"""
from django.contrib.auth.models import User
from solidarity.documentation.models import Person, Testimony
from solidarity.safety.keys import read_sealed, unlock_private_key

user = User.objects.get(username="alia")
person = Person.objects.get(slug="canary")
print("CONTACT", person.contact)
key = unlock_private_key(user, "{PASSWORD}")
print("WHEREABOUTS", read_sealed(user, person, "whereabouts", key))
testimony = Testimony.objects.get(reference="T-1")
print("WITNESS", read_sealed(user, testimony, "witness", key))
print("ACCOUNT", read_sealed(user, testimony, "account", key))
"""


def _cli(data_dir: Path, code: str) -> str:
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        SOLIDARITY_DATA_DIR=str(data_dir), SOLIDARITY_KDF="interactive", PYTHONUNBUFFERED="1"
    )
    env.pop("SOLIDARITY_KEYRING_FILE", None)
    result = subprocess.run(
        [sys.executable, "-m", "solidarity", "shell", "-c", "import os\n" + code],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_the_sqlite_file_and_its_wal_hold_no_canary(tmp_path: Path) -> None:
    """Grepping the database file and the WAL of a real instance finds neither the contact, the
    whereabouts nor a testimony, which the application still reads back with its keys."""
    data_dir = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["SOLIDARITY_DATA_DIR"] = str(data_dir)
    subprocess.run(
        [sys.executable, "-m", "solidarity", "migrate", "-v0"],
        env=env,
        check=True,
        timeout=300,
    )
    written = _cli(data_dir, WRITE)
    assert "LEAK" not in written
    assert "CHECKED" in written and "-wal" in written
    database = data_dir / "solidarity.sqlite3"
    for path in (database, Path(f"{database}-wal"), data_dir / "keyring.json"):
        if path.exists():
            data = path.read_bytes()
            for canary in CANARIES:
                assert canary.encode() not in data, (canary, path)
    read = _cli(data_dir, READ)
    for name, canary in zip(
        ("CONTACT", "WHEREABOUTS", "WITNESS", "ACCOUNT"), CANARIES, strict=True
    ):
        assert f"{name} {canary}" in read


def test_no_column_of_any_table_holds_a_canary(section: Section, settings: Settings) -> None:
    """Every table read back raw (as a dump would see it, on SQLite or PostgreSQL) shows only
    ciphertext, while the model and the recipient's key give the values back."""
    settings.SOLIDARITY_KDF = "interactive"
    from django.contrib.auth.models import User

    user = User.objects.create_user("alia", password=PASSWORD, is_staff=True)
    Role.objects.create(user=user, section=section, role="coordinator")
    setup_user_key(user, PASSWORD)
    person = Person.objects.create(
        section=section,
        slug="canary",
        given_name="Canary",
        family_name="Person",
        contact=CONTACT,
        whereabouts=WHEREABOUTS,
    )
    testimony = SealedTestimony.objects.create(
        section=section, reference="T-1", witness=WITNESS, account=ACCOUNT
    )
    hits = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                text = " ".join(
                    bytes(v).decode("latin-1") if isinstance(v, bytes | memoryview) else str(v)
                    for v in row
                )
                hits += [(table, c) for c in CANARIES if c in text]
    assert hits == []
    fresh = Person.objects.get(pk=person.pk)
    assert fresh.contact == CONTACT
    key = unlock_private_key(user, PASSWORD)
    assert read_sealed(user, fresh, "whereabouts", key) == WHEREABOUTS
    stored = SealedTestimony.objects.get(pk=testimony.pk)
    assert read_sealed(user, stored, "account", key) == ACCOUNT


@pytest.mark.parametrize("value", [CONTACT])
def test_the_canary_is_found_when_stored_in_plaintext(section: Section, value: str) -> None:
    """The raw scan is not blind: a canary put into a plaintext column is found."""
    Person.objects.create(
        section=section, slug="plain", given_name="P", family_name="Q", internal_notes=value
    )
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(Person._meta.db_table)
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608
        assert any(value in " ".join(map(str, row)) for row in cursor.fetchall())
