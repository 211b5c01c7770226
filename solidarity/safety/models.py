"""Roles per section, coordinators' key pairs, sections' recovery keys and the wrapped data keys
of sealed values."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from solidarity.core.models import Section

from .policy import RoleName


class Role(models.Model):
    """A user's role in one section; without one, a user sees nothing of that section."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="safety_roles",
        verbose_name=_("user"),
    )
    section = models.ForeignKey(
        Section, on_delete=models.CASCADE, related_name="+", verbose_name=_("section")
    )
    role = models.CharField(_("role"), max_length=20, choices=RoleName.choices)
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        ordering = ["section", "user"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "section"],
                name="safety_one_role_per_user_and_section",
                violation_error_message=_("This user already has a role in this section."),
            )
        ]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return f"{self.user}: {self.get_role_display()}, {self.section}"


class UserKey(models.Model):
    """A user's X25519 key pair for sealed data.

    The private key is stored encrypted under a key derived from the user's password (Argon2id)
    mixed with the server secret from the keyring file, so neither a database copy alone nor the
    keyring alone lets anyone guess passwords offline against it.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="safety_key",
        verbose_name=_("user"),
    )
    public_key = models.CharField(_("public key"), max_length=64)
    encrypted_private_key = models.TextField(_("encrypted private key"))
    salt = models.CharField(_("salt"), max_length=64)
    opslimit = models.PositiveIntegerField(_("key derivation operations limit"))
    memlimit = models.PositiveBigIntegerField(_("key derivation memory limit"))
    # Set when the login password changed without the key being re-protected under the new one
    # (a reset by someone else): the next unlock asks for the previous password once.
    needs_rewrap = models.BooleanField(_("needs protecting under the new password"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("user key")
        verbose_name_plural = _("user keys")

    def __str__(self) -> str:
        return f"key of {self.user}"


class SealedKey(models.Model):
    """The data key of one sealed value, wrapped for one recipient's public key."""

    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, verbose_name=_("content type")
    )
    object_id = models.PositiveBigIntegerField(_("object ID"))
    field_name = models.CharField(_("field name"), max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="sealed_keys",
        verbose_name=_("user"),
    )
    wrapped_key = models.TextField(_("wrapped key"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "field_name", "user"],
                name="safety_sealed_key_once_per_recipient",
            )
        ]
        indexes = [models.Index(fields=["content_type", "object_id", "field_name"])]
        verbose_name = _("sealed key")
        verbose_name_plural = _("sealed keys")

    def __str__(self) -> str:
        return f"{self.content_type.model} {self.object_id}.{self.field_name} for {self.user}"


class SectionRecoveryKey(models.Model):
    """A section's offline recovery key: only its X25519 public key is on the server.

    Every sealed value of the section is also wrapped to it (`RecoveryWrappedKey`), so that if
    every coordinator of the section is arrested, dies or forgets their password, whoever holds
    the private key (kept abroad, offline) can grant the values to a new coordinator
    (`solidarity keys recover`). One per section: replacing it deletes the old one and its
    wrapped keys (`solidarity keys recovery-set`).
    """

    section = models.OneToOneField(
        Section, on_delete=models.CASCADE, related_name="+", verbose_name=_("section")
    )
    public_key = models.CharField(_("public key"), max_length=64)
    # SHA-256 of the public key, as printed by `solidarity keys recovery-keygen`: what the
    # custodians compare to know which printed key this is.
    fingerprint = models.CharField(_("fingerprint"), max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("section recovery key")
        verbose_name_plural = _("section recovery keys")

    def __str__(self) -> str:
        return f"recovery key {self.fingerprint} of section {self.section_id}"


class RecoveryWrappedKey(models.Model):
    """The data key of one sealed value, wrapped for its section's recovery key.

    A model of its own rather than a `SealedKey` with no user: every query on `SealedKey` asks
    for one user's copies (reading, granting, dropping them when a role ends), and none of
    them can be handed a recovery key's copy by mistake.
    """

    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, verbose_name=_("content type")
    )
    object_id = models.PositiveBigIntegerField(_("object ID"))
    field_name = models.CharField(_("field name"), max_length=100)
    recovery_key = models.ForeignKey(
        SectionRecoveryKey,
        on_delete=models.CASCADE,
        related_name="wrapped_keys",
        verbose_name=_("section recovery key"),
    )
    wrapped_key = models.TextField(_("wrapped key"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "field_name", "recovery_key"],
                name="safety_recovery_wrapped_key_once_per_value",
            )
        ]
        indexes = [models.Index(fields=["content_type", "object_id", "field_name"])]
        verbose_name = _("recovery-wrapped key")
        verbose_name_plural = _("recovery-wrapped keys")

    def __str__(self) -> str:
        return f"{self.content_type.model} {self.object_id}.{self.field_name} for recovery"
