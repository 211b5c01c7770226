"""The newspaper *Solidarity*: articles, their images, numbered issues, topics and bylines.

One Article is one text in one language; translations of a text are separate articles that
share a `translation_group`, so each has its own slug, byline and schedule. An article is public
only when it is marked public and its `publish_at` has passed (`services.is_published`). The
byline is the name the editors print, often a pseudonym: who really wrote a text is never
stored here. Field classes live in `solidarity.core.classification`, as for every model.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from solidarity.core.models import Record
from solidarity.core.translation import Translated, tr
from solidarity.documentation.models import Event, Person

LANGUAGE_CHOICES = [("en", "English"), ("ru", "Русский"), ("kk", "Қазақша")]


class Topic(models.Model):
    slug = models.SlugField(_("slug"), unique=True)
    name_en = models.CharField(_("name (en)"), max_length=100)
    name_ru = models.CharField(_("name (ru)"), max_length=100, blank=True)
    name_kk = models.CharField(_("name (kk)"), max_length=100, blank=True)

    class Meta:
        ordering = ["name_en"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")

    def __str__(self) -> str:
        return self.name_en

    @property
    def name(self) -> Translated:
        return tr(self, "name")


class Byline(models.Model):
    """The name an article is signed with, chosen by the editors; possibly a pseudonym."""

    slug = models.SlugField(_("slug"), unique=True)
    name = models.CharField(
        _("name"),
        max_length=200,
        help_text=_(
            "Printed as the author. Use a pseudonym whenever the real name could endanger the "
            "writer: the real identity is never recorded here."
        ),
    )
    bio_en = models.TextField(_("about (en)"), blank=True)
    bio_ru = models.TextField(_("about (ru)"), blank=True)
    bio_kk = models.TextField(_("about (kk)"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("byline")
        verbose_name_plural = _("bylines")

    def __str__(self) -> str:
        return self.name


class Issue(Record):
    """A numbered issue of the newspaper: "No. 12 (2012)"."""

    slug = models.SlugField(_("slug"), unique=True, help_text=_("E.g. 2012-12 for No. 12 of 2012."))
    number = models.PositiveIntegerField(_("number"))
    year = models.PositiveSmallIntegerField(_("year"))
    title_en = models.CharField(_("title (en)"), max_length=300, blank=True)
    title_ru = models.CharField(_("title (ru)"), max_length=300, blank=True)
    title_kk = models.CharField(_("title (kk)"), max_length=300, blank=True)
    published = models.DateField(_("published"), null=True, blank=True)
    internal_notes = models.TextField(_("internal notes"), blank=True)

    class Meta:
        ordering = ["-year", "-number"]
        # Per section, not across all of them: a global check would tell an editor which
        # numbers another section has used (threat model D6). Public addresses use the slug.
        constraints = [
            models.UniqueConstraint(
                fields=["section", "year", "number"],
                name="issue_number_once_per_year_and_section",
                violation_error_message=_(
                    "An issue with this number already exists this year in this section."
                ),
            )
        ]
        verbose_name = _("issue")
        verbose_name_plural = _("issues")

    def __str__(self) -> str:
        return f"No. {self.number} ({self.year})"

    @property
    def title(self) -> Translated:
        return tr(self, "title")


class Article(Record):
    uuid = models.UUIDField(_("UUID"), default=uuid4, unique=True, editable=False)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    language = models.CharField(_("language"), max_length=2, choices=LANGUAGE_CHOICES)
    # Articles sharing this value are translations of one another (one per language).
    translation_group = models.UUIDField(
        _("translation group"), default=uuid4, db_index=True, editable=False
    )
    title = models.CharField(_("title"), max_length=300)
    standfirst = models.TextField(
        _("standfirst"), blank=True, help_text=_("The short introduction printed under the title.")
    )
    body = models.TextField(
        _("body"),
        help_text=_("Markdown. Scripts, embedded frames and inline styles are removed on display."),
    )
    # The body as sanitised HTML, made when the article is saved (`save`), so that pages, feeds
    # and the mirror do not convert Markdown again; served only while its stamp is current
    # (`services.article_html`), which also says which renderer made it.
    body_html = models.TextField(_("body (HTML)"), blank=True, editable=False)
    body_html_stamp = models.CharField(_("HTML stamp"), max_length=64, blank=True, editable=False)
    byline = models.ForeignKey(
        Byline,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="articles",
        verbose_name=_("byline"),
    )
    issue = models.ForeignKey(
        Issue,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles",
        verbose_name=_("issue"),
    )
    topics = models.ManyToManyField(
        Topic, blank=True, related_name="articles", verbose_name=_("topics")
    )
    publish_at = models.DateTimeField(
        _("publish at"),
        null=True,
        blank=True,
        help_text=_(
            "Public from this moment if marked public; leave empty to keep it unpublished."
        ),
    )
    people = models.ManyToManyField(
        Person,
        blank=True,
        related_name="articles",
        help_text=_("People the article is about."),
        verbose_name=_("people"),
    )
    events = models.ManyToManyField(
        Event,
        blank=True,
        related_name="articles",
        help_text=_("Events the article is about."),
        verbose_name=_("events"),
    )
    internal_notes = models.TextField(_("internal notes"), blank=True)

    class Meta:
        ordering = ["-publish_at", "-id"]
        # Every public list asks for published articles, the latest first, a page at a time,
        # and the navigation counts them by language, month, issue and author. Partial indexes
        # in that order let the database walk just a page's entries and count from the index
        # alone: with `is_public` first, SQLite scanned the table (bodies and all, 90 ms at
        # 10,000 articles) and sorted it, for every newspaper page.
        indexes = [
            models.Index(
                # The columns the counts group by, so that they read the index alone: in
                # SQLite's rows they come after the body, on its overflow pages.
                fields=["-publish_at", "-id", "language", "issue", "byline"],
                condition=models.Q(is_public=True),
                name="article_published_latest",
            ),
            models.Index(
                fields=["language", "-publish_at", "-id"],
                condition=models.Q(is_public=True),
                name="article_published_language",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["translation_group", "language"],
                name="article_one_translation_per_language",
                violation_error_message=_("This text already has a translation in this language."),
            )
        ]
        verbose_name = _("article")
        verbose_name_plural = _("articles")

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Every way in (admin, commands, tests) passes here, so the stored HTML follows the body
        # and the renderer. (A path that skips save() leaves a stamp that no longer matches:
        # readers then convert the body themselves, and `rerender_articles` repairs the row.)
        from .services import refresh_body_html

        update_fields = kwargs.get("update_fields")
        if refresh_body_html(self) and update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "body_html", "body_html_stamp"}
        super().save(*args, **kwargs)


def _image_path(instance: Any, filename: str) -> str:
    # A random name: the uploader's file name can say where or by whom a photo was taken.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    return f"publishing/images/{uuid4().hex}.{suffix}"


class ArticleImage(models.Model):
    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="images", verbose_name=_("article")
    )
    # Null when the file was taken down (e.g. to protect someone shown); such rows are not shown.
    image = models.ImageField(_("image"), upload_to=_image_path, null=True, max_length=200)
    caption = models.CharField(_("caption"), max_length=500, blank=True)
    credit = models.CharField(_("credit"), max_length=200, blank=True)
    alt_text = models.CharField(_("description for blind readers"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["article", "position", "id"]
        verbose_name = _("article image")
        verbose_name_plural = _("article images")

    def __str__(self) -> str:
        return self.caption or self.alt_text or f"image {self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Every way in (admin, API, CLI) passes here, so no upload keeps its EXIF/GPS data.
        from .services import strip_image_metadata

        if self.image and not getattr(self.image, "_committed", True):
            self.image = strip_image_metadata(self.image)
        super().save(*args, **kwargs)


class ArticleCampaign(models.Model):
    """An article's link to a campaign it supports (generic, so that the newspaper does not
    depend on the campaigns app being installed)."""

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="campaign_links", verbose_name=_("article")
    )
    content_type = models.ForeignKey(
        ContentType,
        on_delete=models.CASCADE,
        limit_choices_to={"app_label": "campaigns", "model": "campaign"},
        verbose_name=_("content type"),
    )
    object_id = models.PositiveBigIntegerField(_("object ID"))
    campaign = GenericForeignKey("content_type", "object_id")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["article", "content_type", "object_id"],
                name="article_campaign_once",
                violation_error_message=_("The article is already linked to this campaign."),
            )
        ]
        verbose_name = _("article campaign")
        verbose_name_plural = _("article campaigns")

    def __str__(self) -> str:
        return f"{self.article} → {self.content_type.model} {self.object_id}"
