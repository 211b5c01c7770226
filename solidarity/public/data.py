"""Everything the public site shows, as plain data.

This is the only module of the public site that touches models, and it reads them one way:
`.values(*public_fields(Model))` on records that are public themselves. What leaves this
module is frozen dataclasses of public values, never a model instance or a queryset, so a
template cannot follow a relation or read a field that was not classed public.

A related record is shown only if it is public too: a private victim or perpetrator becomes
"a person whose identity is withheld", a private member, participant or affiliate is left out,
and a citation whose source is private is not shown at all. Who the withheld are must not be
guessable from the page, so nothing of theirs (not even a slug) is read.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, reduce
from typing import Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from solidarity.core import buildcache
from solidarity.core.buildcache import build_cached
from solidarity.core.classification import public_fields
from solidarity.core.links import safe_link
from solidarity.core.partialdate import PartialDate
from solidarity.core.translation import LANGUAGES, Translated, pick
from solidarity.documentation.models import (
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
)
from solidarity.documentation.services import (
    StatusChange,
    current_status,
    derive_status_timeline,
)
from solidarity.documentation.vocabularies import (
    Correspondence,
    EventType,
    InvolvementDegree,
    NameKind,
    NameScript,
    OrganisationKind,
    ParticipantRole,
    ProsecutionOutcome,
    RelationKind,
    Reliability,
)

from .values import (
    ActInfo,
    CitationInfo,
    Citations,
    CriterionInfo,
    DetentionInfo,
    EventDetail,
    EventRef,
    EventRoles,
    EventSummary,
    FacilityInfo,
    Home,
    InvolvementInfo,
    MemberInfo,
    NameForm,
    NameGroup,
    OrganisationDetail,
    OrganisationSummary,
    Page,
    Party,
    PartyKind,
    PersonDetail,
    PersonSummary,
    PlaceInfo,
    ProsecutionInfo,
    RecognitionInfo,
    RelationInfo,
    Role,
    SourceInfo,
    TimelineFilters,
    TimelineStep,
)

PER_PAGE = 25
LATEST_EVENTS_ON_HOME = 5

Row = dict[str, Any]
T = TypeVar("T")


# -- Reading models: the only way in ------------------------------------------------------------


def _fields(model: type[models.Model]) -> list[str]:
    # A many-to-many field in .values() multiplies rows; those are read on their own.
    return [name for name in public_fields(model) if not model._meta.get_field(name).many_to_many]


def _columns(model: type[models.Model], *names: str) -> list[str]:
    """`names`, each a public field of `model`, for a page that shows only some: a field
    classed otherwise is a mistake here, never a thing to read."""
    public = set(public_fields(model))
    hidden = [name for name in names if name not in public]
    if hidden:
        raise ImproperlyConfigured(f"{model.__name__} fields {hidden} are not public")
    return list(names)


def _values(queryset: QuerySet[Any], limit: int | None = None) -> list[Row]:
    rows = queryset.values(*_fields(queryset.model))
    return list(rows[:limit] if limit is not None else rows)


def _public_sources() -> QuerySet[Source]:
    return Source.objects.filter(is_public=True)


def _public_places() -> QuerySet[Place]:
    return Place.objects.filter(is_public=True)


def _public_organisations() -> QuerySet[Organisation]:
    return Organisation.objects.filter(is_public=True)


def _public_people() -> QuerySet[Person]:
    return Person.objects.filter(is_public=True)


def _public_events() -> QuerySet[Event]:
    return Event.objects.filter(is_public=True)


def _public_relations() -> QuerySet[OrganisationRelation]:
    # An affiliation is shown from both ends, so both organisations must be public.
    return OrganisationRelation.objects.filter(
        is_public=True, organisation__is_public=True, other__is_public=True
    )


def _public_memberships() -> QuerySet[Membership]:
    return Membership.objects.filter(
        is_public=True, person__is_public=True, organisation__is_public=True
    )


def _public_prosecutions() -> QuerySet[Prosecution]:
    return Prosecution.objects.filter(is_public=True, person__is_public=True)


def _public_detentions() -> QuerySet[Detention]:
    return Detention.objects.filter(is_public=True, person__is_public=True)


def _public_recognitions() -> QuerySet[Recognition]:
    return Recognition.objects.filter(is_public=True, person__is_public=True)


# Every fact that can carry citations, and which of its records the site shows.
_SHOWN_FACTS: dict[type[models.Model], Callable[[], QuerySet[Any]]] = {
    Organisation: _public_organisations,
    OrganisationRelation: _public_relations,
    Person: _public_people,
    Membership: _public_memberships,
    Event: _public_events,
    Prosecution: _public_prosecutions,
    Detention: _public_detentions,
    Recognition: _public_recognitions,
}


def _tr(row: Row, base: str) -> Translated:
    return pick({lang: row.get(f"{base}_{lang}") or "" for lang in LANGUAGES})


def _label(choices: type[models.Choices], value: str) -> str:
    return str(_labels(choices).get(value, value))


@lru_cache(maxsize=64)
def _labels(choices: type[models.Choices]) -> dict[Any, Any]:
    """Each value's label (lazy: written in the language active when read), per choices class;
    `choices.choices` made its list afresh for every label, thousands in a build's batch."""
    return dict(choices.choices)


def _plain(text: str) -> Translated:
    return Translated(text, "", False)


def _full_name(row: Row) -> str:
    return " ".join(p for p in (row["given_name"], row["patronymic"], row["family_name"]) if p)


