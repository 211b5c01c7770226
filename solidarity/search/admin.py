"""Back office: the index behind the people list's search, duplicate warnings (before a new
person is created, and after any save), merging two people, and the list of merges with their
undo."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from solidarity.documentation.models import Person
from solidarity.safety.access import scoped, sections_for

from . import services
from .merge import MergeError, unmerge
from .models import MergeRecord, Target


def merge_url(a: int, b: int) -> str:
    return reverse("search_admin:merge") + "?" + urlencode({"a": a, "b": b})


def merge_selected(
    modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Person]
) -> HttpResponse | None:
    pks = sorted(queryset.values_list("pk", flat=True))
    if len(pks) != 2:
        messages.error(request, _("Select exactly two people to merge."))
        return None
    return HttpResponseRedirect(merge_url(pks[0], pks[1]))


class PersonSearchMixin:
    """For the people's ModelAdmin: index search, duplicate warnings and the merge action."""

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        found, may_have_duplicates = super().get_search_results(  # type: ignore[misc]
            request, queryset, search_term
        )
        term = " ".join(search_term.split())
        if term:
            hits = services.search(term, public_only=False, limit=200, targets=(Target.PERSON,))
            if hits:
                found = found | queryset.filter(pk__in=[h.pk for h in hits])
        return found, may_have_duplicates

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[ModelForm[Any]]:
        if obj is None:
            among = scoped(Person.objects.all(), request.user, "view")
            base: type[ModelForm[Any]] = kwargs.get("form") or self.form  # type: ignore[attr-defined]
            kwargs["form"] = type("NewPersonForm", (DuplicateCheckForm, base), {"among": among})
        form: type[ModelForm[Any]] = super().get_form(  # type: ignore[misc]
            request, obj, change=change, **kwargs
        )
        return form

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)  # type: ignore[misc]
        if obj is not None:
            return fieldsets
        # Shown only when adding: the box is how a user says "I saw the warning, this is
        # someone else" (namesakes exist), so that a second record is never created unwarned.
        return [*fieldsets, (_("Possible duplicates"), {"fields": ("confirm_new_person",)})]

    def save_related(
        self, request: HttpRequest, form: ModelForm[Any], formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)  # type: ignore[misc]
        warn_duplicates(request, form.instance)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions: dict[str, Any] = super().get_actions(request)  # type: ignore[misc]
        if sections_for(request.user, "delete"):
            actions["merge_selected"] = (
                merge_selected,
                "merge_selected",
                gettext_lazy("Merge the two selected people"),
            )
        return actions


class DuplicateCheckForm(forms.ModelForm):  # type: ignore[type-arg]
    """The add form for a person: refuses to create a likely duplicate until confirmed."""

    among: QuerySet[Person]
    confirm_new_person = forms.BooleanField(
        required=False,
        label=gettext_lazy("This is a different person"),
        help_text=gettext_lazy("Tick only after checking the possible duplicates listed above."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if cleaned.get("confirm_new_person"):
            return cleaned
        parts = (cleaned.get(f) or "" for f in ("given_name", "patronymic", "family_name"))
        name = " ".join(p for p in parts if p)
        if not name:
            return cleaned
        found = [
            d
            for d in services.find_duplicates([name], cleaned.get("birth_year"), self.among)
            if d.likely
        ]
        if found:
            listed = "; ".join(
                f"{d.name}{f' ({d.birth_year})' if d.birth_year else ''}: {d.reason}" for d in found
            )
            raise ValidationError(
                _(
                    "This person may already be recorded — %(people)s. Open that record "
                    "instead, or tick “This is a different person” and save again."
                )
                % {"people": listed},
                code="likely_duplicate",
            )
        return cleaned


def warn_duplicates(request: HttpRequest, person: Person) -> None:
    """Name the user's people that may be this one, each with why and a link to merge."""
    among = scoped(Person.objects.all(), request.user, "view")
    found = services.find_duplicates(
        services.name_forms(person), person.birth_year, among, exclude=person.pk
    )
    if not found:
        return
    may_merge = bool(sections_for(request.user, "delete"))
    items = format_html_join(
        "",
        '<li><a href="{}">{}</a>{}: {}{}{}</li>',
        (
            (
                reverse("admin:documentation_person_change", args=[d.pk]),
                d.name,
                f" ({d.birth_year})" if d.birth_year else "",
                _("likely the same person") + ", " if d.likely else "",
                d.reason,
                format_html(
                    ' — <a href="{}">{}</a>', merge_url(person.pk, d.pk), _("compare and merge")
                )
                if may_merge
                else "",
            )
            for d in found
        ),
    )
    messages.warning(
        request,
        format_html(
            "{}<ul>{}</ul>",
            _("%(name)s may already be recorded:") % {"name": person.full_name},
            items,
        ),
    )


@admin.register(MergeRecord)
class MergeRecordAdmin(admin.ModelAdmin[MergeRecord]):
    list_display = ("removed_name", "kept", "reason", "merged_by", "merged_at", "unmerged_at")
    readonly_fields = (
        "kept",
        "removed_id",
        "removed_name",
        "reason",
        "merged_by",
        "merged_at",
        "unmerged_by",
        "unmerged_at",
        "moved",
        "deleted",
        "created",
        "filled",
    )
    exclude = ("removed",)
    actions = ("undo",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[MergeRecord]:
        sections = sections_for(request.user, "delete")
        return super().get_queryset(request).filter(kept__section__in=sections)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(sections_for(request.user, "delete"))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(sections_for(request.user, "delete"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=gettext_lazy("Undo the selected merges"), permissions=["view"])
    def undo(self, request: HttpRequest, queryset: QuerySet[MergeRecord]) -> None:
        sections = sections_for(request.user, "delete")
        for record in queryset.order_by("-merged_at", "-pk"):
            if record.removed.get("fields", {}).get("section") not in sections:
                messages.error(request, _("%(record)s: not your section.") % {"record": record})
                continue
            try:
                restored = unmerge(record, user=request.user)
            except MergeError as error:
                messages.error(request, f"{record}: {error}")
            else:
                messages.success(
                    request,
                    _("The merge was undone: %(name)s is a record of its own again.")
                    % {"name": restored.full_name},
                )
