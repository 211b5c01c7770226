"""Failed login attempts, kept in the database so that every app server behind a load balancer
sees the same count (no process memory), and only for the length of the throttling window; and
the authenticator apps of staff, with their secrets encrypted; and sessions, stored under a hash
of their key."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.plugins.otp_totp import models as totp_models

from solidarity.accounts.session_store import SessionStore
from solidarity.safety.fields import EncryptedTextField, row_nonce_field


class LoginFailure(models.Model):
    """One failed password or second-factor attempt, counted against a username or a client.

    `key` is a keyed hash (HMAC under the server's secret key) of the username or of the
    client's network, never the value itself: a seized disk should not list who was tried or
    where from. Rows older than the window are deleted as new failures come in.
    """

    class Scope(models.TextChoices):
        USERNAME = "user", _("username")
        CLIENT = "ip", _("client address")

    scope = models.CharField(_("scope"), max_length=4, choices=Scope.choices)
    key = models.CharField(_("key"), max_length=64)
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["scope", "key", "at"], name="accounts_failure_lookup")]
        verbose_name = _("login failure")
        verbose_name_plural = _("login failures")

    def __str__(self) -> str:
        return f"{self.get_scope_display()} failure at {self.at:%Y-%m-%d %H:%M:%S}"


# django-otp ships no type information: its bases are Any to mypy.
class AppDevice(TimestampMixin, ThrottlingMixin, Device):  # type: ignore[misc]
    """An authenticator app (TOTP), as django-otp's TOTPDevice, with the secret encrypted.

    Threat addressed: django-otp stores the TOTP secret as plain hex, so a seized disk, a backup
    opened with its key or a database dump would give the adversary every staff account's second
    factor for as long as the accounts exist; with one phished password, that is a login. Here
    the secret is encrypted with the keyring (kept off the database disk) and bound to its row,
    like personal data, and `solidarity rotate-keys` re-encrypts it with the rest. The code is
    checked by django-otp's own TOTP verification (replay refused, throttled).

    A code is accepted only in its own 30-second step (tolerance 0, ASVS 6.5.5), not in the
    steps before and after it as django-otp's default tolerance of 1 would (90 seconds): a
    code seen over a shoulder, on a camera or through a relaying phishing page is worth as
    little time as the app shows it. The price: a code typed as it changes is refused and the
    next one must be entered, and a phone whose clock is off fails often, and always once it is
    a step off (phones set their clocks from the network; enrolment shows it at once).
    django-otp learns a drift only from a code matched off-step, which tolerance 0 never does,
    so `drift` stays 0.
    """

    key = EncryptedTextField(_("secret key"), default=totp_models.default_key)
    step: models.PositiveSmallIntegerField[Any, Any] = models.PositiveSmallIntegerField(
        _("time step (seconds)"), default=30
    )
    t0: models.BigIntegerField[Any, Any] = models.BigIntegerField(
        _("start of counting (Unix time)"), default=0
    )
    digits: models.PositiveSmallIntegerField[Any, Any] = models.PositiveSmallIntegerField(
        _("digits"), choices=[(6, 6), (8, 8)], default=6
    )
    tolerance: models.PositiveSmallIntegerField[Any, Any] = models.PositiveSmallIntegerField(
        _("tolerance (time steps)"), default=0
    )
    drift: models.SmallIntegerField[Any, Any] = models.SmallIntegerField(
        _("drift (time steps)"), default=0
    )
    last_t: models.BigIntegerField[Any, Any] = models.BigIntegerField(
        _("last time step used"), default=-1
    )
    row_nonce = row_nonce_field()

    class Meta(Device.Meta):  # type: ignore[misc]
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")

    # django-otp's TOTP behaviour, which reads only the attributes above (`bin_key` decodes the
    # decrypted hex secret).
    bin_key = totp_models.TOTPDevice.bin_key
    verify_token = totp_models.TOTPDevice.verify_token
    get_throttle_factor = totp_models.TOTPDevice.get_throttle_factor
    config_url = totp_models.TOTPDevice.config_url
    _read_str_from_settings = totp_models.TOTPDevice._read_str_from_settings


class WebAuthnCredential(TimestampMixin, Device):  # type: ignore[misc]
    """A security key (WebAuthn public-key credential) registered by a user.

    Threat addressed: a password and a TOTP code can be relayed by a phishing site in real time
    (docs/threat-model.md, A3). A WebAuthn assertion is signed over our origin and RP ID, so one
    obtained on a look-alike domain fails here. Only the public key is stored: a seized disk
    yields nothing that signs. It is a django-otp device so that the session's "verified" state
    (OTPMiddleware) works for it as for the authenticator app; it has no token to verify.
    """

    # base64url of the authenticator's credential id (at most 1023 bytes by the specification).
    credential_id: models.CharField[str, str] = models.CharField(
        _("credential ID"), max_length=1400, unique=True
    )
    public_key: models.BinaryField[bytes, bytes] = models.BinaryField(_("public key (COSE)"))
    sign_count: models.PositiveBigIntegerField[int, int] = models.PositiveBigIntegerField(
        _("signature counter"), default=0
    )
    transports: models.JSONField[list[str], list[str]] = models.JSONField(
        _("transports"), default=list, blank=True
    )

    class Meta(Device.Meta):  # type: ignore[misc]
        verbose_name = _("security key")
        verbose_name_plural = _("security keys")

    def verify_token(self, token: object) -> bool:
        # A security key answers a challenge (accounts/webauthn.py), never a typed code.
        return False


class SignedInSession(models.Model):
    """One logged-in session of a user, so that the user (or an administrator) can see it and
    end it (ASVS 7.5.2; threat model M9).

    Threat addressed: a laptop or phone seized at a border or in a raid keeps its session
    cookie; until now it stayed logged in until the idle limit. Ending a session here deletes
    this row, and `accounts.middleware` logs out any session whose row is gone on its next
    request. The row holds no session key, not even its hash (that is `HashedSession`'s), no IP
    address and no full user agent: a list of where and from what each member
    logged in would be a map of their movements for whoever seized the database. `device` is
    a coarse description ("Firefox on Linux") to tell one's own sessions apart.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="signed_in_sessions",
        verbose_name=_("user"),
    )
    # What the session and the "end" buttons refer to: not guessable, unlike the row id.
    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    started_at = models.DateTimeField(_("logged in"), default=timezone.now)
    seen_at = models.DateTimeField(_("last request"), default=timezone.now)
    device = models.CharField(_("device"), max_length=80, blank=True)
    factor = models.CharField(
        _("second factor"),
        max_length=40,
        blank=True,
        # The names `auth_audit.factor_of` gives; an unknown kind is shown as it is.
        choices=[
            ("security_key", _("security key")),
            ("totp", _("authenticator app")),
            ("backup_code", _("backup code")),
        ],
    )

    class Meta:
        ordering = ["-seen_at"]
        verbose_name = _("logged-in session")
        verbose_name_plural = _("logged-in sessions")

    def __str__(self) -> str:
        return f"{self.device or '?'} since {self.started_at:%Y-%m-%d %H:%M}"


class HashedSession(AbstractBaseSession):
    """A session as Django's database backend keeps it, except that `session_key` holds the
    SHA-256 of the key, never the key: the cookie alone carries the key (threat model M9).

    Threat addressed: the session key is a bearer credential that has already passed the second
    factor. Stored as it is, a database dump, a backup or a seized disk would let its reader
    paste each key into a cookie and take over every live session, password and 2FA skipped.
    `accounts.session_store.SessionStore` hashes the key at every read and write.
    """

    # A SHA-256 hex digest: 64 characters.
    session_key = models.CharField(_("session key"), max_length=64, primary_key=True)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    @classmethod
    def get_session_store_class(cls) -> type[SessionStore]:
        return SessionStore


class PasswordToReplace(models.Model):
    """A password an administrator set for someone else, which opens one login only.

    Threat addressed: the administrator, and anyone who saw the password on its way to the
    member, knows it (ASVS 6.4.1, 6.4.3). While this row exists the login stops right after the
    password step and asks for a new password before the second factor and the back office
    (accounts/invitations.py); choosing one deletes the row.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
        verbose_name=_("user"),
    )
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("password to replace at next login")
        verbose_name_plural = _("passwords to replace at next login")

    def __str__(self) -> str:
        return f"{self.user_id} since {self.at:%Y-%m-%d %H:%M}"
