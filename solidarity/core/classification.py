"""The one place where every field of every Solidarity model is given a class.

    PUBLIC    may appear on the public site, feeds, API and mirror — if its record is public.
    INTERNAL  staff of the owning section only (working notes, bookkeeping).
    PERSONAL  data about a living person that identifies or reaches them (contacts, e-mails).
    SEALED    could get someone detained or killed if it leaked: whereabouts of people in
              hiding, testimony, informants.

The public site never picks fields itself: it asks `public_fields(Model)`. A test walks every
model and fails if any field is missing here, so a new field cannot reach a public page by
default — it is unclassified, and the suite is red, until someone decides.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class FieldClass(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    PERSONAL = "personal"
    SEALED = "sealed"


P, I, PE, S = FieldClass.PUBLIC, FieldClass.INTERNAL, FieldClass.PERSONAL, FieldClass.SEALED

# Fields every Record has (solidarity.core.models.Record).
_RECORD = {"id": P, "section": I, "is_public": I, "created_at": I, "updated_at": I}
_TRANSLATED = ("en", "ru", "kk")


def _tr(base: str, cls: FieldClass = P) -> dict[str, FieldClass]:
    return {f"{base}_{lang}": cls for lang in _TRANSLATED}


CLASSIFICATION: dict[str, dict[str, FieldClass]] = {
    "core.Section": {"id": P, "slug": P, **_tr("name"), "kind": P, "country": P},
    "documentation.Source": {
        **_RECORD,
        "slug": P,
        "title": P,
        "author": P,
        "publisher": P,
        "kind": P,
        "published": P,
        "accessed": P,
        "url": P,
        "language": P,
        "internal_notes": I,
    },
    "documentation.Citation": {
        "id": P,
        "content_type": P,
        "object_id": P,
        "source": P,
        "reliability": P,
        "quote": P,
        "locator": P,
    },
    "documentation.Place": {
        **_RECORD,
        "slug": P,
        **_tr("name"),
        "kind": P,
        "country_code": P,
        "parent": P,
    },
    "documentation.Organisation": {
        **_RECORD,
        "slug": P,
        **_tr("name"),
        "abbreviation": P,
        "kind": P,
        "founded": P,
        "dissolved": P,
        "country": P,
        "ideology": P,
        "political_position": P,
        "colours": P,
        "website": P,
        "newspaper": P,
        **_tr("summary"),
        "internal_notes": I,
    },
    "documentation.OrganisationRelation": {
        **_RECORD,
        "organisation": P,
        "kind": P,
        "other": P,
        "start": P,
        "end": P,
    },
    "documentation.Person": {
        **_RECORD,
        "slug": P,
        "given_name": P,
        "patronymic": P,
        "family_name": P,
        # A birth year narrows down who someone is; staff use it to tell namesakes apart.
        "birth_year": I,
        **_tr("occupation"),
        **_tr("summary"),
        "whereabouts": S,
        "contact": PE,
        "internal_notes": I,
    },
    "documentation.PersonName": {"id": P, "person": P, "name": P, "language": P, "script": P,
                                 "kind": P},
    "documentation.Membership": {
        **_RECORD,
        "person": P,
        "organisation": P,
        "role": P,
        "start": P,
        "end": P,
    },
    "documentation.Event": {
        **_RECORD,
        "slug": P,
        "type": P,
        **_tr("title"),
        **_tr("summary"),
        "date": P,
        "date_earliest": P,
        "date_latest": P,
        "place": P,
        "place_detail": P,
        "part_of": P,
        "internal_notes": I,
    },
    "documentation.Act": {
        "id": P,
        "event": P,
        "type": P,
        "victim": P,
        "victim_description": P,
        "date": P,
    },
    "documentation.Involvement": {
        "id": P,
        "act": P,
        "perpetrator": P,
        "perpetrator_organisation": P,
        "perpetrator_description": P,
        "degree": P,
    },
    "documentation.Participation": {
        "id": P,
        "event": P,
        "person": P,
        "organisation": P,
        "role": P,
    },
    "documentation.PaceCriterion": {"id": P, "code": P, **_tr("label")},
    "documentation.DetentionFacility": {
        **_RECORD,
        "slug": P,
        **_tr("name"),
        "place": P,
        "postal_address": P,
    },
    "documentation.Prosecution": {
        **_RECORD,
        "person": P,
        "charge": P,
        "code_article": P,
        "court": P,
        "opened": P,
        "verdict_date": P,
        "outcome": P,
        "sentence": P,
        "appeal": P,
        "event": P,
    },
    "documentation.Detention": {
        **_RECORD,
        "person": P,
        "facility": P,
        "start": P,
        "end": P,
        "correspondence": P,
        "correspondence_notes": I,
    },
    "documentation.Recognition": {
        **_RECORD,
        "person": P,
        "recognised_by": P,
        "date": P,
        "criteria": P,
        "reasons": P,
    },
}


def _key(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.{model._meta.object_name}"


def field_class(model: type[models.Model], field_name: str) -> FieldClass:
    """The class of one field; KeyError if it was never classed (a test forbids that)."""
    return CLASSIFICATION[_key(model)][field_name]


def public_fields(model: type[models.Model]) -> list[str]:
    """Names of the fields of `model` that may be published, in declaration order."""
    classes = CLASSIFICATION[_key(model)]
    return [
        f.name
        for f in model._meta.get_fields()
        if not f.auto_created or f.name == "id"
        if classes.get(f.name) is FieldClass.PUBLIC
    ]


def fields_of_class(model: type[models.Model], *wanted: FieldClass) -> list[str]:
    return [name for name, cls in CLASSIFICATION[_key(model)].items() if cls in wanted]
