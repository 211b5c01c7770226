"""Supporters' e-mail addresses are encrypted at rest and found only by a keyed index.

A copy of the database (threat model A1) must not answer "did this address sign?": it holds
neither the address nor its plain SHA-256, which anyone could compute from a guess. The
application, with the keyring, still signs each address once, mails it, erases it and rotates
its key without losing one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone
from nacl.utils import random

from solidarity.campaigns import services
from solidarity.campaigns.models import (
    Action,
    ActionKind,
    Petition,
    Rsvp,
    Signature,
    Supporter,
    email_index,
)
from solidarity.campaigns.services import SignResult, SupporterDetails
from solidarity.core.models import Section
from solidarity.safety import crypto
from solidarity.safety.crypto import write_keyring
from solidarity.safety.models import Role
from solidarity.safety.rotation import encrypted_fields
from tests.conftest import verified_login
from tests.test_campaigns_support import World, make_world

ADDRESS = "anna.canary-5c1e@example.org"
AS_TYPED = "  Anna.Canary-5C1E@Example.ORG "


def _digests(address: str) -> list[str]:
    """The plain SHA-256 a database could have held: of the address as typed and normalised."""
    forms = {address, address.strip(), address.strip().lower()}
    return [hashlib.sha256(form.encode()).hexdigest() for form in forms]


@pytest.fixture
def keyring_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A keyring of this test's own, so that rotating it leaves other tests' keys alone."""
    path = tmp_path / "keyring.json"
    write_keyring(path, "k-first", {"k-first": random(crypto.KEY_BYTES)}, random(32))
    monkeypatch.setenv("SOLIDARITY_KEYRING_FILE", str(path))
    return path


@pytest.fixture
def world(section: Section) -> World:
    return make_world(section)


def _sign(world: World, email: str, *, contact_consent: bool = False) -> SignResult:
    return services.sign_petition(
        world.petition,
        SupporterDetails(email=email, name="Anna Berg", country="Germany"),
        contact_consent=contact_consent,
        processing_consent=True,
        base_url="http://testserver",
    )


def _future_action(world: World) -> Action:
    return Action.objects.create(
        section=world.section,
        is_public=True,
        campaign=world.campaign,
        kind=ActionKind.PROTEST,
        title_en="Protest next month",
        place=world.london,
        starts_at=timezone.now() + dt.timedelta(days=30),
    )


# -- What a copy of the database holds -----------------------------------------------------------


def test_no_column_holds_the_address_or_its_plain_digest(world: World) -> None:
    """Every table read back raw, as a dump would show it (SQLite or PostgreSQL), holds neither
    the address nor an unkeyed SHA-256 of it; the model still gives the address back."""
    _sign(world, AS_TYPED, contact_consent=True)
    services.report_letters(
        world.urgent_action,
        SupporterDetails(email=AS_TYPED, name="Anna Berg"),
        letters=2,
        contact_consent=True,
        processing_consent=True,
    )
    services.rsvp(_future_action(world), SupporterDetails(AS_TYPED, "A."), processing_consent=True)
    needles = [ADDRESS, ADDRESS.upper(), *_digests(AS_TYPED)]
    hits = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                text = " ".join(str(value) for value in row).lower()
                hits += [(table, n) for n in needles if n.lower() in text]
    assert hits == []
    assert [s.email for s in Supporter.objects.all()] == [ADDRESS] * 3
    assert Rsvp.objects.get().email_index == email_index(ADDRESS)


NEEDLES = [ADDRESS.lower(), *_digests(AS_TYPED)]

WRITE = f"""
import datetime as dt
from django.conf import settings
from django.utils import timezone
from solidarity.campaigns import services
from solidarity.campaigns.models import Action, Campaign, Petition
from solidarity.core.models import Section

section = Section.objects.create(slug="home", name_en="Home", kind="home")
campaign = Campaign.objects.create(section=section, is_public=True, slug="c", title_en="C")
petition = Petition.objects.create(
    section=section, is_public=True, campaign=campaign, slug="p", title_en="P", text_en="T"
)
action = Action.objects.create(
    section=section, is_public=True, campaign=campaign, kind="protest", title_en="A",
    starts_at=timezone.now() + dt.timedelta(days=3),
)
details = services.SupporterDetails(email={AS_TYPED!r}, name="Anna Berg")
services.sign_petition(petition, details, processing_consent=True, base_url="http://x")
services.rsvp(action, details, processing_consent=True)
# While this connection is open the write-ahead log holds the newest pages.
database = settings.DATABASES["default"]["NAME"]
for path in (database, database + "-wal"):
    if os.path.exists(path):
        data = open(path, "rb").read().lower()
        for needle in {NEEDLES!r}:
            if needle.encode() in data:
                print("LEAK", needle, "in", path)
        print("CHECKED", path, len(data))
"""

