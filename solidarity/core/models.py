"""What every record in Solidarity has: an owning section and a publication flag."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .translation import Translated, tr


class Section(models.Model):
    """The home organisation or a national section of the International.

    Every protected record belongs to exactly one section; access rules (the safety work) grant
    people roles per section, so an insider in one section cannot read another's data.
    """

    class Kind(models.TextChoices):
        HOME = "home", _("home organisation")
        NATIONAL = "national", _("national section")
        INTERNATIONAL = "international", _("international")

    slug = models.SlugField(_("slug"), unique=True)
    name_en = models.CharField(_("name (en)"), max_length=200)
    name_ru = models.CharField(_("name (ru)"), max_length=200, blank=True)
    name_kk = models.CharField(_("name (kk)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    country = models.CharField(_("country (ISO 3166 code)"), max_length=2, blank=True)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("section")
        verbose_name_plural = _("sections")

    def __str__(self) -> str:
        return self.name_en

    @property
    def name(self) -> Translated:
        return tr(self, "name")


class Record(models.Model):
    """Base of every documented record.

    `is_public` is the only way anything reaches the public site, and only the fields classed
    public in `solidarity.core.classification` go with it.
    """

    section = models.ForeignKey(
        Section, on_delete=models.PROTECT, related_name="+", verbose_name=_("section")
    )
    is_public = models.BooleanField(
        _("public"),
        default=False,
        help_text=_("Shown on the public site. Only fields classed public are ever shown."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True