# -- Building blocks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _PageMeta:
    number: int
    num_pages: int
    count: int
    start_index: int
    end_index: int
    previous_number: int | None
    next_number: int | None

    def wrap(self, items: Iterable[T]) -> Page[T]:
        return Page(
            tuple(items),
            self.number,
            self.num_pages,
            self.count,
            self.start_index,
            self.end_index,
            self.previous_number,
            self.next_number,
        )


def _paginate(
    queryset: QuerySet[Any] | list[Row], number: str | None, columns: Sequence[str] = ()
) -> tuple[list[Row], _PageMeta]:
    """The rows of one page; a page number out of range gives the nearest page.

    The rows are a queryset's (its public `columns`, by default all), or a list of rows
    already read (the timeline in a build)."""
    if isinstance(queryset, list):
        rows: QuerySet[Any] | list[Row] = queryset
    else:
        model = queryset.model
        rows = queryset.values(*(_columns(model, *columns) if columns else _fields(model)))
    paginator = Paginator(rows, PER_PAGE)
    page = paginator.get_page(number)
    meta = _PageMeta(
        number=page.number,
        num_pages=paginator.num_pages,
        count=paginator.count,
        start_index=page.start_index(),
        end_index=page.end_index(),
        previous_number=page.previous_page_number() if page.has_previous() else None,
        next_number=page.next_page_number() if page.has_next() else None,
    )
    return list(page.object_list), meta


def _source_info(row: Row, citing_facts: int = 0) -> SourceInfo:
    return SourceInfo(
        slug=row["slug"],
        title=row["title"],
        author=row["author"],
        publisher=row["publisher"],
        kind_label=_label(Source.Kind, row["kind"]),
        published=row["published"],
        accessed=row["accessed"],
        url=row["url"],
        link=safe_link(row["url"]),
        language=row["language"],
        citing_facts=citing_facts,
    )


CitationIndex = dict[tuple[type[models.Model], int], Citations]


def _citations(wanted: Mapping[type[models.Model], Iterable[int]]) -> CitationIndex:
    """Citations of many facts of several kinds in two queries, keyed by (model, id)."""
    conditions: list[Q] = []
    models_by_type: dict[int, type[models.Model]] = {}
    for model, ids in wanted.items():
        id_set = set(ids)
        if not id_set:
            continue
        content_type = ContentType.objects.get_for_model(model)
        models_by_type[content_type.pk] = model
        conditions.append(Q(content_type=content_type, object_id__in=id_set))
    if not conditions:
        return {}
    condition = reduce(operator.or_, conditions)
    return _citation_index(Citation.objects.filter(condition), models_by_type)


def _public_event_citations() -> CitationIndex:
    """`_citations({Event: ids})` for every public event at once, without a list of ids."""
    content_type = ContentType.objects.get_for_model(Event)
    cited = Citation.objects.filter(
        content_type=content_type, object_id__in=_public_events().values("id")
    )
    sources = _public_sources().filter(id__in=cited.values("source"))
    return _citation_index(cited, {content_type.pk: Event}, sources)


def _citation_index(
    cited: QuerySet[Citation],
    models_by_type: Mapping[int, type[models.Model]],
    sources_of: QuerySet[Source] | None = None,
) -> CitationIndex:
    """The citations chosen by `cited` whose source is public, keyed by (model, id).

    Their sources are read by id unless `sources_of` names them (for many citations)."""
    rows = _values(cited.filter(source__is_public=True).order_by("id"))
    if sources_of is None:
        sources_of = _public_sources().filter(id__in={r["source"] for r in rows})
    sources = {row["id"]: _source_info(row) for row in _values(sources_of)}
    found: dict[tuple[type[models.Model], int], list[CitationInfo]] = defaultdict(list)
    for row in rows:
        source = sources.get(row["source"])
        if source is None:
            continue
        found[(models_by_type[row["content_type"]], row["object_id"])].append(
            CitationInfo(
                source=source,
                reliability=row["reliability"],
                reliability_label=_label(Reliability, row["reliability"]),
                quote=row["quote"],
                locator=row["locator"],
            )
        )
    return {key: tuple(items) for key, items in found.items()}


@build_cached
def _place_rows() -> dict[int, Row]:
    return {row["id"]: row for row in _values(_public_places())}


def _place_info(places: Mapping[int, Row], place_id: int | None) -> PlaceInfo | None:
    row = places.get(place_id) if place_id is not None else None
    if row is None:
        return None
    within: list[Translated] = []
    seen = {row["id"]}
    parent = places.get(row["parent"]) if row["parent"] is not None else None
    while parent is not None and parent["id"] not in seen:
        within.append(_tr(parent, "name"))
        seen.add(parent["id"])
        parent = places.get(parent["parent"]) if parent["parent"] is not None else None
    return PlaceInfo(row["slug"], _tr(row, "name"), tuple(within))


def _place_and_descendants(places: Mapping[int, Row], root: int) -> set[int]:
    # Only public places are walked: an event at a private sub-place is not placed by a filter.
    children: dict[int, list[int]] = defaultdict(list)
    for row in places.values():
        if row["parent"] is not None:
            children[row["parent"]].append(row["id"])
    found, todo = {root}, [root]
    while todo:
        for child in children[todo.pop()]:
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _person_party(people: Mapping[int, Row], person_id: int) -> Party:
    row = people.get(person_id)
    if row is None:
        return Party(PartyKind.WITHHELD, _plain(_("a person whose identity is withheld")))
    return Party(PartyKind.PERSON, _plain(_full_name(row)), row["slug"])


