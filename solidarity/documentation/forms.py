"""Back-office forms and formsets of the documentation domain.

Two rules of the domain are checked here because the model layer cannot see them on its own:

- a fact (any `Sourced` record) cites at least one source, which needs the whole citations
  formset, not one row;
- a unique constraint holds across the rows of one submitted formset, with the constraint's own
  message ("This person is already listed in this role.") rather than Django's generic
  "Please correct the duplicate data", and without reaching the database as an IntegrityError.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.contenttypes.forms import BaseGenericInlineFormSet
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.formsets import DELETION_FIELD_NAME
from django.forms.models import BaseInlineFormSet, BaseModelFormSet
from django.utils.translation import gettext_lazy as _

from .models import Citation, Source, Sourced
from .vocabularies import Reliability

if TYPE_CHECKING:
    _InlineFormSet = BaseInlineFormSet[Any, Any, Any]
    _GenericInlineFormSet = BaseGenericInlineFormSet[Citation, Any]
    _ModelForm = forms.ModelForm[Any]
else:  # Django's form classes are not subscriptable at run time.
    _InlineFormSet = BaseInlineFormSet
    _GenericInlineFormSet = BaseGenericInlineFormSet
    _ModelForm = forms.ModelForm

SOURCE_REQUIRED = _("Cite at least one source for this fact.")
SOURCE_ALREADY_CITED = _("This source is already cited for this fact.")


def _is_deleted(formset: BaseModelFormSet[Any, Any], form: forms.BaseForm) -> bool:
    return bool(formset.can_delete and form.cleaned_data.get(DELETION_FIELD_NAME))


def _row_key(
    form: forms.BaseForm, fields: Sequence[str], parent_fields: Collection[str]
) -> tuple[Any, ...] | None:
    """The values a unique constraint compares, or None when it cannot apply to this row.

    Fields that link the row to the parent are the same for every row of the formset, so they
    are left out; a NULL value never collides (SQL treats NULLs as distinct).
    """
    key: list[Any] = []
    for name in fields:
        if name in parent_fields:
            continue
        if name not in form.cleaned_data:
            return None
        value = form.cleaned_data[name]
        if value is None:
            return None
        key.append(value.pk if isinstance(value, models.Model) else value)
    return tuple(key) or None


def flag_duplicate_rows(
    formset: BaseModelFormSet[Any, Any], parent_fields: Collection[str]
) -> None:
    """Mark each row that repeats an earlier row of the same formset, with the message of the
    unique constraint it would break."""
    constraints = [
        constraint
        for constraint in formset.model._meta.constraints
        if isinstance(constraint, models.UniqueConstraint)
        and constraint.fields
        and constraint.condition is None
    ]
    for constraint in constraints:
        seen: set[tuple[Any, ...]] = set()
        for form in formset.forms:
            if not form.is_valid() or _is_deleted(formset, form):
                continue
            key = _row_key(form, constraint.fields, parent_fields)
            if key is None:
                continue
            if key in seen:
                form.add_error(
                    None,
                    ValidationError(constraint.get_violation_error_message(), code="unique"),
                )
            else:
                seen.add(key)


class ConstraintInlineFormSet(_InlineFormSet):
    """An inline formset whose duplicate rows get the unique constraint's own message."""

    def validate_unique(self) -> None:
        flag_duplicate_rows(self, {self.fk.name})
        # Django's check still covers plain `unique=True` fields; rows flagged above are no
        # longer valid, so it does not report them a second time.
        super().validate_unique()


class SourcedChildFormSet(ConstraintInlineFormSet):
    """Rows that are records themselves (a membership on a person's page): a new row belongs
    to the section of the record it is entered on."""

    def save_new(self, form: Any, commit: bool = True) -> Any:
        if not form.instance.section_id:
            form.instance.section_id = self.instance.section_id
        return super().save_new(form, commit)


class CitationFormSet(_GenericInlineFormSet):
    """The citations of one fact: at least one source, and each source once."""

    def validate_unique(self) -> None:
        # The unique constraint spans content_type and object_id, which are not form fields,
        # so Django would skip it and let a repeated source reach the database.
        flag_duplicate_rows(self, {"content_type", "object_id"})
        super().validate_unique()

    def clean(self) -> None:
        super().clean()
        cited = 0
        for form in self.forms:
            if _is_deleted(self, form):
                continue
            # A row with errors is a citation the user meant to give; its own message says
            # what to fix, so it is not also reported as missing.
            if form.errors or form.cleaned_data.get("source") is not None:
                cited += 1
        if not cited:
            raise ValidationError(SOURCE_REQUIRED, code="no_source")


class CitedInlineForm(_ModelForm):
    """A fact entered as a row on another record's page, with the source that states it.

    Django admin cannot nest the citations formset inside an inline row, so a new row names its
    first source here; further sources are added on the record's own page.
    """

    cite_source = forms.ModelChoiceField(
        label=_("source"),
        queryset=Source.objects.all(),
        required=False,
        widget=AutocompleteSelect(Citation._meta.get_field("source"), admin.site),
        help_text=_("Who says so. Add more sources on the record's own page."),
    )
    cite_reliability = forms.ChoiceField(
        label=_("reliability"), choices=Reliability.choices, initial=Reliability.UNKNOWN
    )
    cite_locator = forms.CharField(
        label=_("locator"),
        required=False,
        max_length=100,
        help_text=_("Page, paragraph or footnote."),
    )

    def _existing_citations(self) -> models.QuerySet[Citation]:
        instance: Sourced = self.instance
        if instance.pk is None:
            return Citation.objects.none()
        return Citation.objects.filter(
            content_type=ContentType.objects.get_for_model(instance), object_id=instance.pk
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get(DELETION_FIELD_NAME):
            return cleaned
        source = cleaned.get("cite_source")
        existing = self._existing_citations()
        if source is None and not existing.exists():
            self.add_error("cite_source", ValidationError(SOURCE_REQUIRED, code="no_source"))
        elif source is not None and existing.filter(source=source).exists():
            self.add_error("cite_source", ValidationError(SOURCE_ALREADY_CITED, code="unique"))
        return cleaned

    def save(self, commit: bool = True) -> Any:
        instance = super().save(commit=commit)
        if commit:
            self._cite(instance)
        else:
            save_m2m = self.save_m2m

            def save_m2m_and_cite() -> None:
                save_m2m()
                self._cite(instance)

            self.save_m2m = save_m2m_and_cite  # type: ignore[method-assign]
        return instance

    def _cite(self, instance: Sourced) -> None:
        source = self.cleaned_data.get("cite_source")
        if source is None:
            return
        Citation.objects.create(
            content_type=ContentType.objects.get_for_model(instance),
            object_id=instance.pk,
            source=source,
            reliability=self.cleaned_data["cite_reliability"],
            locator=self.cleaned_data.get("cite_locator", ""),
        )
