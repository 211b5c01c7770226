"""`solidarity check --deploy` passes with the production settings, and each of our own checks
(solidarity/accounts/checks.py) fires on the bad setting it guards against."""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.checks import Tags, run_checks
from pytest_django import Settings

from solidarity.accounts.checks import CSP_MIDDLEWARE, OTP_MIDDLEWARE
from solidarity.core.models import Section
from solidarity.documentation.models import Person
from solidarity.safety.crypto import write_keyring

# The demo-account check (accounts.E013) reads the users table.
pytestmark = pytest.mark.django_db

# The checks read settings.DATABASES only; no connection is opened to the added alias.
OVERRIDES_DATABASES = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")


def production_env(data_dir: Path, **extra: str) -> dict[str, str]:
    # The keyring lives apart from the data, as on a tmpfs in production (it need not exist
    # while the database holds nothing encrypted).
    keyring = data_dir.with_name(f"{data_dir.name}-tmpfs") / "keyring.json"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SOLIDARITY_", "DATABASE_URL"))
    }
    return {
        **env,
        "SOLIDARITY_DATA_DIR": str(data_dir),
        "SOLIDARITY_HTTPS": "true",
        "SOLIDARITY_SECRET_KEY": secrets.token_urlsafe(50),
        "SOLIDARITY_ALLOWED_HOSTS": "solidarity.example.org,office.example.org",
        "SOLIDARITY_BACKOFFICE_HOSTS": "office.example.org",
        "SOLIDARITY_TRUSTED_PROXIES": "1",
        "SOLIDARITY_KEYRING_FILE": str(keyring),
        # Mail goes by SMTP (to a relay on this host: no TLS needed, accounts.E015); without
        # it, mail would be written to files in the data directory (accounts.E020).
        "SOLIDARITY_EMAIL_HOST": "localhost",
        # Passwords known from breaches are refused (accounts.W006 without the list).
        "SOLIDARITY_BREACHED_PASSWORDS": str(
            breached_list(data_dir.with_name(f"{data_dir.name}-pwned"))
        ),
        **extra,
    }


def breached_list(directory: Path) -> Path:
    """A small list of breached passwords in the format of Have I Been Pwned's file."""
    directory.mkdir(parents=True, exist_ok=True)
    digests = sorted(
        hashlib.sha1(p.encode(), usedforsecurity=False).hexdigest().upper() for p in ("a", "b", "c")
    )
    path = directory / "pwnedpasswords.txt"
    path.write_text("".join(f"{digest}:1\r\n" for digest in digests))
    return path


def check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "solidarity", "check", "--deploy", "--fail-level", "WARNING"]
    return subprocess.run([*command, *args], env=env, capture_output=True, text=True)


def test_the_production_settings_pass_every_deploy_check(tmp_path: Path) -> None:
    """HTTPS on, a strong secret, DEBUG off, real host names: not even a warning — and the live
    SQLite database is in WAL mode with synchronous=FULL."""
    result = check(production_env(tmp_path), "--database", "default")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_demo_settings_fail_the_deploy_checks(tmp_path: Path) -> None:
    """Without HTTPS and with DEBUG on and "*" as host, --deploy refuses, naming our checks."""
    env = production_env(
        tmp_path, SOLIDARITY_HTTPS="false", SOLIDARITY_DEBUG="true", SOLIDARITY_ALLOWED_HOSTS="*"
    )
    result = check(env)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for expected in ("accounts.E001", "accounts.E007", "security.W004", "security.W012"):
        assert expected in output


def _ours(**kwargs: Any) -> set[str]:
    messages = run_checks(
        tags=[Tags.security, Tags.database], include_deployment_checks=True, **kwargs
    )
    return {m.id for m in messages if m.id and m.id.startswith("accounts.")}


def test_a_client_address_header_satisfies_the_proxy_check(settings: Settings) -> None:
    """Behind a proxy, naming the header that carries the client's address is enough."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SOLIDARITY_TRUSTED_PROXIES = 0
    settings.SOLIDARITY_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    assert "accounts.W001" not in _ours()


@pytest.fixture
def keyring_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A keyring of mode 0600 outside everything that is copied with the data."""
    return place_keyring(tmp_path / "tmpfs" / "keyring.json", monkeypatch)


def place_keyring(path: Path, monkeypatch: pytest.MonkeyPatch, mode: int = 0o600) -> Path:
    write_keyring(path, "k1", {"k1": bytes(32)}, bytes(32))
    path.chmod(mode)
    monkeypatch.setenv("SOLIDARITY_KEYRING_FILE", str(path))
    return path