def _organisation_party(organisations: Mapping[int, Row], organisation_id: int) -> Party:
    row = organisations.get(organisation_id)
    if row is None:
        return Party(PartyKind.WITHHELD, _plain(_("an organisation whose identity is withheld")))
    return Party(PartyKind.ORGANISATION, _tr(row, "name"), row["slug"])


def _people_by_id(ids: Iterable[int | None]) -> dict[int, Row]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {row["id"]: row for row in _values(_public_people().filter(id__in=wanted))}


def _organisations_by_id(ids: Iterable[int | None]) -> dict[int, Row]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {row["id"]: row for row in _values(_public_organisations().filter(id__in=wanted))}


def _event_ref(row: Row) -> EventRef:
    return EventRef(row["slug"], _tr(row, "title"), row["date"], _label(EventType, row["type"]))


def _degree_text(degree: str) -> str:
    label = _label(InvolvementDegree, degree)
    if degree == InvolvementDegree.DIRECT:
        return label
    return _("perpetrator (%(degree)s)") % {"degree": label}


@dataclass
class _EventParts:
    """Acts, involvements and participations of some events, with the public people in them."""

    acts: dict[int, list[Row]]
    involvements: dict[int, list[Row]]
    participations: dict[int, list[Row]]
    people: dict[int, Row]
    organisations: dict[int, Row]

    @classmethod
    def load(cls, event_ids: Iterable[int]) -> _EventParts:
        ids = set(event_ids)
        if not ids:
            return cls({}, {}, {}, {}, {})
        act_rows = _values(Act.objects.filter(event_id__in=ids).order_by("id"))
        involvement_rows = _values(
            Involvement.objects.filter(act_id__in=[a["id"] for a in act_rows]).order_by("id")
        )
        participation_rows = _values(Participation.objects.filter(event_id__in=ids).order_by("id"))
        people = _people_by_id(
            [a["victim"] for a in act_rows]
            + [i["perpetrator"] for i in involvement_rows]
            + [p["person"] for p in participation_rows]
        )
        organisations = _organisations_by_id(
            [i["perpetrator_organisation"] for i in involvement_rows]
            + [p["organisation"] for p in participation_rows]
        )
        return cls.of_rows(act_rows, involvement_rows, participation_rows, people, organisations)

    @classmethod
    def load_public(cls) -> _EventParts:
        """The parts of every public event, with every public person and organisation (a
        superset of those the events name: they are looked up by id), in five queries."""
        return cls.of_rows(
            _values(Act.objects.filter(event__is_public=True).order_by("id")),
            _values(Involvement.objects.filter(act__event__is_public=True).order_by("id")),
            _values(Participation.objects.filter(event__is_public=True).order_by("id")),
            {row["id"]: row for row in _values(_public_people())},
            {row["id"]: row for row in _values(_public_organisations())},
        )

    @classmethod
    def of_rows(
        cls,
        act_rows: list[Row],
        involvement_rows: list[Row],
        participation_rows: list[Row],
        people: dict[int, Row],
        organisations: dict[int, Row],
    ) -> _EventParts:
        acts: dict[int, list[Row]] = defaultdict(list)
        for row in act_rows:
            acts[row["event"]].append(row)
        involvements: dict[int, list[Row]] = defaultdict(list)
        for row in involvement_rows:
            involvements[row["act"]].append(row)
        participations: dict[int, list[Row]] = defaultdict(list)
        for row in participation_rows:
            participations[row["event"]].append(row)
        return cls(acts, involvements, participations, people, organisations)

    def victim(self, act: Row) -> Party:
        if act["victim"] is not None:
            # The description of a recorded victim is not shown in place of a withheld name:
            # it was written about that person and may identify them.
            return _person_party(self.people, act["victim"])
        if act["victim_description"]:
            return Party(PartyKind.DESCRIPTION, _plain(act["victim_description"]))
        return Party(PartyKind.WITHHELD, _plain(_("a person whose identity is withheld")))

    def perpetrator(self, involvement: Row) -> Party:
        if involvement["perpetrator"] is not None:
            return _person_party(self.people, involvement["perpetrator"])
        if involvement["perpetrator_organisation"] is not None:
            return _organisation_party(self.organisations, involvement["perpetrator_organisation"])
        return Party(PartyKind.DESCRIPTION, _plain(involvement["perpetrator_description"]))

    def participants(self, event_id: int) -> list[Role]:
        roles: list[Role] = []
        for row in self.participations.get(event_id, []):
            # Witnesses and counsel who are not public are left out, not counted.
            if row["person"] in self.people:
                party = _person_party(self.people, row["person"])
            elif row["organisation"] in self.organisations:
                party = _organisation_party(self.organisations, row["organisation"])
            else:
                continue
            roles.append(Role(party, _label(ParticipantRole, row["role"])))
        return roles

    def acts_of(self, event_id: int) -> list[ActInfo]:
        return [
            ActInfo(
                type_label=_label(EventType, act["type"]),
                victim=self.victim(act),
                date=act["date"],
                involvements=tuple(
                    InvolvementInfo(
                        self.perpetrator(i), i["degree"], _label(InvolvementDegree, i["degree"])
                    )
                    for i in self.involvements.get(act["id"], [])
                ),
            )
            for act in self.acts.get(event_id, [])
        ]

    def people_in(self, event_id: int) -> list[Role]:
        roles: list[Role] = []
        seen: set[tuple[str, str, str]] = set()

        def add(party: Party, role: str) -> None:
            key = (party.kind, party.slug or party.name.text, role)
            if key not in seen:
                seen.add(key)
                roles.append(Role(party, role))

        for act in self.acts.get(event_id, []):
            add(self.victim(act), _("victim"))
            for involvement in self.involvements.get(act["id"], []):
                add(self.perpetrator(involvement), _degree_text(involvement["degree"]))
        for role in self.participants(event_id):
            add(role.party, role.role)
        return roles


