"""Supporters' names and countries, and signatures' comments and public names, are encrypted at
rest, bound to their row, and still work wherever they are meant to be read: the consented
public name on the petition page, the CSV delivered to the target, the back office for roles
that read personal data; erasure blanks them.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from nacl.utils import random

from solidarity.campaigns import services
from solidarity.campaigns.models import ExportLog, Petition, Signature, Supporter, email_index
from solidarity.campaigns.services import SupporterDetails
from solidarity.core.models import Section
from solidarity.safety import crypto
from solidarity.safety.crypto import DecryptionError, write_keyring
from solidarity.safety.models import Role
from tests.conftest import verified_login
from tests.test_campaigns_support import World, make_world

NAME, COUNTRY, COMMENT = "Zhanna Canary-8b3", "Canarystan-8b3", "Free them all, canary-8b3"


@pytest.fixture
def world(section: Section) -> World:
    return make_world(section)


@pytest.fixture
def keyring_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A keyring of this test's own: the migration test reads and writes with it."""
    path = tmp_path / "keyring.json"
    write_keyring(path, "k-first", {"k-first": random(crypto.KEY_BYTES)}, random(32))
    monkeypatch.setenv("SOLIDARITY_KEYRING_FILE", str(path))
    return path


def _sign(world: World, email: str, name: str = NAME, *, named: bool = True) -> Signature:
    services.sign_petition(
        world.petition,
        SupporterDetails(email=email, name=name, country=COUNTRY),
        comment=COMMENT,
        public_name_consent=named,
        processing_consent=True,
        base_url="http://testserver",
    )
    return Signature.objects.get(supporter__email_index=email_index(email))


def _confirm(signature: Signature) -> None:
    assert services.confirm_signature(services.signature_token(signature)) is not None


def _raw(sql: str) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


# -- At rest ------------------------------------------------------------------------------------


def test_the_columns_hold_ciphertext_and_the_model_the_values(world: World) -> None:
    """Each column as a dump shows it is a ciphertext; through the model it reads back."""
    signature = _sign(world, "zhanna@example.org")
    [(name, country)] = _raw("SELECT name, country FROM campaigns_supporter")
    [(comment, public_name)] = _raw("SELECT comment, public_name FROM campaigns_signature")
    for stored in (name, country, comment, public_name):
        assert str(stored).startswith("p1:") and "canary" not in str(stored).lower()
    fresh = Signature.objects.select_related("supporter").get(pk=signature.pk)
    assert fresh.supporter is not None
    assert (fresh.supporter.name, fresh.supporter.country) == (NAME, COUNTRY)
    assert (fresh.comment, fresh.public_name) == (COMMENT, NAME)


def test_a_comment_copied_into_another_row_does_not_decrypt(world: World) -> None:
    """Bound to its row: a ciphertext moved to another signature (or column) is refused."""
    first = _sign(world, "a@example.org")
    second = _sign(world, "b@example.org", named=False)
    [(stored,)] = _raw(f"SELECT comment FROM campaigns_signature WHERE id = {first.pk}")  # noqa: S608
    Signature.objects.filter(pk=second.pk).update(comment=str(stored))
    with pytest.raises(DecryptionError):
        _ = Signature.objects.get(pk=second.pk).comment


WRITE = f"""
from django.conf import settings
from solidarity.campaigns import services
from solidarity.campaigns.models import Campaign, Petition
from solidarity.core.models import Section

section = Section.objects.create(slug="home", name_en="Home", kind="home")
campaign = Campaign.objects.create(section=section, is_public=True, slug="c", title_en="C")
petition = Petition.objects.create(
    section=section, is_public=True, campaign=campaign, slug="p", title_en="P", text_en="T"
)
details = services.SupporterDetails(email="z@example.org", name={NAME!r}, country={COUNTRY!r})
services.sign_petition(
    petition, details, comment={COMMENT!r}, public_name_consent=True, processing_consent=True,
    base_url="http://x",
)
# While this connection is open the write-ahead log holds the newest pages.
database = settings.DATABASES["default"]["NAME"]
for path in (database, database + "-wal"):
    if os.path.exists(path):
        data = open(path, "rb").read().lower()
        if b"canary-8b3" in data:
            print("LEAK in", path)
        print("CHECKED", path, len(data))
"""