def test_the_test_settings_pass_our_checks(settings: Settings, keyring_apart: Path) -> None:
    """With production-like values our checks are all silent."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    settings.SECURE_PROXY_SSL_HEADER = None
    settings.DEBUG = False
    settings.SOLIDARITY_FORM_MIN_SECONDS = "3"  # tests post forms at once (conftest)
    settings.SOLIDARITY_SECRET_KEY_FILE = None  # from the environment, not var/secret_key
    settings.EMAIL_BACKEND = "solidarity.safety.mail.EmailBackend"  # not pytest's in-memory one
    settings.EMAIL_HOST = "localhost"
    settings.SOLIDARITY_BREACHED_PASSWORDS = str(breached_list(keyring_apart.parent))
    assert _ours() == set()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"ALLOWED_HOSTS": ["solidarity.example.org", "*"]}, "accounts.E001"),
        (
            {"PASSWORD_HASHERS": ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]},
            "accounts.E002",
        ),
        ({"CONTENT_SECURITY_POLICY": None}, "accounts.E003"),
        (
            {"CONTENT_SECURITY_POLICY": {"DIRECTIVES": {"default-src": ["'self'"]}}},
            "accounts.E005",
        ),
        ({"DEBUG": True}, "accounts.E007"),
        ({"SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https")}, "accounts.W001"),
        ({"SOLIDARITY_FORM_MIN_SECONDS": "0"}, "accounts.W003"),
    ],
    ids=[
        "star-host",
        "pbkdf2-first",
        "no-csp",
        "csp-missing-none",
        "debug",
        "proxy-count",
        "forms-at-once",
    ],
)
def test_each_check_fires_on_its_bad_setting(
    settings: Settings, change: dict[str, Any], expected: str
) -> None:
    """One bad value, one message with its own id."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    settings.SECURE_PROXY_SSL_HEADER = None
    settings.SOLIDARITY_CLIENT_IP_HEADER = ""
    settings.DEBUG = False
    for name, value in change.items():
        setattr(settings, name, value)
    assert expected in _ours()


def test_unsafe_inline_in_any_directive_is_refused(settings: Settings) -> None:
    """'unsafe-inline' (or 'unsafe-eval', or "*") anywhere in the policy is an error."""
    policy = dict(settings.CONTENT_SECURITY_POLICY)
    directives = dict(policy["DIRECTIVES"])
    directives["style-src"] = ["'self'", "'unsafe-inline'"]
    settings.CONTENT_SECURITY_POLICY = {**policy, "DIRECTIVES": directives}
    assert "accounts.E004" in _ours()


def test_the_csp_middleware_must_be_installed(settings: Settings) -> None:
    """A policy in the settings without the middleware sends nothing, and is reported."""
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != CSP_MIDDLEWARE]
    assert "accounts.E003" in _ours()


def test_the_admin_must_require_a_second_factor(settings: Settings) -> None:
    """Without django-otp's middleware the admin cannot tell a verified session: reported."""
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != OTP_MIDDLEWARE]
    assert "accounts.E008" in _ours()


@pytest.mark.parametrize(
    "init_command",
    [
        "PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL;",
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "",
    ],
)
@OVERRIDES_DATABASES
def test_sqlite_without_wal_and_full_sync_is_refused(
    settings: Settings, init_command: str, tmp_path: Path
) -> None:
    """SQLite must run in WAL mode with synchronous=FULL, or acknowledged writes can be lost."""
    database = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(tmp_path / "never-opened.sqlite3"),
        "OPTIONS": {"init_command": init_command},
    }
    settings.DATABASES = {**settings.DATABASES, "extra": database}
    assert "accounts.E006" in _ours()


@OVERRIDES_DATABASES
def test_an_unsupported_database_is_refused(settings: Settings) -> None:
    """Only SQLite and PostgreSQL have been checked for durability."""
    database = {"ENGINE": "django.db.backends.mysql", "NAME": "solidarity"}
    settings.DATABASES = {**settings.DATABASES, "extra": database}
    assert "accounts.E006" in _ours()


# -- The keyring ---------------------------------------------------------------------------------


@pytest.mark.parametrize("place", ["DATA_DIR", "MEDIA_ROOT", "STATIC_ROOT"])
def test_a_keyring_copied_with_the_data_is_refused(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, place: str
) -> None:
    """Inside the data directory, the media or the static files, the keyring would travel
    with every copy of the data it protects."""
    setattr(settings, place, tmp_path / place.lower())
    place_keyring(tmp_path / place.lower() / "sub" / "keyring.json", monkeypatch)
    assert "accounts.E009" in _ours()


@OVERRIDES_DATABASES
def test_a_keyring_beside_the_sqlite_database_is_refused(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beside the SQLite file it is on the database's own volume, in every disk image of it."""
    database = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "db" / "x.db")}
    settings.DATABASES = {**settings.DATABASES, "extra": database}
    place_keyring(tmp_path / "db" / "keyring.json", monkeypatch)
    assert "accounts.E009" in _ours()


def test_a_keyring_others_can_read_is_refused(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Group- or world-readable, any other account on the host reads every key."""
    place_keyring(tmp_path / "tmpfs" / "keyring.json", monkeypatch, mode=0o640)
    assert "accounts.E010" in _ours()
    place_keyring(tmp_path / "tmpfs" / "keyring.json", monkeypatch, mode=0o600)
    assert "accounts.E010" not in _ours()


def test_a_missing_keyring_is_refused_once_encrypted_values_exist(
    section: Section, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Missing on a fresh database is fine; missing while contacts are encrypted under it is
    an error, since nothing of them could be read."""
    keyring = place_keyring(tmp_path / "tmpfs" / "keyring.json", monkeypatch)
    Person.objects.create(
        section=section, slug="p", given_name="A", family_name="B", contact="+7 701 000 0000"
    )
    assert "accounts.E011" not in _ours()
    keyring.unlink()
    assert "accounts.E011" in _ours()
    Person.objects.all().delete()
    assert "accounts.E011" not in _ours()


def test_the_deploy_check_refuses_a_keyring_in_the_data_directory(tmp_path: Path) -> None:
    """Through the command line: production settings with the keyring in the data directory
    fail `solidarity check --deploy`."""
    keyring = tmp_path / "keyring.json"
    write_keyring(keyring, "k1", {"k1": bytes(32)}, bytes(32))
    result = check(production_env(tmp_path, SOLIDARITY_KEYRING_FILE=str(keyring)))
    assert result.returncode != 0
    assert "accounts.E009" in result.stdout + result.stderr
