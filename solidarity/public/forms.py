"""The timeline's filter form. Its choices come from the public data, never from models."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any, cast

from django import forms
from django.forms.boundfield import BoundField
from django.forms.utils import flatatt
from django.utils.choices import BaseChoiceIterator
from django.utils.functional import Promise
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from solidarity.core import buildcache
from solidarity.core.buildcache import build_cached

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
        choices = self.choices
        if not isinstance(choices, _FlatChoices):
            choices = _FlatChoices(tuple((str(v), str(label)) for v, label in choices))
        options = choices.options()
        # Like forms.Select: the first option with a wanted value is the selected one.
        wanted = choices.first_of(self.format_value(value))
        if wanted is not None:
            plain = format_html('<option value="{}">', wanted)
            options = mark_safe(options.replace(plain, plain[:-1] + " selected>", 1))  # noqa: S308 - both parts are escaped above
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
    widget): a thousand people on every timeline page. What is read of them for every page
    (their options, where each value is) is worked out once per list: in a static build the
    list itself is made once per language (`_filter_choices`).
    """

    def __init__(self, choices: tuple[tuple[str, str], ...]) -> None:
        self.choices = choices
        self._options: SafeString | None = None
        self._positions: dict[str, int] | None = None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.choices)

    def options(self) -> SafeString:
        if self._options is None:
            self._options = _options(self.choices)
        return self._options

    def positions(self) -> dict[str, int]:
        """Where each value first stands among the choices."""
        if self._positions is None:
            self._positions = {}
            for position, (value, _label) in enumerate(self.choices):
                self._positions.setdefault(value, position)
        return self._positions

    def first_of(self, values: Iterable[str]) -> str | None:
        """Of `values`, the one whose option comes first (None if none is a choice)."""
        positions = self.positions()
        found = [(positions[value], value) for value in values if value in positions]
        return min(found)[1] if found else None


class _QuickChoiceField(forms.ChoiceField):
    """A ChoiceField that checks a submitted value by lookup, not by a walk of its choices."""

    def valid_value(self, value: Any) -> bool:
        choices = self.choices
        if isinstance(choices, _FlatChoices):
            # As ChoiceField.valid_value for flat text choices: value == k or str(value) == k.
            return str(value) in choices.positions()
        return super().valid_value(value)


# Each filter with choices: the "any" choice's label, and where the others come from.
_CHOICES: dict[str, tuple[Promise, Callable[[], list[tuple[str, str]]]]] = {
    "type": (_("any type"), data.event_type_choices),
    "place": (_("anywhere"), data.place_choices),
    "person": (_("anyone"), data.person_choices),
}


@build_cached
def _filter_choices(name: str) -> _FlatChoices:
    """The choices of a filter, the "any" one first. A static build makes them once per
    language, one object, so that what `_FlatChoices` works out is worked out once."""
    empty, choices = _CHOICES[name]
    return _FlatChoices((("", str(empty)), *choices()))


def _label_key() -> None:
    """Names the build cache's entries for the filter form's labels (see _FilterField)."""


def _widget_key() -> None:
    """Names the build cache's entries for the filter form's widgets (see _FilterField)."""


class _FilterField(BoundField):
    """A field of the filter form whose label, and whose widget left empty, are written once
    per language during a build.

    A label does not depend on what was submitted. A timeline of a build is filtered one way
    (by a person, a year...): its other filters are empty, the same widgets on every page (the
    choices are the build's, `_filter_choices`). A widget showing a value is rendered each
    time: a value comes once per language, and a thousand people's selects would fill the
    memory for nothing. The live site renders everything every time."""

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

    def as_widget(
        self, widget: forms.Widget | None = None, attrs: Any = None, only_initial: bool = False
    ) -> SafeString:
        custom = (widget, attrs, only_initial) != (None, None, False)
        if custom or not buildcache.is_active() or self.value() not in (None, ""):
            return super().as_widget(widget, attrs, only_initial)
        value = self.value()
        # Errors count only as being there (aria-invalid, aria-describedby).
        key = (self.name, self.html_name, self.auto_id, value, bool(self.errors))
        found, html = buildcache.lookup(_widget_key, key)
        if not found or not isinstance(html, SafeString):
            html = super().as_widget()
            buildcache.put(_widget_key, key, html)
        return html


class TimelineFilterForm(forms.Form):
    bound_field_class = _FilterField

    # Error messages never repeat the value sent: a crafted link must not make the site
    # display text of the sender's choosing.
    type = _QuickChoiceField(
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
    place = _QuickChoiceField(
        label=_("Place"),
        required=False,
        widget=QuickSelect,
        error_messages={
            "invalid_choice": _("No place on this site matches; pick one from the list.")
        },
    )
    person = _QuickChoiceField(
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
        for name in _CHOICES:
            cast(forms.ChoiceField, self.fields[name]).choices = _filter_choices(name)

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
