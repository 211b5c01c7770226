"""Sessions: a new key at login and at re-authentication, logout by POST only, an idle limit
of 15 minutes and an absolute limit of 8 hours, and re-authentication (password and code
again) before sealed reads and exports."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.conf import settings as django_settings
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from django.views import View
from django_otp.plugins.otp_static.models import StaticToken
from pytest_django import Settings

from solidarity import urls as project_urls
from solidarity.accounts.decorators import RecentAuthRequiredMixin, require_recent_auth
from solidarity.accounts.models import HashedSession
from solidarity.accounts.session_store import SessionStore
from solidarity.accounts.sessions import AUTH_AT, LOGIN_AT, SEEN_AT, now
from solidarity.accounts.views import BAD_REAUTH
from tests.test_accounts_login import (
    PASSWORD,
    add_authenticator,
    code_for,
    errors,
    log_in,
    make_staff,
    sent_to_login,
    text,
)

# -- A small sealed view and export, as other apps will write them ------------------------------


@require_recent_auth
def sealed_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("whereabouts: sealed")


@require_recent_auth(max_age=timedelta(minutes=1))
def export_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("export")


class SealedClassView(RecentAuthRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("class-based sealed")


class _Urls:
    urlpatterns = [
        path("sealed/", sealed_view),
        path("export/", export_view),
        path("sealed-class/", SealedClassView.as_view()),
        *project_urls.urlpatterns,
    ]


def _logged_in(settings: Settings | None = None) -> tuple[Client, Any]:
    user = make_staff()
    device = add_authenticator(user)
    client = Client()
    log_in(client, user, device)
    return client, device


def _shift(client: Client, **seconds_ago: int) -> None:
    """Pretend the session's timestamps were taken that many seconds ago."""
    names = {"login": LOGIN_AT, "seen": SEEN_AT, "auth": AUTH_AT}
    session = client.session
    for name, ago in seconds_ago.items():
        session[names[name]] = now() - ago
    session.save()


# -- Login and logout ---------------------------------------------------------------------------


