"""The back office of the campaigns domain.

Changes with consequences go through `services`: an outcome is added through
`record_outcome` (which sets the demand's state), an urgent action update through
`publish_update` (which e-mails everyone who took part), exports through
`export_signatures_csv` (confirmed first, logged, and listed on the home page of everyone who
reads the section's signatures: `services.visible_exports`), erasure through `erase_supporter`
(logged). Supporters' submissions are read-only here: nobody edits what a supporter said.

Who sees what is decided by `solidarity.safety`, as in the documentation back office (whose
scoped admin and inline these classes reuse): every list goes through `scoped`, every
permission through the policy's campaigns kind, every choice of section or parent through
`choices_for`, and another section's object answers 404. A superuser without a role sees no
campaign, supporter or signature (threat model D5, D6).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import User
from django.contrib.contenttypes.admin import GenericTabularInline
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from solidarity.accounts.decorators import recent_auth_redirect
from solidarity.accounts.hosts import public_base_url
from solidarity.audit.columns import reads
from solidarity.core.classification import FieldClass
from solidarity.core.models import Section
from solidarity.documentation.admin import DocumentationAdmin, ScopedInline
from solidarity.documentation.models import Citation, Person
from solidarity.safety.access import (
    MULTI_PARENT_PATHS,
    get_for_user,
    readable_classes,
    scoped,
    sections_for,
    sections_reading,
)
from solidarity.safety.policy import Kind
from solidarity.safety.scoped_admin import SectionChoices

from . import intake, services
from .models import (
    Action,
    ActionSeries,
    Campaign,
    Demand,
    ErasureLog,
    ExportLog,
    LetterReport,
    Outcome,
    Petition,
    Rsvp,
    Signature,
    SignatureIntake,
    Supporter,
    Target,
    UrgentAction,
    UrgentActionUpdate,
    email_index,
)


def _base_url(request: HttpRequest) -> str:
    # The public site's, not this back-office host's: the links go out by e-mail (D11).
    return public_base_url(request)


def _staff(request: HttpRequest) -> User:
    # The admin site lets only signed-in staff this far.
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


class CampaignsAdmin(SectionChoices, DocumentationAdmin):
    """A campaigns page scoped to the user's sections, with the policy's campaigns rights."""


class ReadOnlyAdmin(CampaignsAdmin):
    """Records that only services write: they can be looked at, not added or changed."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# -- Campaigns, demands, outcomes -------------------------------------------------------------


class DemandInline(SectionChoices, ScopedInline, admin.StackedInline[Any, Any]):
    model = Demand
    extra = 0
    fields = [
        ("kind", "state_display"),
        ("person", "address"),
        "text_en",
        "text_ru",
        "text_kk",
        "demanded_on",
    ]
    readonly_fields = ["state_display"]
    autocomplete_fields = ["person"]

    @admin.display(description=_("state"))
    def state_display(self, obj: Demand) -> str:
        if not obj.pk:
            return gettext("open (change it by adding an outcome)")
        return obj.get_state_display()


