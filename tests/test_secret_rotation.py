"""`solidarity rotate_secret_key`: a new SECRET_KEY, the old one kept as a fallback, and nothing
handed out under the old key lost (ASVS 11.1.1; solidarity/core/secret_key.py).

A "restart" here is what a new process does: SECRET_KEY and SECRET_KEY_FALLBACKS read again
from the two files, by the settings' own reader. Mail goes over SMTP to aiosmtpd on loopback
and through the real database worker (tests/test_campaigns_support.py); links are followed
with the test client, as a supporter would.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from pytest_django import Settings

from solidarity.accounts import invitations
from solidarity.accounts.factors import new_backup_codes, verify_code
from solidarity.audit.models import AuditEntry
from solidarity.campaigns import human_timing, services
from solidarity.campaigns.models import Signature, Supporter
from solidarity.campaigns.services import SupporterDetails
from solidarity.core.models import Section
from solidarity.settings import secret_key_fallbacks
from tests.conftest import verified_login
from tests.test_accounts_invitations import open_link
from tests.test_campaigns_support import (  # mailbox_fixture: imported to register it
    Mailbox,
    World,
    mailbox_fixture,  # noqa: F401
    make_world,
    run_worker,
)
from tests.test_deploy_checks import _ours


@dataclass
class KeyFiles:
    key: Path
    fallbacks: Path
    settings: Settings

    def restart(self) -> None:
        """What the next start of the server reads."""
        current = self.key.read_text().strip()
        self.settings.SECRET_KEY = current
        self.settings.SECRET_KEY_FALLBACKS = secret_key_fallbacks(self.fallbacks, current)

    def forget_old_keys(self) -> None:
        """The fallbacks file emptied after its days, and a restart."""
        self.fallbacks.write_text("")
        self.restart()


@pytest.fixture
def key_files(tmp_path: Path, settings: Settings) -> KeyFiles:
    """A key file holding the key the test started with, as SOLIDARITY_SECRET_KEY_FILE."""
    key = tmp_path / "run" / "secret_key"
    key.parent.mkdir()
    fd = os.open(key, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(50))
    settings.SOLIDARITY_SECRET_KEY_FILE = key
    settings.SOLIDARITY_SECRET_KEY_FALLBACKS_FILE = key.with_name("secret_key.fallbacks")
    files = KeyFiles(key, settings.SOLIDARITY_SECRET_KEY_FALLBACKS_FILE, settings)
    files.restart()
    return files


def rotate(*args: str) -> str:
    out = io.StringIO()
    call_command("rotate_secret_key", *args, stdout=out)
    return out.getvalue()


# -- The command --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rotation_writes_a_new_private_key_and_keeps_the_old_first(key_files: KeyFiles) -> None:
    """The key file changes and stays 0600; the fallbacks file, also 0600, lists the old key
    first and an earlier one after it; the output says what to do next; the log records the
    rotation without any key."""
    first = key_files.key.read_text().strip()
    rotate()
    second = key_files.key.read_text().strip()
    out = rotate()
    third = key_files.key.read_text().strip()

    assert len({first, second, third}) == 3 and len(third) >= 64
    for path in (key_files.key, key_files.fallbacks):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key_files.fallbacks.read_text().splitlines() == [second, first]
    assert not [p.name for p in key_files.key.parent.iterdir() if p.name.startswith(".")]
    assert "Restart every application server" in out
    assert "solidarity rerender_articles" in out
    assert re.search(r"On \d{4}-\d\d-\d\d \(90 days\), delete the old key's line", out)
    assert first not in out and second not in out and third not in out
    entries = list(AuditEntry.objects.filter(action="secret_key_rotated").order_by("seq"))
    assert [e.values for e in entries] == [
        {"old_keys_kept": 1, "compromised": False},
        {"old_keys_kept": 2, "compromised": False},
    ]
    assert entries[0].actor == "system:rotate_secret_key"
    assert not any(k in json.dumps(e.values) for e in entries for k in (first, second, third))


@pytest.mark.django_db
def test_a_compromised_key_is_not_kept_nor_the_ones_before(key_files: KeyFiles) -> None:
    """--compromised keeps no old key: a key that leaked must not verify anything."""
    rotate()
    out = rotate("--compromised")
    assert key_files.fallbacks.read_text() == ""
    assert stat.S_IMODE(key_files.fallbacks.stat().st_mode) == 0o600
    assert "No old key kept" in out and "delete the old key" not in out
    key_files.restart()
    assert key_files.settings.SECRET_KEY_FALLBACKS == []


@pytest.mark.django_db
def test_a_key_from_the_environment_is_refused_with_the_way_by_hand(
    key_files: KeyFiles, settings: Settings
) -> None:
    """SOLIDARITY_SECRET_KEY cannot be changed from here: the command refuses, says how to do
    it by hand, and touches no file."""
    settings.SOLIDARITY_SECRET_KEY_FILE = None
    before = key_files.key.read_text()
    with pytest.raises(CommandError, match="comes from the environment") as refused:
        rotate()
    assert "SOLIDARITY_SECRET_KEY_FALLBACKS_FILE" in str(refused.value)
    assert key_files.key.read_text() == before and not key_files.fallbacks.exists()
    assert not AuditEntry.objects.filter(action="secret_key_rotated").exists()


def test_settings_read_the_fallbacks_file_beside_the_key_file(tmp_path: Path) -> None:
    """A new process takes SECRET_KEY from the key file and SECRET_KEY_FALLBACKS from
    `<key file>.fallbacks` (blank lines and a copy of the current key ignored), or from the file
    SOLIDARITY_SECRET_KEY_FALLBACKS_FILE names, also next to SOLIDARITY_SECRET_KEY."""
    key = tmp_path / "secret_key"
    key.write_text("new-key\n")
    key.with_name("secret_key.fallbacks").write_text("old-key\n\nnew-key\nolder-key\n")
    elsewhere = tmp_path / "old-keys"
    elsewhere.write_text("from-elsewhere\n")
    show = "from django.conf import settings as s; print(s.SECRET_KEY, s.SECRET_KEY_FALLBACKS)"

    def settings_with(**env: str) -> str:
        base = {k: v for k, v in os.environ.items() if not k.startswith("SOLIDARITY_SECRET_KEY")}
        done = subprocess.run(
            [sys.executable, "-m", "solidarity", "shell", "--no-imports", "-c", show],
            env={**base, "SOLIDARITY_DATA_DIR": str(tmp_path), **env},
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    assert settings_with(SOLIDARITY_SECRET_KEY_FILE=str(key)) == (
        "new-key ['old-key', 'older-key']"
    )
    assert settings_with(
        SOLIDARITY_SECRET_KEY="env-key", SOLIDARITY_SECRET_KEY_FALLBACKS_FILE=str(elsewhere)
    ) == ("env-key ['from-elsewhere']")
    assert settings_with(SOLIDARITY_SECRET_KEY="env-key") == "env-key []"


# -- What was handed out under the old key ------------------------------------------------------


@pytest.fixture
def world() -> World:
    section = Section.objects.create(slug="home", name_en="Home organisation", kind="home")
    return make_world(section)


def _sign(world: World, email: str) -> None:
    services.sign_petition(
        world.petition,
        SupporterDetails(email=email, name="Anna Berg", language="en"),
        processing_consent=True,
        base_url="http://testserver",
    )


def _links(mailbox: Mailbox, email: str) -> tuple[str, str]:
    """The confirmation and unsubscribe paths of the one mail to `email`."""
    [message] = mailbox.to(email)
    body = mailbox.body(message)
    confirm = re.search(r"http://testserver(/en/petitions/confirm/[0-9a-f]+/)", body)
    unsubscribe = re.search(r"http://testserver(/en/unsubscribe/[0-9]+-[0-9a-f]+/)", body)
    assert confirm and unsubscribe, body
    return confirm.group(1), unsubscribe.group(1)


def _unsubscribed(email: str) -> bool:
    return any(s.unsubscribed_at is not None for s in Supporter.objects.all() if s.email == email)


@pytest.mark.django_db(transaction=True)
def test_links_mailed_under_the_old_key_keep_working(
    world: World, key_files: KeyFiles, mailbox: Mailbox
) -> None:
    """Confirmation and unsubscribe links mailed before the rotation work after it, and so does
    the link of a confirmation mail still queued at the rotation. Once the old key is removed
    from the fallbacks, its unsubscribe links stop working (the fallback is what kept them),
    while links mailed under the new key go on working."""
    _sign(world, "anna@example.org")
    _sign(world, "bob@example.org")
    run_worker()
    _sign(world, "olga@example.org")  # its mail is still queued at the rotation
    anna_confirm, anna_unsubscribe = _links(mailbox, "anna@example.org")
    _bob_confirm, bob_unsubscribe = _links(mailbox, "bob@example.org")

    rotate()
    key_files.restart()
    run_worker()
    olga_confirm, olga_unsubscribe = _links(mailbox, "olga@example.org")

    mail_client = Client(enforce_csrf_checks=True)
    for link in (anna_confirm, olga_confirm):
        assert "Confirm my signature" in Client().get(link).content.decode()
        assert Client().post(link).status_code in {200, 302}
    confirmed = Signature.objects.filter(status=Signature.Status.CONFIRMED)
    assert sorted(s.supporter.email for s in confirmed if s.supporter) == [
        "anna@example.org",
        "olga@example.org",
    ]
    one_click = "List-Unsubscribe=One-Click"
    form = "application/x-www-form-urlencoded"
    assert mail_client.post(anna_unsubscribe, one_click, content_type=form).status_code == 200
    assert _unsubscribed("anna@example.org")

    key_files.forget_old_keys()
    assert Client().get(bob_unsubscribe).status_code == 404
    assert mail_client.post(bob_unsubscribe, one_click, content_type=form).status_code == 404
    assert not _unsubscribed("bob@example.org")
    assert mail_client.post(olga_unsubscribe, one_click, content_type=form).status_code == 200
    assert _unsubscribed("olga@example.org")


@pytest.mark.django_db(transaction=True)
def test_a_forged_unsubscribe_link_is_refused_under_every_key(
    world: World, key_files: KeyFiles, mailbox: Mailbox
) -> None:
    """Accepting old keys accepts nothing else: a link with its HMAC altered, or one made for
    another supporter's number, is still a 404."""
    _sign(world, "anna@example.org")
    run_worker()
    _confirm, link = _links(mailbox, "anna@example.org")
    rotate()
    key_files.restart()
    found = re.fullmatch(r"/en/unsubscribe/([0-9]+)-([0-9a-f]+)/", link)
    assert found
    pk, mac = found.groups()
    altered = f"/en/unsubscribe/{pk}-{mac[:-1]}{'0' if mac[-1] != '0' else '1'}/"
    other = f"/en/unsubscribe/{int(pk) + 1}-{mac}/"
    for forged in (altered, other):
        assert Client().post(forged).status_code == 404
    assert not _unsubscribed("anna@example.org")
    assert Client().get(link).status_code == 200


