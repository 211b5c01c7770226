"""A person's name forms are public only when marked so: a name someone lives under in hiding
is recorded (staff find them by it) but never shown, exported or searchable in public."""

from __future__ import annotations

import importlib
from pathlib import Path

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from solidarity.core.models import Section
from solidarity.documentation.models import Person, PersonName
from solidarity.documentation.seed import load_case
from solidarity.search import services
from solidarity.search.merge import merge_people
from solidarity.search.models import Target

from .test_seed import entry, seed_document, write_case

ALIAS = "Marat Dzhumabayev"


def _person(section: Section, slug: str = "aigul-nurlanova", public: bool = True) -> Person:
    person = Person.objects.create(
        section=section, slug=slug, given_name="Aigul", family_name="Nurlanova", is_public=public
    )
    PersonName.objects.create(
        person=person,
        name="Айгүл Нұрланова",
        language="kk",
        script="Cyrl",
        kind="native",
        is_public=True,
    )
    return person


def _found(query: str, *, public_only: bool) -> list[tuple[str, int]]:
    return [(h.target, h.pk) for h in services.search(query, public_only=public_only)]


def test_a_new_name_form_is_internal_until_published(section: Section) -> None:
    person = _person(section)
    form = PersonName.objects.create(
        person=person, name=ALIAS, language="en", script="Latn", kind="variant"
    )
    assert form.is_public is False  # the default: forgetting costs findability, not safety
    assert _found(ALIAS, public_only=True) == []
    # Staff still find the person by it, from the back office.
    assert _found(ALIAS, public_only=False) == [(Target.PERSON, person.pk)]
    # Her public names still find her in public.
    assert _found("Айгүл Нұрланова", public_only=True) == [(Target.PERSON, person.pk)]

    form.is_public = True
    form.save()
    assert _found(ALIAS, public_only=True) == [(Target.PERSON, person.pk)]
    form.is_public = False
    form.save()
    assert _found(ALIAS, public_only=True) == []


def test_an_internal_form_is_on_no_public_page_or_export(section: Section, client: Client) -> None:
    person = _person(section)
    PersonName.objects.create(
        person=person, name=ALIAS, language="en", script="Latn", kind="variant"
    )
    for url in (
        f"/en/people/{person.slug}/",
        f"/ru/people/{person.slug}/",
        "/en/search/?q=Dzhumabayev",
        "/api/popolo/people.json",
        "/api/popolo/all.json",
        "/api/export/people.csv",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
        text = body.decode()
        assert "Nurlanova" in text or "Нұрланова" in text or "search" in url, url
        # The search page echoes the query; the alias must not be among its results.
        shown = text.partition("search-results")[2] if "search" in url else text
        assert ALIAS not in shown and "Dzhumabayev" not in shown, url


def test_a_form_equal_to_the_public_name_stays_findable(section: Section) -> None:
    """An internal form that repeats the person's own public name hides nothing."""
    person = _person(section)
    PersonName.objects.create(
        person=person, name="Aigul Nurlanova", language="en", script="Latn", kind="variant"
    )
    assert _found("Aigul Nurlanova", public_only=True) == [(Target.PERSON, person.pk)]


def test_reindexing_keeps_internal_forms_internal(section: Section) -> None:
    person = _person(section)
    PersonName.objects.create(
        person=person, name=ALIAS, language="en", script="Latn", kind="variant"
    )
    services.reindex()
    assert _found(ALIAS, public_only=True) == []
    assert _found(ALIAS, public_only=False) == [(Target.PERSON, person.pk)]


def test_a_merged_record_keeps_its_name_private_if_it_was(section: Section) -> None:
    keep = _person(section)
    hidden = Person.objects.create(
        section=section, slug="m-d", given_name="Marat", family_name="Dzhumabayev"
    )
    merge_people(keep, hidden)
    form = PersonName.objects.get(person=keep, name=ALIAS)
    assert form.is_public is False
    assert _found(ALIAS, public_only=True) == []


def test_seed_names_follow_their_person_unless_marked(db: None, tmp_path: Path) -> None:
    document = seed_document()
    person = entry(document, "people", "bolat-atabayev")
    person["names"][0]["public"] = False
    load_case(write_case(tmp_path, document))
    atabayev = Person.objects.get(slug="bolat-atabayev")
    flags = list(atabayev.names.order_by("id").values_list("is_public", flat=True))
    assert flags[0] is False
    assert all(flag is atabayev.is_public for flag in flags[1:])
    assert atabayev.is_public is True


def test_the_migration_keeps_existing_forms_public(section: Section) -> None:
    """Every form was shown before the flag existed: upgrading hides nothing and shows
    nothing new."""
    person = _person(section)
    form = PersonName.objects.create(
        person=person, name=ALIAS, language="en", script="Latn", kind="variant"
    )
    state = MigrationExecutor(connection).loader.project_state(
        ("documentation", "0008_personname_is_public")
    )
    migration = importlib.import_module(
        "solidarity.documentation.migrations.0008_personname_is_public"
    )
    migration.keep_existing_forms_public(state.apps, None)
    form.refresh_from_db()
    assert form.is_public is True
