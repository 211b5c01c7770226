"""Several app servers count each client together: with PostgreSQL the default cache is a table
in the database (solidarity/core/cache.py), with SQLite the process's memory, and the table
holds no pickle, no readable key and no expired row for long."""

from __future__ import annotations

import base64
import datetime as dt
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone
from pytest_django import Settings

from solidarity import settings as solidarity_settings
from solidarity.campaigns import throttle
from solidarity.core import cache as shared
from solidarity.core.cache import DatabaseCache, Entry

POSTGRES = {"ENGINE": "django.db.backends.postgresql"}
SQLITE = {"ENGINE": "django.db.backends.sqlite3"}
CLIENT = "203.0.113.7"


def _backend(database: dict[str, str], monkeypatch: pytest.MonkeyPatch, choice: str = "") -> str:
    monkeypatch.setattr(solidarity_settings, "DATABASES", {"default": database})
    monkeypatch.setenv("SOLIDARITY_CACHE", choice)
    backend: str = solidarity_settings._caches()["default"]["BACKEND"]
    return backend


def test_postgresql_shares_the_cache_and_sqlite_keeps_it_in_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _backend(POSTGRES, monkeypatch) == "solidarity.core.cache.DatabaseCache"
    assert _backend(SQLITE, monkeypatch).endswith("LocMemCache")
    assert _backend(POSTGRES, monkeypatch, "local").endswith("LocMemCache")
    assert _backend(SQLITE, monkeypatch, "database") == "solidarity.core.cache.DatabaseCache"
    with pytest.raises(ImproperlyConfigured, match="SOLIDARITY_CACHE must be local or database"):
        _backend(POSTGRES, monkeypatch, "redis")


@pytest.mark.skipif(bool(os.environ.get("SOLIDARITY_CACHE")), reason="a chosen cache")
def test_the_running_suite_uses_the_default_of_its_database(db: None) -> None:
    """`.ci/run` runs the whole suite on both: the database cache is what PostgreSQL exercises
    (in tests that use the database; conftest gives the others the in-memory cache)."""
    expected = DatabaseCache if connection.vendor == "postgresql" else LocMemCache
    assert isinstance(caches["default"], expected)
    assert settings.CACHES["default"]["OPTIONS"]["MAX_ENTRIES"] == 50_000


@pytest.fixture
def table_cache(db: None) -> DatabaseCache:
    """The database backend on whichever database the suite runs (the table is on both)."""
    return DatabaseCache(shared.TABLE, {"OPTIONS": {"MAX_ENTRIES": 5, "CULL_FREQUENCY": 3}})


def test_the_table_cache_adds_counts_and_expires(table_cache: DatabaseCache) -> None:
    assert table_cache.add("counter", 0, timeout=60)
    assert not table_cache.add("counter", 5, timeout=60)
    assert [table_cache.incr("counter") for _ in range(3)] == [1, 2, 3]
    table_cache.set("history", [1.5, 2.5], timeout=60)
    assert table_cache.get_many(["counter", "history", "missing"]) == {
        "counter": 3,
        "history": [1.5, 2.5],
    }
    with pytest.raises(ValueError, match="not found"):
        table_cache.incr("missing")
    Entry.objects.update(expires=timezone.now() - dt.timedelta(seconds=1))
    assert table_cache.get("counter") is None
    with pytest.raises(ValueError, match="not found"):
        table_cache.incr("history")
    assert table_cache.add("counter", 7, timeout=60)
    assert table_cache.get("counter") == 7


def test_keys_are_hashed_and_values_are_json(table_cache: DatabaseCache) -> None:
    """A database dump shows neither the key (here an address) nor a pickle."""
    table_cache.set(f"throttle:sign:{CLIENT}", 1, timeout=60)
    (row,) = Entry.objects.all()
    assert CLIENT not in row.cache_key and len(row.cache_key) == 64
    assert row.value == "1"
    with pytest.raises(TypeError):
        table_cache.set("object", object(), timeout=60)
    assert Entry.objects.count() == 1


