"""Security keys (WebAuthn) as a second factor, driven through the real pages with a software
authenticator: an EC P-256 key made with `cryptography`, and authenticatorData and
clientDataJSON built by hand as a browser and a key would (the shape of py_webauthn's own test
vectors). The library checks the signatures; these tests check what we feed it."""

from __future__ import annotations

import hashlib
import json
import secrets
import struct
from typing import TYPE_CHECKING, Any

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.contrib.auth.models import User
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from pytest_django import Settings
from webauthn.helpers import bytes_to_base64url

from solidarity.accounts import security_keys
from solidarity.accounts.factors import backup_code_digest
from solidarity.accounts.models import AppDevice, WebAuthnCredential
from solidarity.accounts.sessions import AUTH_AT, now
from solidarity.audit.models import AuditEntry
from solidarity.core.models import Section
from solidarity.safety.models import Role
from tests.conftest import verified_login
from tests.test_accounts_login import PASSWORD, add_authenticator, code_for, make_staff

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

ORIGIN = "http://testserver"
RP_ID = "testserver"


class SoftKey:
    """A security key in software: registers, then signs assertions with a counter."""

    def __init__(self, *, counter: int = 0, step: int = 1) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(32)
        self.counter = counter
        self.step = step

    def _auth_data(self, rp_id: str, flags: int, attested: bytes = b"") -> bytes:
        rp_hash = hashlib.sha256(rp_id.encode()).digest()
        return rp_hash + bytes([flags]) + struct.pack(">I", self.counter) + attested

    def _client_data(self, kind: str, options: dict[str, Any], origin: str) -> bytes:
        data = {"type": kind, "challenge": options["challenge"], "origin": origin}
        return json.dumps(data).encode()

    def create(self, options: dict[str, Any], *, origin: str = ORIGIN) -> str:
        numbers = self.private.public_key().public_numbers()
        cose = {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32)}
        attested = (
            bytes(16)  # AAGUID: none
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + cbor2.dumps(cose)
        )
        # Flags: user present (0x01), user verified (0x04), attested credential data (0x40).
        auth_data = self._auth_data(options["rp"]["id"], 0x45, attested)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options, origin)
        return json.dumps(
            {
                "id": bytes_to_base64url(self.credential_id),
                "rawId": bytes_to_base64url(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": bytes_to_base64url(client_data),
                    "attestationObject": bytes_to_base64url(attestation),
                    "transports": ["usb"],
                },
                "clientExtensionResults": {},
            }
        )

    def get(
        self, options: dict[str, Any], *, origin: str = ORIGIN, rp_id: str | None = None
    ) -> str:
        self.counter += self.step
        auth_data = self._auth_data(rp_id or options["rpId"], 0x05)
        client_data = self._client_data("webauthn.get", options, origin)
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self.private.sign(signed, ec.ECDSA(hashes.SHA256()))
        return json.dumps(
            {
                "id": bytes_to_base64url(self.credential_id),
                "rawId": bytes_to_base64url(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": bytes_to_base64url(client_data),
                    "authenticatorData": bytes_to_base64url(auth_data),
                    "signature": bytes_to_base64url(signature),
                    "userHandle": None,
                },
                "clientExtensionResults": {},
            }
        )


# -- Helpers -----------------------------------------------------------------------------------


def password_step(client: Client, username: str) -> Response:
    return client.post(
        "/accounts/login/", {"username": username, "password": PASSWORD, "next": "/admin/"}
    )


def verify_page(client: Client, username: str) -> dict[str, Any]:
    """The password step, then the options the verify page hands to the browser."""
    assert password_step(client, username)["Location"].startswith("/accounts/verify/")
    page = client.get("/accounts/verify/?next=/admin/")
    assert page.status_code == 200
    options: dict[str, Any] = page.context["webauthn_get"]
    return options


def post_assertion(client: Client, assertion: str) -> Response:
    return client.post("/accounts/verify/", {"assertion": assertion, "next": "/admin/"})


