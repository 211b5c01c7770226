"""The name index and the public search: kept in step with the records, found in any script,
and never showing what is not public."""

# Cyrillic and Latin names side by side are what these tests are about:
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from solidarity.core.classification import FieldClass, field_class
from solidarity.core.models import Section
from solidarity.documentation.models import Event, Organisation, Person, PersonName, Place
from solidarity.search import services
from solidarity.search.models import NameKey, Target


def make_person(
    section: Section,
    slug: str,
    given: str,
    family: str,
    *,
    patronymic: str = "",
    public: bool = True,
    birth_year: int | None = None,
    names: tuple[str, ...] = (),
) -> Person:
    person = Person.objects.create(
        section=section,
        slug=slug,
        given_name=given,
        patronymic=patronymic,
        family_name=family,
        is_public=public,
        birth_year=birth_year,
    )
    for name in names:
        script = "Cyrl" if any("\u0400" <= c <= "\u04ff" for c in name) else "Latn"
        PersonName.objects.create(
            person=person, name=name, language="kk", script=script, kind="native", is_public=True
        )
    return person


@pytest.fixture
def esenbek(section: Section) -> Person:
    return make_person(
        section,
        "esenbek-ukteshbayev",
        "Esenbek",
        "Ukteshbayev",
        names=("Есенбек Өктешбаев", "Есенбек Уктешбаев"),
    )


def found(query: str, *, public_only: bool = True) -> list[tuple[str, int]]:
    return [(h.target, h.pk) for h in services.search(query, public_only=public_only)]


@pytest.mark.parametrize(
    "query",
    [
        "Өктешбаев",
        "Ukteshbayev",
        "Uteshbaev",
        "Öktešbaev",
        "Oktesbaev",
        "Ukteshbayev E.",
        "Уктешбаев Есенбек",
        "Yesenbek Ukteshbaev",
    ],
)
def test_a_person_is_found_in_any_script_and_spelling(esenbek: Person, query: str) -> None:
    """Every usual spelling of the name finds the person first."""
    assert found(query)[0] == (Target.PERSON, esenbek.pk)


def test_the_index_follows_every_change_of_a_name(section: Section, esenbek: Person) -> None:
    """Adding, changing and deleting name forms and the record itself update the index."""
    assert not found("Jaksybekov")
    form = PersonName.objects.create(
        person=esenbek,
        name="Есенбек Жаксыбеков",
        language="ru",
        script="Cyrl",
        kind="variant",
        is_public=True,
    )
    assert found("Jaksybekov") == [(Target.PERSON, esenbek.pk)]
    form.name = "Есенбек Мынбаев"
    form.save()
    assert not found("Jaksybekov")
    assert found("Mynbayev") == [(Target.PERSON, esenbek.pk)]
    form.delete()
    assert not found("Mynbayev")
    esenbek.family_name = "Sarsenbayev"
    esenbek.save()
    assert found("Сарсенбаев")[0] == (Target.PERSON, esenbek.pk)
    pk = esenbek.pk
    PersonName.objects.filter(person=esenbek).delete()
    esenbek.delete()
    assert not NameKey.objects.filter(person_id=pk).exists()


def test_index_rows_roll_back_with_the_change(esenbek: Person) -> None:
    """A change that is rolled back leaves the index as it was: same transaction."""
    before = NameKey.objects.filter(person=esenbek).count()
    with pytest.raises(RuntimeError), transaction.atomic():
        esenbek.family_name = "Sarsenbayev"
        esenbek.save()
        raise RuntimeError("abandon the edit")
    assert NameKey.objects.filter(person=esenbek).count() == before
    assert not found("Sarsenbayev")


def test_organisations_places_and_events_are_found_in_every_language(section: Section) -> None:
    """Titles and names in every language are indexed, with the matched form returned."""
    place = Place.objects.create(
        section=section,
        is_public=True,
        slug="zhanaozen",
        name_en="Zhanaozen",
        name_ru="Жанаозен",
        name_kk="Жаңаөзен",
        kind="city",
    )
    org = Organisation.objects.create(
        section=section,
        is_public=True,
        slug="sr",
        name_en="Socialist Resistance of Kazakhstan",
        name_ru="Социалистическое сопротивление Казахстана",
        kind="political",
    )
    event = Event.objects.create(
        section=section,
        is_public=True,
        slug="massacre",
        type="killing",
        title_en="Zhanaozen massacre",
        title_ru="Расстрел в Жанаозене",
        date="2011-12-16",
    )
    hits = services.search("Janaozen", public_only=True)
    assert hits[0].target == Target.PLACE and hits[0].pk == place.pk
    assert (Target.EVENT, event.pk) in [(h.target, h.pk) for h in hits]
    hit = services.search("Социалистическое сопротивление", public_only=True)[0]
    assert (hit.target, hit.pk) == (Target.ORGANISATION, org.pk)
    assert hit.matched_name == "Социалистическое сопротивление Казахстана"