def _event_summaries(rows: list[Row], places: Mapping[int, Row]) -> list[EventSummary]:
    """Summaries of events as the timeline lists them.

    A static build lists every public event on several timelines (by its type, year, place and
    each person in it) in each language: there the summaries of all of them are made at once,
    per language, and picked (`_public_event_summaries`). Outside a build every call reads the
    database.
    """
    if not buildcache.is_active():
        return _load_event_summaries(rows, places)
    known = _public_event_summaries()
    missing = [row for row in rows if row["id"] not in known]
    if missing:  # made public since the build read them all
        made = _load_event_summaries(missing, places)
        known.update(zip([row["id"] for row in missing], made, strict=True))
    return [known[row["id"]] for row in rows]


@build_cached
def _public_event_summaries() -> dict[int, EventSummary]:
    """The summary of every public event by id, as `_load_event_summaries` makes it.

    Read in a fixed number of queries: page by page, a build of a thousand people's timelines
    spent most of their time asking the database for the parts of one or two events."""
    rows = _timeline_index().events
    summaries = _summaries(
        rows, _place_rows(), _EventParts.load_public(), _public_event_citations()
    )
    return {row["id"]: summary for row, summary in zip(rows, summaries, strict=True)}


def _load_event_summaries(rows: list[Row], places: Mapping[int, Row]) -> list[EventSummary]:
    ids = [row["id"] for row in rows]
    return _summaries(rows, places, _EventParts.load(ids), _citations({Event: ids}))


def _summaries(
    rows: list[Row], places: Mapping[int, Row], parts: _EventParts, citations: CitationIndex
) -> list[EventSummary]:
    return [
        EventSummary(
            slug=row["slug"],
            title=_tr(row, "title"),
            event_type=row["type"],
            type_label=_label(EventType, row["type"]),
            date=row["date"],
            place=_place_info(places, row["place"]),
            place_detail=row["place_detail"],
            people=tuple(parts.people_in(row["id"])),
            citations=citations.get((Event, row["id"]), ()),
        )
        for row in rows
    ]


def _status_changes(act_rows: Iterable[Row], events: Mapping[int, Row]) -> list[StatusChange]:
    """Status changes from acts of public events, through the domain's own rule."""
    acts: list[Act] = []
    for row in act_rows:
        event = events.get(row["event"])
        if event is None:
            continue
        # Unsaved stand-ins carrying public values only: the rule needs the act's type and
        # dates, and must not be handed records loaded with their private fields.
        act = Act(id=row["id"], type=row["type"], date=row["date"])
        act.event = Event(id=event["id"], date=event["date"])
        acts.append(act)
    return derive_status_timeline(acts)


# -- Pages -------------------------------------------------------------------------------------


def home() -> Home:
    places = _place_rows()
    latest = _values(
        _public_events().order_by("-date_latest", "-date_earliest", "-slug"),
        limit=LATEST_EVENTS_ON_HOME,
    )
    return Home(
        organisations=tuple(_organisation_summaries(_values(_public_organisations()))),
        latest_events=tuple(_event_summaries(latest, places)),
        event_count=_public_events().count(),
        person_count=_public_people().count(),
        organisation_count=_public_organisations().count(),
        source_count=_public_sources().count(),
    )


def _organisation_summaries(rows: list[Row]) -> list[OrganisationSummary]:
    return [
        OrganisationSummary(
            slug=row["slug"],
            name=_tr(row, "name"),
            abbreviation=row["abbreviation"],
            kind_label=_label(OrganisationKind, row["kind"]),
            founded=row["founded"],
            summary=_tr(row, "summary"),
        )
        for row in rows
    ]


def organisations(page: str | None) -> Page[OrganisationSummary]:
    rows, meta = _paginate(_public_organisations(), page)
    return meta.wrap(_organisation_summaries(rows))


