"""The name index and the record of merged people.

`NameKey` holds the keys of :func:`solidarity.search.names.name_keys` for every name form of
every person, organisation, place and event, so that a search looks candidates up by key
instead of scanning names. It is derived data: :mod:`.services` rebuilds a record's rows
whenever the record or its name forms change, and `solidarity reindex` rebuilds them all.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from solidarity.documentation.models import Event, Organisation, Person, Place


class Target(models.TextChoices):
    PERSON = "person", _("person")
    ORGANISATION = "organisation", _("organisation")
    PLACE = "place", _("place")
    EVENT = "event", _("event")


class NameKey(models.Model):
    """One index key of one name form of one record.

    The foreign keys do nothing on delete: rows are written and removed in bulk by the
    services (a cascade would load and signal every key), and a record's keys are removed
    in the same transaction as the record itself (signals.py).
    """

    key = models.CharField(_("key"), max_length=200)
    target = models.CharField(_("target"), max_length=12, choices=Target.choices)
    person = models.ForeignKey(
        Person,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("person"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisation"),
    )
    place = models.ForeignKey(
        Place,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("place"),
    )
    event = models.ForeignKey(
        Event,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("event"),
    )
    name = models.CharField(
        _("name"), max_length=300, help_text=_("The name form (or title) this key was made from.")
    )
    # Copied from the record, so that the public search filters in the index itself and a
    # private record's name form can never be read on its way to the public site.
    published = models.BooleanField(_("published"), default=False)
    keys_version = models.PositiveSmallIntegerField(_("keys version"), default=0)

    class Meta:
        indexes = [
            # Covering: a key's records are read from the index alone (services._lookup).
            models.Index(
                fields=["key", "published", "target", "person", "organisation", "place", "event"],
                name="search_namekey_key",
            ),
            models.Index(fields=["target", "person"], name="search_namekey_person"),
            models.Index(fields=["target", "organisation"], name="search_namekey_organisation"),
            models.Index(fields=["target", "place"], name="search_namekey_place"),
            models.Index(fields=["target", "event"], name="search_namekey_event"),
        ]
        verbose_name = _("name key")
        verbose_name_plural = _("name keys")

    def __str__(self) -> str:
        return f"{self.key} → {self.name}"


class MergeRecord(models.Model):
    """Two person records merged into one, with what moved where so that it can be undone.

    `moved` lists, per related model and field, the ids of the rows that pointed at the
    removed record; `removed` is the removed record as it was (Django's serialised form);
    `deleted` holds rows that were identical on both sides (a name form, a citation of the
    same source) and were dropped, `created` the rows the merge added, and `filled` the
    kept record's blank fields that took the removed record's values, with their old values.
    """

    # Protected: while a merge can still be undone, the record it would split must stay.
    kept = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("kept record")
    )
    removed_id = models.PositiveBigIntegerField(_("ID of the removed record"))
    removed_name = models.CharField(_("name of the removed record"), max_length=400)
    removed = models.JSONField(_("removed record"), default=dict)
    moved = models.JSONField(_("moved rows"), default=list)
    deleted = models.JSONField(_("deleted rows"), default=list)
    created = models.JSONField(_("added rows"), default=list)
    filled = models.JSONField(_("filled fields"), default=dict)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("merged by"),
    )
    merged_at = models.DateTimeField(_("merged at"), auto_now_add=True)
    unmerged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("unmerged by"),
    )
    unmerged_at = models.DateTimeField(_("unmerged at"), null=True, blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]
        verbose_name = _("merge of two people")
        verbose_name_plural = _("merges of people")

    def __str__(self) -> str:
        return f"{self.removed_name} → {self.kept}"
