"""Loading a documented case from a YAML file: the demo's seed case, or any file of its shape.

The format is shown, with comments, in `data/seed_case.yaml`. `load_case` reads the whole file,
validates every record with `full_clean()` (so each model's own rules apply, exactly as in the
back office) and writes inside one transaction: a file with one mistake changes nothing, and
the `SeedError` says where the mistake is (file, path in the file, Django's message).

Loading is idempotent. Every record is found again by its natural key and updated in place, and
only saved when the file says something different, so loading the same file twice leaves the
database exactly as it was, primary keys and timestamps included. The natural keys:

    Section, Source, Place, Organisation, Person, Event   slug
    OrganisationRelation                                 (organisation, kind, other)
    PersonName                                           (person, name)
    Membership                                           (person, organisation, role)
    Act                      (event, type, victim), or (event, type, victim_description)
    Involvement                (act, perpetrator or perpetrator_organisation or description)
    Participation                                        (event, person or organisation, role)
    Prosecution                                          (person, event)
    Detention                                            (person, start)
    Recognition                                          (person, recognised_by)
    Citation                                             (record, source)

Two records of one file with the same natural key are an error ("listed twice"), since the
second would silently overwrite the first.

For the fields the format covers, the file is the truth: a value left out of the file is
emptied. Fields it does not cover are never touched; among them are a person's whereabouts and
contact details, which the loader refuses outright (a YAML file is copied, mailed and
committed). Rows that are in the database but no longer in the file are left alone: a file adds
and corrects, it never deletes, because staff may have documented more since, and a file that
forgets a fact must not destroy the evidence for it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import yaml
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, models, transaction

from solidarity.core.models import Section

from .models import (
    Act,
    Citation,
    Detention,
    DetentionFacility,
    Event,
    Involvement,
    Membership,
    Organisation,
    OrganisationRelation,
    PaceCriterion,
    Participation,
    Person,
    PersonName,
    Place,
    Prosecution,
    Recognition,
    Source,
    Sourced,
)
from .vocabularies import Correspondence, ProsecutionOutcome, Reliability

# libyaml's loader when PyYAML was built with it: ten times faster, and just as safe.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

SEED_CASE = Path(__file__).resolve().parent / "data" / "seed_case.yaml"
FORMAT_VERSION = 1

M = TypeVar("M", bound=models.Model)

_LANGUAGES = ("en", "ru", "kk")
_TRANSLATED_FIELD = re.compile(r"^(?P<base>.+)_(?P<lang>en|ru|kk)$")
# Where a model field is spelled differently in the file.
_FILE_KEY = {"is_public": "public"}
_NEVER_IN_FILES = {
    "whereabouts": "where a person can be found",
    "contact": "how to reach a person",
}

# Keys each kind of entry may have: (required, optional).
_DOCUMENT = ({"version"}, {"sections", "sources", "places", "organisations", "people", "events"})
_RECORD = {"section", "public"}
_SECTION = ({"slug", "name", "kind"}, {"country"})
_SOURCE = (
    {"slug", "section", "title"},
    {"public", "author", "publisher", "kind", "published", "accessed", "url", "language"}
    | {"internal_notes"},
)
_PLACE = ({"slug", "section", "name", "kind"}, {"public", "country_code", "parent"})
_ORGANISATION = (
    {"slug", "section", "name", "kind"},
    {"public", "abbreviation", "founded", "dissolved", "country", "ideology"}
    | {"political_position", "colours", "website", "newspaper", "summary", "internal_notes"}
    | {"citations", "relations"},
)
_RELATION = ({"kind", "other"}, {"start", "end", "citations"} | _RECORD)
_PERSON = (
    {"slug", "section", "given_name", "family_name"},
    {"public", "patronymic", "birth_year", "occupation", "summary", "internal_notes"}
    | {"names", "citations", "memberships", "prosecutions", "detentions", "recognitions"},
)
_NAME = ({"name", "language", "script", "kind"}, {"public"})
_MEMBERSHIP = ({"organisation", "role"}, {"start", "end", "citations"} | _RECORD)
_EVENT = (
    {"slug", "section", "type", "title", "date"},
    {"public", "summary", "place", "place_detail", "part_of", "internal_notes"}
    | {"citations", "acts", "participants"},
)
_ACT = (set[str](), {"type", "victim", "victim_description", "date", "involvements"})
_INVOLVEMENT = (
    {"degree"},
    {"perpetrator", "perpetrator_organisation", "perpetrator_description"},
)
_PARTICIPANT = ({"role"}, {"person", "organisation"})
_PROSECUTION = (
    set[str](),
    {"event", "charge", "code_article", "court", "opened", "verdict_date", "outcome"}
    | {"sentence", "appeal", "citations"}
    | _RECORD,
)
_DETENTION = (
    set[str](),
    {"facility", "start", "end", "correspondence", "correspondence_notes", "citations"} | _RECORD,
)
_RECOGNITION = ({"recognised_by"}, {"date", "criteria", "reasons", "citations"} | _RECORD)
_CITATION = ({"source"}, {"reliability", "quote", "locator"})


class SeedError(Exception):
    """A case file that cannot be loaded. Nothing from it was written."""

    def __init__(self, file: Path, path: str, message: str) -> None:
        self.file = file
        self.path = path
        self.message = message
        super().__init__(f"{file}: {path}: {message}" if path else f"{file}: {message}")


@dataclass
class LoadReport:
    """What loading a file did, counted per kind of record."""

    file: Path
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(self.created.total() or self.updated.total())

    def summary(self) -> str:
        return (
            f"{self.created.total()} created, {self.updated.total()} updated, "
            f"{self.unchanged.total()} unchanged"
        )

    def lines(self) -> list[str]:
        kinds = sorted(set(self.created) | set(self.updated) | set(self.unchanged))
        return [
            f"{kind}: {self.created[kind]} created, {self.updated[kind]} updated, "
            f"{self.unchanged[kind]} unchanged"
            for kind in kinds
        ]


def load_case(path: Path) -> LoadReport:
    """Load the case file at `path` in one transaction; raise SeedError and write nothing if any
    record in it is invalid."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SeedError(path, "", f"cannot read the file: {error}") from None
    try:
        data = yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise SeedError(path, where, f"not valid YAML: {problem}") from None
    loader = _Loader(path)
    with transaction.atomic():
        loader.load(data)
    return loader.report


