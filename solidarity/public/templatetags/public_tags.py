"""How public values are written out: translations marked, missing facts said to be unknown."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils.formats import date_format
from django.utils.html import conditional_escape, format_html, linebreaks
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from solidarity.core.partialdate import PartialDate
from solidarity.core.translation import Translated

register = template.Library()


@register.simple_tag
def text(value: Translated | str | None) -> SafeString:
    """A translated text; one shown in another language says so and carries its lang."""
    if isinstance(value, Translated):
        if value.is_fallback and value.text:
            return format_html(
                '<span lang="{}">{}</span> <small class="untranslated">({})</small>',
                value.language,
                value.text,
                _("untranslated"),
            )
        return conditional_escape(value.text)
    return conditional_escape(value or "")


@register.simple_tag
def paragraphs(value: Translated | None) -> SafeString:
    """A longer translated text as paragraphs, marked like `text` when it fell back."""
    if value is None or not value.text:
        return mark_safe("")
    body = linebreaks(value.text, autoescape=True)
    if value.is_fallback:
        return format_html(
            '<div lang="{}">{}</div><p><small class="untranslated">({})</small></p>',
            value.language,
            mark_safe(body),  # noqa: S308  linebreaks escaped the text above
            _("untranslated"),
        )
    return mark_safe(body)  # noqa: S308  linebreaks escaped the text above


@register.simple_tag
def known(value: object) -> SafeString:
    """A fact, or "unknown" when the record does not say: never blank, never guessed."""
    if value is None or value == "":
        return format_html('<span class="unknown">{}</span>', _("unknown"))
    if isinstance(value, Translated):
        return text(value) if value.text else known(None)
    if isinstance(value, PartialDate):
        return conditional_escape(value.display())
    if isinstance(value, dt.date):
        return conditional_escape(date_format(value, "j F Y"))
    return conditional_escape(str(value))
