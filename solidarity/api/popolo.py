"""Public documentation records as Popolo JSON and as CSV, for researchers and other tools.

Read the way the public site reads (solidarity.public.data): `.values(*public_fields(Model))`
on records that are public themselves; a related record is named only when it is public too,
and a citation only when its source is. Nothing here touches a model instance, so no field
that was not classed public can slip into an export.

Popolo dates are ISO dates of year, month or day. A date Solidarity knows only approximately
("c. 2002") or as a range cannot be written that way without claiming more than the sources
say, so such a date is left out of the Popolo field and given as written in `date_text`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import translation

from solidarity.core.classification import public_fields
from solidarity.core.links import safe_link
from solidarity.core.partialdate import PartialDate, Precision
from solidarity.core.translation import LANGUAGES, pick
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
from solidarity.documentation.vocabularies import RelationKind

Row = dict[str, Any]
JSON = dict[str, Any]

# -- Reading: public records, public fields ---------------------------------------------------


def _fields(model: type[models.Model]) -> list[str]:
    return [name for name in public_fields(model) if not model._meta.get_field(name).many_to_many]


def _values(queryset: QuerySet[Any]) -> list[Row]:
    return list(queryset.values(*_fields(queryset.model)).order_by("id"))


def public_people() -> list[Row]:
    return _values(Person.objects.filter(is_public=True))


def public_organisations() -> list[Row]:
    return _values(Organisation.objects.filter(is_public=True))


def public_memberships() -> list[Row]:
    return _values(
        Membership.objects.filter(
            is_public=True, person__is_public=True, organisation__is_public=True
        )
    )


def public_events() -> list[Row]:
    return _values(Event.objects.filter(is_public=True))


def public_sources() -> list[Row]:
    return _values(Source.objects.filter(is_public=True))


def public_places() -> list[Row]:
    return _values(Place.objects.filter(is_public=True))


def _slugs(rows: Iterable[Row]) -> dict[int, str]:
    return {row["id"]: row["slug"] for row in rows}


def _names_of(person_ids: set[int]) -> dict[int, list[Row]]:
    found: dict[int, list[Row]] = defaultdict(list)
    for row in _values(PersonName.objects.filter(person_id__in=person_ids, is_public=True)):
        found[row["person"]].append(row)
    return found


def _cited_sources(model: type[models.Model], ids: set[int]) -> dict[int, list[Row]]:
    """For each record of `model` among `ids`, the public sources that it cites."""
    content_type = ContentType.objects.get_for_model(model)
    citations = _values(
        Citation.objects.filter(
            content_type=content_type, object_id__in=ids, source__is_public=True
        )
    )
    sources = {
        row["id"]: row
        for row in _values(
            Source.objects.filter(is_public=True, id__in={c["source"] for c in citations})
        )
    }
    found: dict[int, list[Row]] = defaultdict(list)
    for citation in citations:
        if source := sources.get(citation["source"]):
            found[citation["object_id"]].append(source)
    return found


# -- Popolo ----------------------------------------------------------------------------------


def popolo_date(value: PartialDate | None) -> str | None:
    if value is not None and value.precision in (Precision.YEAR, Precision.MONTH, Precision.DAY):
        return value.text
    return None


def _end(text: str) -> str | None:
    return popolo_date(PartialDate.parse(text)) if text != ".." else None


def _range(value: PartialDate | None) -> tuple[str | None, str | None]:
    """Start and end of a date in Popolo's form, each only if known to a year or better."""
    if value is None:
        return None, None
    if value.precision is Precision.RANGE:
        start, _sep, end = value.text.partition("/")
        return _end(start), _end(end)
    return popolo_date(value), None


def _text(row: Row, base: str) -> str:
    return pick({lang: row.get(f"{base}_{lang}") or "" for lang in LANGUAGES}, "en").text


def _page(base_url: str, view: str, slug: str) -> str:
    """The public page of a record, in English: Popolo has one language, and it is English."""
    with translation.override("en"):
        return base_url + reverse(f"public:{view}", kwargs={"slug": slug})


