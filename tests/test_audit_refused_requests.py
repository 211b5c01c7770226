"""Requests refused before any view ran leave a trace in the audit chain (ASVS 16.3.1,
16.3.2): a bad API token, a live token asking beyond its scopes, a failed CSRF check. Never
the secret, the cookie or the address; at most one entry a minute per client and view."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from solidarity.audit.models import AuditEntry
from tests.conftest import verified_login
from tests.test_api_support import api, token_for, user_with_scopes


def _entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("seq"))


@pytest.mark.django_db
def test_an_unknown_api_token_is_logged_once_a_minute_without_the_secret() -> None:
    secret = "not-a-real-token-0123456789abcdef"
    for _attempt in range(3):
        assert api(secret).get("/api/v2/people/").status_code == 401
    (entry,) = _entries("api_token_refused")
    assert entry.actor == "anonymous"
    assert entry.values == {
        "method": "GET",
        "reason": "unknown_or_revoked",
        "view": "api:people",
    }
    stored = json.dumps([entry.values, entry.object_pk, entry.fields, entry.model])
    assert secret not in stored and "127.0.0.1" not in stored
    # Another endpoint is another entry: what was tried stays visible.
    api(secret).get("/api/v2/petitions/")
    assert len(_entries("api_token_refused")) == 2


@pytest.mark.django_db
def test_a_request_without_a_token_is_not_an_authentication_event() -> None:
    assert Client().get("/api/v2/people/").status_code == 401
    assert not _entries("api_token_refused")


@pytest.mark.django_db
def test_a_live_token_beyond_its_scope_is_logged_under_its_user() -> None:
    reader = user_with_scopes("reader", "people:read", "petitions:read")
    secret = token_for(reader, "petitions:read")
    assert api(secret).get("/api/v2/people/").status_code == 403
    assert api(secret).get("/api/v2/people/").status_code == 403
    (entry,) = _entries("api_refused")
    assert entry.actor == f"user:{reader.pk}:reader"
    assert entry.values == {
        "method": "GET",
        "reason": "lacks_scope:people:read",
        "view": "api:people",
    }
    assert api(secret).get("/api/v2/petitions/").status_code == 200
    assert len(_entries("api_refused")) == 1


@pytest.mark.django_db
def test_a_failed_csrf_check_is_logged_with_a_reason_code_and_still_refused() -> None:
    user = User.objects.create_superuser("staff", "staff@example.org", "a long test passphrase")
    client = verified_login(Client(enforce_csrf_checks=True), user)
    response = client.post("/accounts/logout/", HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403
    client.post("/accounts/logout/", HTTP_ORIGIN="https://evil.example")
    (entry,) = _entries("csrf_refused")
    assert entry.actor == f"user:{user.pk}:staff"
    assert entry.values == {"method": "POST", "reason": "bad_origin", "view": "accounts:logout"}
    assert "evil.example" not in json.dumps(entry.values)
    # Still logged in: the forged logout did nothing.
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_a_post_without_a_csrf_cookie_is_refused_and_logged_as_such() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    (entry,) = _entries("csrf_refused")
    assert (entry.actor, entry.values["reason"], entry.values["view"]) == (
        "anonymous",
        "no_cookie",
        "accounts:login",
    )