@admin.register(Campaign)
class CampaignAdmin(CampaignsAdmin):
    list_display = ["title_en", "section", "started", "ended", "is_public", "dashboard_link"]
    list_filter = ["is_public", "section"]
    search_fields = ["title_en", "title_ru", "title_kk", "slug"]
    prepopulated_fields = {"slug": ["title_en"]}
    autocomplete_fields = ["organiser"]
    inlines = [DemandInline]
    fieldsets = [
        (None, {"fields": ["slug", "title_en", "title_ru", "title_kk"]}),
        (_("Summary"), {"fields": ["summary_en", "summary_ru", "summary_kk"]}),
        (None, {"fields": [("organiser", "hide_organiser"), ("started", "ended")]}),
        (_("Publication"), {"fields": ["section", "is_public"]}),
    ]

    @admin.display(description=_("dashboard"))
    @reads("id")
    def dashboard_link(self, obj: Campaign) -> str:
        url = reverse("admin:campaigns_campaign_dashboard", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Dashboard"))

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "<int:pk>/dashboard/",
                self.admin_site.admin_view(self.dashboard_view),
                name="campaigns_campaign_dashboard",
            )
        ]
        return extra + super().get_urls()

    def dashboard_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        # Another section's campaign is not found, as on its change page (D6).
        campaign = get_for_user(Campaign, request.user, pk, "view")
        board = _visible_board(request, services.campaign_dashboard(campaign))
        person: Person | None = None
        timeline: list[services.TimelineEntry] = []
        chosen = request.GET.get("person", "")
        if chosen.isdigit():
            person = get_for_user(Person, request.user, int(chosen), "view")
        elif len(board.people) == 1:
            person = board.people[0]
        if person is not None:
            timeline = _visible_entries(request, services.impact_timeline(person))
        most_actions = max((m.count for m in board.actions_by_month), default=0)
        most_signatures = max((m.count for m in board.signatures_by_month), default=0)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Dashboard: %(campaign)s") % {"campaign": campaign},
            "opts": self.model._meta,
            "original": campaign,
            "board": board,
            "person": person,
            "timeline": timeline,
            "action_bars": [
                (m, round(100 * m.count / most_actions) if most_actions else 0)
                for m in board.actions_by_month
            ],
            "signature_bars": [
                (m, round(100 * m.count / most_signatures) if most_signatures else 0)
                for m in board.signatures_by_month
            ],
        }
        return TemplateResponse(request, "campaigns/admin/dashboard.html", context)


def _visible_ids(request: HttpRequest, model: type[Model], ids: Iterable[Any]) -> set[Any]:
    rows = model._default_manager.filter(pk__in=set(ids))
    return set(scoped(rows, request.user, "view").values_list("pk", flat=True))


def _visible_board(request: HttpRequest, board: services.Dashboard) -> services.Dashboard:
    """The dashboard without the petitions, urgent actions and people of sections the user has
    no role in: a campaign's rows may belong to other sections than the campaign (D6). The
    monthly counts stay whole: they name nothing."""
    petitions = _visible_ids(request, Petition, (p.pk for p, _c, _p in board.petitions))
    urgent = _visible_ids(request, UrgentAction, (u.pk for u, _n in board.urgent_actions))
    people = _visible_ids(request, Person, (p.pk for p in board.people))
    return dataclasses.replace(
        board,
        petitions=[row for row in board.petitions if row[0].pk in petitions],
        urgent_actions=[row for row in board.urgent_actions if row[0].pk in urgent],
        people=[p for p in board.people if p.pk in people],
    )


def _visible_entries(
    request: HttpRequest, entries: list[services.TimelineEntry]
) -> list[services.TimelineEntry]:
    """The timeline entries whose record (named by its admin page) the user may view."""
    by_page: dict[str, set[Any]] = {}
    for entry in entries:
        by_page.setdefault(entry.admin_url_name, set()).add(entry.object_id)
    visible: set[tuple[str, Any]] = set()
    for page, ids in by_page.items():
        app_label, _sep, rest = page.removeprefix("admin:").partition("_")
        model = apps.get_model(app_label, rest.removesuffix("_change"))
        visible |= {(page, pk) for pk in _visible_ids(request, model, ids)}
    return [e for e in entries if (e.admin_url_name, e.object_id) in visible]


class OutcomeInline(ScopedInline, admin.TabularInline[Any, Any]):
    model = Outcome
    extra = 0
    fields = ("state", "event", "date", "note", "recorded_at", "recorded_by")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Demand)
class DemandAdmin(CampaignsAdmin):
    list_display = ["__str__", "campaign", "kind", "person", "demanded_on", "state"]
    list_filter = ["state", "kind", "campaign"]
    search_fields = ["text_en", "text_ru", "text_kk", "person__family_name", "address"]
    autocomplete_fields = ["person", "campaign"]
    readonly_fields = ["state"]
    inlines = [OutcomeInline]