def _source_links(sources: Iterable[Row]) -> list[JSON]:
    links = []
    for source in sources:
        # Popolo links need an address; a source without one is still in sources.csv. Readers
        # of the export render these as links, so a javascript: address is left out too.
        url = safe_link(str(source["url"]))
        if url:
            links.append({"url": url, "note": source["title"]})
    return links


def _undated(item: JSON) -> JSON:
    """Drop empty optional fields: Popolo readers treat absent and null alike."""
    return {key: value for key, value in item.items() if value not in (None, "", [])}


def popolo_people(base_url: str) -> list[JSON]:
    people = public_people()
    ids = {row["id"] for row in people}
    names = _names_of(ids)
    sources = _cited_sources(Person, ids)
    result = []
    for row in people:
        full = " ".join(p for p in (row["given_name"], row["patronymic"], row["family_name"]) if p)
        result.append(
            _undated(
                {
                    "id": row["slug"],
                    "name": full,
                    "given_name": row["given_name"],
                    "family_name": row["family_name"],
                    "patronymic_name": row["patronymic"],
                    "sort_name": f"{row['family_name']}, {row['given_name']}",
                    "other_names": [
                        {
                            "name": name["name"],
                            "note": f"{name['language']} ({name['script']}), {name['kind']}",
                        }
                        for name in names.get(row["id"], [])
                        if name["name"] != full
                    ],
                    "summary": _text(row, "summary"),
                    "identifiers": [{"scheme": "solidarity", "identifier": row["slug"]}],
                    "links": [
                        {"url": _page(base_url, "person", row["slug"]), "note": "Solidarity"}
                    ],
                    "sources": _source_links(sources.get(row["id"], [])),
                }
            )
        )
    return result


def popolo_organizations(base_url: str) -> list[JSON]:
    organisations = public_organisations()
    slugs = _slugs(organisations)
    ids = set(slugs)
    sources = _cited_sources(Organisation, ids)
    parents = {
        row["organisation"]: slugs[row["other"]]
        for row in _values(
            OrganisationRelation.objects.filter(
                is_public=True,
                kind=RelationKind.SECTION_OF,
                organisation_id__in=ids,
                other_id__in=ids,
            )
        )
    }
    result = []
    for row in organisations:
        other_names = [
            {"name": row[f"name_{lang}"], "note": lang}
            for lang in ("ru", "kk")
            if row[f"name_{lang}"] and row[f"name_{lang}"] != row["name_en"]
        ]
        if row["abbreviation"]:
            other_names.append({"name": row["abbreviation"], "note": "abbreviation"})
        result.append(
            _undated(
                {
                    "id": row["slug"],
                    "name": row["name_en"],
                    "other_names": other_names,
                    "classification": row["kind"],
                    "parent_id": parents.get(row["id"]),
                    "description": _text(row, "summary"),
                    "founding_date": popolo_date(row["founded"]),
                    "dissolution_date": popolo_date(row["dissolved"]),
                    "identifiers": [{"scheme": "solidarity", "identifier": row["slug"]}],
                    "links": [
                        {
                            "url": _page(base_url, "organisation", row["slug"]),
                            "note": "Solidarity",
                        }
                    ],
                    "sources": _source_links(sources.get(row["id"], [])),
                }
            )
        )
    return result


def popolo_memberships() -> list[JSON]:
    memberships = public_memberships()
    people = _slugs(public_people())
    organisations = _slugs(public_organisations())
    sources = _cited_sources(Membership, {row["id"] for row in memberships})
    return [
        _undated(
            {
                "id": f"membership-{row['id']}",
                "person_id": people[row["person"]],
                "organization_id": organisations[row["organisation"]],
                "role": row["role"],
                "start_date": popolo_date(row["start"]),
                "end_date": popolo_date(row["end"]),
                "sources": _source_links(sources.get(row["id"], [])),
            }
        )
        for row in memberships
    ]


