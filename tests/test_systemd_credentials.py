"""systemd credentials as the secrets store (ASVS 13.3.1; solidarity/core/credentials.py).

A service given `LoadCredentialEncrypted=solidarity-secret-key:…` and `…solidarity-keyring:…`
(and `…solidarity-database-url:…`, `…solidarity-email-password:…`) finds them, decrypted, in
$CREDENTIALS_DIRECTORY: files of mode 0400 in a directory only it may enter. Here that
directory is a temporary one laid out the same way; the rest is real: the settings' own
readers, `solidarity check --deploy` in a process of its own, and the commands that would have
to write the files, which must refuse and say how to do it by hand.
"""

from __future__ import annotations

import io
import os
import secrets
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.checks import Tags, run_checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from pytest_django import Settings

from solidarity.core.credentials import (
    DATABASE_URL_CREDENTIAL,
    EMAIL_PASSWORD_CREDENTIAL,
    KEYRING_CREDENTIAL,
    SECRET_KEY_CREDENTIAL,
    secret_setting,
)
from solidarity.safety.crypto import keyring_path, load_keyring, write_keyring
from solidarity.settings import DATA_DIR, _secret_key_file
from tests.test_deploy_checks import check, production_env
from tests.test_keyring_copy import export, keys, restore

__all__ = ["keys"]  # the fixture (a backup key pair), imported to register it here

pytestmark = pytest.mark.django_db


@dataclass
class Credentials:
    directory: Path
    secret_key: Path
    keyring: Path


def lay_out(
    directory: Path, *, keyring_made_days_ago: int = 1, others: Mapping[str, str] | None = None
) -> Credentials:
    """What systemd leaves for the service: the two credentials (and `others`, by name), 0400,
    in a 0500 directory."""
    directory.mkdir(parents=True)
    for name, value in (others or {}).items():
        (directory / name).write_text(value)
        (directory / name).chmod(0o400)
    secret_key = directory / SECRET_KEY_CREDENTIAL
    secret_key.write_text(secrets.token_urlsafe(50) + "\n")
    keyring = directory / KEYRING_CREDENTIAL
    made = timezone.now() - timedelta(days=keyring_made_days_ago)
    write_keyring(keyring, "kc", {"kc": os.urandom(32)}, os.urandom(32), {"kc": made})
    for path in (secret_key, keyring):
        path.chmod(0o400)
    directory.chmod(0o500)
    return Credentials(directory, secret_key, keyring)


