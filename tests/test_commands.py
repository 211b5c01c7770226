"""The command line: `solidarity demo` sets everything up once and is harmless to repeat,
`solidarity load_case` loads any case file, and `solidarity serve` really serves, on loopback
unless told otherwise."""

from __future__ import annotations

import os
import secrets
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from pytest_django import Settings

from solidarity.documentation.models import Person, Source
from tests.test_seed import database_snapshot


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_demo_prints_the_login_and_a_second_run_changes_nothing(
    db: None, settings: Settings, tmp_path: Path
) -> None:
    """The first run loads the case and creates the admin with a random password kept in a
    0600 file; the second prints the same login and leaves every row as it was."""
    settings.DATA_DIR = tmp_path
    first = run("demo", "--no-input")
    password_file = tmp_path / "demo-admin-password"
    password = password_file.read_text(encoding="utf-8").strip()
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert len(password) >= 20
    assert "http://127.0.0.1:8000/admin/" in first
    assert "User:      admin" in first
    assert f"Password:  {password}" in first
    assert "solidarity serve" in first
    admin = get_user_model()._default_manager.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert check_password(password, admin.password)
    assert Person.objects.filter(slug="takhir-mukhamedzyanov").exists()

    before = database_snapshot()
    second = run("demo", "--no-input")
    assert database_snapshot() == before
    assert f"Password:  {password}" in second
    assert "0 created, 0 updated" in second
    assert password_file.read_text(encoding="utf-8").strip() == password


def test_demo_never_resets_an_existing_admin_password(
    db: None, settings: Settings, tmp_path: Path
) -> None:
    """An admin made by someone else keeps their password; the demo says it does not know it."""
    settings.DATA_DIR = tmp_path
    users = get_user_model()._default_manager
    users.create_superuser(username="admin", email="", password="chosen-by-a-human-77")
    output = run("demo", "--no-input")
    admin = users.get(username="admin")
    assert check_password("chosen-by-a-human-77", admin.password)
    assert "not known to the demo" in output
    assert "solidarity changepassword admin" in output
    assert not (tmp_path / "demo-admin-password").exists()


def test_load_case_loads_a_file_and_reports_errors(db: None, tmp_path: Path) -> None:
    """A valid file is loaded and counted; a broken one stops the command with its location."""
    case = tmp_path / "small.yaml"
    case.write_text(
        "version: 1\n"
        "sections:\n"
        "  - {slug: home, name: {en: Home}, kind: home}\n"
        "sources:\n"
        "  - {slug: leaflet, section: home, title: A leaflet, published: '2012-06'}\n",
        encoding="utf-8",
    )
    assert "2 created, 0 updated, 0 unchanged" in run("load_case", str(case))
    assert Source.objects.get(slug="leaflet").title == "A leaflet"

    case.write_text(case.read_text(encoding="utf-8").replace("'2012-06'", "June-ish"))
    with pytest.raises(CommandError, match=r"small\.yaml: sources\[leaflet\]\.published: "):
        run("load_case", str(case))


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.org"])  # noqa: S104 - the refusal is under test
def test_serve_refuses_a_network_address_without_public(host: str) -> None:
    """Listening where other machines can connect needs --public."""
    with pytest.raises(CommandError, match="--public"):
        run("serve", "--host", host)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _get(url: str, deadline: float, server: subprocess.Popen[str]) -> int:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own http URL
                status: int = response.status
                return status
        except (urllib.error.URLError, ConnectionError):
            if server.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_serve_answers_http_on_loopback(tmp_path: Path) -> None:
    """`solidarity serve` in its own process, on a migrated SQLite database, returns the admin
    login page and its stylesheet."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "SOLIDARITY_DATA_DIR": str(tmp_path),
        # Given, so that the two processes below do not race to create one in the data dir.
        "SOLIDARITY_SECRET_KEY": secrets.token_urlsafe(50),
        "PYTHONUNBUFFERED": "1",
    }
    solidarity = [sys.executable, "-m", "solidarity"]
    port = _free_port()
    # The server touches the database only when a request comes, so it starts while the
    # database is migrated; no request is made before the migration has finished.
    server = subprocess.Popen(
        [*solidarity, "serve", "--port", str(port), "--threads", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    migrate = [*solidarity, "migrate", "--no-input", "-v", "0"]
    base = f"http://127.0.0.1:{port}"
    try:
        subprocess.run(migrate, env=env, check=True)
        assert _get(f"{base}/admin/login/", time.monotonic() + 30, server) == 200
        assert _get(f"{base}/static/admin/css/base.css", time.monotonic() + 5, server) == 200
    finally:
        server.terminate()
        out, err = server.communicate(timeout=10)
    assert f"Solidarity is running at {base}/" in out, err
