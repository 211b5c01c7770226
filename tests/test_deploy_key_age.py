"""Cryptoperiods that are checked (ASVS 11.1.1): `check --deploy` warns about a secret key file
(accounts.W007), a keyring's current personal key (W008) and active API tokens (W009) older than
their period, and the rotation each names ends the warning. Ages are set on the files
themselves (os.utime) and on the rows, never by a stand-in for the clock."""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.checks import CheckMessage, Tags, run_checks
from django.core.management import call_command
from django.utils import timezone
from pytest_django import Settings

from solidarity.api.models import ApiToken
from solidarity.api.tokens import create_token, revoke_token
from solidarity.safety.crypto import (
    add_current_key,
    b64e,
    load_keyring,
    parse_keyring,
    write_keyring,
)
from tests.test_api_tokens import reader
from tests.test_deploy_checks import check, production_env
from tests.test_keyring_copy import export, keys, restore

# The fixtures (a user allowed to read petitions, a backup key pair), imported to register them.
__all__ = ["keys", "reader"]

pytestmark = pytest.mark.django_db

DAY = 24 * 3600


def age(path: Path, days: int) -> Path:
    """Make `path` look last written `days` days ago, as a file left alone that long is."""
    moment = time.time() - days * DAY
    os.utime(path, (moment, moment))
    return path


def ours(id_: str) -> list[CheckMessage]:
    messages = run_checks(tags=[Tags.security], include_deployment_checks=True)
    return [m for m in messages if m.id == id_]


# -- The secret key (W007) ----------------------------------------------------------------------


@pytest.fixture
def key_file(tmp_path: Path, settings: Settings) -> Path:
    path = tmp_path / "run" / "secret_key"
    path.parent.mkdir()
    path.write_text(secrets.token_urlsafe(50) + "\n")
    path.chmod(0o600)
    settings.SOLIDARITY_SECRET_KEY_FILE = path
    settings.SOLIDARITY_SECRET_KEY_FALLBACKS_FILE = path.with_name("secret_key.fallbacks")
    return path


def test_a_secret_key_older_than_a_year_is_reported(key_file: Path) -> None:
    age(key_file, 364)
    assert ours("accounts.W007") == []
    age(key_file, 366)
    [warning] = ours("accounts.W007")
    assert "366 days ago" in warning.msg and "365 days" in warning.msg
    assert warning.hint is not None and "solidarity rotate_secret_key" in warning.hint


def test_the_period_is_a_setting(key_file: Path, settings: Settings) -> None:
    age(key_file, 40)
    assert ours("accounts.W007") == []
    settings.SOLIDARITY_SECRET_KEY_MAX_DAYS = 30
    assert ours("accounts.W007")


def test_rotate_secret_key_writes_a_new_file_and_ends_the_warning(key_file: Path) -> None:
    """The age is the file's: the rotation replaces the file, so the clock starts again."""
    age(key_file, 400)
    assert ours("accounts.W007")
    call_command("rotate_secret_key", stdout=io.StringIO())
    assert time.time() - key_file.stat().st_mtime < 60
    assert ours("accounts.W007") == []


def test_a_key_from_the_environment_has_no_age_to_check(settings: Settings) -> None:
    settings.SOLIDARITY_SECRET_KEY_FILE = None
    assert ours("accounts.W007") == []


def test_check_deploy_reports_an_old_key_file(tmp_path: Path) -> None:
    """Through the command line, with production settings and the key on its own tmpfs."""
    path = tmp_path.with_name(f"{tmp_path.name}-tmpfs") / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(secrets.token_urlsafe(50))
    path.chmod(0o600)
    env = production_env(tmp_path, SOLIDARITY_SECRET_KEY_FILE=str(path))
    del env["SOLIDARITY_SECRET_KEY"]
    assert check(env).returncode == 0
    age(path, 500)
    result = check(env)
    assert result.returncode != 0
    assert "accounts.W007" in result.stdout + result.stderr


# -- The keyring's current key (W008) ----------------------------------------------------------


@pytest.fixture
def keyring_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "tmpfs" / "keyring.json"
    monkeypatch.setenv("SOLIDARITY_KEYRING_FILE", str(path))
    return path


