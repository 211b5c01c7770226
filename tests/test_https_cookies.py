"""Cookies under HTTPS (ASVS 3.3.1 to 3.3.4): every cookie the site sets on the way through login,
the language switch, unlocking sealed data, locking and logout is `__Host-` prefixed, Secure,
HttpOnly, SameSite (Strict for the unlock window), Path=/ and without Domain. The demo on
plain http keeps Django's names, which browsers accept without Secure.

Settings are read at import, so the HTTPS values come from `solidarity.settings` loaded in a
child process with SOLIDARITY_HTTPS on; the walk then runs in this process with exactly those
values, behind a reverse proxy that says X-Forwarded-Proto: https, as in production.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import Settings

from solidarity.core.models import Section
from solidarity.safety.keys import setup_user_key
from solidarity.safety.models import Role
from tests.conftest import recently_authenticated
from tests.test_accounts_login import PASSWORD, add_authenticator, log_in, make_staff

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

# Every setting of cookies, of the HTTPS redirect and of how HTTPS is detected behind the proxy.
_READ_SETTINGS = """
import json
from django.conf import settings
names = [n for n in dir(settings) if n.isupper() and (
    "COOKIE" in n or n.startswith("SECURE_") or n in ("HTTPS", "MESSAGE_STORAGE"))]
print(json.dumps({n: getattr(settings, n) for n in names}))
"""


def production_settings(tmp_path: Path, https: bool) -> dict[str, Any]:
    """`solidarity.settings`' cookie and HTTPS settings, as a server started with
    SOLIDARITY_HTTPS on (or off) has them."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "solidarity.settings",
        "SOLIDARITY_HTTPS": "true" if https else "false",
        "SOLIDARITY_DATA_DIR": str(tmp_path),
        "SOLIDARITY_SECRET_KEY": "x" * 60,
        "SOLIDARITY_ALLOWED_HOSTS": "solidarity.example.org",
    }
    result = subprocess.run(
        [sys.executable, "-c", _READ_SETTINGS], env=env, capture_output=True, text=True, check=True
    )
    values: dict[str, Any] = json.loads(result.stdout)
    if values.get("SECURE_PROXY_SSL_HEADER"):
        values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return values