def register_key(client: Client, key: SoftKey, name: str = "Blue key") -> Response:
    """Register `key` on a client whose session has recently authenticated."""
    page = client.get("/accounts/keys/add/")
    assert page.status_code == 200, page
    return client.post(
        "/accounts/keys/add/",
        {"name": name, "credential": key.create(page.context["webauthn_create"])},
    )


def recently_logged_in(user: User) -> Client:
    """A client past both factors a moment ago (the keys pages want a recent login)."""
    client = verified_login(Client(), user)
    session = client.session
    session[AUTH_AT] = now()
    session.save()
    return client


def with_key(user: User, key: SoftKey | None = None) -> SoftKey:
    """Register a key for `user` through the pages, as they would after logging in."""
    key = key or SoftKey()
    client = recently_logged_in(user)
    response = register_key(client, key)
    assert response.status_code == 302, response.content.decode()
    return key


def make_coordinator(username: str, section: Section) -> User:
    user = make_staff(username, superuser=False)
    Role.objects.create(user=user, section=section, role="coordinator")
    return user


def backup_code(user: User) -> str:
    device = StaticDevice.objects.create(user=user, name="Backup codes")
    StaticToken.objects.create(device=device, token=backup_code_digest(device, "abcd2345"))
    return "abcd2345"


