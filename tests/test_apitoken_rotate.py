"""`solidarity apitoken rotate`: a new token with the same user, name and scopes, the old one
revoked in the same transaction, the new secret printed once, both steps in the audit log
(ASVS 11.1.1: API tokens can be rotated)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import CommandError

from solidarity.api.models import ApiToken
from solidarity.audit.models import AuditEntry
from tests.test_api_support import api, token_for
from tests.test_api_tokens import reader, run

__all__ = ["reader"]  # the fixture, imported to register it here


def test_rotate_replaces_the_token_with_one_of_the_same_scopes(reader: User) -> None:
    """After `rotate`, the old secret is refused (401) and the new one, printed alone on
    stdout, answers exactly where the old one did: petitions yes, people no (403)."""
    old_secret = token_for(reader, "petitions:read")
    old = ApiToken.objects.get()
    assert api(old_secret).get("/api/v2/petitions/").status_code == 200

    out, err = run("rotate", str(old.pk))

    new_secret = out.strip()
    assert new_secret.startswith("sol_") and "\n" not in new_secret
    assert new_secret != old_secret
    assert "only time" in err and f"replaces token {old.pk}" in err
    assert new_secret not in err
    refused = api(old_secret).get("/api/v2/petitions/")
    assert refused.status_code == 401
    assert refused.json()["error"] == "Unknown or revoked API token."
    assert api(new_secret).get("/api/v2/petitions/").status_code == 200
    lacking = api(new_secret).get("/api/v2/people/")
    assert lacking.status_code == 403 and "people:read" in lacking.json()["error"]
    old.refresh_from_db()
    new = ApiToken.objects.get(revoked=None)
    assert old.revoked is not None
    assert (new.user, new.name, new.scopes) == (reader, old.name, ["petitions:read"])
    assert new.prefix == new_secret[:12]


def test_rotate_by_prefix_and_the_audit_entries(reader: User) -> None:
    """The prefix shown by `list` works as well as the number; the log records the new token's
    creation and, on the old one, its rotation naming the successor, never a secret."""
    old_secret = token_for(reader, "people:read", "petitions:read")
    old = ApiToken.objects.get()
    before = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    out, _err = run("rotate", old.prefix)

    new = ApiToken.objects.get(revoked=None)
    entries = list(AuditEntry.objects.filter(seq__gt=before).order_by("seq"))
    created = [e for e in entries if e.action == "create" and e.object_pk == str(new.pk)]
    rotated = [e for e in entries if e.action == "api_token_rotated"]
    assert len(created) == 1 and created[0].model == "api.ApiToken"
    assert len(rotated) == 1 and rotated[0].object_pk == str(old.pk)
    assert rotated[0].values == {"replaced_by": new.pk}
    assert all(e.actor == "system:apitoken" for e in (*created, *rotated))
    logged = " ".join(f"{e.fields} {e.values}" for e in entries)
    assert out.strip() not in logged and old_secret not in logged
    assert api(out.strip()).get("/api/v2/people/").status_code == 200


def test_rotate_refuses_a_revoked_token_and_keeps_no_lost_scope(reader: User) -> None:
    """A revoked token is not brought back by rotating it; and a scope whose permission the
    user has lost since makes the rotation fail as a whole, leaving the old token working."""
    token_for(reader, "petitions:read")
    revoked = ApiToken.objects.get()
    run("revoke", str(revoked.pk))
    with pytest.raises(CommandError, match="revoked already"):
        run("rotate", str(revoked.pk))
    assert ApiToken.objects.count() == 1

    secret = token_for(reader, "people:read", "petitions:read")
    live = ApiToken.objects.get(revoked=None)
    reader.user_permissions.remove(Permission.objects.get(codename="view_supporter"))
    with pytest.raises(CommandError, match="may not hold people:read"):
        run("rotate", str(live.pk))
    live.refresh_from_db()
    assert live.revoked is None and ApiToken.objects.count() == 2
    assert api(secret).get("/api/v2/petitions/").status_code == 200
    with pytest.raises(CommandError, match="No token"):
        run("rotate", "sol_nothere")
