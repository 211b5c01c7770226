"""API tokens: made on the command line, stored as a hash, checked on every request with the
scopes they were given and the permissions their user still holds."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import CommandError, call_command
from django.test import Client

from solidarity.api.models import ApiToken
from tests.test_api_support import api, token_for, user_with_scopes


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("apitoken", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def reader(db: None) -> User:
    return user_with_scopes("reader", "people:read", "petitions:read")


def test_create_prints_the_token_once_and_stores_only_its_hash(reader: User) -> None:
    """`apitoken create` prints the secret alone on stdout; the database holds its SHA-256 and
    an 8-character prefix, and `apitoken list` never shows it again."""
    out, err = run("create", "reader", "--scope", "people:read", "--scope", "petitions:read")
    secret = out.strip()
    assert secret.startswith("sol_") and len(secret) >= 47 and "\n" not in secret
    assert "only time" in err
    token = ApiToken.objects.get()
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[:12]
    assert token.scopes == ["people:read", "petitions:read"]
    stored = " ".join(str(v) for v in ApiToken.objects.values().get().values())
    assert secret not in stored
    listing, _err = run("list")
    assert secret not in listing and token.prefix in listing and "active" in listing


def test_create_refuses_unknown_scopes_and_scopes_beyond_the_users_permissions(
    reader: User,
) -> None:
    """A scope that does not exist, or one whose permission the user lacks, makes no token."""
    with pytest.raises(CommandError, match="Unknown scope people:delete"):
        run("create", "reader", "--scope", "people:delete")
    with pytest.raises(CommandError, match="may not hold signatures:write"):
        run("create", "reader", "--scope", "signatures:write")
    with pytest.raises(CommandError, match="No user"):
        run("create", "nobody", "--scope", "people:read")
    with pytest.raises(CommandError, match="at least one scope"):
        run("create", "reader")
    assert not ApiToken.objects.exists()


def test_both_headers_authenticate(reader: User) -> None:
    """The token works in Action Network's OSDI-API-Token header and as Authorization: Token."""
    secret = token_for(reader, "people:read")
    assert api(secret).get("/api/v2/people/").status_code == 200
    client = Client(headers={"Authorization": f"Token {secret}"})
    assert client.get("/api/v2/people/").status_code == 200
    assert ApiToken.objects.get().last_used is not None


def test_a_missing_or_unknown_token_is_401(reader: User) -> None:
    """No token, a made-up one, or an over-long one: 401 with a message saying what to send."""
    response = Client().get("/api/v2/people/")
    assert response.status_code == 401
    assert "OSDI-API-Token" in response.json()["error"]
    assert api("not-a-token").get("/api/v2/people/").status_code == 401
    assert api("x" * 500).get("/api/v2/people/").status_code == 401


def test_a_revoked_token_is_401(reader: User) -> None:
    """`apitoken revoke` by number ends the token at once; revoking twice says so."""
    secret = token_for(reader, "people:read")
    token = ApiToken.objects.get()
    out, _err = run("revoke", str(token.pk))
    assert "Revoked" in out
    response = api(secret).get("/api/v2/people/")
    assert response.status_code == 401
    assert response.json()["error"] == "Unknown or revoked API token."
    out, _err = run("revoke", token.prefix)
    assert "already revoked" in out
    listing, _err = run("list", "reader")
    assert "revoked" in listing


def test_a_missing_scope_is_403_naming_the_scope(reader: User) -> None:
    """A token without the endpoint's scope gets 403 and is told which scope it lacks."""
    secret = token_for(reader, "petitions:read")
    response = api(secret).get("/api/v2/people/")
    assert response.status_code == 403
    assert "people:read" in response.json()["error"]
    assert api(secret).get("/api/v2/petitions/").status_code == 200


def test_taking_a_permission_away_disarms_the_token(reader: User) -> None:
    """A token is never more than its user: without the permission the scope stops working,
    and a deactivated user's tokens stop working altogether."""
    secret = token_for(reader, "people:read", "petitions:read")
    reader.user_permissions.remove(Permission.objects.get(codename="view_supporter"))
    response = api(secret).get("/api/v2/people/")
    assert response.status_code == 403
    assert "no longer has the permission" in response.json()["error"]
    reader.is_active = False
    reader.save()
    assert api(secret).get("/api/v2/petitions/").status_code == 401


def test_a_read_scope_does_not_allow_writing(reader: User) -> None:
    """signatures:read cannot record a signature: the helper needs signatures:write."""
    user = user_with_scopes("signature-reader", "signatures:read")
    secret = token_for(user, "signatures:read")
    response = api(secret).post(
        "/api/v2/petitions/1/signatures/", {}, content_type="application/json"
    )
    assert response.status_code == 403
    assert "signatures:write" in response.json()["error"]


def test_the_back_office_lists_and_revokes_tokens(reader: User, staff_client: Client) -> None:
    """Tokens appear in the back office without their secret and can be revoked there."""
    secret = token_for(reader, "people:read")
    token = ApiToken.objects.get()
    page = staff_client.get("/admin/api/apitoken/")
    assert page.status_code == 200
    assert token.prefix in page.text and secret not in page.text
    staff_client.post(
        "/admin/api/apitoken/", {"action": "revoke", "_selected_action": [str(token.pk)]}
    )
    assert api(secret).get("/api/v2/people/").status_code == 401


def test_a_signed_in_browser_session_is_not_an_api_credential(staff_client: Client) -> None:
    """The back office's session cookie opens nothing in the API: another site could make a
    signed-in coordinator's browser send it."""
    response = staff_client.get("/api/v2/people/")
    assert response.status_code == 401
    response = staff_client.post(
        "/api/v2/petitions/1/signatures/", {}, content_type="application/json"
    )
    assert response.status_code == 401
