"""The back office of the documentation domain.

Layout follows the field classification (solidarity.core.classification): what may be published
comes first, then the section and publication flag, then internal notes (collapsed), then the
personal and sealed fields under a warning. Every fact (a `Sourced` record) is edited together
with its citations and cannot be saved without one. Django admin saves the main form, the
inlines and the change log in one transaction, so a failure anywhere leaves nothing half-saved.

Who sees what is decided by `solidarity.safety` alone: every queryset here goes through
`scoped`, every permission through the policy, and another section's object answers 404. Being a
superuser grants nothing here; a role in a section does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminTextInputWidget
from django.contrib.contenttypes.admin import GenericTabularInline
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.db.models.functions import ExtractYear
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from solidarity.audit.columns import reads
from solidarity.audit.services import record_personal_read
from solidarity.core.classification import FieldClass, field_class, fields_of_class
from solidarity.core.fields import PARTIAL_DATE_HELP, PartialDateField
from solidarity.core.links import WEB_PAGE_MESSAGE
from solidarity.core.models import Record, Section
from solidarity.core.partialdate import MAX_DAY, MIN_DAY, PartialDate
from solidarity.safety.access import (
    can,
    note_refusal,
    readable_classes,
    scoped,
    sections_for,
)
from solidarity.safety.crypto import DecryptionError
from solidarity.safety.keys import (
    KeyRefused,
    is_recipient,
    may_read_sealed,
    read_sealed,
    unlocked_key,
)
from solidarity.safety.policy import kind_of
from solidarity.safety.resilience import shortfall_message
from solidarity.safety.section_move import (
    SectionMoveRefused,
    plan_move,
    reseal_moved,
    sealed_names,
)
from solidarity.safety.slugs import form_for, settle
from solidarity.search.admin import PersonSearchMixin

from .forms import CitationFormSet, CitedInlineForm, ConstraintInlineFormSet, SourcedChildFormSet
from .models import (
    Act,
    Citation,
    Detention,
    DetentionFacility,
    Event,
    Involvement,
    Membership,
    Organisation,
    OrganisationRelation,
    PaceCriterion,
    Participation,
    Person,
    PersonName,
    Place,
    Prosecution,
    Recognition,
    Source,
    SourceFile,
    Testimony,
)
from .services import derive_status_timeline, status_timeline
from .source_files import SourceFileForm, download_link
from .vocabularies import EventType, PersonStatus

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldOpts
    from django.utils.functional import _StrOrPromise

    Fieldsets = list[tuple[_StrOrPromise | None, _FieldOpts]]
    _ModelAdmin = admin.ModelAdmin[Any]
    _TabularInline = admin.TabularInline[Any, Any]
else:  # Django's admin classes are not subscriptable at run time.
    _ModelAdmin = admin.ModelAdmin
    _TabularInline = admin.TabularInline

PARTIAL_DATE_FORMS = _(
    "Write the date as precisely as the source gives it: 2011-12-16 or 16 December 2011, "
    "2012-06 or June 2012, 2002, c. 2002, between 2011 and 2012, before 5 March 2012, "
    "after 2012."
)
SENSITIVE_WARNING = _(
    "Never publish these fields, quote them or copy them into any public text. Where a person "
    "in hiding can be found could get them detained or killed; contact details reach them "
    "directly."
)
UNKNOWN = _("unknown")
CITATION_FIELDS = ("cite_source", "cite_reliability", "cite_locator")


# -- Layout from the field classification ------------------------------------------------------


def _editable(model: type[models.Model], name: str) -> bool:
    field = model._meta.get_field(name)
    return bool(getattr(field, "editable", False)) and not field.auto_created


def classified_fieldsets(
    model: type[models.Model], *public_groups: tuple[_StrOrPromise | None, Sequence[str]]
) -> Fieldsets:
    """Fieldsets with the given public groups first, then the rest by class.

    A public group may hold read-only panels (names that are not model fields) but never a
    field classed anything other than public: that is refused when the admin is loaded.
    """
    model_fields = {field.name for field in model._meta.get_fields()}
    for _title, names in public_groups:
        for name in names:
            if name in model_fields and field_class(model, name) is not FieldClass.PUBLIC:
                raise ImproperlyConfigured(
                    f"{model.__name__}.{name} is classed {field_class(model, name)}, "
                    "so it cannot be shown among the public fields."
                )
    fieldsets: Fieldsets = [(title, {"fields": tuple(names)}) for title, names in public_groups]
    if issubclass(model, Record):
        fieldsets.append(
            (
                _("Section and publication"),
                {
                    "fields": ("section", "is_public"),
                    "description": _(
                        "Only the fields above ever reach the public site, and only once "
                        "“public” is ticked."
                    ),
                },
            )
        )
    internal = [
        name
        for name in fields_of_class(model, FieldClass.INTERNAL)
        if name not in {"section", "is_public"} and _editable(model, name)
    ]
    if internal:
        fieldsets.append(
            (
                _("Internal"),
                {
                    "classes": ["collapse"],
                    "fields": tuple(internal),
                    "description": _("For staff of the owning section only; never published."),
                },
            )
        )
    sensitive = [
        name
        for name in fields_of_class(model, FieldClass.PERSONAL, FieldClass.SEALED)
        if _editable(model, name)
    ]
    if sensitive:
        fieldsets.append(
            (
                _("Never to be published"),
                {"fields": tuple(sensitive), "description": SENSITIVE_WARNING},
            )
        )
    return fieldsets


def partial_date_help(field_help: str) -> str:
    forms_help = str(PARTIAL_DATE_FORMS)
    if not field_help or str(field_help) == str(PARTIAL_DATE_HELP):
        return forms_help
    return f"{field_help} {forms_help}"


def _partial_date_kwargs(db_field: models.Field[Any, Any], kwargs: dict[str, Any]) -> None:
    kwargs.setdefault("help_text", partial_date_help(str(db_field.help_text)))
    kwargs.setdefault(
        "widget", AdminTextInputWidget(attrs={"placeholder": gettext("e.g. June 2012")})
    )


def _case_variants(term: str) -> set[str]:
    """Other spellings of `term` that differ only in letter case.

    SQLite compares only ASCII letters without regard to case, so "мухамедзянов" would not find
    "Мухамедзянов" there; PostgreSQL would. Searching the usual case forms as well gives the same
    answers on both.
    """
    if term.isascii():
        return set()
    return {term.lower(), term.upper(), term.title(), term.capitalize()} - {term}


def _admin_url(obj: models.Model) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def _admin_url_if_any(obj: models.Model) -> str | None:
    """The change page of `obj`, or None for a model this back office does not edit."""
    try:
        return _admin_url(obj)
    except NoReverseMatch:
        return None


def _add_url(model: type[models.Model], **initial: object) -> str:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
    return f"{url}?{urlencode(initial)}" if initial else url


def _known(value: object) -> str:
    return str(value) if value not in (None, "") else str(UNKNOWN)


# -- Base classes ------------------------------------------------------------------------------


# The request the admin is answering, for read-only panels (which Django calls without it).
_request: ContextVar[HttpRequest | None] = ContextVar("documentation_admin_request", default=None)


def _viewer() -> Any:
    request = _request.get()
    return request.user if request is not None else None


def visible(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Rows of `queryset` that the user of the current admin request may view."""
    return scoped(queryset, _viewer(), "view")


