"""Shared fixtures. Tests run through real interfaces on a real database (SQLite by default,
PostgreSQL when DATABASE_URL is set)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.cache import cache, caches
from django.core.cache.backends.db import BaseDatabaseCache
from django.db import connection
from django.http import HttpRequest
from django.test import Client, override_settings
from django.utils import translation
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice
from pytest_django import DjangoDbBlocker, Settings

from solidarity.accounts.sessions import stamp_reauth
from solidarity.core.models import Section
from solidarity.documentation.models import Source


@pytest.fixture(autouse=True)
def _cheap_password_hashing(settings: Settings) -> None:
    """Argon2 with Django's parameters costs about half a second a hash on CI's two cores, and
    most tests create users. Tests of hashing itself set PRODUCTION_HASHERS back."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


PRODUCTION_HASHERS = list(django_settings.PASSWORD_HASHERS)


_DATABASE_NAME = django_settings.DATABASES["default"]["NAME"]
_DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "live_server"}
_IN_MEMORY = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture(autouse=True)
def _fresh_rate_limits(
    request: pytest.FixtureRequest, django_db_blocker: DjangoDbBlocker
) -> Iterator[None]:
    """Rate-limit counters (public forms, search, API) live in the cache, which outlives each
    test's database transaction: without this, the requests of earlier tests, all from
    127.0.0.1, would count against later ones and a random order could trip a limit.

    With the database cache (PostgreSQL's default) they are rows of the test database, cleared
    for every test once that database exists (before, it is new and holds none). A test that
    does not use the database cannot reach that table: it counts in memory, as with SQLite."""
    if not isinstance(caches["default"], BaseDatabaseCache):
        cache.clear()
        yield
        return
    marked = request.node.get_closest_marker("django_db") is not None
    if not marked and _DATABASE_FIXTURES.isdisjoint(request.fixturenames):
        with override_settings(CACHES=_IN_MEMORY):
            yield
        return
    if connection.settings_dict["NAME"] != _DATABASE_NAME:
        with django_db_blocker.unblock():
            cache.clear()
    yield


@pytest.fixture(autouse=True)
def _no_wait_on_public_forms(settings: Settings) -> None:
    """Tests post the public forms at once, most of them without the page's stamp: the minimum
    (campaigns/human_timing.py) is 0 here, which lets a missing stamp through but still refuses
    a forged one. tests/test_campaigns_human_timing.py sets the real minimum back."""
    settings.SOLIDARITY_FORM_MIN_SECONDS = 0


@pytest.fixture(scope="session")
def _test_mail_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mail")


@pytest.fixture(autouse=True)
def _mail_files_apart(settings: Settings, _test_mail_directory: Path) -> None:
    """The retention purge deletes old mail files from EMAIL_FILE_PATH (core/retention.py): in
    tests that is a directory of the test run's own, never the developer's var/mail/."""
    settings.EMAIL_FILE_PATH = _test_mail_directory


def verified_login(client: Client, user: User) -> Client:
    """Log `user` in on `client` with a verified second factor, as the back office demands.

    The login form itself is tested in tests/test_accounts_*.py; other tests only need a
    session that has passed it. The device is a backup-code device with no codes left.
    """
    client.force_login(user)
    device, _ = StaticDevice.objects.get_or_create(user=user, name="Test device")
    request = HttpRequest()
    request.session = client.session
    request.user = user
    otp_login(request, device)
    request.session.save()
    return client


def recently_authenticated(client: Client) -> Client:
    """As if the user had just typed their password and a code again (the re-authentication
    page), which exports and sealed reads demand."""
    session = client.session
    stamp_reauth(session)
    session.save()
    return client


@pytest.fixture
def staff_client(db: None, client: Client) -> Client:
    """A client logged in to the back office as a superuser, second factor verified."""
    user = User.objects.create_superuser("staff", "staff@example.org", "a long test passphrase")
    return verified_login(client, user)


@pytest.fixture
def section(db: None) -> Section:
    return Section.objects.create(slug="home", name_en="Home organisation", kind="home")


@pytest.fixture
def public_source(section: Section) -> Source:
    return Source.objects.create(
        section=section,
        is_public=True,
        slug="cwi-2002",
        title="Kazakhstan - CWI section established",
        publisher="Committee for a Workers' International",
        published="2002-05-23",
        accessed="2012-03-05",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests need Debian's Chromium; skip them without it, except in CI where they
    must run (a skipped safety or browser test in CI would be a silent hole)."""
    if Path("/usr/bin/chromium").exists() or os.environ.get("CI") == "true":
        return
    skip = pytest.mark.skip(reason="needs /usr/bin/chromium (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _no_language_left_over() -> Iterator[None]:
    """Each test starts and ends in the default language: a test that requested a /kk/ page
    must not leave Kazakh active for the next one in the same worker."""
    translation.deactivate()
    yield
    translation.deactivate()


def ensure_pace_criteria() -> None:
    """Put back the PACE 1900 criteria that migration 0002 adds.

    A transactional test flushes every table when it ends, rows added by data migrations
    included; a test that runs after one in the same worker must not depend on the order."""
    from importlib import import_module

    from solidarity.documentation.models import PaceCriterion

    migration = import_module("solidarity.documentation.migrations.0002_pace_criteria")
    for code, label_en, label_ru in migration.CRITERIA:
        PaceCriterion.objects.get_or_create(
            code=code, defaults={"label_en": label_en, "label_ru": label_ru}
        )
