"""API tokens: a name and scopes for a user, and only a hash of the secret.

The secret is shown once when the token is made. The database keeps its SHA-256: a copy of
the database (a stolen backup, a seized server) yields no usable token, and since the secret
is 256 random bits, a plain fast hash is enough (there is nothing to brute-force, unlike a
password).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(
        _("name"),
        max_length=100,
        help_text=_("What the token is for, e.g. 'London section mailer'."),
    )
    scopes = models.JSONField(_("scopes"), default=list)
    # The first characters of the secret ("sol_" and 8 random ones), to tell tokens apart in
    # lists; the 35 random characters not shown still hold 210 bits.
    prefix = models.CharField(_("prefix"), max_length=12, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked is None