def test_a_pickle_planted_in_the_table_is_never_unpickled(
    table_cache: DatabaseCache, tmp_path: Path
) -> None:
    """Whoever can write a row must not run code on the app servers, which hold the keyring."""
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (marker.touch, ())  # type: ignore[return-value]

    planted = base64.b64encode(pickle.dumps(Payload())).decode()
    Entry.objects.create(
        cache_key=table_cache.make_and_validate_key("planted"),
        value=planted,
        expires=timezone.now() + dt.timedelta(minutes=1),
    )
    with pytest.raises(ValueError):
        table_cache.get("planted")
    assert not marker.exists()


def test_expired_rows_are_swept_and_the_table_is_culled(
    table_cache: DatabaseCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(4):
        table_cache.set(f"old{n}", n, timeout=60)
    Entry.objects.update(expires=timezone.now() - dt.timedelta(seconds=1))
    monkeypatch.setattr(DatabaseCache, "_next_sweep", 0.0)
    table_cache.set("new", 1, timeout=60)
    assert Entry.objects.count() == 1
    # A minute has not passed: the next expired rows wait for the sweep or the cull.
    for n in range(10):
        table_cache.set(f"live{n}", n, timeout=60)
    assert Entry.objects.count() <= 6
    assert table_cache.get("live9") == 9


# -- Two processes on one PostgreSQL --------------------------------------------------------------

_SERVER = """
import sys
import time
from pathlib import Path

import django

django.setup()
from django.test import RequestFactory

from solidarity.campaigns import throttle

count, address, gate, name = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), sys.argv[4]
request = RequestFactory().post("/", REMOTE_ADDR=address)
throttle.allow(request, "warm-up")  # connected and imported: the race is on the counting
(gate.parent / name).touch()
while not gate.exists():
    time.sleep(0.005)
print("".join("y" if throttle.allow(request, "sign") else "n" for _ in range(count)))
"""
# Years long, so that no test straddles two windows.
WINDOW = 100_000_000


def _servers(tmp_path: Path, limit: int, *runs: tuple[int, str]) -> list[str]:
    """Run one process per run (submissions, address), as app servers each with their own
    connection, all counting at once once every one is ready; return what each was answered
    (y accepted, n refused)."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "solidarity.settings",
        "DATABASE_URL": url,
        "SOLIDARITY_CACHE": "database",
        "SOLIDARITY_SECRET_KEY": settings.SECRET_KEY,
        "SOLIDARITY_DATA_DIR": str(tmp_path),
        "SOLIDARITY_FORM_RATE": f"{limit}/{WINDOW}",
    }
    gate = tmp_path / "go"
    gate.unlink(missing_ok=True)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _SERVER, str(count), address, str(gate), f"ready{n}"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n, (count, address) in enumerate(runs)
    ]
    try:
        deadline = time.monotonic() + 120
        while not all((tmp_path / f"ready{n}").exists() for n in range(len(runs))):
            assert time.monotonic() < deadline and all(p.poll() is None for p in processes)
            time.sleep(0.01)
        gate.touch()
        outputs = [process.communicate(timeout=120)[0].strip() for process in processes]
    finally:
        for process in processes:
            process.kill()
    assert [process.returncode for process in processes] == [0] * len(processes)
    for n in range(len(runs)):
        (tmp_path / f"ready{n}").unlink()
    return outputs


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="one embedded SQLite server has one process"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_second_server_refuses_the_client_the_first_used_up(tmp_path: Path) -> None:
    assert _servers(tmp_path, 10, (10, CLIENT)) == ["y" * 10]
    assert _servers(tmp_path, 10, (2, CLIENT), (1, "198.51.100.9")) == ["nn", "y"]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_servers_counting_at_once_allow_exactly_the_limit(tmp_path: Path) -> None:
    """Atomic incr: two servers send 150 submissions each at the same moment; exactly 200 get
    through. (Django's own incr, which reads and then writes, let all 300 through in three runs
    out of three.)"""
    answers = _servers(tmp_path, 200, (150, CLIENT), (150, CLIENT))
    assert sum(answer.count("y") for answer in answers) == 200


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_another_server_refuses_the_client_this_one_used_up(
    tmp_path: Path, settings: Settings
) -> None:
    """This process's default cache (the suite's own) and another process count together."""
    settings.SOLIDARITY_FORM_RATE = f"10/{WINDOW}"
    request = RequestFactory().post("/", REMOTE_ADDR=CLIENT)
    assert [throttle.allow(request, "sign") for _ in range(11)] == [True] * 10 + [False]
    assert _servers(tmp_path, 10, (1, CLIENT)) == ["n"]
