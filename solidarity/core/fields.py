"""Model and form fields for values that plain Django fields cannot hold honestly."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression
from django.utils.translation import gettext_lazy as _

from .partialdate import PartialDate

# Translated for the back office; the examples stay as the parser reads them (English words).
PARTIAL_DATE_HELP = _(
    "E.g. 2011-12-16, 2012-06, 2002, c. 2002, June 2012, 2011/2012, before 2012-03-05"
)


class PartialDateFormField(forms.CharField):
    def prepare_value(self, value: Any) -> Any:
        # Show the canonical form, which always parses back to the same value in any language.
        return value.text if isinstance(value, PartialDate) else value

    def to_python(self, value: Any) -> PartialDate | None:  # type: ignore[override]
        if isinstance(value, PartialDate):
            return value
        text = super().to_python(value)
        if not text:
            return None
        return PartialDate.parse(text)


if TYPE_CHECKING:
    _FieldBase = models.Field[PartialDate | str | None, PartialDate | None]
else:  # Django's Field is not subscriptable at run time.
    _FieldBase = models.Field


class PartialDateField(_FieldBase):
    """Stores a PartialDate as its canonical text ("2012-06", "2002~", "../2012-03-05")."""

    description = "A date known to day, month, year, approximately, or as a range"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("help_text", PARTIAL_DATE_HELP)
        super().__init__(*args, **kwargs)

    def get_internal_type(self) -> str:
        return "CharField"

    def from_db_value(
        self, value: str | None, expression: Expression, connection: BaseDatabaseWrapper
    ) -> PartialDate | None:
        if not value:
            return None
        return PartialDate.parse(value)

    def to_python(self, value: Any) -> PartialDate | None:
        if value is None or isinstance(value, PartialDate):
            return value
        if not str(value).strip():
            return None
        try:
            return PartialDate.parse(str(value))
        except ValidationError as error:
            raise ValidationError(error.messages, code="invalid") from None

    def get_prep_value(self, value: Any) -> str | None:
        parsed = self.to_python(value)
        if parsed is None:
            return None if self.null else ""
        return parsed.text

    def value_to_string(self, obj: models.Model) -> str:
        value = self.value_from_object(obj)
        return value.text if isinstance(value, PartialDate) else ""

    def formfield(
        self,
        form_class: type[forms.Field] | None = None,
        choices_form_class: type[forms.ChoiceField] | None = None,
        **kwargs: Any,
    ) -> forms.Field | None:
        return super().formfield(
            form_class=form_class or PartialDateFormField,
            choices_form_class=choices_form_class,
            **kwargs,
        )
