"""The embedded SQLite database is configured for durability, as the settings promise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

PROBE = (
    "from django.db import connection\n"
    "with connection.cursor() as c:\n"
    "    for pragma in ('journal_mode', 'synchronous', 'foreign_keys', 'secure_delete'):\n"
    "        c.execute('PRAGMA ' + pragma)\n"
    "        print(pragma, c.fetchone()[0])\n"
)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite settings only")
def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    """A fresh file database is in WAL mode, syncs every commit, and enforces foreign keys."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["SOLIDARITY_DATA_DIR"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, "-m", "solidarity", "shell", "-c", PROBE],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "journal_mode wal" in out
    assert "synchronous 2" in out  # 2 = FULL
    assert "foreign_keys 1" in out
    assert "secure_delete 1" in out
    assert (tmp_path / "solidarity.sqlite3").exists()
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
