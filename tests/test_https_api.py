"""The API under HTTPS (ASVS 4.1.2): pages are redirected from plain HTTP, the API is not. A
plain-HTTP API request is refused with a JSON error saying HTTPS is required, and the token it
carried, which a network tap has seen, is revoked and the revocation logged (never the token).
Behind the reverse proxy, X-Forwarded-Proto: https counts as HTTPS. Settings as a server with
SOLIDARITY_HTTPS on has them (tests/test_https_cookies.py explains how)."""

from __future__ import annotations

import jsonschema
import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django import Settings

from solidarity.api.middleware import HTTPS_REQUIRED
from solidarity.api.models import ApiToken
from solidarity.audit.models import AuditEntry
from tests.test_api_support import token_for, user_with_scopes
from tests.test_https_cookies import https_settings as https_settings
from tests.test_https_cookies import https_values as https_values

PEOPLE = "/api/v2/people/"
PROXIED_HTTPS = {"X-Forwarded-Proto": "https", "Host": "testserver"}


@pytest.fixture
def reader(db: None) -> User:
    return user_with_scopes("reader", "people:read", "tags:write")


@pytest.fixture
def secret(reader: User) -> str:
    return token_for(reader, "people:read", "tags:write")


def revocations() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="api_token_revoked"))


@pytest.mark.parametrize(
    "header", [("OSDI-API-Token", "{}"), ("Authorization", "Token {}")], ids=["osdi", "authz"]
)
def test_a_plain_http_call_is_refused_and_its_token_revoked(
    https_settings: Settings, secret: str, header: tuple[str, str]
) -> None:
    """403 with the API's error body, no redirect; the token then fails over HTTPS too, and the
    log names the token's number and the reason, never its secret."""
    name, value = header
    plain = Client(headers={name: value.format(secret)})
    response = plain.get(PEOPLE)
    assert response.status_code == 403 and "Location" not in response
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": HTTPS_REQUIRED, "detail": HTTPS_REQUIRED}
    assert "only over HTTPS" in HTTPS_REQUIRED and "revoked" in HTTPS_REQUIRED

    token = ApiToken.objects.get()
    assert token.revoked is not None
    (entry,) = revocations()
    assert (entry.model, entry.object_pk, entry.fields) == (
        "api.ApiToken",
        str(token.pk),
        ["revoked"],
    )
    assert entry.values == {"reason": "sent_over_plain_http"}
    assert entry.actor == f"user:{token.user_id}:reader"
    assert secret not in str(list(AuditEntry.objects.values()))
    assert token.prefix not in str(entry.values)

    secure = Client(headers={name: value.format(secret), **PROXIED_HTTPS})
    assert secure.get(PEOPLE).status_code == 401
    # Sent in clear once more: still refused, and nothing left to revoke or log.
    assert plain.get(PEOPLE).status_code == 403 and len(revocations()) == 1


def test_a_plain_http_post_is_refused_not_redirected(https_settings: Settings, secret: str) -> None:
    """A redirected POST would come back as a GET or resend the body in clear: refused too."""
    response = Client(headers={"OSDI-API-Token": secret}).post(
        "/api/v2/tags/", {"name": "x"}, content_type="application/json"
    )
    assert response.status_code == 403 and "Location" not in response
    assert ApiToken.objects.get().revoked is not None


def test_an_unknown_token_or_none_gets_the_same_refusal(https_settings: Settings, db: None) -> None:
    """The answer does not tell a listener whether the token was a live one; nothing is
    logged for a token that is not ours, nor for a request without one."""
    for client in (Client(headers={"OSDI-API-Token": "sol_not-a-real-token"}), Client()):
        response = client.get(PEOPLE)
        assert response.status_code == 403 and response.json()["error"] == HTTPS_REQUIRED
    assert Client().get("/api/no/such/address/").status_code == 403
    assert not revocations()


def test_https_calls_work_directly_and_behind_the_proxy(
    https_settings: Settings, secret: str
) -> None:
    """Over HTTPS, at the app itself or through the proxy, the token works and stays live."""
    direct = Client(headers={"OSDI-API-Token": secret})
    assert direct.get(PEOPLE, secure=True).status_code == 200
    proxied = Client(headers={"OSDI-API-Token": secret, **PROXIED_HTTPS})
    assert proxied.get(PEOPLE).status_code == 200
    assert ApiToken.objects.get().revoked is None and not revocations()


def test_pages_are_still_redirected_to_https(https_settings: Settings, db: None) -> None:
    """Browser addresses keep the permanent redirect; the same page over HTTPS is served."""
    response = Client().get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/"
    assert Client(headers=PROXIED_HTTPS).get("/accounts/login/").status_code == 200


def test_a_public_export_is_redirected_unless_a_token_comes_with_it(
    https_settings: Settings, secret: str
) -> None:
    """The public exports under /api/ are pages of the public site: an anonymous reader is
    redirected to HTTPS as on any page; a token sent along in clear is still revoked."""
    response = Client().get("/api/popolo/all.json?x=1")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/api/popolo/all.json?x=1"
    assert ApiToken.objects.get().revoked is None
    refused = Client(headers={"OSDI-API-Token": secret}).get("/api/popolo/all.json")
    assert refused.status_code == 403 and ApiToken.objects.get().revoked is not None


def test_the_demo_on_plain_http_serves_the_api(settings: Settings, secret: str) -> None:
    """Without SOLIDARITY_HTTPS (the demo on http://localhost) nothing is refused or revoked."""
    settings.HTTPS = False
    assert Client(headers={"OSDI-API-Token": secret}).get(PEOPLE).status_code == 200
    assert ApiToken.objects.get().revoked is None


def test_the_refusal_is_the_documented_403(https_settings: Settings, db: None) -> None:
    """Every OSDI operation documents 403 with the API's error body, and the refusal fits it;
    the schema's description tells integrators that plain HTTP is refused and revokes."""
    schema = Client(headers=PROXIED_HTTPS).get("/api/schema/?format=json").json()
    assert "over plain HTTP gets 403" in schema["info"]["description"]
    body = Client().get(PEOPLE).json()
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            if path.startswith("/api/v2/"):
                content = operation["responses"]["403"]["content"]["application/json"]
                jsonschema.validate(body, content["schema"])