def old_format_keyring(path: Path) -> Path:
    """A keyring as written before the keys' dates were recorded: no "created"."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "version": 1,
        "personal": {"current": "kold", "keys": {"kold": b64e(bytes(32))}},
        "server_secret": b64e(bytes(32)),
    }
    path.write_text(json.dumps(document))
    path.chmod(0o600)
    return path


def test_a_key_made_more_than_a_year_ago_is_reported(keyring_file: Path) -> None:
    """The date recorded in the keyring counts, not the file's: a file copied to a tmpfs at
    every boot is always new."""
    made = timezone.now() - timedelta(days=400)
    write_keyring(keyring_file, "k1", {"k1": bytes(32)}, bytes(32), {"k1": made})
    [warning] = ours("accounts.W008")
    assert "k1 was made 400 days ago" in warning.msg
    assert warning.hint is not None and "solidarity rotate-keys" in warning.hint
    write_keyring(
        keyring_file, "k1", {"k1": bytes(32)}, bytes(32), {"k1": made + timedelta(days=100)}
    )
    age(keyring_file, 1000)
    assert ours("accounts.W008") == []


def test_a_keyring_from_before_the_dates_counts_from_its_file(
    keyring_file: Path, settings: Settings
) -> None:
    """Without a date the file's last write bounds the key's age, and the warning says so."""
    old_format_keyring(keyring_file)
    assert ours("accounts.W008") == []
    age(keyring_file, 370)
    [warning] = ours("accounts.W008")
    assert "kold is at least 370 days old" in warning.msg
    assert "does not record when it was made" in warning.msg
    settings.SOLIDARITY_KEYRING_KEY_MAX_DAYS = 400
    assert ours("accounts.W008") == []


def test_rotate_keys_records_the_new_keys_date_and_ends_the_warning(keyring_file: Path) -> None:
    old_format_keyring(keyring_file)
    age(keyring_file, 800)
    assert ours("accounts.W008")
    call_command("rotate-keys", stdout=io.StringIO())
    keyring = parse_keyring(keyring_file, keyring_file.read_text())
    assert keyring.current != "kold" and set(keyring.keys) == {"kold", keyring.current}
    assert abs(timezone.now() - keyring.created[keyring.current]) < timedelta(minutes=1)
    assert "kold" not in keyring.created  # never given the date of a later write
    assert ours("accounts.W008") == []


def test_old_keyrings_still_load_and_the_dates_survive_every_write(keyring_file: Path) -> None:
    """Backward compatible: a keyring without dates reads as before; each new key gets its
    date (UTC, ISO 8601) and keeps it through later writes."""
    old_format_keyring(keyring_file)
    keyring = load_keyring()
    assert (keyring.current, keyring.created) == ("kold", {})
    first = add_current_key()
    second = add_current_key()
    document = json.loads(keyring_file.read_text())
    assert document["version"] == 1
    assert set(document["personal"]["created"]) == {first, second}
    for stamp in document["personal"]["created"].values():
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", stamp)
    assert load_keyring().created[first] <= load_keyring().created[second]


def test_a_new_keyring_records_its_keys_date(keyring_file: Path) -> None:
    call_command("keyring", "init", stdout=io.StringIO())
    keyring = parse_keyring(keyring_file, keyring_file.read_text())
    made = keyring.created[keyring.current]
    assert made.tzinfo is not None and made.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - made) < timedelta(minutes=1)


def test_a_date_alone_is_read_as_utc_midnight(keyring_file: Path) -> None:
    old_format_keyring(keyring_file)
    document = json.loads(keyring_file.read_text())
    document["personal"]["created"] = {"kold": "2020-02-03", "gone": "2020-01-01"}
    keyring = parse_keyring(keyring_file, json.dumps(document))
    assert keyring.created == {"kold": datetime(2020, 2, 3, tzinfo=UTC)}
    keyring_file.write_text(json.dumps(document))
    assert ours("accounts.W008")


def test_the_dates_travel_with_the_keyrings_encrypted_copy(
    keyring_file: Path, keys: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Restored on a new server, the keyring keeps its keys' dates: the new file's own date
    would make a key of years look a day old."""
    made = timezone.now().replace(microsecond=0) - timedelta(days=500)
    write_keyring(keyring_file, "k1", {"k1": bytes(32)}, bytes(32), {"k1": made})
    export(tmp_path / "copy", keys)
    restored = tmp_path / "new-server" / "keyring.json"
    monkeypatch.setenv("SOLIDARITY_KEYRING_FILE", str(restored))
    restore(tmp_path / "copy", keys / "backup.key")
    assert load_keyring().created == {"k1": made}
    assert ours("accounts.W008")


# -- API tokens (W009) -------------------------------------------------------------------------


def test_active_tokens_older_than_a_year_are_listed_by_id_only(reader: User) -> None:
    old, old_secret = create_token(reader, "mailer", ["petitions:read"])
    revoked, _ = create_token(reader, "retired", ["petitions:read"])
    fresh, _ = create_token(reader, "new", ["petitions:read"])
    ApiToken.objects.filter(pk__in=[old.pk, revoked.pk]).update(
        created=timezone.now() - timedelta(days=366)
    )
    ApiToken.objects.filter(pk=fresh.pk).update(created=timezone.now() - timedelta(days=364))
    revoke_token(revoked)
    [warning] = ours("accounts.W009")
    assert warning.msg.startswith("1 active API token(s)")
    assert f": {old.pk}." in warning.msg
    assert old.prefix not in warning.msg and old_secret not in warning.msg
    assert warning.hint is not None and "solidarity apitoken rotate ID" in warning.hint


def test_rotating_the_token_ends_the_warning(reader: User) -> None:
    token, _ = create_token(reader, "mailer", ["petitions:read"])
    ApiToken.objects.filter(pk=token.pk).update(created=timezone.now() - timedelta(days=400))
    assert ours("accounts.W009")
    call_command("apitoken", "rotate", str(token.pk), stdout=io.StringIO(), stderr=io.StringIO())
    assert ours("accounts.W009") == []
