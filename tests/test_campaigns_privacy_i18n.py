"""The campaigns back office names every model and field in Russian and Kazakh, from the
campaigns app's own catalogue, which is complete and compiled."""

from __future__ import annotations

import gettext
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.test import Client
from django.utils import translation
from django.utils.functional import Promise

from solidarity.campaigns import services
from solidarity.campaigns.models import Supporter
from solidarity.core.models import Section
from solidarity.safety.models import Role
from tests.conftest import verified_login
from tests.test_campaigns_support import make_world
from tests.test_i18n import read_po

CAMPAIGNS_LOCALE = Path(apps.get_app_config("campaigns").path) / "locale"
CATALOGUES = sorted(CAMPAIGNS_LOCALE.glob("*/LC_MESSAGES/django.po"))
MODELS = list(apps.get_app_config("campaigns").get_models())


def _missing(text: Any) -> list[str]:
    """Languages in which `text` reads the same as in English, i.e. is not translated."""
    with translation.override("en"):
        english = str(text)
    missing = []
    for language in ("ru", "kk"):
        with translation.override(language):
            if str(text) == english:
                missing.append(language)
    return missing


def _own_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    meta = model._meta
    return [f for f in [*meta.local_fields, *meta.local_many_to_many] if not f.auto_created]


@pytest.mark.parametrize("path", CATALOGUES, ids=[p.parent.parent.name for p in CATALOGUES])
def test_the_campaigns_catalogue_is_complete_and_compiled(path: Path) -> None:
    """No message is empty or fuzzy, and the .mo says what the .po says."""
    entries = read_po(path)
    assert f"Language: {path.parent.parent.name}\n" in entries[0].msgstrs[0]
    messages = entries[1:]
    assert [e.msgid for e in messages if not all(e.msgstrs)] == []
    assert [e.msgid for e in messages if "fuzzy" in e.flags] == []
    with path.with_suffix(".mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    for e in messages:
        if e.plural is None and e.context is None:
            assert catalogue.gettext(e.msgid) == e.msgstrs[0], e.msgid


def test_there_are_catalogues_for_russian_and_kazakh() -> None:
    assert {p.parent.parent.name for p in CATALOGUES} == {"ru", "kk"}
    assert "Supporter" in {m.__name__ for m in MODELS}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_every_campaigns_model_and_field_has_a_translated_name(model: type[models.Model]) -> None:
    """Model names and field labels are lazy translations with Russian and Kazakh words."""
    meta = model._meta
    problems = [
        (meta.label, str(name), _missing(name))
        for name in (meta.verbose_name, meta.verbose_name_plural)
        if not isinstance(name, Promise) or _missing(name)
    ]
    for field in _own_fields(model):
        label = field.verbose_name
        if not isinstance(label, Promise) or _missing(label):
            problems.append((f"{meta.label}.{field.name}", str(label), _missing(label)))
    assert problems == []


def test_the_back_office_shows_supporters_in_kazakh(client: Client, section: Section) -> None:
    """A Kazakh-speaking organiser sees the supporter list's title and columns in Kazakh."""
    from django.contrib.auth.models import User

    world = make_world(section)
    services.sign_petition(
        world.petition,
        services.SupporterDetails(email="anna@example.org", name="Anna Berg"),
        processing_consent=True,
        base_url="http://testserver",
    )
    user = User.objects.create_user("org", password="x", is_staff=True)
    Role.objects.create(user=user, section=section, role="section_organiser")
    verified_login(client, user)
    page = client.get("/admin/campaigns/supporter/", HTTP_ACCEPT_LANGUAGE="kk")
    text = page.content.decode()
    assert page.status_code == 200
    with translation.override("kk"):
        plural = str(Supporter._meta.verbose_name_plural)
        column = str(Supporter._meta.get_field("unsubscribed_at").verbose_name)
    assert plural != "supporters"
    assert plural.capitalize() in text  # the title and breadcrumbs
    assert column.capitalize() in text  # a column of the list
