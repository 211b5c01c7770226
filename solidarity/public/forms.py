"""The timeline's filter form. Its choices come from the public data, never from models."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import data
from .values import TimelineFilters


class TimelineFilterForm(forms.Form):
    # Error messages never repeat the value sent: a crafted link must not make the site
    # display text of the sender's choosing.
    type = forms.ChoiceField(
        label=_("Type"),
        required=False,
        error_messages={
            "invalid_choice": _("That type of event is unknown; pick one from the list.")
        },
    )
    year = forms.IntegerField(
        label=_("Year"),
        required=False,
        min_value=1,
        max_value=9999,
        error_messages={
            "invalid": _("The year must be a number such as 2012."),
            "min_value": _("The year must be between 1 and 9999."),
            "max_value": _("The year must be between 1 and 9999."),
        },
    )
    place = forms.ChoiceField(
        label=_("Place"),
        required=False,
        error_messages={
            "invalid_choice": _("No place on this site matches; pick one from the list.")
        },
    )
    person = forms.ChoiceField(
        label=_("Person"),
        required=False,
        error_messages={
            "invalid_choice": _("No person on this site matches; pick one from the list.")
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].widget.attrs.update({"inputmode": "numeric", "size": 6})
        self._set_choices("type", gettext("any type"), data.event_type_choices())
        self._set_choices("place", gettext("anywhere"), data.place_choices())
        self._set_choices("person", gettext("anyone"), data.person_choices())

    def _set_choices(self, name: str, empty: str, choices: list[tuple[str, str]]) -> None:
        field = cast(forms.ChoiceField, self.fields[name])
        field.choices = [("", empty), *choices]

    def filters(self) -> TimelineFilters:
        """The filters that are valid; invalid ones are reported and left out, not guessed."""
        if not self.is_bound:
            return TimelineFilters()
        self.is_valid()
        cleaned = self.cleaned_data
        return TimelineFilters(
            event_type=cleaned.get("type") or "",
            year=cleaned.get("year"),
            place=cleaned.get("place") or "",
            person=cleaned.get("person") or "",
        )