@pytest.fixture
def credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Credentials]:
    """The service's credentials directory, and nothing else naming the key files."""
    laid = lay_out(tmp_path / "credentials")
    for name in ("SOLIDARITY_SECRET_KEY", "SOLIDARITY_SECRET_KEY_FILE", "SOLIDARITY_KEYRING_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(laid.directory))
    yield laid
    laid.directory.chmod(0o700)  # so that the temporary directory can be removed


def contents(*paths: Path) -> list[bytes]:
    return [path.read_bytes() for path in paths]


# -- Where the settings look --------------------------------------------------------------------


def test_the_credentials_are_used_when_nothing_else_is_named(credentials: Credentials) -> None:
    assert _secret_key_file() == credentials.secret_key
    assert keyring_path() == credentials.keyring
    assert load_keyring().current == "kc"


def test_an_explicit_setting_wins_over_a_credential(
    credentials: Credentials, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SOLIDARITY_SECRET_KEY_FILE", str(tmp_path / "elsewhere" / "key"))
    monkeypatch.setenv("SOLIDARITY_KEYRING_FILE", str(tmp_path / "elsewhere" / "keyring.json"))
    assert _secret_key_file() == tmp_path / "elsewhere" / "key"
    assert keyring_path() == tmp_path / "elsewhere" / "keyring.json"
    monkeypatch.delenv("SOLIDARITY_SECRET_KEY_FILE")
    monkeypatch.setenv("SOLIDARITY_SECRET_KEY", "from-the-environment")
    assert _secret_key_file() is None


def test_without_the_credential_file_the_defaults_stay(
    credentials: Credentials, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A service given other credentials only: the data directory, as before (which the
    deploy checks then refuse in production)."""
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path / "other"))
    assert _secret_key_file() == DATA_DIR / "secret_key"
    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    assert _secret_key_file() == DATA_DIR / "secret_key"


def test_a_server_started_with_the_credentials_reads_them_and_passes_check_deploy(
    tmp_path: Path,
) -> None:
    """In a process of its own, as systemd starts it: SECRET_KEY and the keyring come from the
    credentials, and `check --deploy` has nothing to say, not even a warning."""
    laid = lay_out(tmp_path.with_name(f"{tmp_path.name}-credentials"))
    try:
        env = production_env(tmp_path, CREDENTIALS_DIRECTORY=str(laid.directory))
        del env["SOLIDARITY_SECRET_KEY"], env["SOLIDARITY_KEYRING_FILE"]
        result = check(env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "System check identified no issues" in result.stdout
        probe = (
            "from django.conf import settings\n"
            "from solidarity.safety.crypto import decrypt_personal, encrypt_personal, "
            "load_keyring\n"
            "print(settings.SOLIDARITY_SECRET_KEY_FILE, load_keyring().path)\n"
            "print(settings.SECRET_KEY)\n"
            "print(decrypt_personal(encrypt_personal('x', b'a'), b'a'), load_keyring().current)"
        )
        shell = [sys.executable, "-m", "solidarity", "shell", "--no-imports", "-c", probe]
        ran = subprocess.run(shell, env=env, capture_output=True, text=True)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.splitlines() == [
            f"{laid.secret_key} {laid.keyring}",
            laid.secret_key.read_text().strip(),
            "x kc",
        ]
    finally:
        laid.directory.chmod(0o700)


# -- DATABASE_URL and the SMTP password ---------------------------------------------------------

SECRETS = (
    ("DATABASE_URL", DATABASE_URL_CREDENTIAL),
    ("SOLIDARITY_EMAIL_PASSWORD", EMAIL_PASSWORD_CREDENTIAL),
)


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither secret named in the environment, nor a file for it (the suite's own
    DATABASE_URL, on PostgreSQL, was read by the settings already)."""
    for variable, _ in SECRETS:
        monkeypatch.delenv(variable, raising=False)
        monkeypatch.delenv(f"{variable}_FILE", raising=False)


def seal(credentials: Credentials, name: str, value: str) -> Path:
    credentials.directory.chmod(0o700)
    path = credentials.directory / name
    path.write_text(value)
    path.chmod(0o400)
    credentials.directory.chmod(0o500)
    return path


@pytest.mark.parametrize(("variable", "name"), SECRETS)
@pytest.mark.usefixtures("secret_env")
def test_each_secret_comes_from_the_environment_then_its_file_then_the_credential(
    credentials: Credentials,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    variable: str,
    name: str,
) -> None:
    """The environment variable wins (nothing set today changes meaning), then the file that
    `<VAR>_FILE` names, then the systemd credential; with none of them, empty."""
    assert secret_setting(variable, name) == ""
    seal(credentials, name, "from the credential\n")
    assert secret_setting(variable, name) == "from the credential"
    mounted = tmp_path / "run-secrets" / variable
    mounted.parent.mkdir()
    mounted.write_text("from the file\n")
    monkeypatch.setenv(f"{variable}_FILE", str(mounted))
    assert secret_setting(variable, name) == "from the file"
    monkeypatch.setenv(variable, "from the environment")
    assert secret_setting(variable, name) == "from the environment"
    # An empty variable names nothing (as `VAR=` in a unit or a shell).
    monkeypatch.setenv(variable, "")
    assert secret_setting(variable, name) == "from the file"
    monkeypatch.delenv(f"{variable}_FILE")
    assert secret_setting(variable, name) == "from the credential"
    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    assert secret_setting(variable, name) == ""


@pytest.mark.usefixtures("secret_env")
def test_one_trailing_newline_is_dropped_and_nothing_else(credentials: Credentials) -> None:
    """`echo pw | systemd-creds encrypt` leaves a newline; a password's own spaces stay."""
    name = EMAIL_PASSWORD_CREDENTIAL
    for sealed, read in [
        (" spaced pass \n", " spaced pass "),
        ("two newlines\n\n", "two newlines\n"),
        ("dos\r\n", "dos"),
        ("none", "none"),
    ]:
        credentials.directory.chmod(0o700)
        (credentials.directory / name).unlink(missing_ok=True)
        seal(credentials, name, sealed)
        assert secret_setting("SOLIDARITY_EMAIL_PASSWORD", name) == read


@pytest.mark.usefixtures("secret_env")
def test_a_file_that_cannot_be_read_stops_the_start_without_showing_a_value(
    credentials: Credentials, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A named file that is missing is an error, not a silent fall back to the credential or
    to SQLite: the operator meant that file."""
    seal(credentials, DATABASE_URL_CREDENTIAL, "postgres://u:credential-pw@db/solidarity")
    monkeypatch.setenv("DATABASE_URL_FILE", str(tmp_path / "missing"))
    with pytest.raises(RuntimeError) as refused:
        secret_setting("DATABASE_URL", DATABASE_URL_CREDENTIAL)
    assert str(refused.value) == (
        f"DATABASE_URL_FILE: cannot read {tmp_path / 'missing'}: No such file or directory"
    )


@dataclass
class Relay:
    """An SMTP relay on loopback that takes AUTH in the clear (loopback only) and keeps what
    each client logged in with."""

    port: int
    logins: list[tuple[str, str]]
    received: list[bytes]


@pytest.fixture
def relay() -> Iterator[Relay]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

    logins: list[tuple[str, str]] = []
    received: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
            received.append(envelope.original_content or b"")
            return "250 Message accepted for delivery"

    def authenticator(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: object
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=data.password == b"the relay's password")

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield Relay(port, logins, received)
    finally:
        controller.stop()


def test_a_server_started_with_sealed_database_url_and_mail_password_uses_them(
    tmp_path: Path, relay: Relay
) -> None:
    """In a process of its own, as systemd starts it: the database is the one the sealed
    DATABASE_URL names (not the data directory's), and the mail relay is logged in to with the
    sealed password."""
    database = tmp_path / "elsewhere" / "sealed.sqlite3"
    database.parent.mkdir()
    laid = lay_out(
        tmp_path.with_name(f"{tmp_path.name}-credentials"),
        others={
            DATABASE_URL_CREDENTIAL: f"sqlite:///{database}\n",
            EMAIL_PASSWORD_CREDENTIAL: "the relay's password\n",
        },
    )
    try:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("SOLIDARITY_", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"))
        }
        env |= {
            "CREDENTIALS_DIRECTORY": str(laid.directory),
            "SOLIDARITY_DATA_DIR": str(tmp_path / "data"),
            "SOLIDARITY_EMAIL_HOST": "127.0.0.1",
            "SOLIDARITY_EMAIL_PORT": str(relay.port),
            "SOLIDARITY_EMAIL_USER": "solidarity",
        }
        probe = (
            "from django.core.mail import send_mail\n"
            "from django.db import connection\n"
            "with connection.cursor() as c:\n"
            "    c.execute('CREATE TABLE probe (x)')\n"
            "print(connection.settings_dict['NAME'])\n"
            "print(send_mail('Probe', 'body', 'a@example.org', ['b@example.org']))"
        )
        shell = [sys.executable, "-m", "solidarity", "shell", "--no-imports", "-c", probe]
        ran = subprocess.run(shell, env=env, capture_output=True, text=True, timeout=120)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.splitlines() == [str(database), "1"]
        assert database.exists() and not (tmp_path / "data" / "solidarity.sqlite3").exists()
        assert relay.logins == [("solidarity", "the relay's password")]
        assert len(relay.received) == 1
    finally:
        laid.directory.chmod(0o700)


# -- The deploy checks -------------------------------------------------------------------------


def ours() -> set[str]:
    messages = run_checks(tags=[Tags.security], include_deployment_checks=True)
    return {m.id for m in messages if m.id and m.id.startswith("accounts.")}


def acl(*entries: tuple[int, int, int]) -> bytes:
    """A POSIX access ACL as Linux stores it (linux/posix_acl_xattr.h)."""
    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *entry) for entry in entries)


USER_OBJ, USER, GROUP_OBJ, MASK, OTHER, ANYONE = 0x01, 0x02, 0x04, 0x10, 0x20, 0xFFFFFFFF


def grant_read(path: Path, uid: int) -> None:
    """What systemd does when it runs as root and the service as another user: an ACL entry
    for that user. The mode then shows the ACL's mask in the group bits (0440)."""
    entries = (
        (USER_OBJ, 4, ANYONE),
        (USER, 4, uid),
        (GROUP_OBJ, 0, ANYONE),
        (MASK, 4, ANYONE),
        (OTHER, 0, ANYONE),
    )
    path.chmod(0o600)
    try:
        os.setxattr(path, "system.posix_acl_access", acl(*entries))
    except OSError as error:
        pytest.skip(f"no POSIX ACLs on this file system: {error}")
    path.chmod(0o440)  # the mask: r for the named user, still nothing for the owning group


def test_the_credentials_pass_the_location_and_mode_checks(
    credentials: Credentials, settings: Settings
) -> None:
    """0400 in the credentials directory: neither E009/E010 (keyring) nor E017 (secret key)."""
    settings.SOLIDARITY_SECRET_KEY_FILE = credentials.secret_key
    settings.SOLIDARITY_SECRET_KEY_FALLBACKS_FILE = credentials.directory / "none"
    assert ours().isdisjoint({"accounts.E009", "accounts.E010", "accounts.E017"})


def test_a_credential_readable_by_the_service_user_through_an_acl_passes(
    credentials: Credentials, settings: Settings
) -> None:
    settings.SOLIDARITY_SECRET_KEY_FILE = credentials.secret_key
    settings.SOLIDARITY_SECRET_KEY_FALLBACKS_FILE = credentials.directory / "none"
    credentials.directory.chmod(0o700)
    for path in (credentials.secret_key, credentials.keyring):
        grant_read(path, os.geteuid())
    assert ours().isdisjoint({"accounts.E010", "accounts.E017"})
    # An ACL that lets another user read is what the mode says: readable by others.
    for path in (credentials.secret_key, credentials.keyring):
        grant_read(path, os.geteuid() + 4242)
    assert {"accounts.E010", "accounts.E017"} <= ours()


def test_group_bits_without_an_acl_or_outside_the_directory_are_still_refused(
    credentials: Credentials, settings: Settings, tmp_path: Path
) -> None:
    settings.SOLIDARITY_SECRET_KEY_FILE = credentials.secret_key
    settings.SOLIDARITY_SECRET_KEY_FALLBACKS_FILE = credentials.directory / "none"
    credentials.secret_key.chmod(0o440)
    assert "accounts.E017" in ours()
    elsewhere = tmp_path / "tmpfs" / "secret_key"
    elsewhere.parent.mkdir()
    elsewhere.write_text(secrets.token_urlsafe(50))
    grant_read(elsewhere, os.geteuid())
    settings.SOLIDARITY_SECRET_KEY_FILE = elsewhere
    assert "accounts.E017" in ours()


def test_cryptoperiods_of_credentials(credentials: Credentials, settings: Settings) -> None:
    """systemd writes a credential afresh at each start, so its file's date says nothing: the
    secret key's age is not judged from it, the keyring's recorded dates still count."""
    settings.SOLIDARITY_SECRET_KEY_FILE = credentials.secret_key
    old = time.time() - 800 * 24 * 3600
    os.utime(credentials.secret_key, (old, old))
    assert "accounts.W007" not in ours()
    credentials.directory.chmod(0o700)
    credentials.keyring.chmod(0o600)
    made = timezone.now() - timedelta(days=500)
    write_keyring(credentials.keyring, "kc", {"kc": bytes(32)}, bytes(32), {"kc": made})
    assert "accounts.W008" in ours()
    write_keyring(credentials.keyring, "kc", {"kc": bytes(32)}, bytes(32))
    os.utime(credentials.keyring, (old, old))
    assert "accounts.W008" not in ours()


# -- Rotation refused, with the way by hand ----------------------------------------------------


def test_rotate_secret_key_refuses_a_credential(
    credentials: Credentials, settings: Settings
) -> None:
    settings.SOLIDARITY_SECRET_KEY_FILE = credentials.secret_key
    settings.SOLIDARITY_SECRET_KEY_FALLBACKS_FILE = credentials.directory / "x.fallbacks"
    credentials.directory.chmod(0o700)  # writable, even: the refusal must not rely on that
    before = contents(credentials.secret_key)
    with pytest.raises(CommandError) as refused:
        call_command("rotate_secret_key", stdout=io.StringIO())
    message = str(refused.value)
    assert f"systemd credential {credentials.secret_key}" in message
    assert "systemd-creds encrypt --name=solidarity-secret-key" in message
    assert "LoadCredentialEncrypted=solidarity-secret-key.fallbacks" in message
    assert contents(credentials.secret_key) == before
    assert sorted(p.name for p in credentials.directory.iterdir()) == sorted(
        [SECRET_KEY_CREDENTIAL, KEYRING_CREDENTIAL]
    )


def test_rotate_keys_refuses_a_credential_keyring(credentials: Credentials) -> None:
    credentials.directory.chmod(0o700)
    before = contents(credentials.keyring)
    with pytest.raises(CommandError) as refused:
        call_command("rotate-keys", stdout=io.StringIO())
    message = str(refused.value)
    assert f"systemd credential {credentials.keyring}" in message
    assert "systemd-creds decrypt" in message and "systemd-creds encrypt" in message
    assert contents(credentials.keyring) == before
    # Re-encrypting under the current key writes no keyring: allowed.
    call_command("rotate-keys", "--resume", stdout=io.StringIO())
    assert contents(credentials.keyring) == before


def test_keyring_init_and_import_refuse_a_credential_keyring(
    credentials: Credentials, keys: Path, tmp_path: Path
) -> None:
    before = contents(credentials.keyring)
    with pytest.raises(CommandError, match="systemd credential"):
        call_command("keyring", "init", stdout=io.StringIO())
    copy = tmp_path / "keyring.copy"
    export(copy, keys)  # reading the credential is fine
    with pytest.raises(CommandError, match="systemd-creds encrypt"):
        restore(copy, keys / "backup.key", "--replace")
    assert contents(credentials.keyring) == before


def test_a_credential_under_a_name_nothing_reads_is_named_by_check_deploy(
    credentials: Credentials,
) -> None:
    """A mistyped name in the unit would leave the secret unread and the server on a default
    (an empty SQLite database for the database URL), quietly: check --deploy says so
    (accounts.W011); the names it reads pass."""
    from solidarity.accounts.checks import check_credential_names

    assert check_credential_names() == []
    seal(credentials, DATABASE_URL_CREDENTIAL, "postgres://db.example/solidarity")
    assert check_credential_names() == []
    seal(credentials, "solidarity-database_url", "postgres://db.example/solidarity")
    found = check_credential_names()
    assert [m.id for m in found] == ["accounts.W011"]
    assert "solidarity-database_url" in found[0].msg
    assert "postgres://" not in found[0].msg + str(found[0].hint)