def organisation(slug: str) -> OrganisationDetail | None:
    found = _values(_public_organisations().filter(slug=slug))
    if not found:
        return None
    row = found[0]
    org_id = row["id"]
    outgoing = _values(_public_relations().filter(organisation_id=org_id).order_by("id"))
    incoming = _values(_public_relations().filter(other_id=org_id).order_by("id"))
    member_rows = _values(_public_memberships().filter(organisation_id=org_id))
    participation_rows = _values(
        Participation.objects.filter(organisation_id=org_id, event__is_public=True)
    )
    involvement_rows = _values(Involvement.objects.filter(perpetrator_organisation_id=org_id))
    act_rows = _values(
        Act.objects.filter(id__in={i["act"] for i in involvement_rows}, event__is_public=True)
    )
    event_rows = {
        e["id"]: e
        for e in _values(
            _public_events().filter(
                id__in={p["event"] for p in participation_rows} | {a["event"] for a in act_rows}
            )
        )
    }
    organisations_by_id = _organisations_by_id(
        [r["other"] for r in outgoing] + [r["organisation"] for r in incoming] + [org_id]
    )
    people = _people_by_id(m["person"] for m in member_rows)
    citations = _citations(
        {
            Organisation: [org_id],
            OrganisationRelation: [r["id"] for r in outgoing + incoming],
            Membership: [m["id"] for m in member_rows],
        }
    )
    places = _place_rows()

    roles: dict[int, list[str]] = defaultdict(list)
    for p in participation_rows:
        roles[p["event"]].append(_label(ParticipantRole, p["role"]))
    act_event = {a["id"]: a["event"] for a in act_rows}
    for i in involvement_rows:
        if i["act"] in act_event:
            roles[act_event[i["act"]]].append(_degree_text(i["degree"]))

    def relation(r: Row, other_id: int, label: str) -> RelationInfo:
        return RelationInfo(
            label=label,
            other=_organisation_party(organisations_by_id, other_id),
            start=r["start"],
            end=r["end"],
            citations=citations.get((OrganisationRelation, r["id"]), ()),
        )

    this = _organisation_party(organisations_by_id, org_id)
    names = _tr(row, "name")
    return OrganisationDetail(
        slug=row["slug"],
        name=names,
        other_names=tuple(
            Translated(row[f"name_{lang}"], lang, False)
            for lang in LANGUAGES
            if row[f"name_{lang}"] and row[f"name_{lang}"] != names.text
        ),
        abbreviation=row["abbreviation"],
        kind_label=_label(OrganisationKind, row["kind"]),
        founded=row["founded"],
        dissolved=row["dissolved"],
        country=_place_info(places, row["country"]),
        ideology=row["ideology"],
        political_position=row["political_position"],
        colours=row["colours"],
        website=row["website"],
        website_link=safe_link(row["website"]),
        newspaper=row["newspaper"],
        summary=_tr(row, "summary"),
        citations=citations.get((Organisation, org_id), ()),
        affiliations=tuple(
            relation(r, r["other"], _label(RelationKind, r["kind"])) for r in outgoing
        ),
        affiliates=tuple(
            relation(r, r["organisation"], _label(RelationKind, r["kind"])) for r in incoming
        ),
        members=tuple(
            MemberInfo(
                person=_person_party(people, m["person"]),
                organisation=this,
                role=m["role"],
                start=m["start"],
                end=m["end"],
                citations=citations.get((Membership, m["id"]), ()),
            )
            for m in sorted(member_rows, key=_period_key)
        ),
        events=tuple(
            EventRoles(_event_ref(e), tuple(dict.fromkeys(roles[e["id"]])))
            for e in sorted(event_rows.values(), key=_event_key)
        ),
    )


def _period_key(row: Row) -> tuple[dt.date, int]:
    start: PartialDate | None = row["start"]
    return (start.earliest if start else dt.date.min, row["id"])


def _event_key(row: Row) -> tuple[dt.date, dt.date, str]:
    return (row["date_latest"], row["date_earliest"], row["slug"])


# What the list of people shows of each: not their biographies.
_PERSON_SUMMARY_COLUMNS = (
    "id", "slug", "given_name", "patronymic", "family_name",
    "occupation_en", "occupation_ru", "occupation_kk",
)  # fmt: skip


def people(page: str | None) -> Page[PersonSummary]:
    rows, meta = _paginate(_public_people(), page, _PERSON_SUMMARY_COLUMNS)
    ids = [row["id"] for row in rows]
    act_rows = list(
        Act.objects.filter(victim_id__in=ids, event__is_public=True).values(
            *_columns(Act, "id", "type", "date", "event", "victim")
        )
    )
    # Of an event, the status rule reads its date only.
    events = {
        e["id"]: e
        for e in _public_events()
        .filter(id__in={a["event"] for a in act_rows})
        .values(*_columns(Event, "id", "date"))
    }
    acts_by_person: dict[int, list[Row]] = defaultdict(list)
    for act in act_rows:
        acts_by_person[act["victim"]].append(act)
    summaries = []
    for row in rows:
        changes = _status_changes(acts_by_person[row["id"]], events)
        summaries.append(
            PersonSummary(
                slug=row["slug"],
                name=_full_name(row),
                occupation=_tr(row, "occupation"),
                # No recorded act means the status is unknown to us, not "free".
                status_label=str(current_status(changes).label) if changes else "",
            )
        )
    return meta.wrap(summaries)


def person(slug: str) -> PersonDetail | None:
    """A public person's page; None for a private or missing one (the same 404 for both).

    A static build finds it loaded already, with the rest of its batch (`prefetch_pages`)."""
    found, value = buildcache.lookup(person, (slug,))
    if found:
        return value  # type: ignore[return-value]  # stored by prefetch_pages, same type
    return _person_details([slug]).get(slug)


def _grouped(rows: Iterable[Row], column: str) -> dict[int, list[Row]]:
    """Rows by the value of one column, each group in the order of `rows`."""
    groups: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        groups[row[column]].append(row)
    return groups