READ = """
from solidarity.campaigns.models import Supporter
print("ADDRESSES", sorted(s.email for s in Supporter.objects.all()))
"""


def _cli(data_dir: Path, code: str) -> str:
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(SOLIDARITY_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
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


def test_the_sqlite_file_and_its_wal_hold_no_address_after_signing(tmp_path: Path) -> None:
    """Grepping the database file and the WAL of a real instance right after a signature and
    an RSVP finds neither the address (in any case) nor its plain SHA-256."""
    data_dir = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["SOLIDARITY_DATA_DIR"] = str(data_dir)
    env.pop("SOLIDARITY_KEYRING_FILE", None)
    subprocess.run(
        [sys.executable, "-m", "solidarity", "migrate", "-v0"], env=env, check=True, timeout=300
    )
    written = _cli(data_dir, WRITE)
    assert "LEAK" not in written
    assert "CHECKED" in written and "-wal" in written
    database = data_dir / "solidarity.sqlite3"
    for path in (database, Path(f"{database}-wal")):
        if path.exists():
            data = path.read_bytes().lower()
            assert not [n for n in NEEDLES if n.encode() in data], path
    assert f"ADDRESSES {[ADDRESS, ADDRESS]}" in _cli(data_dir, READ)


# -- Once per address -----------------------------------------------------------------------------


def test_the_same_address_in_another_case_or_with_spaces_signs_once(world: World) -> None:
    """Case and surrounding spaces do not make a second signer; the address is kept normalised."""
    assert _sign(world, "Anna@Example.org") == SignResult.SIGNED
    assert _sign(world, "  anna@EXAMPLE.ORG ") == SignResult.PENDING_AGAIN
    assert _sign(world, "ANNA@example.org\t") == SignResult.PENDING_AGAIN
    assert Signature.objects.count() == 1
    assert [s.email for s in Supporter.objects.all()] == ["anna@example.org"]
    assert _sign(world, "olga@example.org") == SignResult.SIGNED
    assert Signature.objects.count() == 2


def test_the_index_is_keyed_by_the_keyring_not_a_plain_digest(world: World) -> None:
    """The stored index is not the SHA-256 anyone can compute, and changes with the secret."""
    _sign(world, ADDRESS)
    stored = Signature.objects.get().email_index
    assert stored == email_index(ADDRESS) == Supporter.objects.get().email_index
    assert stored not in _digests(ADDRESS)


# -- Key rotation ----------------------------------------------------------------------------------


def test_rotation_keeps_every_address_readable(world: World, keyring_file: Path) -> None:
    """`rotate-keys` re-encrypts the addresses with the new key, removes the old one, and every
    address still reads, mails and signs once; the index does not change."""
    assert any(model is Supporter for model, _fields in encrypted_fields())
    _sign(world, "anna@example.org", contact_consent=True)
    _sign(world, "olga@example.org")
    services.rsvp(
        _future_action(world), SupporterDetails("anna@example.org", "A."), processing_consent=True
    )
    before = dict(Supporter.objects.values_list("pk", "email_index"))
    call_command("rotate-keys", batch_size=1, verbosity=0)
    call_command("rotate-keys", remove_retired=True, verbosity=0)
    keyring = json.loads(keyring_file.read_text())["personal"]
    assert list(keyring["keys"]) == [keyring["current"]] != ["k-first"]
    stored = Supporter.objects.values_list("email", flat=True)
    assert all(value.startswith(f"p1:{keyring['current']}:") for value in stored)
    assert sorted(s.email for s in Supporter.objects.all()) == [
        "anna@example.org",
        "anna@example.org",
        "olga@example.org",
    ]
    assert dict(Supporter.objects.values_list("pk", "email_index")) == before
    assert _sign(world, "ANNA@example.org") == SignResult.PENDING_AGAIN
    admin = User.objects.create_superuser("admin", password="a long test password")
    log = services.erase_supporter("anna@example.org", user=admin)
    assert (log.supporters, log.signatures, log.rsvps) == (2, 1, 1)


# -- The back office -------------------------------------------------------------------------------


def test_the_admin_shows_the_address_only_to_roles_reading_personal_data(
    world: World, client: Client
) -> None:
    """A section organiser sees the address (and finds the row by it); an editor of the same
    section sees neither the address nor the name."""
    _sign(world, ADDRESS)
    supporter = Supporter.objects.get()
    url = f"/admin/campaigns/supporter/{supporter.pk}/change/"
    organiser = User.objects.create_user("org", password="x", is_staff=True)
    Role.objects.create(user=organiser, section=world.section, role="section_organiser")
    editor = User.objects.create_user("ed", password="x", is_staff=True)
    Role.objects.create(user=editor, section=world.section, role="editor")

    verified_login(client, organiser)
    page = client.get(url)
    assert page.status_code == 200
    assert ADDRESS in page.content.decode()
    found = client.get(
        "/admin/campaigns/supporter/", {"q": ADDRESS.upper()}, follow=True
    ).content.decode()
    assert "1 supporter" in found and "Anna Berg" in found

    client.logout()
    verified_login(client, editor)
    page = client.get(url)
    assert page.status_code == 200
    assert ADDRESS not in page.content.decode()
    assert "Anna Berg" not in page.content.decode()
    listing = client.get("/admin/campaigns/supporter/").content.decode()
    assert "1 supporter" in listing
    assert ADDRESS not in listing and "Anna Berg" not in listing
    # The address cannot be used to find (and so confirm) a supporter either.
    found = client.get("/admin/campaigns/supporter/", {"q": ADDRESS}, follow=True).content.decode()
    assert "0 supporters" in found


# -- The migration --------------------------------------------------------------------------------

BEFORE = [("campaigns", "0001_initial")]


def _migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)