def test_a_private_record_is_found_only_in_the_back_office(section: Section) -> None:
    """Private records are left out of the public search, and join it once published."""
    person = make_person(section, "hidden", "Тахир", "Мухамедзянов", public=False)
    assert not found("Mukhamedzyanov")
    assert found("Mukhamedzyanov", public_only=False) == [(Target.PERSON, person.pk)]
    person.is_public = True
    person.save()
    assert found("Muhamedzjanov") == [(Target.PERSON, person.pk)]


def test_reindex_rebuilds_a_lost_or_stale_index(section: Section, esenbek: Person) -> None:
    """`solidarity reindex` rebuilds every row, reports progress and drops orphans."""
    expected = NameKey.objects.filter(person=esenbek).count()
    NameKey.objects.all().delete()
    NameKey.objects.create(key="n:orphan", target=Target.PERSON, person_id=None, name="x")
    out = StringIO()
    call_command("reindex", stdout=out)
    assert "person: 1/1 records" in out.getvalue()
    assert "Index rebuilt with key rules version" in out.getvalue()
    assert NameKey.objects.filter(person=esenbek).count() == expected
    assert NameKey.objects.count() == expected
    assert services.stale_rows() == 0


def test_indexed_fields_are_all_public() -> None:
    """The public search may show an indexed name of a public record: each one is public."""
    for target, fields in services.NAME_FIELDS.items():
        for name in fields:
            assert field_class(services.MODELS[target], name) is FieldClass.PUBLIC
    assert field_class(PersonName, "name") is FieldClass.PUBLIC


# -- The public page -----------------------------------------------------------------------------


def test_the_public_page_lists_results_with_the_matched_form(
    client: Client, esenbek: Person
) -> None:
    """The HTML page shows the person, the form that matched and why, linked to their page."""
    response = client.get("/en/search/", {"q": "Өктешбаев"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Esenbek Ukteshbayev" in page
    assert "Есенбек Өктешбаев" in page
    assert 'href="/en/people/esenbek-ukteshbayev/"' in page
    assert 'name="q" value="Өктешбаев"' in page


def test_an_address_without_language_redirects(client: Client, esenbek: Person) -> None:
    """/search/?q=… is redirected to the page in the reader's language, query kept."""
    response = client.get("/search/", {"q": "Uteshbaev"})
    assert response.status_code == 302
    assert response["Location"].startswith("/en/search/?q=Uteshbaev")


def test_json_is_answered_to_accept_application_json(client: Client, esenbek: Person) -> None:
    """The same address answers JSON when asked, with the matched form and reason."""
    response = client.get("/en/search/", {"q": "Uteshbaev"}, headers={"Accept": "application/json"})
    assert response["Content-Type"] == "application/json"
    assert "Accept" in response["Vary"]
    data = json.loads(response.content)
    assert data["query"] == "Uteshbaev"
    first = data["results"][0]
    assert first["kind"] == "person"
    assert first["name"] == "Esenbek Ukteshbayev"
    assert first["url"] == "http://testserver/en/people/esenbek-ukteshbayev/"
    assert first["reason"]


def test_an_empty_or_unmatched_query_explains_itself(client: Client, esenbek: Person) -> None:
    """No query: a hint what to type; no match: what to try instead."""
    empty = client.get("/en/search/").content.decode()
    assert "in any script or spelling" in empty
    none = client.get("/en/search/", {"q": "Qwertyuiop"}).content.decode()
    assert "Nothing published matches" in none
    assert json.loads(
        client.get("/en/search/", {"q": ""}, headers={"Accept": "application/json"}).content
    ) == {"query": "", "results": []}


def test_a_private_persons_name_form_never_surfaces(client: Client, section: Section) -> None:
    """A private record's name form is not shown, not even as the matched form of another."""
    make_person(section, "public", "Ержан", "Сарсенбаев", names=("Yerzhan Sarsenbayev",))
    make_person(
        section, "secret", "Ержан", "Сарсенбаев", public=False, names=("Yerzhan Sarsenbaeff",)
    )
    for accept in ("text/html", "application/json"):
        response = client.get("/en/search/", {"q": "Erzhan Sarsenbaev"}, headers={"Accept": accept})
        body = response.content.decode()
        assert "Sarsenbaeff" not in body
        assert "/people/secret/" not in body
    data = json.loads(
        client.get(
            "/en/search/", {"q": "Erzhan Sarsenbaev"}, headers={"Accept": "application/json"}
        ).content
    )
    assert [r["url"] for r in data["results"]] == ["http://testserver/en/people/public/"]


def test_the_header_of_every_public_page_has_the_search_box(db: None, client: Client) -> None:
    """The search box is in the public header, pointing at the search page."""
    page = client.get("/en/").content.decode()
    assert 'action="/en/search/"' in page
    assert 'type="search" name="q"' in page
