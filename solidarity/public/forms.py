"""The timeline's filter form. Its choices come from the public data, never from models."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any, cast

from django import forms
from django.forms.boundfield import BoundField
from django.forms.utils import flatatt
from django.utils.choices import BaseChoiceIterator
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from solidarity.core import buildcache

from . import data
from .values import TimelineFilters


class QuickSelect(forms.Select):
    """A <select> whose options are rendered once for a given list of choices.

    The person and place lists grow with the site (a thousand people documented), and Django's
    template per option then made every timeline page slow to render, for visitors and for
    `solidarity mirror`, which renders the timeline of each person. Same HTML as forms.Select
    for flat choices.
    """

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        choices = tuple((str(v), str(label)) for v, label in self.choices)
        options = _options(choices)
        wanted = set(self.format_value(value))
        # Like forms.Select: the first option with a wanted value is the selected one.
        for option_value, _label in choices:
            if option_value in wanted:
                plain = format_html('<option value="{}">', option_value)
                options = mark_safe(options.replace(plain, plain[:-1] + " selected>", 1))  # noqa: S308 - both parts are escaped above
                break
        return format_html(
            '<select name="{}"{}>\n{}\n</select>',
            name,
            flatatt(self.build_attrs(self.attrs, attrs)),
            options,
        )


class QuickNumberInput(forms.NumberInput):
    """A number input written without a template: the same HTML as forms.NumberInput, for the
    filter form shown on every timeline page (its template was a tenth of the page's time)."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<input type="{}" name="{}"', widget["type"], widget["name"])]
        if widget["value"] is not None:
            parts.append(format_html(' value="{}"', widget["value"]))
        for key, given in widget["attrs"].items():
            # As django/forms/widgets/attrs.html: False leaves an attribute out, True is bare.
            if given is True:
                parts.append(format_html(" {}", key))
            elif given is not False:
                parts.append(format_html(' {}="{}"', key, given))
        return mark_safe("".join(parts) + ">")  # noqa: S308 - every part is escaped above


@lru_cache(maxsize=16)
def _options(choices: tuple[tuple[str, str], ...]) -> SafeString:
    """The options of a list of choices, none selected (the cache key is the list itself)."""
    return format_html_join("\n", '  <option value="{}">{}</option>', choices)


class _FlatChoices(BaseChoiceIterator):
    """Choices already flat (value, label) pairs of text, given to a field as they are.

    Django copies and checks a plain list of choices for every form made, twice (field and
    widget): a thousand people on every timeline page.
    """

    def __init__(self, choices: tuple[tuple[str, str], ...]) -> None:
        self.choices = choices

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.choices)


def _label_key() -> None:
    """Names the build cache's entries for the filter form's labels (see _FilterField)."""


class _FilterField(BoundField):
    """A field of the filter form whose label is written once per language during a build.

    A label does not depend on what was submitted; the live site renders it every time."""

    def label_tag(
        self,
        contents: str | None = None,
        attrs: dict[str, Any] | None = None,
        label_suffix: str | None = None,
        tag: str | None = None,
    ) -> SafeString:
        custom = (contents, attrs, label_suffix, tag) != (None, None, None, None)
        if custom or not buildcache.is_active():
            return super().label_tag(contents, attrs, label_suffix, tag)
        key = (self.name, self.auto_id, self.form.label_suffix)
        found, label = buildcache.lookup(_label_key, key)
        if not found or not isinstance(label, SafeString):
            label = super().label_tag()
            buildcache.put(_label_key, key, label)
        return label


class TimelineFilterForm(forms.Form):
    bound_field_class = _FilterField

    # Error messages never repeat the value sent: a crafted link must not make the site
    # display text of the sender's choosing.
    type = forms.ChoiceField(
        label=_("Type"),
        required=False,
        widget=QuickSelect,
        error_messages={
            "invalid_choice": _("That type of event is unknown; pick one from the list.")
        },
    )
    year = forms.IntegerField(
        label=_("Year"),
        required=False,
        widget=QuickNumberInput,
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
        widget=QuickSelect,
        error_messages={
            "invalid_choice": _("No place on this site matches; pick one from the list.")
        },
    )
    person = forms.ChoiceField(
        label=_("Person"),
        required=False,
        widget=QuickSelect,
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
        field.choices = _FlatChoices((("", empty), *choices))

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
