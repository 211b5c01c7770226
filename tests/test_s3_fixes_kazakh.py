"""One Kazakh word for "supporter" across both catalogues: қолдаушы, the usual word for a
supporter of a petition or campaign, never жақтас, in the .po files and in the compiled .mo
files the site actually reads."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.utils import translation

from tests.test_i18n import read_po

CATALOGUES = [
    Path(settings.BASE_DIR) / "locale" / "kk" / "LC_MESSAGES" / "django.po",
    Path(apps.get_app_config("campaigns").path) / "locale" / "kk" / "LC_MESSAGES" / "django.po",
]


def _any_form_of(stem: str) -> re.Pattern[str]:
    """Any inflection (жақтас, жақтастың, жақтастардың…), capitalised or not: Python's \\b,
    \\w and IGNORECASE know Cyrillic."""
    return re.compile(r"\b" + stem + r"\w*", re.IGNORECASE)


OTHER_WORD = _any_form_of("жақтас")
OUR_WORD = _any_form_of("қолдаушы")
SUPPORTER = re.compile(r"\bsupporters?\b", re.IGNORECASE)


def _words(msgid: str) -> str:
    """A message without its placeholders: %(supporters)s is a number, not the word."""
    return re.sub(r"%\(\w+\)s", "", msgid)


def _translations(path: Path) -> list[tuple[str, str]]:
    return [(e.msgid, msgstr) for e in read_po(path)[1:] for msgstr in e.msgstrs]


@pytest.mark.parametrize("path", CATALOGUES, ids=["site", "campaigns"])
def test_neither_catalogue_says_zhaqtas(path: Path) -> None:
    """Every translation of a message about supporters uses қолдаушы, and the other word
    appears nowhere, the compiled catalogue included."""
    translations = _translations(path)
    assert [(msgid, s) for msgid, s in translations if OTHER_WORD.search(s)] == []
    about_supporters = [s for msgid, s in translations if SUPPORTER.search(_words(msgid))]
    assert about_supporters
    assert [s for s in about_supporters if not OUR_WORD.search(s)] == []
    with path.with_suffix(".mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    assert [m for m, _s in translations if OTHER_WORD.search(catalogue.gettext(m))] == []
    assert catalogue.gettext("supporter") == "қолдаушы"


def test_the_back_office_names_supporters_with_one_word() -> None:
    """Singular and plural of the Supporter model read alike. Django merges the catalogues,
    the site's first, so "supporter" came from the site's (қолдаушы) and "supporters" from
    the campaigns' (жақтастар): one list page used both words."""
    supporter = apps.get_model("campaigns", "Supporter")
    with translation.override("kk"):
        assert str(supporter._meta.verbose_name) == "қолдаушы"
        assert str(supporter._meta.verbose_name_plural) == "қолдаушылар"
        assert translation.gettext("supporter") == "қолдаушы"
