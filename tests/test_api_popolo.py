"""Popolo JSON and CSV exports: valid against the Popolo schemas, and never anything that is
not public (canaries in non-public fields and in private records, as in test_public_boundary)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from jsonschema import Draft3Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT3

from solidarity.core.models import Section
from solidarity.documentation.models import (
    Citation,
    Event,
    Membership,
    Organisation,
    OrganisationRelation,
    Person,
    PersonName,
    Place,
    Source,
)

from .test_public_boundary import shows

SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "popolo-schemas"
POPOLO = {
    "people": "person",
    "organizations": "organization",
    "memberships": "membership",
    "events": "event",
}
ALL_KEYS = {"persons": "person", "organizations": "organization", "memberships": "membership"}
ALL_KEYS["events"] = "event"
CSV_KINDS = ("people", "organizations", "memberships", "events", "sources")


def validators() -> dict[str, Draft3Validator]:
    """A validator per Popolo schema, their $refs resolved from the shared folder only."""
    assert SCHEMAS.is_dir(), f"the Popolo schemas belong in {SCHEMAS} (shared/ beside the clone)"
    schemas = {path.stem: json.loads(path.read_text()) for path in SCHEMAS.glob("*.json")}
    resources = []
    for schema in schemas.values():
        resource = Resource.from_contents(schema, default_specification=DRAFT3)
        resources += [(schema["id"], resource), (schema["id"].rstrip("#"), resource)]
    registry: Registry[Any] = Registry().with_resources(resources)
    return {name: Draft3Validator(schema, registry=registry) for name, schema in schemas.items()}


class World:
    """Public records worth exporting, and canaries where nothing may be exported.

    Whereabouts are sealed: encrypted for coordinators before they reach the database, so no
    reader of rows, exports included, can see them; they carry no canary here.
    """

    def __init__(self, section: Section) -> None:
        self.canaries: list[str] = []
        s = section
        self.source = Source.objects.create(
            section=s,
            is_public=True,
            slug="cwi-2002",
            title="Kazakhstan - CWI section established",
            url="https://www.socialistworld.net/2002/05/23/kazakhstan/",
            published="2002-05-23",
            internal_notes=self.canary("source-notes"),
        )
        self.offline = Source.objects.create(
            section=s, is_public=True, slug="leaflet", title="=HYPERLINK(1) leaflet"
        )
        hidden_source = Source.objects.create(
            section=s, slug=self.canary("src-slug"), title=self.canary("src-title")
        )
        self.kazakhstan = Place.objects.create(
            section=s, is_public=True, slug="kazakhstan", name_en="Kazakhstan", kind="country"
        )
        hidden_place = Place.objects.create(
            section=s, slug=self.canary("pl-slug"), name_en=self.canary("place"), kind="site"
        )
        self.sr = Organisation.objects.create(
            section=s,
            is_public=True,
            slug="socialist-resistance",
            name_en="Socialist Resistance of Kazakhstan",
            name_ru="Социалистическое сопротивление Казахстана",
            abbreviation="SRK",
            kind="political",
            founded="2002",
            internal_notes=self.canary("org-notes"),
        )
        cwi = Organisation.objects.create(
            section=s,
            is_public=True,
            slug="cwi",
            name_en="Committee for a Workers' International",
            kind="international",
            founded="1974~",
        )
        hidden_org = Organisation.objects.create(
            section=s, slug=self.canary("org-slug"), name_en=self.canary("org"), kind="other"
        )
        OrganisationRelation.objects.create(
            section=s, is_public=True, organisation=self.sr, kind="section_of", other=cwi
        )
        self.sokolova = Person.objects.create(
            section=s,
            is_public=True,
            slug="natalya-sokolova",
            given_name="Natalya",
            family_name="Sokolova",
            summary_en="Lawyer of the oil workers of Zhanaozen.",
            birth_year=1777,
            contact=self.canary("contact"),
            internal_notes=self.canary("person-notes"),
        )
        self.canaries.append("1777")
        PersonName.objects.create(
            person=self.sokolova,
            name="Наталья Соколова",
            language="ru",
            script="Cyrl",
            kind="native",
            is_public=True,
        )
        # A name she would live under in hiding: internal, though she is public.
        PersonName.objects.create(
            person=self.sokolova,
            name=self.canary("alias"),
            language="en",
            script="Latn",
            kind="variant",
        )
        hidden_person = Person.objects.create(
            section=s,
            slug=self.canary("p-slug"),
            given_name=self.canary("given"),
            family_name=self.canary("family"),
        )
        PersonName.objects.create(
            person=hidden_person,
            name=self.canary("hidden-name"),
            language="en",
            script="Latn",
            kind="variant",
        )
        Membership.objects.create(
            section=s,
            is_public=True,
            person=self.sokolova,
            organisation=self.sr,
            role="member",
            start="2002-05",
        )
        Membership.objects.create(
            section=s,
            is_public=True,
            person=self.sokolova,
            organisation=hidden_org,
            role=self.canary("role-org"),
        )
        Membership.objects.create(
            section=s,
            person=self.sokolova,
            organisation=self.sr,
            role=self.canary("role-priv"),
        )
        Membership.objects.create(
            section=s,
            is_public=True,
            person=hidden_person,
            organisation=self.sr,
            role=self.canary("role-person"),
        )
        hidden_event = Event.objects.create(
            section=s,
            slug=self.canary("ev-slug"),
            type="threat",
            title_en=self.canary("event"),
            date="2011",
        )
        self.strike = Event.objects.create(
            section=s,
            is_public=True,
            slug="zhanaozen-strike",
            type="strike",
            title_en="Zhanaozen oil workers' strike",
            date="2011-05/2011-12",
            place=hidden_place,
            part_of=hidden_event,
            internal_notes=self.canary("event-notes"),
        )
        self.founding = Event.objects.create(
            section=s,
            is_public=True,
            slug="founding",
            type="founding",
            title_en="Founding conference",
            date="2002~",
            place=self.kazakhstan,
        )
        for fact, source in (
            (self.sokolova, self.source),
            (self.sokolova, hidden_source),
            (self.strike, self.source),
            (self.strike, self.offline),
        ):
            Citation.objects.create(
                content_type=ContentType.objects.get_for_model(fact),
                object_id=fact.pk,
                source=source,
                quote=self.canary("quote") if source == hidden_source else "",
            )

    def canary(self, what: str) -> str:
        text = f"canary-{what}"
        self.canaries.append(text)
        return text


@pytest.fixture
def world(section: Section) -> World:
    return World(section)


def fetch(path: str) -> str:
    response = Client().get(path)
    assert response.status_code == 200, path
    return response.content.decode()


def test_popolo_exports_validate_against_the_popolo_schemas(world: World) -> None:
    """Each Popolo file and the combined export validate against the shared Popolo schemas."""
    check = validators()
    for kind, schema in POPOLO.items():
        items = json.loads(fetch(f"/api/popolo/{kind}.json"))
        assert items, kind
        for item in items:
            errors = [e.message for e in check[schema].iter_errors(item)]
            assert not errors, (kind, item, errors)
    combined = json.loads(fetch("/api/popolo/all.json"))
    for key, schema in ALL_KEYS.items():
        for item in combined[key]:
            assert not list(check[schema].iter_errors(item)), (key, item)
    assert [s["id"] for s in combined["sources"]] == ["cwi-2002", "leaflet"]


def test_popolo_carries_names_dates_and_sources(world: World) -> None:
    """Names in every script, Popolo dates where the date is that precise (the rest as written),
    public relations, and links to the public sources cited."""
    people = json.loads(fetch("/api/popolo/people.json"))
    assert [p["id"] for p in people] == ["natalya-sokolova"]
    person = people[0]
    assert person["name"] == "Natalya Sokolova"
    assert person["other_names"] == [{"name": "Наталья Соколова", "note": "ru (Cyrl), native"}]
    assert person["sources"] == [
        {"url": world.source.url, "note": "Kazakhstan - CWI section established"}
    ]
    assert person["links"][0]["url"] == "http://testserver/en/people/natalya-sokolova/"
    organisations = {o["id"]: o for o in json.loads(fetch("/api/popolo/organizations.json"))}
    sr = organisations["socialist-resistance"]
    assert sr["founding_date"] == "2002" and sr["parent_id"] == "cwi"
    assert {"name": "SRK", "note": "abbreviation"} in sr["other_names"]
    assert "founding_date" not in organisations["cwi"]  # "c. 1974" is not a Popolo date
    memberships = json.loads(fetch("/api/popolo/memberships.json"))
    assert [(m["person_id"], m["organization_id"], m["role"]) for m in memberships] == [
        ("natalya-sokolova", "socialist-resistance", "member")
    ]
    assert memberships[0]["start_date"] == "2002-05"
    events = {e["id"]: e for e in json.loads(fetch("/api/popolo/events.json"))}
    strike = events["zhanaozen-strike"]
    assert (strike["start_date"], strike["end_date"]) == ("2011-05", "2011-12")
    assert "location" not in strike and "parent_id" not in strike
    founding = events["founding"]
    assert "start_date" not in founding and founding["date_text"] == "2002~"
    assert founding["location"] == "Kazakhstan"


def test_csv_exports_have_public_columns_and_slugs(world: World) -> None:
    """Each CSV has a header of public fields; references are slugs of public records only;
    a cell that a spreadsheet would run as a formula is quoted."""
    people = list(csv.DictReader(io.StringIO(fetch("/api/export/people.csv"))))
    assert people[0]["slug"] == "natalya-sokolova"
    assert people[0]["other_names"] == "Наталья Соколова"
    assert "whereabouts" not in people[0] and "birth_year" not in people[0]
    events = {e["slug"]: e for e in csv.DictReader(io.StringIO(fetch("/api/export/events.csv")))}
    assert events["zhanaozen-strike"]["place"] == ""
    assert events["zhanaozen-strike"]["sources"] == "cwi-2002|leaflet"
    assert events["founding"]["place"] == "kazakhstan"
    sources = list(csv.DictReader(io.StringIO(fetch("/api/export/sources.csv"))))
    assert "'=HYPERLINK(1) leaflet" in [s["title"] for s in sources]
    response = Client().get("/api/export/memberships.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="memberships.csv"' in response["Content-Disposition"]


def test_no_export_contains_anything_that_is_not_public(world: World) -> None:
    """No canary, from a non-public field or from a private or hidden record, appears in any
    Popolo or CSV export."""
    paths = [f"/api/popolo/{kind}.json" for kind in POPOLO] + ["/api/popolo/all.json"]
    paths += [f"/api/export/{kind}.csv" for kind in CSV_KINDS]
    for path in paths:
        text = fetch(path)
        leaked = [canary for canary in world.canaries if shows(canary, text)]
        assert not leaked, (path, leaked)
    assert "natalya-sokolova" in fetch("/api/popolo/all.json")
