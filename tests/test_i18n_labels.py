"""The back office speaks the user's language down to the last label: every model and field of
our apps is named through the catalogue, and Russian and Kazakh have their own words for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.contenttypes.fields import GenericForeignKey
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise

from solidarity.core.models import Section
from solidarity.safety.models import Role
from tests.conftest import verified_login

# Apps whose labels are not checked here, and why. (Campaigns is checked too, although its
# words are in its own catalogue, solidarity/campaigns/locale: gettext reads both.)
NOT_CHECKED: dict[str, str] = {}
# Words that are written the same in Russian, Kazakh and English (and file formats' names,
# which may stay plain strings as choice labels).
SAME_IN_EVERY_LANGUAGE = {"UUID", "PDF", "JPEG", "PNG", "WebP"}
# The language of an article is offered by its own name (English, Русский, Қазақша), as language
# switches are: an editor looks for their own language's name, whatever the interface's.
ENDONYMS = {"English", "Русский", "Қазақша"}


def our_models() -> list[type[models.Model]]:
    return [
        model
        for config in apps.get_app_configs()
        if config.name.startswith("solidarity.") and config.label not in NOT_CHECKED
        for model in config.get_models()
    ]


def django_field_names(model: type[models.Model]) -> set[str]:
    """Fields a model has from an abstract model of Django's (e.g. AbstractUser): those are
    named and translated by Django."""
    names: set[str] = set()
    for base in model.__mro__[1:]:
        meta = getattr(base, "_meta", None)
        if meta is not None and meta.abstract and not base.__module__.startswith("solidarity."):
            names |= {f.name for f in meta.local_fields + meta.local_many_to_many}
    return names


def our_fields(model: type[models.Model]) -> Iterator[models.Field[Any, Any]]:
    meta = model._meta
    inherited = django_field_names(model)
    for field in [*meta.local_fields, *meta.local_many_to_many, *meta.private_fields]:
        if field.auto_created or field.name in inherited:
            continue  # the automatic primary key and parent links, named by Django
        if isinstance(field, GenericForeignKey):
            continue  # not a column nor a form field, and Django gives it no name to show
        yield field


def untranslated(text: Any) -> list[str]:
    """The languages in which `text` is missing from the catalogues (same as the English)."""
    with translation.override("en"):
        english = str(text)
    if english in SAME_IN_EVERY_LANGUAGE:
        return []
    missing = []
    for language in ("ru", "kk"):
        with translation.override(language):
            if str(text) == english:
                missing.append(language)
    return missing


MODELS = our_models()


def test_every_app_of_ours_is_checked_or_says_why_not() -> None:
    """A new app is checked as soon as it is installed; leaving one out needs a reason."""
    labels = {
        config.label for config in apps.get_app_configs() if config.name.startswith("solidarity.")
    }
    assert set(NOT_CHECKED) <= labels
    checked = {model._meta.app_label for model in MODELS}
    assert {"core", "documentation", "publishing", "api", "accounts"} <= checked
    assert {"safety", "audit", "search", "campaigns"} <= checked
    assert len(MODELS) >= 30


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_model_names_are_translated(model: type[models.Model]) -> None:
    """The singular and plural names in the back office's lists, titles and breadcrumbs."""
    meta = model._meta
    for name in (meta.verbose_name, meta.verbose_name_plural):
        assert isinstance(name, Promise), (meta.label, name)
        assert not untranslated(name), (meta.label, str(name), untranslated(name))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_field_labels_help_and_choices_are_translated(model: type[models.Model]) -> None:
    """Every field's label, its help text and the labels of its choices: a label given as a
    plain string, or left to Django (the field's name), would stay English on every screen."""
    problems: list[tuple[str, str, list[str]]] = []
    for field in our_fields(model):
        where = f"{model._meta.label}.{field.name}"
        if not isinstance(field.verbose_name, Promise):
            problems.append((where, f"label {field.verbose_name!r} is not translatable", []))
        elif missing := untranslated(field.verbose_name):
            problems.append((where, str(field.verbose_name), missing))
        if field.help_text:
            if not isinstance(field.help_text, Promise):
                problems.append((where, "help text is not translatable", []))
            elif missing := untranslated(field.help_text):
                problems.append((where, str(field.help_text), missing))
        for _value, label in field.flatchoices if field.choices else ():
            if str(label) in ENDONYMS | SAME_IN_EVERY_LANGUAGE or str(label).isdigit():
                continue  # a language's own name, a format's, or a number (6 or 8 digits)
            if not isinstance(label, Promise) or untranslated(label):
                problems.append((where, f"choice {label!r}", untranslated(label)))
    assert not problems


def test_the_check_catches_an_english_only_label() -> None:
    """The test above fails for the two ways a label stays English."""
    plain: models.CharField[Any, Any] = models.CharField("plain words", max_length=10)
    assert not isinstance(plain.verbose_name, Promise)
    unknown = translation.gettext_lazy("a label nobody translated")
    assert untranslated(unknown) == ["ru", "kk"]
    assert untranslated(translation.gettext_lazy("birth year")) == []


@pytest.mark.parametrize(
    ("language", "wanted"),
    [
        ("ru", ["Люди", ">Отчество:</label>", ">Год рождения:</label>", "Внутренние заметки"]),
        ("kk", ["Адамдар", ">Әкесінің аты:</label>", ">Туған жылы:</label>", "Ішкі жазбалар"]),
    ],
)
def test_the_back_office_form_shows_the_labels_in_the_users_language(
    client: Client, section: Section, language: str, wanted: list[str]
) -> None:
    """What the test above checks is what a coordinator sees: the person form in Russian or
    Kazakh, with no English label left."""
    user = User.objects.create_user("coord", password="a long test passphrase", is_staff=True)
    Role.objects.create(user=user, section=section, role="coordinator")
    coordinator = verified_login(client, user)
    coordinator.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = coordinator.get(reverse("admin:documentation_person_add"))
    assert response.status_code == 200
    html = response.content.decode()
    for words in wanted:
        assert words in html, (language, words)
    for english in (">Patronymic:</label>", ">Birth year:</label>", ">Family name:</label>"):
        assert english not in html