def _choices(model: type[models.Model], request: HttpRequest) -> QuerySet[Any] | None:
    """What a foreign key to `model` may point to for this user, or None to leave it alone."""
    if model is Section:
        allowed = sections_for(request.user, "add") | sections_for(request.user, "change")
        return Section.objects.filter(pk__in=allowed)
    if kind_of(model) is not None:
        return scoped(model._default_manager.all(), request.user, "view")
    return None


def _readable(
    request: HttpRequest, model: type[models.Model], obj: Any, fieldsets: Any
) -> Fieldsets:
    """Fieldsets without the fields whose class the user's role in obj's section cannot read."""
    classes = readable_classes(request.user, obj)
    model_fields = {f.name for f in model._meta.get_fields()}
    result: Fieldsets = []
    for title, options in fieldsets:
        names = tuple(
            name
            for name in options["fields"]
            if not isinstance(name, str)
            or name not in model_fields
            or field_class(model, name) in classes
        )
        if names:
            kept: _FieldOpts = {**options, "fields": names}  # type: ignore[typeddict-item]
            result.append((title, kept))
    return result


def _personal_names(model: type[models.Model], fieldsets: Fieldsets) -> list[str]:
    """The fields of class personal among those the fieldsets show (a line of several fields
    is a tuple)."""
    try:
        personal = set(fields_of_class(model, FieldClass.PERSONAL))
    except KeyError:  # a model outside the classification has no personal field to name
        return []
    shown = [
        name
        for _title, options in fieldsets
        for entry in options["fields"]
        for name in ((entry,) if isinstance(entry, str) else entry)
    ]
    return [name for name in shown if name in personal]


def _rendered(response: HttpResponse) -> HttpResponse:
    # Read-only panels run while the template renders; a TemplateResponse renders lazily, after
    # the view returned, so it is rendered here while the request is still known to them.
    if isinstance(response, TemplateResponse):
        response.render()
    return response


