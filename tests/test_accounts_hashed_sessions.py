"""The database holds only SHA-256 of each session key (threat model M9): whoever reads a dump
or a backup finds no key to paste into a cookie, while the cookie's key keeps working."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib

from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import Settings

from solidarity.accounts.models import HashedSession
from solidarity.core import retention
from solidarity.core.models import Section
from tests.conftest import recently_authenticated, verified_login
from tests.test_accounts_login import (
    PASSWORD,
    add_authenticator,
    code_for,
    log_in,
    make_staff,
    sent_to_login,
)
from tests.test_safety_sealed import coordinator


def sha256(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _logged_in() -> tuple[Client, str]:
    """A staff user logged in through both login pages; the client and its cookie's key."""
    user = make_staff()
    client = Client()
    log_in(client, user, add_authenticator(user))
    return client, client.cookies[django_settings.SESSION_COOKIE_NAME].value


def _every_value_in_the_database() -> str:
    """Every row of every table, as text: what a dump of the database would show."""
    dump = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608  names from introspection
            dump.append(repr(cursor.fetchall()))
    return "\n".join(dump)


def test_after_a_login_the_database_holds_the_hash_of_the_key_and_never_the_key(
    db: None,
) -> None:
    """The cookie's key appears in no table (Django's old session table stays empty); its
    SHA-256 is the one row of the session store."""
    _client, key = _logged_in()

    assert len(key) == 32
    assert key not in _every_value_in_the_database()
    assert list(HashedSession.objects.values_list("session_key", flat=True)) == [sha256(key)]
    assert not Session.objects.exists()


def test_the_session_works_across_requests_with_the_same_cookie(db: None) -> None:
    """The raw key in the cookie finds its hashed row on every request; nothing is re-created."""
    client, key = _logged_in()

    for _ in range(3):
        assert client.get("/admin/").status_code == 200
    assert client.cookies[django_settings.SESSION_COOKIE_NAME].value == key
    assert HashedSession.objects.get().session_key == sha256(key)


def test_a_stored_hash_used_as_a_cookie_opens_nothing(db: None) -> None:
    """A reader of the dump who pastes the stored value into a cookie gets the login page: it
    is hashed again and matches no row."""
    _logged_in()
    (stored,) = HashedSession.objects.values_list("session_key", flat=True)

    forger = Client()
    forger.cookies[django_settings.SESSION_COOKIE_NAME] = stored
    assert sent_to_login(forger, "/admin/")
    assert HashedSession.objects.filter(session_key=sha256(stored)).count() == 0


def test_reauthentication_moves_the_session_to_a_new_hashed_key(db: None) -> None:
    """cycle_key at re-authentication deletes the old key's row and keeps the login."""
    user = make_staff()
    device = add_authenticator(user)
    client = Client()
    log_in(client, user, device)
    old = client.cookies[django_settings.SESSION_COOKIE_NAME].value

    done = client.post(
        "/accounts/reauth/", {"password": PASSWORD, "code": code_for(device, 1), "next": "/admin/"}
    )

    assert done.status_code == 302
    new = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert new != old
    assert set(HashedSession.objects.values_list("session_key", flat=True)) == {sha256(new)}
    assert client.get("/admin/").status_code == 200
    replay = Client()
    replay.cookies[django_settings.SESSION_COOKIE_NAME] = old
    assert sent_to_login(replay, "/admin/")


def test_unlocking_the_private_key_moves_the_session_to_a_new_hashed_key(
    client: Client, section: Section, settings: Settings
) -> None:
    """Unlocking sealed data is a re-authentication too: a new key, the old row gone."""
    settings.SOLIDARITY_KDF = "interactive"  # Argon2id at its cheap cost, as test_safety_sealed
    verified_login(client, coordinator("alia", section))
    recently_authenticated(client)
    old = client.cookies[django_settings.SESSION_COOKIE_NAME].value

    client.post(reverse("safety:unlock"), {"password": "alia long passphrase"})

    new = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert new != old
    assert set(HashedSession.objects.values_list("session_key", flat=True)) == {sha256(new)}


def test_logout_deletes_the_row(db: None) -> None:
    client, key = _logged_in()
    assert HashedSession.objects.filter(session_key=sha256(key)).exists()

    client.post("/accounts/logout/")

    assert not HashedSession.objects.filter(session_key=sha256(key)).exists()


def test_an_expired_session_is_deleted_by_the_retention_job_and_clearsessions(db: None) -> None:
    """Expiry is read from the hashed table: the purge and Django's clearsessions both find it,
    and a live session is left alone."""
    _, expired = _logged_in()
    other = make_staff("bea")
    client = Client()
    log_in(client, other, add_authenticator(other))
    live = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    past = timezone.now() - dt.timedelta(minutes=5)
    HashedSession.objects.filter(session_key=sha256(expired)).update(expire_date=past)

    purged = {p.rule.name: p.rows for p in retention.purge()}

    assert purged["expired_sessions"] == 1
    assert set(HashedSession.objects.values_list("session_key", flat=True)) == {sha256(live)}
    HashedSession.objects.update(expire_date=past)
    call_command("clearsessions")
    assert not HashedSession.objects.exists()


def test_the_upgrade_empties_djangos_session_table(db: None) -> None:
    """The migration deletes the raw keys Django's backend left behind (users log in again)."""
    future = timezone.now() + dt.timedelta(hours=1)
    Session.objects.create(session_key="r" * 32, session_data="x", expire_date=future)
    migration = importlib.import_module("solidarity.accounts.migrations.0007_hashed_sessions")

    migration.empty_django_sessions(apps, None)  # it needs no schema editor

    assert not Session.objects.exists()