class _Loader:
    def __init__(self, file: Path) -> None:
        self.file = file
        self.report = LoadReport(file)
        # Natural key → where in the file it was first seen, to catch records listed twice.
        self.seen: dict[tuple[object, ...], str] = {}
        self.loaded: dict[type[models.Model], dict[str, models.Model]] = defaultdict(dict)
        # Which of the report's counters the last upsert added to.
        self.last_outcome: Counter[str] = self.report.unchanged

    # -- the document -------------------------------------------------------------------------

    def load(self, data: Any) -> None:
        document = self.entry(data, "", _DOCUMENT)
        if document["version"] != FORMAT_VERSION:
            raise self.fail("version", f"this loader reads version {FORMAT_VERSION} files")
        for item, where in self.entries(document, "sections"):
            self.section(item, where)
        for item, where in self.entries(document, "sources"):
            self.source(item, where)
        for item, where in self.entries(document, "places"):
            self.place(item, where)
        # Relations come after every organisation, so that one may name any other.
        organisations = list(self.entries(document, "organisations"))
        for item, where in organisations:
            self.organisation(item, where)
        for item, where in organisations:
            self.relations(item, where)
        # Prisoner records point at events, and events at people: people, events, then those.
        people = list(self.entries(document, "people"))
        for item, where in people:
            self.person(item, where)
        for item, where in self.entries(document, "events"):
            self.event(item, where)
        for item, where in people:
            self.prisoner_records(item, where)

    def section(self, item: Any, where: str) -> None:
        data = self.entry(item, where, _SECTION)
        slug = self.text(data, "slug", where)
        values = {
            **self.translated(data, "name", where),
            "kind": self.text(data, "kind", where),
            "country": self.text(data, "country", where),
        }
        self.remember(slug, self.upsert(Section, where, {"slug": slug}, values))

    def source(self, item: Any, where: str) -> None:
        data = self.entry(item, where, _SOURCE)
        slug = self.text(data, "slug", where)
        values: dict[str, Any] = {
            **self.record(data, where),
            **self.texts(data, where, "title", "author", "publisher", "url", "language"),
            **self.texts(data, where, "published", "internal_notes"),
            "kind": self.text(data, "kind", where, default=Source.Kind.ARTICLE),
            "accessed": self.text(data, "accessed", where) or None,
        }
        self.remember(slug, self.upsert(Source, where, {"slug": slug}, values))

    def place(self, item: Any, where: str) -> None:
        data = self.entry(item, where, _PLACE)
        slug = self.text(data, "slug", where)
        values: dict[str, Any] = {
            **self.record(data, where),
            **self.translated(data, "name", where),
            **self.texts(data, where, "kind", "country_code"),
            "parent": self.optional_ref(Place, data, "parent", where),
        }
        self.remember(slug, self.upsert(Place, where, {"slug": slug}, values))

    def organisation(self, item: Any, where: str) -> None:
        data = self.entry(item, where, _ORGANISATION)
        slug = self.text(data, "slug", where)
        values: dict[str, Any] = {
            **self.record(data, where),
            **self.translated(data, "name", where),
            **self.translated(data, "summary", where),
            **self.texts(data, where, "abbreviation", "kind", "founded", "dissolved"),
            **self.texts(data, where, "ideology", "political_position", "colours", "website"),
            **self.texts(data, where, "newspaper", "internal_notes"),
            "country": self.optional_ref(Place, data, "country", where),
        }
        organisation = self.upsert(Organisation, where, {"slug": slug}, values)
        self.remember(slug, organisation)
        self.cite(organisation, data, where)

    def relations(self, item: Any, where: str) -> None:
        data = self.entry(item, where, _ORGANISATION)
        organisation = self.loaded_record(Organisation, data, where)
        inherited = (organisation.section, organisation.is_public)
        for relation_item, relation_where in self.entries(data, "relations", where):
            relation_data = self.entry(relation_item, relation_where, _RELATION)
            key = {
                "organisation": organisation,
                "kind": self.text(relation_data, "kind", relation_where),
                "other": self.ref(Organisation, relation_data, "other", relation_where),
            }
            values = {
                **self.record(relation_data, relation_where, inherited),
                **self.texts(relation_data, relation_where, "start", "end"),
            }
            relation = self.upsert(OrganisationRelation, relation_where, key, values)
            self.cite(relation, relation_data, relation_where)

    def person(self, item: Any, where: str) -> None:
        if isinstance(item, Mapping):
            for sealed, what in _NEVER_IN_FILES.items():
                if sealed in item:
                    raise self.fail(
                        f"{where}.{sealed}",
                        f"{sealed} ({what}) is never loaded from a file: a file is copied, mailed "
                        "and committed, and this could get someone caught. Enter it in the "
                        "back office, where it is protected.",
                    )
        data = self.entry(item, where, _PERSON)
        slug = self.text(data, "slug", where)
        values: dict[str, Any] = {
            **self.record(data, where),
            **self.texts(data, where, "given_name", "patronymic", "family_name"),
            **self.translated(data, "occupation", where),
            **self.translated(data, "summary", where),
            "internal_notes": self.text(data, "internal_notes", where),
            "birth_year": self.scalar(data, "birth_year", where),
        }
        person = self.upsert(Person, where, {"slug": slug}, values)
        self.remember(slug, person)
        self.cite(person, data, where)
        inherited = (person.section, person.is_public)
        for name_item, name_where in self.entries(data, "names", where):
            name_data = self.entry(name_item, name_where, _NAME)
            self.upsert(
                PersonName,
                name_where,
                {"person": person, "name": self.text(name_data, "name", name_where)},
                {
                    **self.texts(name_data, name_where, "language", "script", "kind"),
                    # As nested records do: the person's flag unless the form says otherwise.
                    "is_public": self.record(name_data, name_where, inherited)["is_public"],
                },
            )
        for member_item, member_where in self.entries(data, "memberships", where):
            member_data = self.entry(member_item, member_where, _MEMBERSHIP)
            key = {
                "person": person,
                "organisation": self.ref(Organisation, member_data, "organisation", member_where),
                "role": self.text(member_data, "role", member_where),
            }
            values = {
                **self.record(member_data, member_where, inherited),
                **self.texts(member_data, member_where, "start", "end"),
            }
            membership = self.upsert(Membership, member_where, key, values)
            self.cite(membership, member_data, member_where)

    def event(self, item: Any, where: str) -> None:
        data = self.entry(item, where, _EVENT)
        slug = self.text(data, "slug", where)
        event_type = self.text(data, "type", where)
        values: dict[str, Any] = {
            **self.record(data, where),
            **self.translated(data, "title", where),
            **self.translated(data, "summary", where),
            **self.texts(data, where, "date", "place_detail", "internal_notes"),
            "type": event_type,
            "place": self.optional_ref(Place, data, "place", where),
            "part_of": self.optional_ref(Event, data, "part_of", where),
        }
        event = self.upsert(Event, where, {"slug": slug}, values)
        self.remember(slug, event)
        self.cite(event, data, where)
        for act_item, act_where in self.entries(data, "acts", where):
            self.act(event, event_type, act_item, act_where)
        for part_item, part_where in self.entries(data, "participants", where):
            part_data = self.entry(part_item, part_where, _PARTICIPANT)
            key = {
                "event": event,
                "person": self.optional_ref(Person, part_data, "person", part_where),
                "organisation": self.optional_ref(
                    Organisation, part_data, "organisation", part_where
                ),
                "role": self.text(part_data, "role", part_where),
            }
            self.upsert(Participation, part_where, key, {})

    def act(self, event: Event, event_type: str, item: Any, where: str) -> None:
        data = self.entry(item, where, _ACT)
        victim = self.optional_ref(Person, data, "victim", where)
        description = self.text(data, "victim_description", where)
        key: dict[str, Any] = {
            "event": event,
            "type": self.text(data, "type", where, default=event_type),
            "victim": victim,
        }
        values: dict[str, Any] = {"date": self.text(data, "date", where)}
        if victim is None:
            key["victim_description"] = description
        else:
            values["victim_description"] = description
        act = self.upsert(Act, where, key, values)
        for involved_item, involved_where in self.entries(data, "involvements", where):
            involved = self.entry(involved_item, involved_where, _INVOLVEMENT)
            key = {
                "act": act,
                "perpetrator": self.optional_ref(Person, involved, "perpetrator", involved_where),
                "perpetrator_organisation": self.optional_ref(
                    Organisation, involved, "perpetrator_organisation", involved_where
                ),
                "perpetrator_description": self.text(
                    involved, "perpetrator_description", involved_where
                ),
            }
            values = {"degree": self.text(involved, "degree", involved_where)}
            self.upsert(Involvement, involved_where, key, values)

    def prisoner_records(self, item: Any, where: str) -> None:
        data = self.entry(item, where, _PERSON)
        person = self.loaded_record(Person, data, where)
        inherited = (person.section, person.is_public)
        for case_item, case_where in self.entries(data, "prosecutions", where):
            case = self.entry(case_item, case_where, _PROSECUTION)
            key: dict[str, Any] = {
                "person": person,
                "event": self.optional_ref(Event, case, "event", case_where),
            }
            values: dict[str, Any] = {
                **self.record(case, case_where, inherited),
                **self.texts(case, case_where, "charge", "code_article", "court", "opened"),
                **self.texts(case, case_where, "verdict_date", "sentence", "appeal"),
                "outcome": self.text(
                    case, "outcome", case_where, default=ProsecutionOutcome.UNKNOWN
                ),
            }
            self.cite(self.upsert(Prosecution, case_where, key, values), case, case_where)
        for held_item, held_where in self.entries(data, "detentions", where):
            held = self.entry(held_item, held_where, _DETENTION)
            key = {"person": person, "start": self.text(held, "start", held_where)}
            values = {
                **self.record(held, held_where, inherited),
                "facility": self.optional_ref(DetentionFacility, held, "facility", held_where),
                "end": self.text(held, "end", held_where),
                "correspondence": self.text(
                    held, "correspondence", held_where, default=Correspondence.UNKNOWN
                ),
                "correspondence_notes": self.text(held, "correspondence_notes", held_where),
            }
            self.cite(self.upsert(Detention, held_where, key, values), held, held_where)
        for recognised_item, recognised_where in self.entries(data, "recognitions", where):
            self.recognition(person, inherited, recognised_item, recognised_where)

    def recognition(
        self, person: Person, inherited: tuple[Section, bool], item: Any, where: str
    ) -> None:
        data = self.entry(item, where, _RECOGNITION)
        key = {
            "person": person,
            "recognised_by": self.ref(Organisation, data, "recognised_by", where),
        }
        values = {**self.record(data, where, inherited), **self.texts(data, where, "date")}
        values["reasons"] = self.text(data, "reasons", where)
        wanted: set[int] = set()
        for code, code_where in self.entries(data, "criteria", where):
            if not isinstance(code, str):
                raise self.fail(
                    code_where, f"expected a criterion code (a to e), not {_shown(code)}"
                )
            criterion = PaceCriterion.objects.filter(code=code).first()
            if criterion is None:
                codes = ", ".join(PaceCriterion.objects.values_list("code", flat=True))
                raise self.fail(
                    code_where, f"no PACE 1900 criterion “{code}”; the criteria are {codes}"
                )
            wanted.add(criterion.pk)
        recognition = self.upsert(Recognition, where, key, values)
        if set(recognition.criteria.values_list("pk", flat=True)) != wanted:
            recognition.criteria.set(wanted)
            if self.last_outcome is self.report.unchanged:
                self.report.unchanged[_kind(Recognition)] -= 1
                self.report.updated[_kind(Recognition)] += 1
        self.cite(recognition, data, where)

    def cite(self, record: Sourced, data: Mapping[str, Any], where: str) -> None:
        entries = list(self.entries(data, "citations", where))
        if not entries:
            raise self.fail(
                f"{where}.citations",
                "this record states facts and cites no source: add at least one citation",
            )
        content_type = ContentType.objects.get_for_model(type(record))
        for item, citation_where in entries:
            citation = self.entry(item, citation_where, _CITATION)
            key = {
                "content_type": content_type,
                "object_id": record.pk,
                "source": self.ref(Source, citation, "source", citation_where),
            }
            values = {
                **self.texts(citation, citation_where, "quote", "locator"),
                "reliability": self.text(
                    citation, "reliability", citation_where, default=Reliability.UNKNOWN
                ),
            }
            self.upsert(Citation, citation_where, key, values)

    # -- writing ------------------------------------------------------------------------------

    def upsert(self, model: type[M], where: str, key: dict[str, Any], values: dict[str, Any]) -> M:
        """update_or_create by natural key, validated with full_clean, saved only if changed."""
        opts = model._meta
        # Computed fields (timestamps, an event's date bounds) are the model's business.
        computed = {f.name for f in opts.concrete_fields if not f.editable}
        candidate = model(**key, **values)
        # Turn the file's texts into values (a date, a PartialDate) so that the record can be
        # looked up and compared; related records were just fetched, full_clean checks them.
        relations = {f.name for f in opts.concrete_fields if f.is_relation}
        try:
            candidate.clean_fields(exclude=computed | relations)
        except ValidationError as error:
            raise self.invalid(where, error) from None
        lookup = {
            _field(model, name).attname: _stored(candidate, _field(model, name)) for name in key
        }
        marker = (opts.label, *sorted(lookup.items()))
        if marker in self.seen:
            raise self.fail(
                where, f"listed twice: the same {opts.verbose_name} as {self.seen[marker]}"
            )
        self.seen[marker] = where
        record = model._default_manager.filter(**lookup).order_by("pk").first()
        changed = record is None
        if record is None:
            record = candidate
        else:
            for name in values:
                model_field = _field(model, name)
                if _stored(candidate, model_field) != _stored(record, model_field):
                    setattr(record, model_field.attname, getattr(candidate, model_field.attname))
                    changed = True
        try:
            record.full_clean(exclude=computed)
        except ValidationError as error:
            raise self.invalid(where, error) from None
        kind = _kind(model)
        if not changed:
            self.last_outcome = self.report.unchanged
            self.last_outcome[kind] += 1
            return record
        self.last_outcome = self.report.created if record.pk is None else self.report.updated
        self.last_outcome[kind] += 1
        try:
            record.save()
        except DatabaseError as error:
            raise self.fail(where, f"the database refused this record: {error}") from None
        return record

    def remember(self, slug: str, record: models.Model) -> None:
        self.loaded[type(record)][slug] = record

    # -- reading entries ----------------------------------------------------------------------

    def entry(self, item: Any, where: str, keys: tuple[set[str], set[str]]) -> Mapping[str, Any]:
        required, optional = keys
        if not isinstance(item, Mapping):
            raise self.fail(where, f"expected a mapping of keys to values, not {_shown(item)}")
        for name in item:
            if name not in required and name not in optional:
                known = ", ".join(sorted(required | optional))
                raise self.fail(
                    _join(where, str(name)), f"unknown key “{name}”; expected one of: {known}"
                )
        for name in sorted(required):
            if item.get(name) is None:
                raise self.fail(_join(where, name), "missing: this key is required")
        return item

    def entries(
        self, data: Mapping[str, Any], name: str, where: str = ""
    ) -> Iterator[tuple[Any, str]]:
        """The items of list `name`, each with its path: `people[slug]`, or `names[0]`."""
        items = data.get(name)
        path = _join(where, name)
        if items is None:
            return
        if not isinstance(items, list):
            raise self.fail(path, f"expected a list, not {_shown(items)}")
        for index, item in enumerate(items):
            slug = item.get("slug") if isinstance(item, Mapping) else None
            yield item, f"{path}[{slug if isinstance(slug, str) and slug else index}]"

    def record(
        self,
        data: Mapping[str, Any],
        where: str,
        inherited: tuple[Section, bool] | None = None,
    ) -> dict[str, Any]:
        """Owning section and publication flag; nested records take their parent's."""
        if "section" in data or inherited is None:
            section = self.ref(Section, data, "section", where)
        else:
            section = inherited[0]
        # Unpublished unless the file says so: a forgotten flag must not publish anything.
        public = data.get("public", inherited[1] if inherited else False)
        if not isinstance(public, bool):
            raise self.fail(f"{where}.public", f"expected true or false, not {_shown(public)}")
        return {"section": section, "is_public": public}

    def ref(self, model: type[M], data: Mapping[str, Any], name: str, where: str) -> M:
        found = self.optional_ref(model, data, name, where)
        if found is None:
            raise self.fail(
                _join(where, name), f"missing: give the slug of the {model._meta.verbose_name}"
            )
        return found

    def optional_ref(
        self, model: type[M], data: Mapping[str, Any], name: str, where: str
    ) -> M | None:
        """The record whose slug is `data[name]`: loaded from this file, or already stored."""
        slug = self.text(data, name, where)
        if not slug:
            return None
        found = self.loaded[model].get(slug)
        if found is not None:
            return cast(M, found)
        stored = model._default_manager.filter(slug=slug).first()
        if stored is None:
            raise self.fail(
                _join(where, name),
                f"no {model._meta.verbose_name} “{slug}” in this file (above this point) "
                "or in the database",
            )
        return stored

    def loaded_record(self, model: type[M], data: Mapping[str, Any], where: str) -> M:
        return cast(M, self.loaded[model][self.text(data, "slug", where)])

    def text(self, data: Mapping[str, Any], name: str, where: str, default: str = "") -> str:
        value = data.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float | dt.date):
            raise self.fail(_join(where, name), f"expected text, not {_shown(value)}")
        if isinstance(value, dt.date):
            # YAML reads an unquoted 2002-05-23 as a date; it means the same text.
            return value.isoformat()
        return str(value).strip()

    def texts(self, data: Mapping[str, Any], where: str, *names: str) -> dict[str, str]:
        return {name: self.text(data, name, where) for name in names}

    def scalar(self, data: Mapping[str, Any], name: str, where: str) -> Any:
        value = data.get(name)
        if isinstance(value, Mapping | list):
            raise self.fail(_join(where, name), f"expected a single value, not {_shown(value)}")
        return value

    def translated(self, data: Mapping[str, Any], base: str, where: str) -> dict[str, str]:
        """`name: {en: …, ru: …, kk: …}` → name_en, name_ru, name_kk (missing ones empty)."""
        texts = data.get(base) or {}
        path = _join(where, base)
        if not isinstance(texts, Mapping):
            raise self.fail(path, f"expected texts by language (en, ru, kk), not {_shown(texts)}")
        for language in texts:
            if language not in _LANGUAGES:
                raise self.fail(
                    f"{path}.{language}", f"unknown language “{language}”; use en, ru or kk"
                )
        return {f"{base}_{lang}": self.text(texts, lang, path) for lang in _LANGUAGES}

    # -- errors -------------------------------------------------------------------------------

    def fail(self, where: str, message: str) -> SeedError:
        return SeedError(self.file, where, message)

    def invalid(self, where: str, error: ValidationError) -> SeedError:
        """The first of Django's messages, at the path of the field it is about."""
        if not hasattr(error, "error_dict"):
            return self.fail(where, " ".join(error.messages))
        name, errors = next(iter(error.error_dict.items()))
        messages = " ".join(message for item in errors for message in item.messages)
        if name == NON_FIELD_ERRORS:
            return self.fail(where, messages)
        return self.fail(_join(where, _file_key(name)), messages)


def _field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    model_field = model._meta.get_field(name)
    if not isinstance(model_field, models.Field):
        raise TypeError(f"{model.__name__}.{name} is not a concrete field")
    return model_field


def _stored(record: models.Model, model_field: models.Field[Any, Any]) -> Any:
    """A field's value as the database holds it, so that equal values compare equal."""
    value = getattr(record, model_field.attname)
    return value if model_field.is_relation else model_field.get_prep_value(value)


def _kind(model: type[models.Model]) -> str:
    return str(model._meta.verbose_name_plural)


def _file_key(field_name: str) -> str:
    if field_name in _FILE_KEY:
        return _FILE_KEY[field_name]
    match = _TRANSLATED_FIELD.match(field_name)
    return f"{match['base']}.{match['lang']}" if match else field_name


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _shown(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"“{value}”"