def test_the_sqlite_file_and_its_wal_hold_no_name_country_or_comment(tmp_path: Path) -> None:
    """Right after a signature with a public name, neither the database file nor the WAL of a
    real instance holds the name, the country or the comment."""
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(SOLIDARITY_DATA_DIR=str(tmp_path / "instance"), PYTHONUNBUFFERED="1")
    env.pop("SOLIDARITY_KEYRING_FILE", None)
    solidarity = [sys.executable, "-m", "solidarity"]
    subprocess.run([*solidarity, "migrate", "-v0"], env=env, check=True, timeout=300)
    result = subprocess.run(
        [*solidarity, "shell", "-c", "import os\n" + WRITE],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "CHECKED" in result.stdout and "-wal" in result.stdout
    assert "LEAK" not in result.stdout


# -- Where they are read ------------------------------------------------------------------------


def test_the_consented_public_name_shows_on_the_petition_page(world: World, client: Client) -> None:
    """Decrypted at render: the confirmed signer who agreed is named, the one who did not is
    not, and a name confirmed after the page was cached appears on the next view."""
    url = reverse("campaigns:petition", args=[world.petition.slug])
    _confirm(_sign(world, "named@example.org"))
    _confirm(_sign(world, "quiet@example.org", "Quiet Signer-8b3", named=False))
    page = client.get(url).content.decode()
    assert NAME in page and "Quiet Signer" not in page and "p1:" not in page

    _confirm(_sign(world, "later@example.org", "Later Signer-8b3"))
    assert "Later Signer-8b3" in client.get(url).content.decode()


def test_the_export_for_the_target_decrypts_and_is_logged(world: World) -> None:
    coordinator = User.objects.create_user("coord", password="x", is_staff=True)
    coordinator.user_permissions.add(Permission.objects.get(codename="export_signatures"))
    coordinator = User.objects.get(pk=coordinator.pk)
    _confirm(_sign(world, "named@example.org"))
    text, log = services.export_signatures_csv(world.petition, coordinator)
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert (row["name"], row["country"], row["comment"]) == (NAME, COUNTRY, COMMENT)
    assert ExportLog.objects.get() == log and log.rows == 1


def test_erasure_blanks_the_comment_and_public_name(world: World) -> None:
    coordinator = User.objects.create_superuser("root", "r@example.org", "x")
    _confirm(_sign(world, "named@example.org"))
    services.erase_supporter("named@example.org", user=coordinator)
    erased = Signature.objects.get()
    assert (erased.comment, erased.public_name, erased.supporter) == ("", "", None)
    assert _raw("SELECT comment, public_name FROM campaigns_signature") == [("", "")]
    assert not Supporter.objects.exists()
    assert services.count_signatures(world.petition) == 1


def test_the_admin_shows_them_only_to_roles_reading_personal_data(
    world: World, client: Client
) -> None:
    """A section organiser sees the signer's name, country and comment; an editor of the same
    section sees none of them (the public name, public by consent, stays visible to both)."""
    signature = _sign(world, "named@example.org", named=False)
    supporter_url = reverse("admin:campaigns_supporter_change", args=[signature.supporter_id])
    signature_url = reverse("admin:campaigns_signature_change", args=[signature.pk])
    organiser = User.objects.create_user("org", password="x", is_staff=True)
    Role.objects.create(user=organiser, section=world.section, role="section_organiser")
    editor = User.objects.create_user("ed", password="x", is_staff=True)
    Role.objects.create(user=editor, section=world.section, role="editor")

    verified_login(client, organiser)
    supporter_page = client.get(supporter_url).content.decode()
    assert NAME in supporter_page and COUNTRY in supporter_page
    assert COMMENT in client.get(signature_url).content.decode()

    client.logout()
    verified_login(client, editor)
    for url in (supporter_url, signature_url, reverse("admin:campaigns_supporter_changelist")):
        response = client.get(url)
        assert response.status_code == 200
        assert "8b3" not in response.content.decode()
    # A name typed into the search box finds nothing: names are not searchable at all.
    found = client.get(reverse("admin:campaigns_supporter_changelist"), {"q": NAME}, follow=True)
    assert "0 supporters" in found.content.decode()


# -- The migration --------------------------------------------------------------------------------

BEFORE = [("campaigns", "0005_tags")]


def _migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_names_and_back(keyring_file: Path) -> None:
    """Plaintext names, countries, comments and public names become ciphertext bound to their
    rows (a fresh row identity per signature), and reversing gives them back."""
    latest = list(MigrationExecutor(connection).loader.graph.leaf_nodes("campaigns"))
    old = _migrate(BEFORE).loader.project_state(BEFORE).apps
    section = old.get_model("core", "Section").objects.create(slug="h", name_en="H", kind="home")
    campaign = old.get_model("campaigns", "Campaign").objects.create(
        section=section, is_public=True, slug="c", title_en="C"
    )
    petition = old.get_model("campaigns", "Petition").objects.create(
        section=section, is_public=True, campaign=campaign, slug="p", title_en="P", text_en="T"
    )
    for i in range(2):
        supporter = old.get_model("campaigns", "Supporter").objects.create(
            email=f"s{i}@example.org", email_index=f"i{i}", name=f"{NAME} {i}", country=COUNTRY
        )
        old.get_model("campaigns", "Signature").objects.create(
            petition=petition,
            supporter=supporter,
            email_index=f"i{i}",
            comment=f"{COMMENT} {i}" if i else "",
            public_name=f"{NAME} {i}",
            processing_consent=True,
            token_nonce="n",
            token_hash=f"h{i}",
        )

    _migrate(latest)
    stored = _raw("SELECT name, country FROM campaigns_supporter") + _raw(
        "SELECT public_name, comment FROM campaigns_signature WHERE comment != ''"
    )
    assert all(str(v).startswith("p1:") for row in stored for v in row)
    nonces = _raw("SELECT row_nonce FROM campaigns_signature")
    assert len({n for (n,) in nonces}) == 2 and None not in {n for (n,) in nonces}
    signatures = Signature.objects.select_related("supporter").order_by("pk")
    assert [(s.supporter.name, s.comment, s.public_name) for s in signatures if s.supporter] == [
        (f"{NAME} 0", "", f"{NAME} 0"),
        (f"{NAME} 1", f"{COMMENT} 1", f"{NAME} 1"),
    ]
    assert Petition.objects.count() == 1

    _migrate(BEFORE)
    assert _raw("SELECT name, country FROM campaigns_supporter ORDER BY id") == [
        (f"{NAME} 0", COUNTRY),
        (f"{NAME} 1", COUNTRY),
    ]
    assert _raw("SELECT comment, public_name FROM campaigns_signature ORDER BY id") == [
        ("", f"{NAME} 0"),
        (f"{COMMENT} 1", f"{NAME} 1"),
    ]
    _migrate(latest)