class OutcomeForm(forms.ModelForm[Outcome]):
    class Meta:
        model = Outcome
        fields = ["demand", "state", "event", "date", "note"]

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        demand, state = self.cleaned_data.get("demand"), self.cleaned_data.get("state")
        if demand is not None and state:
            try:
                services.check_outcome(demand, state, self.cleaned_data.get("event"))
            except ValidationError as error:
                self.add_error(None, error)
        return data


@admin.register(Outcome)
class OutcomeAdmin(CampaignsAdmin):
    """Adding an outcome is how a demand's state changes; outcomes are history, not edited."""

    form = OutcomeForm
    list_display = ["demand", "state", "event", "date", "recorded_at", "recorded_by"]
    list_filter = ["state", "demand__campaign"]
    autocomplete_fields = ["demand", "event"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Outcome, form: Any, change: bool) -> None:
        created = services.record_outcome(
            obj.demand,
            obj.state,
            event=obj.event,
            date=obj.date,
            note=obj.note,
            user=_staff(request),
        )
        obj.pk = created.pk
        obj.date = created.date


# -- Targets and supporters ---------------------------------------------------------------------


@admin.register(Target)
class TargetAdmin(CampaignsAdmin):
    list_display = ["name", "kind", "holder", "country", "city", "language", "is_public"]
    list_filter = ["kind", "country", "language", "is_public"]
    search_fields = ["name", "holder", "city", "country"]
    fieldsets = [
        (None, {"fields": [("kind", "name"), "holder", ("country", "city")]}),
        (_("Writing to them"), {"fields": ["postal_address", "email", "salutation", "language"]}),
        (_("Publication"), {"fields": ["section", "is_public"]}),
        (_("Internal"), {"fields": ["internal_notes"], "classes": ["collapse"]}),
    ]


class EraseForm(forms.Form):
    email = forms.EmailField(label=_("The supporter's e-mail address"))
    confirm = forms.BooleanField(
        label=_("I understand that this cannot be undone."),
        error_messages={"required": _("Tick the box to confirm.")},
    )


def _reads_personal_data(request: HttpRequest, supporter: Supporter | None) -> bool:
    """May the user read a supporter's contact details: a role reading personal data in a
    section where this supporter signed, reported letters or replied (in any, for the list)."""
    sections = sections_reading(request.user, FieldClass.PERSONAL)
    if supporter is None or not sections:
        return bool(sections)
    condition = Q(pk__in=[])
    for child_path in MULTI_PARENT_PATHS["campaigns.Supporter"]:
        condition |= Q(**{f"{child_path}__in": sections})
    return Supporter.objects.filter(condition, pk=supporter.pk).exists()


@admin.register(Supporter)
class SupporterAdmin(ReadOnlyAdmin):
    list_display = ("name", "country", "language", "created_at", "unsubscribed_at")
    # Address, name and country are encrypted: a supporter is found by the keyed index of the
    # exact address, never by LIKE over a column (which would match nothing but ciphertext).
    search_fields = ["email_index"]
    search_help_text = _("A whole e-mail address (found only if typed in full).")
    readonly_fields = ("email", "name", "country", "language", "created_at", "unsubscribed_at")
    exclude = ["email_index"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # Editors and read-only roles do not read personal data (safety.policy.FIELD_CLASSES).
        if _reads_personal_data(request, obj):
            return self.readonly_fields
        return ("language", "created_at", "unsubscribed_at")

    def get_list_display(self, request: HttpRequest) -> tuple[str, ...]:
        if _reads_personal_data(request, None):
            return self.list_display
        return ("pk", "language", "created_at", "unsubscribed_at")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Supporter], search_term: str
    ) -> tuple[QuerySet[Supporter], bool]:
        if not search_term.strip():
            return queryset, False
        if "@" in search_term and _reads_personal_data(request, None):
            return queryset.filter(email_index=email_index(search_term)), False
        return queryset.none(), False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting a supporter row alone would leave their name on the signature's public
        # name and their comment: erasure goes through erase_supporter, on its own page.
        return False

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "erase/",
                self.admin_site.admin_view(self.erase_view),
                name="campaigns_supporter_erase",
            )
        ]
        return extra + super().get_urls()

    def erase_view(self, request: HttpRequest) -> HttpResponse:
        user = _staff(request)
        if not user.has_perm("campaigns.delete_supporter") or not may_erase(user):
            raise PermissionDenied
        form = EraseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            log = services.erase_supporter(form.cleaned_data["email"], user=user)
            if log.supporters == 0 and log.signatures == 0:
                messages.warning(request, gettext("No data was held for this address."))
            else:
                messages.success(
                    request,
                    gettext(
                        "Erased: %(supporters)s sets of contact details, %(signatures)s "
                        "signatures, %(letters)s letter reports and %(rsvps)s replies. Counts "
                        "are kept."
                    )
                    % {
                        "supporters": log.supporters,
                        "signatures": log.signatures,
                        "letters": log.letter_reports,
                        "rsvps": log.rsvps,
                    },
                )
            return HttpResponseRedirect(reverse("admin:campaigns_supporter_erase"))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Erase a supporter's data"),
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "campaigns/admin/erase.html", context)