@pytest.mark.django_db
def test_a_session_from_before_the_rotation_stays_logged_in(
    key_files: KeyFiles, client: Client
) -> None:
    """Django checks the session's signature and auth hash under the fallbacks too (and moves
    the session to the new key on its first request); a session nobody used before the old
    key was removed must log in again."""
    user = User.objects.create_superuser("staff", "staff@example.org", "a long test passphrase")
    verified_login(client, user)
    idle = verified_login(Client(), user)
    assert client.get("/admin/").status_code == 200

    rotate()
    key_files.restart()
    assert client.get("/admin/").status_code == 200

    key_files.forget_old_keys()
    assert client.get("/admin/").status_code == 200  # moved to the new key already
    refused = idle.get("/admin/")
    assert refused.status_code == 302 and "login" in refused["Location"]


@pytest.mark.django_db
def test_an_invitation_link_and_a_form_stamp_survive_the_rotation(key_files: KeyFiles) -> None:
    """A new member's link (Django's token generator under our salt) and the served-at stamp
    of a public form (Django's signing) verify under the fallback."""
    admin = User.objects.create_superuser("admin", "admin@example.org", "a long passphrase")
    member = User.objects.create_user("member", "member@example.org")
    link = invitations.new_link(member, by=admin)
    stamp = human_timing.stamp("sign:release-sokolova")

    rotate()
    key_files.restart()
    assert open_link(link).status_code == 200
    human_timing.check(stamp, "sign:release-sokolova")

    key_files.forget_old_keys()
    assert open_link(link).status_code == 404
    with pytest.raises(ValidationError):
        human_timing.check(stamp, "sign:release-sokolova")