def _latest() -> list[tuple[str, str]]:
    return list(MigrationExecutor(connection).loader.graph.leaf_nodes("campaigns"))


def _raw(table: str, columns: str) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} ORDER BY id")  # noqa: S608
        return list(cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_addresses_and_back(keyring_file: Path) -> None:
    """Plaintext addresses and their SHA-256 become ciphertext and the keyed index in all three
    tables, signing once still holds across the migration, and reversing gives them back."""
    latest = _latest()
    executor = _migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    section = old.get_model("core", "Section").objects.create(slug="h", name_en="H", kind="home")
    campaign = old.get_model("campaigns", "Campaign").objects.create(
        section=section, is_public=True, slug="c", title_en="C"
    )
    petition = old.get_model("campaigns", "Petition").objects.create(
        section=section, is_public=True, campaign=campaign, slug="p", title_en="P", text_en="T"
    )
    action = old.get_model("campaigns", "Action").objects.create(
        section=section,
        is_public=True,
        campaign=campaign,
        kind="protest",
        title_en="A",
        starts_at=timezone.now() + dt.timedelta(days=3),
    )
    digest = hashlib.sha256(b"anna@example.org").hexdigest()
    anna = old.get_model("campaigns", "Supporter").objects.create(
        email="anna@example.org", email_hash=digest, name="Anna"
    )
    old.get_model("campaigns", "Signature").objects.create(
        petition=petition,
        supporter=anna,
        email_hash=digest,
        processing_consent=True,
        token_nonce="n",
        token_hash="h",
    )
    old.get_model("campaigns", "Signature").objects.create(  # an erased one: no key left
        petition=petition, processing_consent=True, erased=True, token_nonce="", token_hash=""
    )
    old.get_model("campaigns", "Rsvp").objects.create(
        action=action, supporter=anna, email_hash=digest, processing_consent=True
    )

    _migrate(latest)
    index = email_index("anna@example.org")
    [(stored, stored_index)] = _raw("campaigns_supporter", "email, email_index")
    assert str(stored).startswith("p1:") and stored_index == index
    assert Supporter.objects.get().email == "anna@example.org"
    assert _raw("campaigns_signature", "email_index") == [(index,), (None,)]
    assert _raw("campaigns_rsvp", "email_index") == [(index,)]
    again = services.sign_petition(
        Petition.objects.get(),
        SupporterDetails(email="ANNA@example.org", name="Anna"),
        processing_consent=True,
        base_url="http://x",
    )
    assert again == SignResult.PENDING_AGAIN

    _migrate(BEFORE)
    assert _raw("campaigns_supporter", "email, email_hash") == [("anna@example.org", digest)]
    assert _raw("campaigns_signature", "email_hash") == [(digest,), (None,)]
    assert _raw("campaigns_rsvp", "email_hash") == [(digest,)]
    _migrate(latest)
    assert Supporter.objects.get().email == "anna@example.org"


@pytest.mark.django_db(transaction=True)
def test_the_migration_of_an_empty_database_needs_no_keyring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh installation migrates both ways before any keyring exists (it would refuse)."""
    latest = _latest()
    monkeypatch.setenv("SOLIDARITY_KEYRING_FILE", str(tmp_path / "missing.json"))
    _migrate(BEFORE)
    _migrate(latest)
    assert not (tmp_path / "missing.json").exists()
    assert [f.name for f in Supporter._meta.concrete_fields if "email" in f.name] == [
        "email",
        "email_index",
    ]