def may_erase(user: User) -> bool:
    """Erasure wipes an address in every section at once, as the person asked: only someone who
    may delete campaigns data in every section may do it. Anyone less could destroy another
    section's supporters, and the counts the page reports would tell them whether an address
    signed there (threat model D6)."""
    everywhere = set(Section.objects.values_list("pk", flat=True))
    return bool(everywhere) and everywhere <= sections_for(user, "delete", Kind.CAMPAIGNS)


# -- Petitions ----------------------------------------------------------------------------------


# How recent the password and second factor must be for an export.
EXPORT_REAUTH = timedelta(minutes=5)


@admin.action(description=_("Export confirmed signatures (CSV, logged)"))
def export_signatures(
    modeladmin: PetitionAdmin, request: HttpRequest, queryset: QuerySet[Petition]
) -> HttpResponse | None:
    user = _staff(request)
    if queryset.count() != 1:
        modeladmin.message_user(
            request, gettext("Export one petition at a time."), level=messages.WARNING
        )
        return None
    petition = queryset.get()
    # The queryset is the changelist's, so scoped; the names and comments are personal data,
    # which a read-only or editor role may not read.
    if FieldClass.PERSONAL not in readable_classes(user, petition):
        modeladmin.message_user(
            request, gettext("You may not export signatures."), level=messages.ERROR
        )
        return None
    # A list of signers leaves the server with this response: a session left open on a laptop
    # or carried by a once-relayed phished code must prove itself again first (M10). The
    # action is a POST, which is not replayed: after re-authenticating the coordinator comes
    # back to the petition list and runs the export again.
    reauth = recent_auth_redirect(request, EXPORT_REAUTH)
    if reauth is not None:
        return reauth
    if request.POST.get("confirm") != "yes":
        return _confirm_export(modeladmin, request, petition)
    try:
        text, log = services.export_signatures_csv(petition, user)
    except PermissionError as error:
        modeladmin.message_user(request, str(error), level=messages.ERROR)
        return None
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    name = f"{log.petition.slug}-signatures-{timezone.now():%Y%m%d-%H%M}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _confirm_export(
    modeladmin: PetitionAdmin, request: HttpRequest, petition: Petition
) -> TemplateResponse:
    # Before the list leaves, the exporter is told how many rows go and that the section's
    # other coordinators will see the export on their home page (M10): whoever exports with a
    # phished account learns that it will be noticed, and an honest coordinator is not
    # surprised by the question a colleague may ask.
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": gettext("Export the signatures of %(petition)s") % {"petition": petition},
        "opts": modeladmin.model._meta,
        "petition": petition,
        "rows": services.exportable_signatures(petition).count(),
        "days": settings.SOLIDARITY_EXPORT_NOTICE_DAYS,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "campaigns/admin/export_confirm.html", context)