@pytest.fixture(scope="session")
def https_values(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return production_settings(tmp_path_factory.mktemp("https"), https=True)


@pytest.fixture
def https_settings(settings: Settings, https_values: dict[str, Any]) -> Settings:
    """This process's settings as under SOLIDARITY_HTTPS (clients made afterwards see them)."""
    for name, value in https_values.items():
        setattr(settings, name, value)
    return settings


class RecordingClient(Client):
    """A test client behind the HTTPS proxy that keeps every Set-Cookie header it was sent."""

    def __init__(self) -> None:
        # The proxy passes the Host header on; without one Django would add the port (80).
        super().__init__(headers={"X-Forwarded-Proto": "https", "Host": "testserver"})
        self.set_cookies: list[str] = []

    def request(self, **request: Any) -> Response:
        response = super().request(**request)
        # What the WSGI handler writes after "Set-Cookie: ", one header per cookie.
        self.set_cookies += [morsel.OutputString() for morsel in response.cookies.values()]
        return response


def parse_set_cookie(header: str) -> tuple[str, str, dict[str, str]]:
    """Name, value and attributes (lower-case names; "" for a flag) of one Set-Cookie."""
    pair, *parts = [part.strip() for part in header.split(";")]
    name, _, value = pair.partition("=")
    attributes = {}
    for part in parts:
        key, _, attribute = part.partition("=")
        attributes[key.lower()] = attribute
    return name, value, attributes


def assert_host_cookie(header: str, unlock_cookie: str) -> str:
    name, value, attributes = parse_set_cookie(header)
    assert name.startswith("__Host-"), header
    assert "secure" in attributes, header
    assert attributes.get("path") == "/", header
    assert "domain" not in attributes, header
    # Same-site links may carry the session (a link from our own mail or page); the unlock
    # window of sealed data is never sent with a request that started on another site.
    assert attributes.get("samesite") == ("Strict" if name == unlock_cookie else "Lax"), header
    deleting = value in ("", '""') and attributes.get("max-age") == "0"
    # A deletion (empty and already expired) gives a script nothing to read.
    assert deleting or "httponly" in attributes, header
    return name


@pytest.fixture
def coordinator_with_key(section: Section, https_settings: Settings) -> Iterator[Any]:
    https_settings.SOLIDARITY_KDF = "interactive"  # Argon2id at its cheap cost
    user = make_staff("anna")
    Role.objects.create(user=user, section=section, role="coordinator")
    setup_user_key(user, PASSWORD)
    yield user


def test_every_cookie_is_a_host_cookie_under_https(
    coordinator_with_key: Any, https_values: dict[str, Any]
) -> None:
    """Login, language switch, unlock, lock and logout over HTTPS: each Set-Cookie is
    `__Host-`, Secure, HttpOnly, SameSite, Path=/ and has no Domain; all five cookies appear."""
    client = RecordingClient()
    assert client.get("/accounts/login/").status_code == 200
    log_in(client, coordinator_with_key, add_authenticator(coordinator_with_key))
    switched = client.post(
        "/i18n/setlang/?next=/admin/", {"language": "ru"}, headers={"origin": "https://testserver"}
    )
    assert switched.status_code == 302
    recently_authenticated(client)
    unlocked = client.post(reverse("safety:unlock"), {"password": PASSWORD})
    assert unlocked.status_code == 302
    locked = client.post(reverse("safety:lock"))
    assert locked.status_code == 302
    assert client.get("/admin/").status_code == 200  # shows, and so deletes, the notice
    assert client.post(reverse("accounts:logout")).status_code == 302

    unlock_cookie = https_values["SOLIDARITY_UNLOCK_COOKIE_NAME"]
    seen = {assert_host_cookie(header, unlock_cookie) for header in client.set_cookies}
    assert seen == {
        "__Host-session",
        "__Host-csrftoken",
        "__Host-language",
        "__Host-unlock",
        "__Host-messages",
    }


def test_a_cookie_without_the_flags_fails_the_check() -> None:
    """The check itself refuses a cookie that lacks any one of the required attributes."""
    good = "__Host-x=1; HttpOnly; Path=/; SameSite=Lax; Secure"
    assert assert_host_cookie(good, "__Host-unlock") == "__Host-x"
    bad = [
        "x=1; HttpOnly; Path=/; SameSite=Lax; Secure",
        "__Host-x=1; Path=/; SameSite=Lax; Secure",
        "__Host-x=1; HttpOnly; Path=/; SameSite=Lax",
        "__Host-x=1; HttpOnly; Path=/admin/; SameSite=Lax; Secure",
        "__Host-x=1; Domain=example.org; HttpOnly; Path=/; SameSite=Lax; Secure",
        "__Host-x=1; HttpOnly; Path=/; Secure",
        "__Host-unlock=1; HttpOnly; Path=/; SameSite=Lax; Secure",
    ]
    for header in bad:
        with pytest.raises(AssertionError):
            assert_host_cookie(header, "__Host-unlock")


def test_the_demo_on_plain_http_keeps_plain_names(tmp_path: Path) -> None:
    """Without SOLIDARITY_HTTPS no cookie is `__Host-` (browsers would refuse it without
    Secure) or Secure; with it, every cookie name is `__Host-` and Secure."""
    demo = production_settings(tmp_path, https=False)
    names = {n: v for n, v in demo.items() if n.endswith("COOKIE_NAME")}
    assert names == {
        "SESSION_COOKIE_NAME": "sessionid",
        "CSRF_COOKIE_NAME": "csrftoken",
        "LANGUAGE_COOKIE_NAME": "django_language",
        "SOLIDARITY_UNLOCK_COOKIE_NAME": "solidarity_unlock",
        "SOLIDARITY_MESSAGES_COOKIE_NAME": "messages",
    }
    assert not any(v for n, v in demo.items() if n.endswith("COOKIE_SECURE"))
    https = production_settings(tmp_path, https=True)
    assert all(v.startswith("__Host-") for n, v in https.items() if n.endswith("COOKIE_NAME"))
    assert all(v is True for n, v in https.items() if n.endswith("COOKIE_SECURE"))