@pytest.mark.django_db
def test_backup_codes_do_not_depend_on_the_secret_key(key_files: KeyFiles) -> None:
    """Backup codes are hashed with the keyring's server secret, not SECRET_KEY: they verify
    after a rotation even with no old key kept."""
    user = User.objects.create_user("member", "member@example.org")
    codes = new_backup_codes(user)
    rotate("--compromised")
    key_files.restart()
    assert key_files.settings.SECRET_KEY_FALLBACKS == []
    assert verify_code(user, codes[0]) is not None
    assert verify_code(user, codes[0]) is None  # used once, as before


@pytest.mark.django_db
def test_check_deploy_guards_the_old_keys_like_the_key(settings: Settings, tmp_path: Path) -> None:
    """An old key kept as a fallback forges links as well as the key: `check --deploy` refuses
    a fallbacks file other users can read, or one copied with the data, whichever way the key
    itself is given (accounts.E017)."""
    key = tmp_path / "tmpfs" / "secret_key"
    key.parent.mkdir()
    key.write_text(secrets.token_urlsafe(50))
    key.chmod(0o600)
    fallbacks = key.with_name("secret_key.fallbacks")
    fallbacks.write_text(secrets.token_urlsafe(50))
    fallbacks.chmod(0o644)
    settings.SOLIDARITY_SECRET_KEY_FILE = key
    settings.SOLIDARITY_SECRET_KEY_FALLBACKS_FILE = fallbacks
    assert "accounts.E017" in _ours()
    fallbacks.chmod(0o600)
    assert "accounts.E017" not in _ours()

    settings.SOLIDARITY_SECRET_KEY_FILE = None  # the key from SOLIDARITY_SECRET_KEY
    settings.DATA_DIR = tmp_path / "data"
    copied = settings.DATA_DIR / "old-keys"
    copied.parent.mkdir()
    copied.write_text(secrets.token_urlsafe(50))
    copied.chmod(0o600)
    settings.SOLIDARITY_SECRET_KEY_FALLBACKS_FILE = copied
    assert "accounts.E017" in _ours()