@admin.register(Petition)
class PetitionAdmin(CampaignsAdmin):
    list_display = ["title_en", "campaign", "confirmed", "goal", "accepting", "is_public"]
    list_filter = ["accepting", "is_public", "campaign"]
    search_fields = ["title_en", "title_ru", "title_kk", "slug"]
    prepopulated_fields = {"slug": ["title_en"]}
    autocomplete_fields = ["campaign", "target"]
    actions = [export_signatures]
    fieldsets = [
        (None, {"fields": ["campaign", "slug", "title_en", "title_ru", "title_kk"]}),
        (_("Text"), {"fields": ["text_en", "text_ru", "text_kk"]}),
        (None, {"fields": ["target", ("goal", "hide_count"), "accepting"]}),
        (_("Publication"), {"fields": ["section", "is_public"]}),
    ]

    @admin.display(description=_("confirmed signatures"))
    @reads("signatures__status")
    def confirmed(self, obj: Petition) -> int:
        return services.count_signatures(obj)


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ["pk", "petition", "status", "public_name", "created_at", "erased"]
    list_filter = ["status", "erased", "petition"]
    fields = [
        "petition",
        "status",
        "public_name",
        "public_name_consent",
        "contact_consent",
        "processing_consent",
        "comment",
        "created_at",
        "confirmed_at",
        "erased",
    ]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The comment is personal data: only roles reading it in the petition's section see
        # it, decrypted (editors and read-only roles do not; safety.policy.FIELD_CLASSES).
        if obj is not None and FieldClass.PERSONAL in readable_classes(request.user, obj.petition):
            return self.fields
        return [name for name in self.fields if name != "comment"]


@admin.register(SignatureIntake)
class SignatureIntakeAdmin(CampaignsAdmin):
    """Signatures received by the public form and not yet recorded by the worker.

    Normally empty, or nearly: the worker records each within seconds. A row that stays has
    failed ATTEMPTS times (its failure names the error class; the log has the traceback's
    place); what the supporter typed is never shown here. Once the cause is fixed, "record
    again" lets the worker try once more. The retention purge deletes a row still failed
    SOLIDARITY_RETENTION["failed_received_signatures"] (7 days) after its last failure.
    """

    list_display = ["pk", "petition", "received_at", "attempts", "failure", "failed_at"]
    list_filter = ["petition"]
    fields = ["petition", "received_at", "attempts", "failure", "failed_at"]
    readonly_fields = ["petition", "received_at", "attempts", "failure", "failed_at"]
    actions = ["record_again"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # It was acknowledged to a supporter: erasing an address (Supporters) removes it, and
        # so does the retention purge once it has failed for long enough.
        return False

    @admin.action(description=_("Record again"), permissions=["change"])
    def record_again(self, request: HttpRequest, queryset: QuerySet[SignatureIntake]) -> None:
        count = intake.retry(queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d received signature will be recorded again.",
                "%(count)d received signatures will be recorded again.",
                count,
            )
            % {"count": count},
        )


@admin.register(ExportLog)
class ExportLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "petition", "user", "rows"]
    list_filter = ["petition"]


@admin.register(ErasureLog)
class ErasureLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "supporters", "signatures", "letter_reports", "rsvps"]


# -- Urgent actions -----------------------------------------------------------------------------


class UpdateInline(ScopedInline, admin.TabularInline[Any, Any]):
    model = UrgentActionUpdate
    extra = 0
    fields = ("date", "text_en", "is_closure", "sent_at", "recipients")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(UrgentAction)