def _sha256(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def test_the_session_key_changes_at_login(db: None) -> None:
    """A session id known before login (planted by an attacker) is worthless after it."""
    user = make_staff()
    device = add_authenticator(user)
    client = Client()
    session = client.session
    session["planted"] = True
    session.save()
    before = str(session.session_key)
    client.cookies[django_settings.SESSION_COOKIE_NAME] = before
    assert HashedSession.objects.filter(session_key=_sha256(before)).exists()

    log_in(client, user, device)

    after = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not SessionStore().exists(before)
    # The planted key's row is gone; only the new key's hash is stored (session_store.py).
    assert list(HashedSession.objects.values_list("session_key", flat=True)) == [_sha256(after)]

    assert client.get("/admin/").status_code == 200
    attacker = Client()
    attacker.cookies[django_settings.SESSION_COOKIE_NAME] = before
    assert sent_to_login(attacker, "/admin/")


def test_logout_by_get_does_nothing(db: None) -> None:
    """A link or an image pointing at the logout address cannot log anyone out."""
    client, _ = _logged_in()
    response = client.get("/accounts/logout/")
    assert response.status_code == 405
    assert client.get("/admin/").status_code == 200


def test_logout_needs_a_csrf_token(db: None) -> None:
    """A form on another site cannot post to logout either."""
    user = make_staff()
    device = add_authenticator(user)
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    token = client.cookies[django_settings.CSRF_COOKIE_NAME].value
    client.post(
        "/accounts/login/", {"username": "anna", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    client.post("/accounts/verify/", {"code": code_for(device), "csrfmiddlewaretoken": token})
    assert client.get("/admin/").status_code == 200

    assert client.post("/accounts/logout/").status_code == 403
    assert client.get("/admin/").status_code == 200


def test_logout_by_post_ends_the_session(db: None) -> None:
    """After logout the old cookie opens nothing."""
    client, _ = _logged_in()
    old = client.cookies[django_settings.SESSION_COOKIE_NAME].value

    response = client.post("/accounts/logout/", follow=True)

    assert "You are logged out." in text(response)
    assert sent_to_login(client, "/admin/")
    replay = Client()
    replay.cookies[django_settings.SESSION_COOKIE_NAME] = old
    assert sent_to_login(replay, "/admin/")


# -- Time limits --------------------------------------------------------------------------------


def test_the_session_cookie_lives_eight_hours_at_most(db: None) -> None:
    """The cookie's own lifetime is 8 hours (the server enforces it as well)."""
    user = make_staff()
    device = add_authenticator(user)
    client = Client()
    log_in(client, user, device)
    assert client.cookies[django_settings.SESSION_COOKIE_NAME]["max-age"] == 8 * 60 * 60


def test_fifteen_idle_minutes_end_the_session(db: None) -> None:
    """A request after more than 15 minutes of silence finds the session ended, and says why."""
    client, _ = _logged_in()
    _shift(client, seen=15 * 60 + 1)

    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert "after 15 minutes without activity" in text(response)
    assert "_auth_user_id" not in client.session


def test_activity_keeps_the_session_alive(db: None) -> None:
    """A request within 15 minutes passes and moves the idle clock forward."""
    client, _ = _logged_in()
    _shift(client, seen=14 * 60)
    assert client.get("/admin/").status_code == 200
    assert now() - client.session[SEEN_AT] < 5


def test_eight_hours_end_the_session_however_active(db: None) -> None:
    """Even a session in constant use ends 8 hours after login."""
    client, _ = _logged_in()
    _shift(client, login=8 * 60 * 60 + 1, seen=10)

    response = client.get("/admin/", follow=True)

    assert "8 hours after login" in text(response)
    assert "_auth_user_id" not in client.session


# -- Re-authentication --------------------------------------------------------------------------


def test_a_sealed_view_opens_within_five_minutes_of_login(db: None, settings: Settings) -> None:
    """Right after login the sealed view answers; the login counts as authentication."""
    settings.ROOT_URLCONF = _Urls
    client, _ = _logged_in()
    assert client.get("/sealed/").content == b"whereabouts: sealed"
    assert client.get("/sealed-class/").content == b"class-based sealed"


def test_after_five_minutes_a_sealed_view_asks_for_password_and_code(
    db: None, settings: Settings
) -> None:
    """An older authentication sends the user to re-authenticate; with password and code they
    come back to the view, in a session with a new key."""
    settings.ROOT_URLCONF = _Urls
    client, device = _logged_in()
    _shift(client, auth=5 * 60 + 1)

    for url in ("/sealed/", "/sealed-class/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/reauth/?next={url.replace('/', '%2F')}"
    page = client.get("/accounts/reauth/?next=/sealed/")
    assert 'name="password"' in text(page) and 'name="code"' in text(page)

    wrong = client.post(
        "/accounts/reauth/", {"password": "wrong", "code": code_for(device, 1), "next": "/sealed/"}
    )
    assert errors(wrong) == [str(BAD_REAUTH)]
    assert client.get("/sealed/").status_code == 302

    key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    done = client.post(
        "/accounts/reauth/", {"password": PASSWORD, "code": code_for(device, 1), "next": "/sealed/"}
    )
    assert done.status_code == 302
    assert done["Location"] == "/sealed/"
    assert client.cookies[django_settings.SESSION_COOKIE_NAME].value != key
    assert client.get("/sealed/").content == b"whereabouts: sealed"


def test_a_view_can_ask_for_a_shorter_window(db: None, settings: Settings) -> None:
    """max_age narrows the window: 2 minutes after login a 1-minute export asks again, while
    the 5-minute sealed view does not."""
    settings.ROOT_URLCONF = _Urls
    client, _ = _logged_in()
    _shift(client, auth=2 * 60)
    assert client.get("/sealed/").status_code == 200
    assert client.get("/export/").status_code == 302


def test_anonymous_visitors_of_a_sealed_view_are_sent_to_login(
    db: None, settings: Settings
) -> None:
    """No session at all means the login page, not the re-authentication page."""
    settings.ROOT_URLCONF = _Urls
    response = Client().get("/sealed/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/sealed/"


def test_a_session_without_a_verified_device_must_reauthenticate(
    db: None, settings: Settings
) -> None:
    """A session that never proved a second factor is sent to re-authenticate, whatever its
    timestamps say."""
    settings.ROOT_URLCONF = _Urls
    client = Client()
    client.force_login(make_staff())
    _shift(client, login=0, seen=0, auth=0)
    assert client.get("/sealed/")["Location"].startswith("/accounts/reauth/")


def test_new_backup_codes_need_recent_authentication_and_replace_the_old(db: None) -> None:
    """Making new backup codes is behind re-authentication; afterwards the old ones fail."""
    client, device = _logged_in()
    old = client.post("/accounts/backup-codes/")
    old_codes = set(StaticToken.objects.values_list("token", flat=True))
    assert len(old_codes) == 10 and old.status_code == 200

    _shift(client, auth=6 * 60)
    assert client.post("/accounts/backup-codes/")["Location"].startswith("/accounts/reauth/")
    client.post(
        "/accounts/reauth/", {"password": PASSWORD, "code": code_for(device, 1), "next": "/"}
    )
    new = client.post("/accounts/backup-codes/")

    assert "Your previous backup codes no longer work." in text(new)
    new_codes = set(StaticToken.objects.values_list("token", flat=True))
    assert len(new_codes) == 10
    assert not new_codes & old_codes