def is_logged_in(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


# -- The ceremony ------------------------------------------------------------------------------


def test_a_registered_key_logs_in_as_the_second_step(db: None) -> None:
    """After the password, the key's assertion opens the back office; its counter is kept."""
    anna = make_staff("anna")
    key = with_key(anna)
    stored = WebAuthnCredential.objects.get(user=anna)
    assert (stored.name, stored.sign_count, stored.transports) == ("Blue key", 0, ["usb"])

    client = Client()
    response = post_assertion(client, key.get(verify_page(client, "anna")))

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert is_logged_in(client)
    stored.refresh_from_db()
    assert stored.sign_count == 1
    assert stored.last_used_at is not None


def test_the_options_name_our_host_and_the_users_keys(db: None, settings: Settings) -> None:
    """RP ID is the host without port, unless SOLIDARITY_WEBAUTHN_RP_ID says otherwise."""
    anna = make_staff("anna")
    key = with_key(anna)
    client = Client()
    options = verify_page(client, "anna")
    assert options["rpId"] == RP_ID
    assert options["userVerification"] == "preferred"
    assert [c["id"] for c in options["allowCredentials"]] == [bytes_to_base64url(key.credential_id)]

    settings.SOLIDARITY_WEBAUTHN_RP_ID = "solidarity.example"
    assert verify_page(Client(), "anna")["rpId"] == "solidarity.example"
    # A key registered for testserver does not sign for the configured RP ID.
    client = Client()
    options = verify_page(client, "anna")
    assert post_assertion(client, key.get(options, rp_id=RP_ID)).status_code == 200
    assert not is_logged_in(client)


def test_an_assertion_made_on_another_origin_is_refused(db: None) -> None:
    """What a phishing site relays was signed over its own origin: it logs nobody in."""
    anna = make_staff("anna")
    key = with_key(anna)
    client = Client()
    options = verify_page(client, "anna")

    response = post_assertion(client, key.get(options, origin="https://testserver.example"))

    assert response.status_code == 200
    assert "could not be verified" in response.content.decode()
    assert not is_logged_in(client)


def test_a_challenge_is_used_once(db: None) -> None:
    """A replayed assertion finds its challenge gone, even after a fresh page was shown."""
    anna = make_staff("anna")
    key = with_key(anna)
    attacker = Client()
    options = verify_page(attacker, "anna")
    assertion = key.get(options)
    # A failed attempt with the challenge uses it up too.
    attacker.post("/accounts/verify/", {"assertion": "{}", "next": "/admin/"})

    assert post_assertion(attacker, assertion).status_code == 200
    attacker.get("/accounts/verify/")
    assert post_assertion(attacker, assertion).status_code == 200
    assert not is_logged_in(attacker)


def test_a_challenge_expires_after_five_minutes(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A response to a challenge older than 5 minutes is refused."""
    anna = make_staff("anna")
    key = with_key(anna)
    client = Client()
    assertion = key.get(verify_page(client, "anna"))
    issued = now()
    # The pending password step is refreshed, the challenge is not.
    monkeypatch.setattr(security_keys, "now", lambda: issued + 301)

    assert post_assertion(client, assertion).status_code == 200
    assert not is_logged_in(client)


def test_a_signature_counter_that_goes_back_is_refused(db: None) -> None:
    """A counter at or below the stored one means a cloned key: refused, counter unchanged."""
    anna = make_staff("anna")
    key = with_key(anna)
    WebAuthnCredential.objects.filter(user=anna).update(sign_count=10)
    client = Client()
    key.counter = 5

    assert post_assertion(client, key.get(verify_page(client, "anna"))).status_code == 200
    assert not is_logged_in(client)
    assert WebAuthnCredential.objects.get(user=anna).sign_count == 10

    key.counter = 10
    assert post_assertion(client, key.get(verify_page(client, "anna"))).status_code == 302
    assert WebAuthnCredential.objects.get(user=anna).sign_count == 11


def test_a_key_that_always_sends_zero_is_accepted(db: None) -> None:
    """Some authenticators keep no counter and send 0 every time; that is no regression."""
    anna = make_staff("anna")
    key = with_key(anna, SoftKey(step=0))
    for _ in range(2):
        client = Client()
        assert post_assertion(client, key.get(verify_page(client, "anna"))).status_code == 302
    assert WebAuthnCredential.objects.get(user=anna).sign_count == 0


def test_another_users_key_is_refused(db: None) -> None:
    """Boris's key, valid here, does not log in Anna, even with a challenge issued to her."""
    make_staff("anna")
    anna_key = with_key(User.objects.get(username="anna"))
    boris_key = with_key(make_staff("boris"))
    client = Client()
    options = verify_page(client, "anna")

    assert post_assertion(client, boris_key.get(options)).status_code == 200
    assert not is_logged_in(client)
    # Her own key, on a fresh challenge, still works.
    assert post_assertion(client, anna_key.get(verify_page(client, "anna"))).status_code == 302


def test_a_key_is_registered_only_once_and_only_with_a_recent_login(db: None) -> None:
    """Registering needs a re-authentication; the same key twice is refused with a message."""
    anna = make_staff("anna")
    key = with_key(anna)
    client = verified_login(Client(), anna)
    assert client.get("/accounts/keys/add/")["Location"].startswith("/accounts/reauth/")

    again = recently_logged_in(anna)
    response = register_key(again, key)
    assert response.status_code == 400
    assert "registered already" in response.content.decode()
    assert WebAuthnCredential.objects.filter(user=anna).count() == 1


def test_a_registration_for_another_origin_is_refused(db: None) -> None:
    """A creation response signed for another origin stores no key."""
    anna = make_staff("anna")
    client = recently_logged_in(anna)
    page = client.get("/accounts/keys/add/")
    credential = SoftKey().create(page.context["webauthn_create"], origin="https://evil.example")

    response = client.post("/accounts/keys/add/", {"name": "x", "credential": credential})

    assert response.status_code == 400
    assert not WebAuthnCredential.objects.exists()


# -- Keys pages ---------------------------------------------------------------------------------


def test_keys_are_listed_and_removed_after_confirmation(db: None) -> None:
    """The list shows one's own keys; removal is a POST after a confirmation page, audited."""
    anna = make_staff("anna")
    with_key(anna)
    key = WebAuthnCredential.objects.get(user=anna)
    client = recently_logged_in(anna)
    assert "Blue key" in client.get("/accounts/keys/").content.decode()

    confirm = client.get(f"/accounts/keys/{key.pk}/remove/")
    assert confirm.status_code == 200
    assert WebAuthnCredential.objects.filter(pk=key.pk).exists()
    assert client.post(f"/accounts/keys/{key.pk}/remove/")["Location"] == "/accounts/keys/"
    assert not WebAuthnCredential.objects.filter(pk=key.pk).exists()

    logged = AuditEntry.objects.filter(model="accounts.WebAuthnCredential", object_pk=str(key.pk))
    assert sorted(logged.values_list("action", flat=True)) == ["create", "delete"]


def test_another_users_key_cannot_be_removed(db: None) -> None:
    """Someone else's key is a 404, and stays."""
    with_key(make_staff("anna"))
    key = WebAuthnCredential.objects.get()
    boris = recently_logged_in(make_staff("boris"))

    assert boris.post(f"/accounts/keys/{key.pk}/remove/").status_code == 404
    assert WebAuthnCredential.objects.filter(pk=key.pk).exists()


def test_the_keys_page_needs_a_verified_login(db: None) -> None:
    """Without both factors the keys page sends to the login."""
    make_staff("anna")
    client = Client()
    password_step(client, "anna")
    assert client.get("/accounts/keys/")["Location"].startswith("/accounts/login/")


# -- Policy: roles that must use a key ----------------------------------------------------------


@pytest.fixture
def keys_required(settings: Settings) -> None:
    settings.SOLIDARITY_WEBAUTHN_REQUIRED_ROLES = ["coordinator"]


def test_a_coordinator_without_a_key_must_register_one_before_the_back_office(
    keys_required: None, section: Section
) -> None:
    """Password + TOTP lead to the key registration; until it succeeds, no back office."""
    kate = make_coordinator("kate", section)
    device = add_authenticator(kate)
    client = Client()
    password_step(client, "kate")
    response = client.post("/accounts/verify/", {"code": code_for(device), "next": "/admin/"})
    assert response["Location"].startswith("/accounts/keys/enrol/")
    assert client.get("/admin/").status_code == 302
    assert client.get("/accounts/keys/").status_code == 302

    page = client.get(response["Location"])
    assert page.status_code == 200
    key = SoftKey()
    done = client.post(
        "/accounts/keys/enrol/",
        {
            "name": "Kate's key",
            "credential": key.create(page.context["webauthn_create"]),
            "next": "/admin/",
        },
    )
    assert done["Location"] == "/admin/"
    assert is_logged_in(client)
    assert WebAuthnCredential.objects.get(user=kate).name == "Kate's key"


def test_the_key_page_of_the_login_needs_a_proved_second_factor(
    keys_required: None, section: Section
) -> None:
    """The password alone does not reach the key registration (it would be a login)."""
    make_coordinator("kate", section)
    client = Client()
    password_step(client, "kate")
    assert client.get("/accounts/keys/enrol/")["Location"].startswith("/accounts/verify/")


def test_once_a_coordinator_has_a_key_totp_alone_no_longer_logs_in(
    keys_required: None, section: Section
) -> None:
    """A relayed authenticator code is refused; a backup code still works, for recovery."""
    kate = make_coordinator("kate", section)
    device = add_authenticator(kate)
    with_key(kate)
    code = backup_code(kate)

    client = Client()
    password_step(client, "kate")
    refused = client.post("/accounts/verify/", {"code": code_for(device), "next": "/admin/"})
    assert refused.status_code == 200
    assert "security key" in refused.content.decode()
    assert not is_logged_in(client)

    assert client.post("/accounts/verify/", {"code": code, "next": "/admin/"}).status_code == 302
    assert is_logged_in(client)


def test_a_coordinators_reauthentication_needs_the_key(
    keys_required: None, section: Section
) -> None:
    """Re-authentication takes the password with the key, not with an authenticator code."""
    kate = make_coordinator("kate", section)
    device = add_authenticator(kate)
    key = with_key(kate)
    client = Client()
    post_assertion(client, key.get(verify_page(client, "kate")))

    page = client.get("/accounts/reauth/?next=/admin/")
    totp = client.post(
        "/accounts/reauth/", {"password": PASSWORD, "code": code_for(device), "next": "/admin/"}
    )
    assert totp.status_code == 200
    page = client.get("/accounts/reauth/?next=/admin/")
    ok = client.post(
        "/accounts/reauth/",
        {
            "password": PASSWORD,
            "assertion": key.get(page.context["webauthn_get"]),
            "next": "/admin/",
        },
    )
    assert ok.status_code == 302
    assert ok["Location"] == "/admin/"


def test_a_coordinators_last_key_cannot_be_removed(keys_required: None, section: Section) -> None:
    """Removing the only key would leave TOTP as the factor again: register another first."""
    kate = make_coordinator("kate", section)
    with_key(kate)
    key = WebAuthnCredential.objects.get(user=kate)
    client = recently_logged_in(kate)

    assert client.post(f"/accounts/keys/{key.pk}/remove/").status_code == 409
    assert WebAuthnCredential.objects.filter(pk=key.pk).exists()


def test_a_session_without_the_required_key_is_kept_out_of_the_back_office(
    keys_required: None, section: Section
) -> None:
    """A coordinator logged in before the rule (or the role) came is sent to register a key."""
    kate = make_coordinator("kate", section)
    client = verified_login(Client(), kate)

    response = client.get("/admin/", follow=True)
    visited = [url for url, _status in response.redirect_chain]
    assert visited[:2] == ["/admin/login/?next=/admin/", "/accounts/keys/add/?next=/admin/"]
    assert response.status_code == 200


def test_without_required_roles_totp_keeps_working(db: None, section: Section) -> None:
    """In the demo and development (no required roles) a coordinator logs in with TOTP."""
    kate = make_coordinator("kate", section)
    device = add_authenticator(kate)
    client = Client()
    password_step(client, "kate")
    assert (
        client.post("/accounts/verify/", {"code": code_for(device), "next": "/admin/"})["Location"]
        == "/admin/"
    )
    assert is_logged_in(client)


def test_a_misspelt_required_role_is_a_check_error(settings: Settings, db: None) -> None:
    """A role name that does not exist would silently require nothing: `check` says so; and
    production (HTTPS) without any required role is warned about."""
    from django.core.checks import run_checks

    settings.SOLIDARITY_WEBAUTHN_REQUIRED_ROLES = ["cordinator"]
    assert "accounts.E012" in {m.id for m in run_checks()}
    settings.SOLIDARITY_WEBAUTHN_REQUIRED_ROLES = ["coordinator"]
    ids = {m.id for m in run_checks(include_deployment_checks=True)}
    assert "accounts.E012" not in ids
    assert "accounts.W002" not in ids
    settings.SOLIDARITY_WEBAUTHN_REQUIRED_ROLES = []
    assert "accounts.W002" not in {m.id for m in run_checks(include_deployment_checks=True)}
    settings.HTTPS = True  # production with no role required is worth a warning
    assert "accounts.W002" in {m.id for m in run_checks(include_deployment_checks=True)}


def test_a_new_coordinator_sets_up_the_app_then_the_key(
    keys_required: None, section: Section
) -> None:
    """At the very first login the backup codes page leads on to the key, not to the back
    office, which stays closed until the key is registered."""
    make_coordinator("kate", section)
    client = Client()
    assert password_step(client, "kate")["Location"].startswith("/accounts/enrol/")
    client.get("/accounts/enrol/?next=/admin/")
    device = AppDevice.objects.get()
    codes = client.post("/accounts/enrol/", {"code": code_for(device), "next": "/admin/"})
    assert codes.status_code == 200
    assert codes.context["then"].startswith("/accounts/keys/enrol/")
    assert 'href="/accounts/keys/enrol/' in codes.content.decode()
    assert client.get("/admin/").status_code == 302

    page = client.get(codes.context["then"])
    credential = SoftKey().create(page.context["webauthn_create"])
    done = client.post(codes.context["then"], {"name": "", "credential": credential})
    assert done["Location"] == "/admin/"
    assert is_logged_in(client)
    assert WebAuthnCredential.objects.get().name == "Security key"