def _person_details(slugs: Iterable[str]) -> dict[str, PersonDetail]:
    """The pages of several public people, in a fixed number of queries for all of them."""
    rows = _values(_public_people().filter(slug__in=set(slugs)))
    if not rows:
        return {}
    ids = [row["id"] for row in rows]
    names = _grouped(
        _values(PersonName.objects.filter(person_id__in=ids, is_public=True)), "person"
    )
    members = _grouped(_values(_public_memberships().filter(person_id__in=ids)), "person")
    prosecutions = _grouped(_values(_public_prosecutions().filter(person_id__in=ids)), "person")
    detentions = _grouped(_values(_public_detentions().filter(person_id__in=ids)), "person")
    recognitions = _grouped(
        _values(_public_recognitions().filter(person_id__in=ids).order_by("id")), "person"
    )
    involvements = _grouped(
        _values(Involvement.objects.filter(perpetrator_id__in=ids).order_by("id")), "perpetrator"
    )
    act_rows = _values(
        Act.objects.filter(
            Q(victim_id__in=ids)
            | Q(id__in={i["act"] for group in involvements.values() for i in group}),
            event__is_public=True,
        ).order_by("id")
    )
    participations = _grouped(
        _values(
            Participation.objects.filter(person_id__in=ids, event__is_public=True).order_by("id")
        ),
        "person",
    )
    all_prosecutions = [p for group in prosecutions.values() for p in group]
    events = {
        e["id"]: e
        for e in _values(
            _public_events().filter(
                id__in={a["event"] for a in act_rows}
                | {p["event"] for group in participations.values() for p in group}
                | {p["event"] for p in all_prosecutions if p["event"] is not None}
            )
        )
    }
    all_detentions = [d for group in detentions.values() for d in group]
    all_recognitions = [r for group in recognitions.values() for r in group]
    all_members = [m for group in members.values() for m in group]
    facilities = {
        f["id"]: f
        for f in _values(
            DetentionFacility.objects.filter(
                is_public=True, id__in={d["facility"] for d in all_detentions}
            )
        )
    }
    criteria_links = list(
        Recognition.objects.filter(id__in=[r["id"] for r in all_recognitions])
        .exclude(criteria=None)
        .values("id", "criteria")
    )
    criteria = {
        c["id"]: c
        for c in _values(
            PaceCriterion.objects.filter(id__in={c["criteria"] for c in criteria_links})
        )
    }
    loaded = _PeopleParts(
        organisations=_organisations_by_id(
            [m["organisation"] for m in all_members]
            + [r["recognised_by"] for r in all_recognitions]
        ),
        citations=_citations(
            {
                Person: ids,
                Membership: [m["id"] for m in all_members],
                Prosecution: [p["id"] for p in all_prosecutions],
                Detention: [d["id"] for d in all_detentions],
                Recognition: [r["id"] for r in all_recognitions],
            }
        ),
        places=_place_rows(),
        facilities=facilities,
        criteria=criteria,
        criteria_links=criteria_links,
    )
    details: dict[str, PersonDetail] = {}
    for row in rows:
        person_id = row["id"]
        acts_done = {i["act"] for i in involvements.get(person_id, [])}
        own_participations = participations.get(person_id, [])
        own_prosecutions = prosecutions.get(person_id, [])
        own_acts = [a for a in act_rows if a["victim"] == person_id or a["id"] in acts_done]
        wanted_events = (
            {a["event"] for a in own_acts}
            | {p["event"] for p in own_participations}
            | {p["event"] for p in own_prosecutions if p["event"] is not None}
        )
        details[row["slug"]] = loaded.detail(
            row,
            _PersonRows(
                names=names.get(person_id, []),
                members=members.get(person_id, []),
                prosecutions=own_prosecutions,
                detentions=detentions.get(person_id, []),
                recognitions=recognitions.get(person_id, []),
                involvements=involvements.get(person_id, []),
                acts=own_acts,
                participations=own_participations,
                events={i: events[i] for i in wanted_events if i in events},
            ),
        )
    return details


@dataclass
class _PersonRows:
    """What one person's page is made of, as read for a batch of people."""

    names: list[Row]
    members: list[Row]
    prosecutions: list[Row]
    detentions: list[Row]
    recognitions: list[Row]
    involvements: list[Row]
    acts: list[Row]
    participations: list[Row]
    events: dict[int, Row]