def popolo_events(base_url: str) -> list[JSON]:
    events = public_events()
    slugs = _slugs(events)
    places = {row["id"]: _text(row, "name") for row in public_places()}
    sources = _cited_sources(Event, set(slugs))
    result = []
    for row in events:
        start, end = _range(row["date"])
        result.append(
            _undated(
                {
                    "id": row["slug"],
                    "name": _text(row, "title"),
                    "description": _text(row, "summary"),
                    "start_date": start,
                    "end_date": end,
                    "date_text": row["date"].text if row["date"] else None,
                    "classification": row["type"],
                    "location": places.get(row["place"]) if row["place"] else None,
                    "parent_id": slugs.get(row["part_of"]) if row["part_of"] else None,
                    "identifiers": [{"scheme": "solidarity", "identifier": row["slug"]}],
                    "sources": _source_links(sources.get(row["id"], [])),
                }
            )
        )
    # Popolo has no field for the page of an event; its links go in `sources` beside the rest.
    for item in result:
        item.setdefault("sources", []).insert(
            0, {"url": _page(base_url, "event", item["id"]), "note": "Solidarity"}
        )
    return result


def popolo_sources() -> list[JSON]:
    """Sources have no Popolo class; the combined export lists them in this plain form."""
    return [
        _undated(
            {
                "id": row["slug"],
                "title": row["title"],
                "author": row["author"],
                "publisher": row["publisher"],
                "kind": row["kind"],
                "published": row["published"].text if row["published"] else None,
                "accessed": row["accessed"].isoformat() if row["accessed"] else None,
                "url": safe_link(row["url"]),
                "language": row["language"],
            }
        )
        for row in public_sources()
    ]


def popolo_all(base_url: str) -> JSON:
    return {
        "persons": popolo_people(base_url),
        "organizations": popolo_organizations(base_url),
        "memberships": popolo_memberships(),
        "events": popolo_events(base_url),
        "sources": popolo_sources(),
    }


# -- CSV -------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, PartialDate):
        return value.text
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # A spreadsheet runs a cell that starts like a formula; a quote makes it plain text.
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv(header: list[str], rows: Iterable[Iterable[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return out.getvalue()


def _related_slugs(model: type[models.Model]) -> dict[str, dict[int, str]]:
    """For each public foreign key of `model`, the slugs of the public records it may name."""
    readers: dict[Any, Callable[[], list[Row]]] = {
        Person: public_people,
        Organisation: public_organisations,
        Event: public_events,
        Place: public_places,
        Source: public_sources,
    }
    found: dict[str, dict[int, str]] = {}
    for name in _fields(model):
        field = model._meta.get_field(name)
        target = field.related_model
        if field.many_to_one and isinstance(target, type) and target in readers:
            found[name] = _slugs(readers[target]())
    return found


def _table(model: type[models.Model], rows: list[Row]) -> tuple[list[str], list[list[Any]]]:
    """Public columns of `rows`, each reference to a record shown as that record's slug, or
    left empty when the record it names is not public."""
    header = _fields(model)
    related = _related_slugs(model)
    table = []
    for row in rows:
        table.append(
            [
                (related[name].get(row[name], "") if row[name] is not None else "")
                if name in related
                else row[name]
                for name in header
            ]
        )
    return header, table


def csv_people() -> str:
    rows = public_people()
    header, table = _table(Person, rows)
    names = _names_of({row["id"] for row in rows})
    for row, line in zip(rows, table, strict=True):
        line.append("|".join(n["name"] for n in names.get(row["id"], [])))
    return _csv([*header, "other_names"], table)


def csv_organizations() -> str:
    return _csv(*_table(Organisation, public_organisations()))


def csv_memberships() -> str:
    return _csv(*_table(Membership, public_memberships()))


def csv_events() -> str:
    rows = public_events()
    header, table = _table(Event, rows)
    sources = _cited_sources(Event, {row["id"] for row in rows})
    for row, line in zip(rows, table, strict=True):
        line.append("|".join(s["slug"] for s in sources.get(row["id"], [])))
    return _csv([*header, "sources"], table)


def csv_sources() -> str:
    return _csv(*_table(Source, public_sources()))


CSV_EXPORTS = {
    "people": csv_people,
    "organizations": csv_organizations,
    "memberships": csv_memberships,
    "events": csv_events,
    "sources": csv_sources,
}
