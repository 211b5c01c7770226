"""The audit log: one row per change or sealed read, chained by SHA-256.

Each entry's hash covers its own content and the previous entry's hash, so changing, removing or
reordering any entry breaks every hash after it (`solidarity audit verify`). A root attacker can
recompute the whole chain; the signed checkpoints kept off-server catch that (threat model D9).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    # Gapless from 1; the unique index is what makes a concurrent duplicate fail loudly instead
    # of forking the chain, should the append lock ever be bypassed.
    seq = models.PositiveBigIntegerField(_("sequence"), unique=True)
    timestamp = models.DateTimeField(_("time"))
    actor = models.CharField(_("actor"), max_length=200)
    # create, update, delete, m2m_add, m2m_remove, m2m_clear, sealed_read; free text rather
    # than choices, so that other apps can record their own (exports, grants, logins).
    action = models.CharField(_("action"), max_length=32)
    model = models.CharField(_("model"), max_length=100)
    object_pk = models.CharField(_("object id"), max_length=64)
    # Names of the fields concerned, never their values …
    fields = models.JSONField(_("fields"), default=list)
    # … except for fields classed public of a published record, which anyone can read anyway.
    values = models.JSONField(_("public values"), default=dict)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"#{self.seq} {self.actor} {self.action} {self.model} {self.object_pk}"