@dataclass
class _PeopleParts:
    """What the pages of a batch of people share: related records, citations, places."""

    organisations: dict[int, Row]
    citations: CitationIndex
    places: Mapping[int, Row]
    facilities: dict[int, Row]
    criteria: dict[int, Row]
    criteria_links: Sequence[Mapping[str, Any]]

    def facility(self, facility_id: int | None) -> FacilityInfo | None:
        f = self.facilities.get(facility_id) if facility_id is not None else None
        if f is None:
            return None
        return FacilityInfo(
            _tr(f, "name"), f["postal_address"], _place_info(self.places, f["place"])
        )

    def criteria_of(self, recognition_ids: set[int]) -> dict[int, list[CriterionInfo]]:
        found: dict[int, list[CriterionInfo]] = defaultdict(list)
        links = [link for link in self.criteria_links if link["id"] in recognition_ids]
        for link in sorted(links, key=lambda c: self.criteria[c["criteria"]]["code"]):
            c = self.criteria[link["criteria"]]
            found[link["id"]].append(CriterionInfo(c["code"], _tr(c, "label")))
        return found

    def detail(self, row: Row, own: _PersonRows) -> PersonDetail:
        person_id = row["id"]
        citations = self.citations
        organisations_by_id = self.organisations
        event_rows = own.events
        act_rows = own.acts
        this = Party(PartyKind.PERSON, _plain(_full_name(row)), row["slug"])
        memberships = tuple(
            MemberInfo(
                person=this,
                organisation=_organisation_party(organisations_by_id, m["organisation"]),
                role=m["role"],
                start=m["start"],
                end=m["end"],
                citations=citations.get((Membership, m["id"]), ()),
            )
            for m in sorted(own.members, key=_period_key)
        )
        changes = _status_changes([a for a in act_rows if a["victim"] == person_id], event_rows)
        timeline = [TimelineStep(m.role, m.start, m.organisation, None) for m in memberships] + [
            TimelineStep(
                str(change.status.label),
                change.date,
                None,
                _event_ref(event_rows[change.event_id]),
            )
            for change in changes
        ]

        roles: dict[int, list[str]] = defaultdict(list)
        involvements_by_act = {i["act"]: i for i in own.involvements}
        for act in act_rows:
            if act["victim"] == person_id:
                roles[act["event"]].append(_("victim"))
            if act["id"] in involvements_by_act:
                roles[act["event"]].append(_degree_text(involvements_by_act[act["id"]]["degree"]))
        for p in own.participations:
            roles[p["event"]].append(_label(ParticipantRole, p["role"]))

        groups: dict[tuple[str, str], list[NameForm]] = defaultdict(list)
        for n in sorted(own.names, key=lambda n: (n["script"], n["language"], n["name"])):
            groups[(n["script"], n["language"])].append(
                NameForm(n["name"], n["language"], _label(NameKind, n["kind"]))
            )
        criteria_of = self.criteria_of({r["id"] for r in own.recognitions})

        return PersonDetail(
            slug=row["slug"],
            name=_full_name(row),
            name_groups=tuple(
                NameGroup(_label(NameScript, script), language, tuple(forms))
                for (script, language), forms in groups.items()
            ),
            occupation=_tr(row, "occupation"),
            summary=_tr(row, "summary"),
            citations=citations.get((Person, person_id), ()),
            memberships=memberships,
            timeline=tuple(timeline),
            status_label=str(current_status(changes).label) if changes else "",
            prosecutions=tuple(
                ProsecutionInfo(
                    charge=p["charge"],
                    code_article=p["code_article"],
                    court=p["court"],
                    opened=p["opened"],
                    verdict_date=p["verdict_date"],
                    outcome=p["outcome"],
                    outcome_label=_label(ProsecutionOutcome, p["outcome"]),
                    sentence=p["sentence"],
                    appeal=p["appeal"],
                    event=_event_ref(event_rows[p["event"]]) if p["event"] in event_rows else None,
                    citations=citations.get((Prosecution, p["id"]), ()),
                )
                for p in own.prosecutions
            ),
            detentions=tuple(
                DetentionInfo(
                    facility=self.facility(d["facility"]),
                    start=d["start"],
                    end=d["end"],
                    correspondence=d["correspondence"],
                    correspondence_label=_label(Correspondence, d["correspondence"]),
                    citations=citations.get((Detention, d["id"]), ()),
                )
                for d in own.detentions
            ),
            recognitions=tuple(
                RecognitionInfo(
                    recognised_by=_organisation_party(organisations_by_id, r["recognised_by"]),
                    date=r["date"],
                    criteria=tuple(criteria_of[r["id"]]),
                    reasons=r["reasons"],
                    citations=citations.get((Recognition, r["id"]), ()),
                )
                for r in own.recognitions
            ),
            events=tuple(
                EventRoles(_event_ref(e), tuple(dict.fromkeys(roles[e["id"]])))
                for e in sorted(event_rows.values(), key=_event_key)
                if roles[e["id"]]
            ),
        )


def event_type_choices() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in EventType.choices]


@build_cached
def place_choices() -> list[tuple[str, str]]:
    """Public places as (slug, label), each under its parent and indented by depth."""
    places = _place_rows()
    children: dict[int | None, list[Row]] = defaultdict(list)
    for row in places.values():
        parent = row["parent"] if row["parent"] in places else None
        children[parent].append(row)
    choices: list[tuple[str, str]] = []

    def walk(parent: int | None, depth: int) -> None:
        for row in sorted(children[parent], key=lambda r: _tr(r, "name").text):
            choices.append((row["slug"], "\u2003" * depth + _tr(row, "name").text))
            walk(row["id"], depth + 1)

    walk(None, 0)
    return choices


@build_cached
def person_choices() -> list[tuple[str, str]]:
    return [(row["slug"], _full_name(row)) for row in _values(_public_people())]


def timeline(filters: TimelineFilters, page: str | None) -> Page[EventSummary]:
    """Public events in date order, narrowed by every filter given; 25 to a page."""
    places = _place_rows()
    if buildcache.is_active():
        # A build shows the timeline filtered a thousand ways: filtered in memory instead.
        rows, meta = _paginate(_timeline_index().select(filters, places), page)
        return meta.wrap(_event_summaries(rows, places))
    events = _public_events()
    if filters.event_type:
        events = events.filter(type=filters.event_type)
    if filters.year is not None:
        # An event dated "2011/2012" or "c. 2012" belongs to every year it may fall in.
        events = events.filter(
            date_earliest__lte=dt.date(filters.year, 12, 31),
            date_latest__gte=dt.date(filters.year, 1, 1),
        )
    if filters.place:
        place_id = _place_id(places, filters.place)
        if place_id is None:
            events = events.none()
        else:
            events = events.filter(place_id__in=_place_and_descendants(places, place_id))
    if filters.person:
        person_id = (
            _public_people().filter(slug=filters.person).values_list("id", flat=True).first()
        )
        if person_id is None:
            events = events.none()
        else:
            events = events.filter(
                Q(id__in=Act.objects.filter(victim_id=person_id).values("event_id"))
                | Q(
                    id__in=Act.objects.filter(involvements__perpetrator_id=person_id).values(
                        "event_id"
                    )
                )
                | Q(id__in=Participation.objects.filter(person_id=person_id).values("event_id"))
            )
    rows, meta = _paginate(events, page)
    return meta.wrap(_event_summaries(rows, places))


def _place_id(places: Mapping[int, Row], slug: str) -> int | None:
    return next((r["id"] for r in places.values() if r["slug"] == slug), None)