class UrgentActionAdmin(CampaignsAdmin):
    list_display = ["number", "title_en", "campaign", "deadline", "status", "letters"]
    list_filter = ["status", "campaign"]
    search_fields = ["number", "title_en", "title_ru", "title_kk"]
    prepopulated_fields = {"slug": ["number"]}
    autocomplete_fields = ["campaign", "person"]
    filter_horizontal = ["targets"]
    readonly_fields = ["status"]
    inlines = [UpdateInline]
    fieldsets = [
        (None, {"fields": [("number", "slug"), "campaign", "person", "status"]}),
        (None, {"fields": [("issued_on", "deadline")]}),
        (_("Title"), {"fields": ["title_en", "title_ru", "title_kk"]}),
        (
            _("What happened"),
            {"fields": ["what_happened_en", "what_happened_ru", "what_happened_kk"]},
        ),
        (
            _("Recommended points (the letter)"),
            {"fields": ["recommended_points_en", "recommended_points_ru", "recommended_points_kk"]},
        ),
        (_("Targets"), {"fields": ["targets"]}),
        (_("Publication"), {"fields": ["section", "is_public"]}),
    ]

    @admin.display(description=_("letters reported"))
    @reads("letter_reports__letters")
    def letters(self, obj: UrgentAction) -> int:
        return services.letters_reported(obj)


@admin.register(UrgentActionUpdate)
class UrgentActionUpdateAdmin(CampaignsAdmin):
    """Publishing an update e-mails it to everyone who took part, so it is never edited."""

    list_display = ["urgent_action", "date", "is_closure", "sent_at", "recipients"]
    list_filter = ["is_closure", "urgent_action"]
    autocomplete_fields = ["urgent_action"]
    fields = ["urgent_action", "date", "text_en", "text_ru", "text_kk", "is_closure"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: UrgentActionUpdate, form: Any, change: bool
    ) -> None:
        created = services.publish_update(
            obj.urgent_action,
            date=obj.date,
            text_en=obj.text_en,
            text_ru=obj.text_ru,
            text_kk=obj.text_kk,
            is_closure=obj.is_closure,
            base_url=_base_url(request),
        )
        obj.pk = created.pk


@admin.register(LetterReport)
class LetterReportAdmin(ReadOnlyAdmin):
    list_display = ["urgent_action", "letters", "target", "created_at", "erased"]
    list_filter = ["urgent_action", "erased"]
    fields = ["urgent_action", "target", "letters", "contact_consent", "created_at", "erased"]


# -- Actions ------------------------------------------------------------------------------------


class CitationInline(SectionChoices, ScopedInline, GenericTabularInline):
    model = Citation
    extra = 0
    fields = ["source", "reliability", "quote", "locator"]
    autocomplete_fields = ["source"]
    verbose_name = _("source (photo, report, link)")
    verbose_name_plural = _("sources (photos, reports, links)")


@admin.register(ActionSeries)
class ActionSeriesAdmin(CampaignsAdmin):
    list_display = ["title_en", "campaign", "is_public"]
    search_fields = ["title_en", "title_ru", "title_kk"]
    prepopulated_fields = {"slug": ["title_en"]}
    autocomplete_fields = ["campaign"]


@admin.register(Action)
class ActionAdmin(CampaignsAdmin):
    list_display = [
        "title_en",
        "kind",
        "starts_at",
        "place",
        "section",
        "participants",
        "status",
        "is_public",
    ]
    list_filter = ["kind", "status", "campaign", "series", "section", "is_public"]
    search_fields = ["title_en", "title_ru", "title_kk", "address", "place__name_en"]
    date_hierarchy = "starts_at"
    autocomplete_fields = ["campaign", "series", "place"]
    inlines = [CitationInline]
    fieldsets = [
        (None, {"fields": [("campaign", "series"), ("kind", "status")]}),
        (_("Title"), {"fields": ["title_en", "title_ru", "title_kk"]}),
        (_("Where and when"), {"fields": [("place", "address"), ("starts_at", "ends_at")]}),
        (None, {"fields": ["participants"]}),
        (
            _("Organising section and publication"),
            {"fields": ["section", "is_public"]},
        ),
    ]


@admin.register(Rsvp)
class RsvpAdmin(ReadOnlyAdmin):
    list_display = ["action", "created_at", "erased"]
    list_filter = ["action__campaign", "erased"]
    fields = ["action", "created_at", "erased"]
