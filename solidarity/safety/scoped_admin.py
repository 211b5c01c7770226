"""What the back offices outside documentation add to its scoped admin (DocumentationAdmin).

`solidarity.documentation.admin.DocumentationAdmin` and `ScopedInline` already fetch every row
through `scoped`, answer 404 for another section's object and take permissions from the policy.
Their foreign-key choices, though, assume documentation's kind; this mixin asks
`access.choices_for` with the admin's own model instead, so that a campaigns or newspaper form
offers only sections the user may write that kind of record in, and only parents and related
rows the user may reach (threat model D6: an insider must not attach or move anything into
another section). Its list filters on relations offer only the related rows the user's own
list refers to: Django's plain filter would list every campaign or issue of every section by
name. Put it first among the bases.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.db import models
from django.http import HttpRequest

from .access import choices_for, writable_sections


def _is_relation(model: type[models.Model], path: str) -> bool:
    return bool(get_fields_from_path(model, path)[-1].is_relation)


class SectionChoices:
    model: type[models.Model]

    def get_list_filter(self, request: HttpRequest) -> Any:
        return [
            (name, admin.RelatedOnlyFieldListFilter)
            if isinstance(name, str) and _is_relation(self.model, name)
            else name
            for name in super().get_list_filter(request)  # type: ignore[misc]
        ]

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField[Any] | None:
        choices = choices_for(request.user, self.model, db_field)
        if choices is not None:
            kwargs.setdefault("queryset", choices)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc,no-any-return]

    def formfield_for_manytomany(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelMultipleChoiceField[Any] | None:
        choices = choices_for(request.user, self.model, db_field)
        if choices is not None:
            kwargs.setdefault("queryset", choices)
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc,no-any-return]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial: dict[str, Any] = super().get_changeform_initial_data(request)  # type: ignore[misc]
        if "section" not in initial and any(
            f.name == "section" for f in self.model._meta.concrete_fields
        ):
            sections = sorted(writable_sections(request.user, self.model))[:2]
            if len(sections) == 1:
                initial["section"] = str(sections[0])
        return initial