@dataclass(frozen=True)
class _TimelineIndex:
    """Every public event in timeline order, and the events each public person is in: what
    `timeline` filters in memory during a build, with the same rules as its queries."""

    events: list[Row]
    person_ids: dict[str, int]
    events_of: dict[int, frozenset[int]]
    positions: dict[int, int]  # where each event stands in `events`

    def select(self, filters: TimelineFilters, places: Mapping[int, Row]) -> list[Row]:
        rows = self.events
        if filters.person:
            # A person is in a few events: start from theirs, not from every event.
            person_id = self.person_ids.get(filters.person)
            ids = self.events_of.get(person_id, frozenset()) if person_id is not None else ()
            rows = [rows[i] for i in sorted(self.positions[e] for e in ids if e in self.positions)]
        if filters.event_type:
            rows = [r for r in rows if r["type"] == filters.event_type]
        if filters.year is not None:
            first, last = dt.date(filters.year, 1, 1), dt.date(filters.year, 12, 31)
            rows = [r for r in rows if r["date_earliest"] <= last and r["date_latest"] >= first]
        if filters.place:
            place_id = _place_id(places, filters.place)
            within = _place_and_descendants(places, place_id) if place_id is not None else set()
            rows = [r for r in rows if r["place"] in within]
        return rows


@build_cached
def _timeline_index() -> _TimelineIndex:
    # Only acts and participations of public events: the timeline shows no other event.
    events_of: dict[int, set[int]] = defaultdict(set)
    acts = _values(Act.objects.filter(event__is_public=True))
    for act in acts:
        if act["victim"] is not None:
            events_of[act["victim"]].add(act["event"])
    event_of_act = {act["id"]: act["event"] for act in acts}
    for involvement in _values(Involvement.objects.filter(act__event__is_public=True)):
        if involvement["perpetrator"] is not None:
            events_of[involvement["perpetrator"]].add(event_of_act[involvement["act"]])
    for participation in _values(Participation.objects.filter(event__is_public=True)):
        if participation["person"] is not None:
            events_of[participation["person"]].add(participation["event"])
    events = _values(_public_events())
    return _TimelineIndex(
        events=events,
        person_ids={row["slug"]: row["id"] for row in _values(_public_people())},
        events_of={person: frozenset(ids) for person, ids in events_of.items()},
        positions={row["id"]: position for position, row in enumerate(events)},
    )


def event(slug: str) -> EventDetail | None:
    """A public event's page; None for a private or missing one (see `person`)."""
    found, value = buildcache.lookup(event, (slug,))
    if found:
        return value  # type: ignore[return-value]  # stored by prefetch_pages, same type
    return _event_details([slug]).get(slug)


def _event_details(slugs: Iterable[str]) -> dict[str, EventDetail]:
    """The pages of several public events, in a fixed number of queries for all of them."""
    rows = _values(_public_events().filter(slug__in=set(slugs)))
    if not rows:
        return {}
    ids = [row["id"] for row in rows]
    parts = _EventParts.load(ids)
    citations = _citations({Event: ids})
    parents = {
        p["id"]: p
        for p in _values(
            _public_events().filter(id__in={r["part_of"] for r in rows if r["part_of"] is not None})
        )
    }
    children = _grouped(_values(_public_events().filter(part_of_id__in=ids)), "part_of")
    places = _place_rows()
    details: dict[str, EventDetail] = {}
    for row in rows:
        event_id = row["id"]
        date: PartialDate = row["date"]
        parent = parents.get(row["part_of"]) if row["part_of"] is not None else None
        details[row["slug"]] = EventDetail(
            slug=row["slug"],
            title=_tr(row, "title"),
            summary=_tr(row, "summary"),
            event_type=row["type"],
            type_label=_label(EventType, row["type"]),
            date=date,
            precision_label=date.precision.label,
            place=_place_info(places, row["place"]),
            place_detail=row["place_detail"],
            acts=tuple(parts.acts_of(event_id)),
            participants=tuple(parts.participants(event_id)),
            part_of=_event_ref(parent) if parent is not None else None,
            parts=tuple(_event_ref(child) for child in children.get(event_id, [])),
            citations=citations.get((Event, event_id), ()),
        )
    return details


# What `prefetch_pages` can load in bulk: the page's function and its batch loader.
_BATCH_LOADERS: dict[
    str, tuple[Callable[[str], object], Callable[[list[str]], Mapping[str, object]]]
] = {
    "person": (person, _person_details),
    "event": (event, _event_details),
}


def prefetch_pages(kind: str, slugs: Iterable[str]) -> None:
    """In a static build, load the detail pages of many records of one kind ("person",
    "event") in bulk, so that `person(slug)` and `event(slug)` find them; in the active
    language. The same loaders as a single page uses. Outside a build it does nothing."""
    if not buildcache.is_active() or kind not in _BATCH_LOADERS:
        return
    func, load = _BATCH_LOADERS[kind]
    wanted = list(dict.fromkeys(slugs))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found = load(chunk)
        for slug in chunk:
            buildcache.put(func, (slug,), found.get(slug))


def sources(page: str | None) -> Page[SourceInfo]:
    """Public sources, each with how many facts shown on the site cite it."""
    rows, meta = _paginate(_public_sources(), page)
    conditions = [
        Q(
            content_type=ContentType.objects.get_for_model(model),
            object_id__in=shown().values("id"),
        )
        for model, shown in _SHOWN_FACTS.items()
    ]
    counts = dict(
        Citation.objects.filter(
            reduce(operator.or_, conditions), source_id__in=[r["id"] for r in rows]
        )
        .values("source")
        .annotate(facts=Count("id"))
        .values_list("source", "facts")
    )
    return meta.wrap(_source_info(r, counts.get(r["id"], 0)) for r in rows)
