"""Security keys (WebAuthn) as a second factor, through the py_webauthn library.

Threat addressed (docs/threat-model.md, A3 and D7): a phishing site can relay a password and a
TOTP code to us in real time. A WebAuthn assertion is signed over the origin the browser saw and
the RP ID, so one made on a look-alike domain fails here. The ceremony's pieces this module adds
to the library's checks:

- the RP ID is our host (without the port) unless SOLIDARITY_WEBAUTHN_RP_ID says otherwise, and
  the expected origin is the request's own scheme and host, never a value from the client;
- each challenge lives in the session, belongs to one user and one purpose, is taken out of the
  session before it is checked (so it can be used once, even by a failed attempt) and expires
  after 5 minutes;
- the signature counter must grow (a cloned authenticator shows up as a regression), except for
  authenticators that always send 0, which the library allows;
- a credential is looked up among the user's own keys only: another account's key is refused.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.http import HttpRequest
from django.http.request import split_domain_port
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, options_to_json_dict
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from solidarity.accounts.models import WebAuthnCredential
from solidarity.accounts.sessions import PENDING_LIMIT, now
from solidarity.safety.crypto import blind_index

log = logging.getLogger(__name__)

CHALLENGE = "accounts.webauthn_challenge"
# A challenge is worth as long as the password step: 5 minutes.
CHALLENGE_LIMIT = PENDING_LIMIT
REGISTER = "register"
AUTHENTICATE = "authenticate"
DEFAULT_KEY_NAME = _("Security key")
MAX_KEY_NAME = 64


class SecurityKeyError(Exception):
    """A ceremony that failed; the message is safe to show (it names no internal detail)."""


def rp_id(request: HttpRequest) -> str:
    configured: str = getattr(settings, "SOLIDARITY_WEBAUTHN_RP_ID", "")
    if configured:
        return configured
    domain, _port = split_domain_port(request.get_host())
    return domain


def expected_origin(request: HttpRequest) -> str:
    # The host has passed ALLOWED_HOSTS (get_host); the scheme honours SECURE_PROXY_SSL_HEADER.
    return f"{request.scheme}://{request.get_host()}"


def keys_of(user: AbstractBaseUser) -> list[WebAuthnCredential]:
    return list(WebAuthnCredential.objects.filter(user_id=user.pk, confirmed=True).order_by("pk"))


def has_key(user: AbstractBaseUser) -> bool:
    found: bool = WebAuthnCredential.objects.filter(user_id=user.pk, confirmed=True).exists()
    return found


def required_for(user: AbstractBaseUser) -> bool:
    """Whether the user holds, in any section, a role that must log in with a security key."""
    from solidarity.safety.models import Role

    roles: list[str] = list(getattr(settings, "SOLIDARITY_WEBAUTHN_REQUIRED_ROLES", []))
    return bool(roles) and Role.objects.filter(user_id=user.pk, role__in=roles).exists()


def key_is_second_factor(user: AbstractBaseUser) -> bool:
    """True once a user who must use a key has one: then an authenticator code alone no longer
    logs them in (backup codes still do, for recovery)."""
    return required_for(user) and has_key(user)


# -- Challenges ------------------------------------------------------------------------------


def _store_challenge(
    session: SessionBase, purpose: str, user: AbstractBaseUser, challenge: bytes
) -> None:
    session[CHALLENGE] = {
        "purpose": purpose,
        "user": str(user.pk),
        "challenge": bytes_to_base64url(challenge),
        "at": now(),
    }


def _take_challenge(session: SessionBase, purpose: str, user: AbstractBaseUser) -> bytes:
    """The challenge issued to this user for this purpose, removed from the session first: a
    replayed response (or a second try with the same one) finds no challenge."""
    stored = session.pop(CHALLENGE, None)
    if (
        not isinstance(stored, dict)
        or stored.get("purpose") != purpose
        or stored.get("user") != str(user.pk)
        or now() - int(stored.get("at", 0)) > CHALLENGE_LIMIT.total_seconds()
    ):
        raise SecurityKeyError(_("The request to your key has expired. Please try again."))
    return base64url_to_bytes(str(stored["challenge"]))


def _user_handle(user: AbstractBaseUser) -> bytes:
    # Not the primary key: the authenticator stores the handle, and it should not number our
    # accounts for whoever reads the key.
    return bytes.fromhex(blind_index(str(user.pk), "webauthn-user")[:32])


def _descriptors(user: AbstractBaseUser) -> list[PublicKeyCredentialDescriptor]:
    descriptors = []
    for key in keys_of(user):
        transports = [AuthenticatorTransport(t) for t in key.transports if _known_transport(t)]
        descriptors.append(
            PublicKeyCredentialDescriptor(
                id=base64url_to_bytes(key.credential_id), transports=transports or None
            )
        )
    return descriptors


def _known_transport(value: object) -> bool:
    return value in {t.value for t in AuthenticatorTransport}


# -- Registration ----------------------------------------------------------------------------


def registration_options(request: HttpRequest, user: AbstractBaseUser) -> dict[str, Any]:
    """Options for navigator.credentials.create(), as JSON-ready data; the challenge is kept."""
    options = generate_registration_options(
        rp_id=rp_id(request),
        rp_name="Solidarity",
        user_name=user.get_username(),
        user_id=_user_handle(user),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        # The browser refuses to register the same key twice for one account.
        exclude_credentials=_descriptors(user),
    )
    _store_challenge(request.session, REGISTER, user, options.challenge)
    return options_to_json_dict(options)


def register(
    request: HttpRequest, user: AbstractBaseUser, response_json: str, name: str
) -> WebAuthnCredential:
    """Verify the browser's answer to registration_options() and store the new key."""
    challenge = _take_challenge(request.session, REGISTER, user)
    try:
        verified = verify_registration_response(
            credential=response_json,
            expected_challenge=challenge,
            expected_rp_id=rp_id(request),
            expected_origin=expected_origin(request),
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        log.info("security key registration refused: %s", exc)
        raise SecurityKeyError(
            _("Your key's answer could not be verified. Please try again.")
        ) from exc
    credential_id = bytes_to_base64url(verified.credential_id)
    if WebAuthnCredential.objects.filter(credential_id=credential_id).exists():
        raise SecurityKeyError(_("This key is registered already."))
    created: WebAuthnCredential = WebAuthnCredential.objects.create(
        user_id=user.pk,
        name=(name.strip() or str(DEFAULT_KEY_NAME))[:MAX_KEY_NAME],
        confirmed=True,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=_transports(response_json),
    )
    return created


def _transports(response_json: str) -> list[str]:
    try:
        given = json.loads(response_json).get("response", {}).get("transports", [])
    except (ValueError, AttributeError):
        return []
    return [t for t in given if _known_transport(t)] if isinstance(given, list) else []


# -- Authentication --------------------------------------------------------------------------


def authentication_options(request: HttpRequest, user: AbstractBaseUser) -> dict[str, Any]:
    """Options for navigator.credentials.get() listing the user's keys; the challenge is kept."""
    options = generate_authentication_options(
        rp_id=rp_id(request),
        allow_credentials=_descriptors(user),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    _store_challenge(request.session, AUTHENTICATE, user, options.challenge)
    return options_to_json_dict(options)


def authenticate(
    request: HttpRequest, user: AbstractBaseUser, response_json: str
) -> WebAuthnCredential:
    """Verify an assertion from one of the user's own keys; raises SecurityKeyError if not."""
    challenge = _take_challenge(request.session, AUTHENTICATE, user)
    refused = SecurityKeyError(_("Your key's answer could not be verified. Please try again."))
    try:
        given_id = str(json.loads(response_json)["id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise refused from exc
    with transaction.atomic():
        # Locked, so two assertions racing cannot both pass the counter check.
        key: WebAuthnCredential | None = (
            WebAuthnCredential.objects.select_for_update()
            .filter(user_id=user.pk, confirmed=True, credential_id=given_id)
            .first()
        )
        if key is None:
            raise refused
        try:
            verified = verify_authentication_response(
                credential=response_json,
                expected_challenge=challenge,
                expected_rp_id=rp_id(request),
                expected_origin=expected_origin(request),
                credential_public_key=bytes(key.public_key),
                # The library refuses a counter that does not grow unless both are 0.
                credential_current_sign_count=key.sign_count,
            )
        except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
            log.info("security key assertion refused for key %s: %s", key.pk, exc)
            raise refused from exc
        key.sign_count = verified.new_sign_count
        key.last_used_at = timezone.now()
        key.save(update_fields=["sign_count", "last_used_at"])
    return key
