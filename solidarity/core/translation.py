"""Texts kept in three languages inside one record: `name_en`, `name_ru`, `name_kk`.

One record carries all its translations (a record copied per language drifts apart, as Uwazi's
users found). Reading picks the active language and falls back in a fixed order, and says when
it fell back so that a page can mark the text as untranslated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import translation

LANGUAGES = ("en", "ru", "kk")
FALLBACK = {"en": ("en", "ru", "kk"), "ru": ("ru", "kk", "en"), "kk": ("kk", "ru", "en")}


@dataclass(frozen=True)
class Translated:
    text: str
    language: str
    is_fallback: bool

    def __str__(self) -> str:
        return self.text


def pick(values: dict[str, str], language: str | None = None) -> Translated:
    """Choose from {"en": …, "ru": …, "kk": …} for `language` (default: the active one)."""
    lang = (language or translation.get_language() or "en")[:2]
    order = FALLBACK.get(lang, FALLBACK["en"])
    for candidate in order:
        text = values.get(candidate) or ""
        if text:
            return Translated(text, candidate, candidate != lang)
    return Translated("", lang, False)


def tr(obj: Any, base: str, language: str | None = None) -> Translated:
    """The text of `obj.<base>_<lang>` in `language`, with fallback."""
    return pick({lang: getattr(obj, f"{base}_{lang}", "") for lang in LANGUAGES}, language)
