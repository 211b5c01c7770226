"""The newspaper's back office: write, schedule, illustrate and link articles.

Editors choose the byline an article is printed under; the form never asks who really wrote
it. Images are stripped of EXIF/GPS data when saved (`ArticleImage.save`). The preview shows
the body exactly as readers will get it, after sanitising.

Access goes through `solidarity.safety` with the policy's publishing kind, on the documentation
back office's scoped admin: issues and articles belong to a section (their images and campaign
links follow the article), another section's answer 404, and a superuser without a role sees
none. Topics and bylines belong to no section: they are printed, public names shared by the
whole newspaper, so anyone whose role allows an action on the newspaper in some section may do
it on them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from solidarity.audit.columns import reads
from solidarity.documentation.admin import DocumentationAdmin, ScopedInline, classified_fieldsets
from solidarity.safety.access import scoped
from solidarity.safety.sanitise import (
    refuse_large_image,
    refuse_too_many_pixels,
    refuse_unsupported_format,
)
from solidarity.safety.scoped_admin import SectionChoices

from . import services
from .models import Article, ArticleCampaign, ArticleImage, Byline, Issue, Topic

if TYPE_CHECKING:
    _TabularInline = admin.TabularInline[Any, Any]
else:  # Django's admin classes are not subscriptable at run time.
    _TabularInline = admin.TabularInline


class PublishingAdmin(SectionChoices, DocumentationAdmin):
    """A newspaper page scoped to the user's sections, with the policy's publishing rights."""


def _for_viewer(form: type[forms.ModelForm], request: HttpRequest) -> type[forms.ModelForm]:  # type: ignore[type-arg]
    # The form's own choices (not model fields, so not seen by formfield_for_foreignkey) are
    # narrowed to what this user may view; a per-request subclass keeps requests apart.
    return type(form.__name__, (form,), {"viewer": request.user})


def _campaign_model() -> type[models.Model] | None:
    try:
        return apps.get_model("campaigns", "Campaign")
    except LookupError:
        return None


class ArticleImageField(forms.ImageField):
    """An image field that refuses an upload over the byte limit before Pillow opens it, then
    one over 40 megapixels or in a format we do not re-encode (GIF, BMP...) from its header,
    so that each gets its reason next to the field: a refusal only when the model strips the
    metadata on save would be a server error."""

    def to_python(self, data: File[bytes] | None) -> File[bytes] | None:
        if isinstance(data, UploadedFile) and data.size is not None:
            # Django has received the whole upload by now (held in memory up to
            # FILE_UPLOAD_MAX_MEMORY_SIZE, on disk past it); decoding it is what is spared.
            refuse_large_image(data.size)
        checked = super().to_python(data)
        image = getattr(checked, "image", None)
        if image is not None:
            refuse_too_many_pixels(image.width, image.height)
            refuse_unsupported_format(image.format or "")
        return checked


class ArticleImageInline(ScopedInline, _TabularInline):
    model = ArticleImage
    extra = 0
    fields = ("image", "caption", "credit", "alt_text", "position")
    formfield_overrides = {models.ImageField: {"form_class": ArticleImageField}}


class ArticleCampaignForm(forms.ModelForm):  # type: ignore[type-arg]
    # Not named "campaign": that is the model's generic relation, which a form cannot edit.
    linked_campaign: forms.ModelChoiceField[models.Model] = forms.ModelChoiceField(
        queryset=None, label=_("campaign")
    )

    viewer: Any = None

    class Meta:
        model = ArticleCampaign
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        campaign_model = _campaign_model()
        field = cast(forms.ModelChoiceField, self.fields["linked_campaign"])  # type: ignore[type-arg]
        if campaign_model is not None:
            field.queryset = scoped(campaign_model._default_manager.all(), self.viewer, "view")
            if self.instance.pk:
                field.initial = self.instance.object_id

    def save(self, commit: bool = True) -> ArticleCampaign:
        campaign = self.cleaned_data["linked_campaign"]
        self.instance.content_type = ContentType.objects.get_for_model(campaign)
        self.instance.object_id = campaign.pk
        instance: ArticleCampaign = super().save(commit)
        return instance


class ArticleCampaignInline(ScopedInline, _TabularInline):
    model = ArticleCampaign
    form = ArticleCampaignForm
    fields = ("linked_campaign",)
    extra = 0
    verbose_name = _("campaign this article supports")
    verbose_name_plural = _("campaigns this article supports")

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        kwargs["form"] = _for_viewer(self.form, request)
        return super().get_formset(request, obj, **kwargs)


class ArticleForm(forms.ModelForm):  # type: ignore[type-arg]
    translation_of = forms.ModelChoiceField(
        queryset=Article.objects.all(),
        required=False,
        label=_("translation of"),
        help_text=_(
            "The same text in another language. The two (and their other translations) link "
            "to each other on the public site."
        ),
    )

    viewer: Any = None

    class Meta:
        model = Article
        # The admin's fieldsets choose what is shown; this form only adds `translation_of`.
        exclude: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["translation_of"])  # type: ignore[type-arg]
        field.queryset = scoped(Article.objects.all(), self.viewer, "view")
        if self.instance.pk:
            field.queryset = field.queryset.exclude(pk=self.instance.pk)
            sibling = (
                Article.objects.filter(translation_group=self.instance.translation_group)
                .exclude(pk=self.instance.pk)
                .first()
            )
            field.initial = sibling.pk if sibling else None

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        original = self.cleaned_data.get("translation_of")
        language = self.cleaned_data.get("language")
        if original is not None and language == original.language:
            self.add_error("translation_of", _("A translation must be in another language."))
        return cleaned


@admin.register(Article)
class ArticleAdmin(PublishingAdmin):
    form = ArticleForm
    fieldsets = [
        *classified_fieldsets(
            Article,
            (None, ("title", "slug", "language", "standfirst", "body", "preview")),
            (
                _("Publication"),
                ("byline", "issue", "topics", "publish_at", "status", "translation_of"),
            ),
            (_("What the article is about"), ("people", "events")),
        )
    ]
    readonly_fields = ("preview", "status")
    prepopulated_fields = {"slug": ("title",)}
    list_display = ("title", "language", "status", "publish_at", "issue", "byline")
    list_filter = ("language", "is_public", "issue", "topics")
    search_fields = ("title", "standfirst", "slug")
    date_hierarchy = "publish_at"
    autocomplete_fields = ("people", "events")
    filter_horizontal = ("topics",)
    inlines = [ArticleImageInline, ArticleCampaignInline]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        return _for_viewer(super().get_form(request, obj, change, **kwargs), request)

    @admin.display(description=_("status"))
    @reads("is_public", "publish_at")
    def status(self, obj: Article) -> str:
        return services.publication_status(obj) if obj.pk else ""

    @admin.display(description=_("preview (as readers will see it)"))
    def preview(self, obj: Article) -> SafeString:
        if not obj.body:
            return format_html("<em>{}</em>", _("Save to see the preview."))
        # render_markdown's allow-list has sanitised the body.
        return mark_safe(services.render_markdown(obj.body))  # noqa: S308

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        original = form.cleaned_data.get("translation_of")
        article = form.instance
        if original is not None and original.translation_group != article.translation_group:
            services.link_translation(article, original)


@admin.register(Issue)
class IssueAdmin(PublishingAdmin):
    fieldsets = classified_fieldsets(
        Issue, (None, ("number", "year", "slug", "title_en", "title_ru", "title_kk", "published"))
    )
    list_display = ("__str__", "published", "is_public")
    search_fields = ("slug", "title_en", "title_ru", "title_kk")


@admin.register(Topic)
class TopicAdmin(PublishingAdmin):
    list_display = ("name_en", "name_ru", "name_kk", "slug")
    search_fields = ("name_en", "name_ru", "name_kk", "slug")
    prepopulated_fields = {"slug": ("name_en",)}


@admin.register(Byline)
class BylineAdmin(PublishingAdmin):
    list_display = ("name", "slug")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
