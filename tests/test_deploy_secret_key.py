"""`check --deploy` treats SECRET_KEY like the keyring (accounts.E017): a key file copied with
the data, or readable by other users of the host, is refused; a key from the environment, or
from a file of mode 0600 apart from the data, passes. Plain `check` (the demo) says nothing."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from django.core.checks import Tags, run_checks
from pytest_django import Settings

from tests.test_deploy_checks import OVERRIDES_DATABASES, _ours, check, production_env

SECRET_KEY_CHECK = "accounts.E017"
# Other deploy checks read the database (the demo's account), so every in-process test has it.
pytestmark = pytest.mark.usefixtures("db")


def key_file(path: Path, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(secrets.token_urlsafe(50))
    path.chmod(mode)
    return path


@pytest.mark.parametrize("place", ["DATA_DIR", "MEDIA_ROOT", "STATIC_ROOT"])
def test_a_key_file_copied_with_the_data_is_refused(
    settings: Settings, tmp_path: Path, place: str
) -> None:
    """Inside the data directory (the default), the media or the static files, the key would
    travel with every copy of the data."""
    setattr(settings, place, tmp_path / place.lower())
    settings.SOLIDARITY_SECRET_KEY_FILE = key_file(tmp_path / place.lower() / "secret_key")
    assert SECRET_KEY_CHECK in _ours()


@OVERRIDES_DATABASES
def test_a_key_file_beside_the_sqlite_database_is_refused(
    settings: Settings, tmp_path: Path
) -> None:
    """Beside the SQLite file it is in every disk image of the database's volume."""
    database = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "db" / "x.db")}
    settings.DATABASES = {**settings.DATABASES, "extra": database}
    settings.SOLIDARITY_SECRET_KEY_FILE = key_file(tmp_path / "db" / "secret_key")
    assert SECRET_KEY_CHECK in _ours()


def test_a_key_file_apart_from_the_data_passes_only_with_mode_0600(
    settings: Settings, tmp_path: Path
) -> None:
    """On a tmpfs of its own: silent at mode 0600, refused when group or others may read."""
    path = key_file(tmp_path / "tmpfs" / "secret_key", mode=0o640)
    settings.SOLIDARITY_SECRET_KEY_FILE = path
    assert SECRET_KEY_CHECK in _ours()
    path.chmod(0o600)
    assert SECRET_KEY_CHECK not in _ours()


def test_a_key_from_the_environment_passes(settings: Settings) -> None:
    """SOLIDARITY_SECRET_KEY leaves no file behind to be copied."""
    settings.SOLIDARITY_SECRET_KEY_FILE = None
    assert SECRET_KEY_CHECK not in _ours()


def test_the_check_is_for_deployments_only(settings: Settings, tmp_path: Path) -> None:
    """The demo keeps its key in var/ beside its database; `runserver` and plain `check` do not
    complain about it."""
    settings.DATA_DIR = tmp_path
    settings.SOLIDARITY_SECRET_KEY_FILE = key_file(tmp_path / "secret_key")
    messages = run_checks(tags=[Tags.security], include_deployment_checks=False)
    assert SECRET_KEY_CHECK not in {m.id for m in messages}


def test_the_default_key_file_fails_the_deploy_check(tmp_path: Path) -> None:
    """Through the command line: production settings without SOLIDARITY_SECRET_KEY generate the
    key into the data directory, and `check --deploy` refuses it, naming the way out."""
    env = production_env(tmp_path)
    del env["SOLIDARITY_SECRET_KEY"]

    result = check(env)

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert SECRET_KEY_CHECK in output and "SOLIDARITY_SECRET_KEY_FILE" in output
    assert (tmp_path / "secret_key").exists()


def test_a_key_file_on_its_own_tmpfs_passes_the_deploy_check(tmp_path: Path) -> None:
    """Through the command line: the key named by SOLIDARITY_SECRET_KEY_FILE, mode 0600, apart
    from the data: no issue at all."""
    data = tmp_path / "data"
    data.mkdir()
    secret = key_file(tmp_path / "tmpfs" / "secret_key")
    env = production_env(data, SOLIDARITY_SECRET_KEY_FILE=str(secret))
    del env["SOLIDARITY_SECRET_KEY"]

    result = check(env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert not (data / "secret_key").exists()