class SectionMoveForm:
    """Put first among a ModelForm's bases for a model with sealed fields: a record holding
    sealed values changes section only resealed for the new one (`safety.section_move`), else
    the form says why. Otherwise the old section's coordinators and recovery key would go on
    opening the values, and the new section's could not."""

    section_move_request: HttpRequest | None = None
    cleaned_data: dict[str, Any]
    instance: models.Model

    def clean(self) -> Any:
        cleaned = super().clean()  # type: ignore[misc]
        section = self.cleaned_data.get("section")
        request = self.section_move_request
        self.sealed_reseal: dict[str, str] = {}
        if request is not None and isinstance(section, Section):
            try:
                self.sealed_reseal = plan_move(
                    request.user, unlocked_key(request), self.instance, section.pk
                )
            except SectionMoveRefused as error:
                self.add_error(None, str(error))  # type: ignore[attr-defined]
        return cleaned


class DocumentationAdmin(_ModelAdmin):
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scoped(super().get_queryset(request), request.user, "view")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can(request.user, "view", self.model)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can(request.user, "view", self.model, obj) or can(
            request.user, "change", self.model, obj
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return can(request.user, "add", self.model)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can(request.user, "change", self.model, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can(request.user, "delete", self.model, obj)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = _readable(request, self.model, obj, super().get_fieldsets(request, obj))
        if obj is not None:
            # Who was shown whose contacts (names of the fields only, once per request).
            record_personal_read(request.user, obj, _personal_names(self.model, fieldsets))
        return fieldsets

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        # A global "slug already exists" would tell a user of one section what another holds
        # (D6): for a user who cannot see every section, no such error, a random ending instead.
        form = form_for(request.user, self.model, kwargs.get("form") or self.form)
        if sealed_names(self.model):
            attrs = {"section_move_request": request, "__module__": form.__module__}
            form = type(form.__name__, (SectionMoveForm, form), attrs)
        kwargs["form"] = form
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        settle(request.user, obj, adding=not change)
        super().save_model(request, obj, form, change)
        # Moved with sealed values: sealed again for the new section, in the admin's transaction.
        reseal = getattr(form, "sealed_reseal", None)
        if reseal:
            short = reseal_moved(obj, reseal)
            if short is not None:
                messages.warning(request, shortfall_message(short))

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField[Any] | None:
        choices = _choices(db_field.related_model, request)
        if choices is not None:
            kwargs.setdefault("queryset", choices)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _visible_or_404(self, request: HttpRequest, object_id: str | None) -> None:
        # Django's admin redirects to its index for a missing object, after checking the
        # permission in general; here another section's object is simply not found (D6).
        if object_id is not None and self.get_object(request, unquote(object_id)) is None:
            note_refusal(request.user, self.model, unquote(object_id), "view")
            raise Http404(f"No {self.opts.verbose_name} found.")

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        token = _request.set(request)
        try:
            self._visible_or_404(request, object_id)
            return _rendered(super().changeform_view(request, object_id, form_url, extra_context))
        finally:
            _request.reset(token)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        token = _request.set(request)
        try:
            return _rendered(super().changelist_view(request, extra_context))
        finally:
            _request.reset(token)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        self._visible_or_404(request, object_id)
        return super().delete_view(request, object_id, extra_context)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        self._visible_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def formfield_for_dbfield(
        self, db_field: models.Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        if isinstance(db_field, PartialDateField):
            _partial_date_kwargs(db_field, kwargs)
        elif isinstance(db_field, models.URLField):
            # An address typed without a scheme is taken as https, as browsers do; a refused one
            # (javascript:, data:...) is told why, not just "Enter a valid URL".
            kwargs.setdefault("assume_scheme", "https")
            kwargs.setdefault("error_messages", {"invalid": WEB_PAGE_MESSAGE})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        for variant in _case_variants(search_term):
            more, more_duplicates = super().get_search_results(request, queryset, variant)
            found = found | more
            may_have_duplicates = may_have_duplicates or more_duplicates
        return found, may_have_duplicates


class RecordAdmin(DocumentationAdmin):
    list_select_related: ClassVar[tuple[str, ...]] = ("section",)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        if "section" not in initial:
            sections = sorted(sections_for(request.user, "add"))[:2]
            if len(sections) == 1:
                initial["section"] = str(sections[0])
        return initial


class ScopedInline:
    """Inline rows through the access functions; permissions follow the parent object."""

    model: type[models.Model]
    parent_model: type[models.Model]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scoped(super().get_queryset(request), request.user, "view")  # type: ignore[misc]

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField[Any] | None:
        choices = _choices(db_field.related_model, request)
        if choices is not None:
            kwargs.setdefault("queryset", choices)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc,no-any-return]

    def _parent_may(self, request: HttpRequest, action: str, obj: Any) -> bool:
        return can(request.user, action, self.parent_model, obj)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._parent_may(request, "view", obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return self._parent_may(request, "add", None)
        return self._parent_may(request, "change", obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_add_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_add_permission(request, obj)


class TabularInline(ScopedInline, _TabularInline):
    extra = 0
    formset = ConstraintInlineFormSet

    def formfield_for_dbfield(
        self, db_field: models.Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        if isinstance(db_field, PartialDateField):
            _partial_date_kwargs(db_field, kwargs)
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class CitationInline(ScopedInline, GenericTabularInline):
    """The sources of one fact. Whoever may edit the fact may edit its citations: they are part
    of it, and a fact without them cannot be saved."""

    model = Citation
    # The stubs type this attribute for foreign-key inlines; a generic inline takes a generic
    # formset, as Django's own GenericInlineModelAdmin does.
    formset = CitationFormSet  # type: ignore[assignment]
    fields = ("source", "reliability", "locator", "quote")
    autocomplete_fields = ("source",)
    extra = 1
    verbose_name = _("source cited")
    verbose_name_plural = _("sources cited")
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2})}}


class CitedFilter(admin.SimpleListFilter):
    """Facts with and without a source: the admin refuses new unsourced facts, but imported
    ones may still lack one."""

    title = _("sources")
    parameter_name = "cited"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, Any]]:
        return [("yes", _("cites a source")), ("no", _("cites no source"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        cited = Exists(
            Citation.objects.filter(
                content_type=ContentType.objects.get_for_model(queryset.model),
                object_id=OuterRef("pk"),
            )
        )
        if self.value() == "yes":
            return queryset.filter(cited)
        if self.value() == "no":
            return queryset.filter(~cited)
        return queryset


FACT_FILTERS = (CitedFilter, "is_public", "section")


# -- Sources and places ------------------------------------------------------------------------


class SourceFileInline(TabularInline):
    """Documents kept with a source (a ruling, a photo, a scan): cleaned of metadata when saved,
    downloaded only through the back office, never published."""

    model = SourceFile
    form = SourceFileForm
    fields = ("file", "caption", "download", "uploaded_by", "uploaded_at")
    readonly_fields = ("download", "uploaded_by", "uploaded_at")
    verbose_name = _("file (never published)")
    verbose_name_plural = _("files (never published; metadata is removed on upload)")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A researcher may add a document to a source, but removing one destroys evidence:
        # that takes the right to delete the source itself (a coordinator's).
        return self._parent_may(request, "delete", obj)

    @admin.display(description=_("download"))
    def download(self, obj: SourceFile) -> SafeString:
        return download_link(obj)


@admin.register(Source)
class SourceAdmin(RecordAdmin):
    list_display = ("title", "publisher", "kind", "published", "section", "is_public")
    list_filter = ("kind", "is_public", "section")
    search_fields = ("title", "author", "publisher", "slug", "url")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("cited_for",)
    inlines = (SourceFileInline,)
    fieldsets = classified_fieldsets(
        Source,
        (
            None,
            (
                "title",
                "slug",
                "kind",
                "author",
                "publisher",
                "published",
                "accessed",
                "url",
                "language",
            ),
        ),
        (_("Facts citing this source"), ("cited_for",)),
    )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is SourceFile:
            for item in formset.save(commit=False):
                if item.pk is None:
                    item.uploaded_by = request.user
                item.save()
            for item in formset.deleted_objects:
                item.delete()
            return
        super().save_formset(request, form, formset, change)

    @admin.display(description=_("cited for"))
    def cited_for(self, obj: Source) -> SafeString:
        rows: list[dict[str, Any]] = []
        if obj.pk is not None:
            citations = obj.citations.select_related("content_type").prefetch_related("fact")
            for citation in citations:
                fact = citation.fact
                if fact is None or not can(_viewer(), "view", type(fact), fact):
                    continue
                rows.append(
                    {
                        "kind": fact._meta.verbose_name,
                        "fact": str(fact),
                        "url": _admin_url_if_any(fact),
                        "reliability": citation.get_reliability_display(),
                        "locator": citation.locator,
                    }
                )
        return render_to_string(
            "admin/documentation/source/cited_for.html", {"rows": rows, "saved": obj.pk}
        )


@admin.register(Place)
class PlaceAdmin(RecordAdmin):
    list_display = ("name_en", "name_ru", "kind", "country_code", "parent", "is_public")
    list_filter = ("kind", "is_public", "section")
    list_select_related = ("section", "parent")
    search_fields = ("name_en", "name_ru", "name_kk", "slug")
    autocomplete_fields = ("parent",)
    prepopulated_fields = {"slug": ("name_en",)}
    fieldsets = classified_fieldsets(
        Place,
        (None, ("name_en", "name_ru", "name_kk", "slug", "kind", "country_code", "parent")),
    )


@admin.register(DetentionFacility)
class DetentionFacilityAdmin(RecordAdmin):
    list_display = ("name_en", "place", "is_public", "section")
    list_filter = ("is_public", "section")
    list_select_related = ("section", "place")
    search_fields = ("name_en", "name_ru", "name_kk", "slug", "postal_address")
    autocomplete_fields = ("place",)
    prepopulated_fields = {"slug": ("name_en",)}
    fieldsets = classified_fieldsets(
        DetentionFacility,
        (None, ("name_en", "name_ru", "name_kk", "slug", "place", "postal_address")),
    )


@admin.register(PaceCriterion)
class PaceCriterionAdmin(DocumentationAdmin):
    list_display = ("code", "label_en")
    search_fields = ("code", "label_en", "label_ru", "label_kk")
    fieldsets = classified_fieldsets(
        PaceCriterion, (None, ("code", "label_en", "label_ru", "label_kk"))
    )


# -- Organisations -----------------------------------------------------------------------------


class OrganisationRelationInline(TabularInline):
    model = OrganisationRelation
    fk_name = "organisation"
    form = CitedInlineForm
    formset = SourcedChildFormSet
    fields = ("kind", "other", "start", "end", "is_public", *CITATION_FIELDS)
    autocomplete_fields = ("other",)
    show_change_link = True


@admin.register(Organisation)
class OrganisationAdmin(RecordAdmin):
    list_display = ("name_en", "abbreviation", "kind", "founded", "country", "is_public", "section")
    list_filter = ("kind", *FACT_FILTERS)
    list_select_related = ("section", "country")
    search_fields = ("name_en", "name_ru", "name_kk", "abbreviation", "slug")
    autocomplete_fields = ("country",)
    prepopulated_fields = {"slug": ("name_en",)}
    inlines = (OrganisationRelationInline, CitationInline)
    fieldsets = classified_fieldsets(
        Organisation,
        (None, ("name_en", "name_ru", "name_kk", "abbreviation", "slug", "kind")),
        (
            _("Profile"),
            (
                "founded",
                "dissolved",
                "country",
                "ideology",
                "political_position",
                "colours",
                "website",
                "newspaper",
            ),
        ),
        (_("Summary"), ("summary_en", "summary_ru", "summary_kk")),
    )


@admin.register(OrganisationRelation)
class OrganisationRelationAdmin(RecordAdmin):
    list_display = ("organisation", "kind", "other", "start", "end", "is_public")
    list_filter = ("kind", *FACT_FILTERS)
    list_select_related = ("section", "organisation", "other")
    search_fields = (
        "organisation__name_en",
        "organisation__name_ru",
        "organisation__name_kk",
        "other__name_en",
        "other__name_ru",
        "other__name_kk",
    )
    autocomplete_fields = ("organisation", "other")
    inlines = (CitationInline,)
    fieldsets = classified_fieldsets(
        OrganisationRelation, (None, ("organisation", "kind", "other", "start", "end"))
    )


# -- People ------------------------------------------------------------------------------------

PERSON_SEARCH = ("given_name", "patronymic", "family_name", "names__name", "slug")


def _person_search(prefix: str) -> tuple[str, ...]:
    return tuple(f"{prefix}__{name}" for name in PERSON_SEARCH if name != "slug")


class PersonNameInline(TabularInline):
    model = PersonName
    fields = ("name", "language", "script", "kind", "is_public")
    extra = 1
    verbose_name = _("other name form")
    verbose_name_plural = _("name forms (every script and spelling the sources use)")


class MembershipInline(TabularInline):
    model = Membership
    form = CitedInlineForm
    formset = SourcedChildFormSet
    fields = ("organisation", "role", "start", "end", "is_public", *CITATION_FIELDS)
    autocomplete_fields = ("organisation",)
    show_change_link = True


@admin.register(Person)
class PersonAdmin(PersonSearchMixin, RecordAdmin):
    list_display = ("full_name", "name_forms", "status_now", "birth_year", "is_public", "section")
    list_filter = FACT_FILTERS
    search_fields = PERSON_SEARCH
    prepopulated_fields = {"slug": ("given_name", "family_name")}
    readonly_fields = ("status_timeline", "prisoner_record", "whereabouts_sealed")
    inlines = (PersonNameInline, MembershipInline, CitationInline)
    fieldsets = classified_fieldsets(
        Person,
        (None, ("given_name", "patronymic", "family_name", "slug")),
        (
            _("Occupation and summary"),
            (
                "occupation_en",
                "occupation_ru",
                "occupation_kk",
                "summary_en",
                "summary_ru",
                "summary_kk",
            ),
        ),
        (_("Status and prisoner record"), ("status_timeline", "prisoner_record")),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Person]:
        acts = Act.objects.select_related("event")
        return (
            super().get_queryset(request).prefetch_related("names", Prefetch("acts", queryset=acts))
        )

    def get_fieldsets(self, request: HttpRequest, obj: Person | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if FieldClass.SEALED in readable_classes(request.user, obj):
            # Whereabouts are not a form field: they are sealed, read and written on their own
            # page after unlocking (solidarity.safety); this panel says so and links to it.
            sensitive = _("Never to be published")
            if not any(title == sensitive for title, _opts in fieldsets):
                fieldsets = [
                    *fieldsets,
                    (sensitive, {"fields": (), "description": SENSITIVE_WARNING}),
                ]
            fieldsets = [
                (title, {**opts, "fields": (*opts["fields"], "whereabouts_sealed")})
                if title == sensitive
                else (title, opts)
                for title, opts in fieldsets
            ]
        if obj is None:
            # Status and prisoner record are derived from saved records; a new person has none.
            return [fs for fs in fieldsets if "status_timeline" not in fs[1]["fields"]]
        return fieldsets

    @admin.display(description=_("whereabouts"))
    def whereabouts_sealed(self, obj: Person) -> SafeString:
        request = _request.get()
        context: dict[str, Any] = {"saved": obj.pk is not None, "stored": False}
        if obj.pk is not None and request is not None and may_read_sealed(request.user, obj):
            url = reverse("safety:sealed", args=["documentation", "person", obj.pk, "whereabouts"])
            context.update(
                stored=bool(obj.whereabouts),
                recipient=is_recipient(request.user, obj, "whereabouts"),
                url=url,
                unlock_url=f"{reverse('safety:unlock')}?next={request.get_full_path()}",
                key_url=reverse("safety:key"),
            )
            private_key = unlocked_key(request)
            if context["stored"] and context["recipient"] and private_key is not None:
                try:
                    context["value"] = read_sealed(request.user, obj, "whereabouts", private_key)
                except (KeyRefused, DecryptionError) as error:
                    context["problem"] = str(error)
        return render_to_string("admin/documentation/person/whereabouts_sealed.html", context)

    @admin.display(description=_("name"), ordering="family_name")
    @reads("given_name", "patronymic", "family_name")
    def full_name(self, obj: Person) -> str:
        return obj.full_name

    @admin.display(description=_("other name forms"))
    @reads("names__name")
    def name_forms(self, obj: Person) -> str:
        return ", ".join(name.name for name in obj.names.all())

    @admin.display(description=_("status now"))
    @reads("acts__type", "acts__date", "acts__event__date", "acts__event__section")
    def status_now(self, obj: Person) -> str:
        sections = sections_for(_viewer(), "view")
        changes = derive_status_timeline(
            [act for act in obj.acts.all() if act.event.section_id in sections]
        )
        status = changes[-1].status if changes else PersonStatus.FREE
        return str(PersonStatus(status).label)

    @admin.display(description=_("status timeline"))
    def status_timeline(self, obj: Person) -> SafeString:
        changes = status_timeline(obj) if obj.pk is not None else []
        events = visible(Event.objects.all()).in_bulk({change.event_id for change in changes})
        changes = [change for change in changes if change.event_id in events]
        rows = [
            {
                "date": change.date.display(),
                "status": PersonStatus(change.status).label,
                "act": EventType(change.act_type).label,
                "event": str(events[change.event_id]),
                "url": _admin_url(events[change.event_id]),
            }
            for change in changes
        ]
        return render_to_string(
            "admin/documentation/person/status_timeline.html",
            {"rows": rows, "add_event_url": _add_url(Event)},
        )

    @admin.display(description=_("prisoner record"))
    def prisoner_record(self, obj: Person) -> SafeString:
        context: dict[str, Any] = {
            "prosecutions": [
                {
                    "url": _admin_url(p),
                    "charge": _known(p.charge),
                    "article": _known(p.code_article),
                    "court": _known(p.court),
                    "opened": _known(p.opened),
                    "verdict": _known(p.verdict_date),
                    "outcome": p.get_outcome_display(),
                    "sentence": _known(p.sentence),
                }
                for p in visible(obj.prosecutions.all())
            ],
            "detentions": [
                {
                    "url": _admin_url(d),
                    "facility": _known(d.facility),
                    "start": _known(d.start),
                    "end": _known(d.end),
                    "correspondence": d.get_correspondence_display(),
                }
                for d in visible(obj.detentions.select_related("facility"))
            ],
            "recognitions": [
                {
                    "url": _admin_url(r),
                    "by": str(r.recognised_by),
                    "date": _known(r.date),
                    "criteria": _known(", ".join(c.code for c in r.criteria.all())),
                }
                for r in visible(
                    obj.recognitions.select_related("recognised_by").prefetch_related("criteria")
                )
            ],
            "add_prosecution_url": _add_url(Prosecution, person=obj.pk, section=obj.section_id),
            "add_detention_url": _add_url(Detention, person=obj.pk, section=obj.section_id),
            "add_recognition_url": _add_url(Recognition, person=obj.pk, section=obj.section_id),
        }
        return render_to_string("admin/documentation/person/prisoner_record.html", context)


@admin.register(Membership)
class MembershipAdmin(RecordAdmin):
    list_display = ("person", "role", "organisation", "start", "end", "is_public")
    list_filter = FACT_FILTERS
    list_select_related = ("section", "person", "organisation")
    search_fields = (
        *_person_search("person"),
        "organisation__name_en",
        "organisation__name_ru",
        "organisation__name_kk",
        "role",
    )
    autocomplete_fields = ("person", "organisation")
    inlines = (CitationInline,)
    fieldsets = classified_fieldsets(
        Membership, (None, ("person", "organisation", "role", "start", "end"))
    )


# -- Events ------------------------------------------------------------------------------------


class YearFilter(admin.SimpleListFilter):
    """Events that may have happened in a year: "c. 2002" appears under 2001 to 2003, and
    "between 2011 and 2012" under both years, so that no candidate is hidden."""

    title = _("year")
    parameter_name = "year"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        events = scoped(Event.objects.all(), request.user, "view")
        starts = events.exclude(date_earliest=MIN_DAY).annotate(y=ExtractYear("date_earliest"))
        ends = events.exclude(date_latest=MAX_DAY).annotate(y=ExtractYear("date_latest"))
        years = set(starts.values_list("y", flat=True)) | set(ends.values_list("y", flat=True))
        return [(str(year), str(year)) for year in sorted(years, reverse=True)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit() or not 1 <= int(value) <= MAX_DAY.year:
            raise IncorrectLookupParameters(f"“{value}” is not a year.")
        year = int(value)
        return queryset.filter(
            date_earliest__lte=dt.date(year, 12, 31), date_latest__gte=dt.date(year, 1, 1)
        )


class ActInline(TabularInline):
    model = Act
    fields = ("type", "victim", "victim_description", "date")
    autocomplete_fields = ("victim",)
    show_change_link = True
    verbose_name_plural = _("acts (one per victim; perpetrators on each act's own page)")


class ParticipationInline(TabularInline):
    model = Participation
    fields = ("person", "organisation", "role")
    autocomplete_fields = ("person", "organisation")
    verbose_name_plural = _("other participants (witnesses, counsel, organisers, supporters)")


@admin.register(Event)
class EventAdmin(RecordAdmin):
    list_display = ("title_en", "date_shown", "precision", "type", "place", "is_public", "section")
    list_filter = ("type", YearFilter, *FACT_FILTERS)
    list_select_related = ("section", "place")
    ordering = ("date_latest", "date_earliest", "slug")
    search_fields = ("title_en", "title_ru", "title_kk", "slug", "place_detail")
    autocomplete_fields = ("place", "part_of")
    prepopulated_fields = {"slug": ("title_en",)}
    inlines = (ActInline, ParticipationInline, CitationInline)
    fieldsets = classified_fieldsets(
        Event,
        (None, ("title_en", "slug", "type", "date", "place", "place_detail", "part_of")),
        (
            _("Translations and summary"),
            ("title_ru", "title_kk", "summary_en", "summary_ru", "summary_kk"),
        ),
    )

    @admin.display(description=_("date"), ordering="date_latest")
    @reads("date")
    def date_shown(self, obj: Event) -> str:
        return obj.date.display() if isinstance(obj.date, PartialDate) else str(UNKNOWN)

    @admin.display(description=_("precision"))
    @reads("date")
    def precision(self, obj: Event) -> str:
        return obj.date.precision.label if isinstance(obj.date, PartialDate) else str(UNKNOWN)


class InvolvementInline(TabularInline):
    model = Involvement
    fields = ("perpetrator", "perpetrator_organisation", "perpetrator_description", "degree")
    autocomplete_fields = ("perpetrator", "perpetrator_organisation")
    extra = 1
    verbose_name_plural = _(
        "perpetrators (one per row: a person, an organisation or a description)"
    )


@admin.register(Act)
class ActAdmin(DocumentationAdmin):
    list_display = ("__str__", "event", "type", "victim", "date_shown")
    list_filter = ("type",)
    list_select_related = ("event", "victim")
    search_fields = (
        *_person_search("victim"),
        "victim_description",
        "event__title_en",
        "event__title_ru",
        "event__title_kk",
    )
    autocomplete_fields = ("event", "victim")
    inlines = (InvolvementInline,)
    fieldsets = classified_fieldsets(
        Act, (None, ("event", "type", "victim", "victim_description", "date"))
    )

    @admin.display(description=_("date"), ordering="event__date_latest")
    @reads("date", "event__date")
    def date_shown(self, obj: Act) -> str:
        return obj.effective_date.display()


# -- Prisoner records --------------------------------------------------------------------------


class PrisonerRecordAdmin(RecordAdmin):
    empty_value_display = str(UNKNOWN)
    list_select_related: ClassVar[tuple[str, ...]] = ("section", "person")
    autocomplete_fields: ClassVar[tuple[str, ...]] = ("person",)
    inlines = (CitationInline,)
    search_fields: ClassVar[tuple[str, ...]] = _person_search("person")


@admin.register(Prosecution)
class ProsecutionAdmin(PrisonerRecordAdmin):
    list_display = (
        "person",
        "charge",
        "code_article",
        "opened",
        "verdict_date",
        "outcome",
        "sentence",
        "is_public",
    )
    list_filter = ("outcome", *FACT_FILTERS)
    search_fields = (*_person_search("person"), "charge", "code_article", "court")
    autocomplete_fields = ("person", "event")
    fieldsets = classified_fieldsets(
        Prosecution,
        (
            None,
            (
                "person",
                "event",
                "charge",
                "code_article",
                "court",
                "opened",
                "verdict_date",
                "outcome",
                "sentence",
                "appeal",
            ),
        ),
    )


@admin.register(Detention)
class DetentionAdmin(PrisonerRecordAdmin):
    list_display = ("person", "facility", "start", "end", "correspondence", "is_public")
    list_filter = ("correspondence", *FACT_FILTERS)
    list_select_related = ("section", "person", "facility")
    autocomplete_fields = ("person", "facility")
    fieldsets = classified_fieldsets(
        Detention, (None, ("person", "facility", "start", "end", "correspondence"))
    )


@admin.register(Recognition)
class RecognitionAdmin(PrisonerRecordAdmin):
    list_display = ("person", "recognised_by", "date", "is_public")
    list_filter = ("recognised_by", *FACT_FILTERS)
    list_select_related = ("section", "person", "recognised_by")
    autocomplete_fields = ("person", "recognised_by")
    formfield_overrides = {models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple}}
    fieldsets = classified_fieldsets(
        Recognition, (None, ("person", "recognised_by", "date", "criteria", "reasons"))
    )


# -- Testimony: sealed, read and written only on the sealed-value pages ------------------------


def sealed_panel(obj: models.Model, field: str) -> SafeString:
    """The state of one sealed value for the current user, with the link to its own page.

    The value itself is never shown here: reading it takes the sealed-value page
    (solidarity.safety.views.sealed_value), behind a fresh password and second factor, and is
    recorded there.
    """
    request = _request.get()
    context: dict[str, Any] = {"saved": obj.pk is not None}
    if obj.pk is not None and request is not None and may_read_sealed(request.user, obj):
        opts = obj._meta
        context.update(
            url=reverse("safety:sealed", args=[opts.app_label, opts.model_name, obj.pk, field]),
            stored=bool(getattr(obj, field)),
            recipient=is_recipient(request.user, obj, field),
            key_url=reverse("safety:key"),
        )
    return render_to_string("admin/documentation/sealed_field.html", context)


@admin.register(Testimony)
class TestimonyAdmin(RecordAdmin):
    list_display = ("reference", "person", "event", "given_on", "section")
    list_filter = ("section",)
    list_select_related = ("section", "person", "event")
    search_fields = ("reference",)
    autocomplete_fields = ("person", "event")
    readonly_fields = ("witness_sealed", "account_sealed")
    # Nothing of a testimony is public: its fields are all internal, and the sealed values are
    # panels that link to their own pages.
    fieldsets = [
        (
            _("Internal"),
            {
                "classes": ["collapse"],
                "fields": ("reference", "section", "person", "event", "given_on"),
                "description": _("For staff of the owning section only; never published."),
            },
        ),
        (
            _("Never to be published"),
            {"fields": ("witness_sealed", "account_sealed"), "description": SENSITIVE_WARNING},
        ),
    ]

    def get_fieldsets(self, request: HttpRequest, obj: Testimony | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if FieldClass.SEALED in readable_classes(request.user, obj):
            return fieldsets
        return [
            (title, opts) for title, opts in fieldsets if "witness_sealed" not in opts["fields"]
        ]

    @admin.display(description=_("witness"))
    def witness_sealed(self, obj: Testimony) -> SafeString:
        return sealed_panel(obj, "witness")

    @admin.display(description=_("account"))
    def account_sealed(self, obj: Testimony) -> SafeString:
        return sealed_panel(obj, "account")
