"""Roles per section, coordinators' key pairs and the wrapped data keys of sealed values."""

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
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="safety_roles"
    )
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=20, choices=RoleName.choices)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["section", "user"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "section"],
                name="safety_one_role_per_user_and_section",
                violation_error_message=_("This user already has a role in this section."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_role_display()}, {self.section}"


class UserKey(models.Model):
    """A user's X25519 key pair for sealed data.

    The private key is stored encrypted under a key derived from the user's password (Argon2id)
    mixed with the server secret from the keyring file, so neither a database copy alone nor the
    keyring alone lets anyone guess passwords offline against it.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="safety_key"
    )
    public_key = models.CharField(max_length=64)
    encrypted_private_key = models.TextField()
    salt = models.CharField(max_length=64)
    opslimit = models.PositiveIntegerField()
    memlimit = models.PositiveBigIntegerField()
    # Set when the login password changed without the key being re-protected under the new one
    # (a reset by someone else): the next unlock asks for the previous password once.
    needs_rewrap = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"key of {self.user}"


class SealedKey(models.Model):
    """The data key of one sealed value, wrapped for one recipient's public key."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    field_name = models.CharField(max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sealed_keys"
    )
    wrapped_key = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "field_name", "user"],
                name="safety_sealed_key_once_per_recipient",
            )
        ]
        indexes = [models.Index(fields=["content_type", "object_id", "field_name"])]

    def __str__(self) -> str:
        return f"{self.content_type.model} {self.object_id}.{self.field_name} for {self.user}"
