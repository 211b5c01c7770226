"""The plain values the public site renders: frozen dataclasses of public fields only.

Nothing here is a model or can reach one, so a template given these cannot follow a relation
or read a field that was not classed public. `data` builds them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Generic, TypeVar

from solidarity.core.partialdate import PartialDate
from solidarity.core.translation import Translated

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    number: int
    num_pages: int
    count: int
    start_index: int
    end_index: int
    previous_number: int | None
    next_number: int | None


@dataclass(frozen=True)
class SourceInfo:
    slug: str
    title: str
    author: str
    publisher: str
    kind_label: str
    published: PartialDate | None
    accessed: dt.date | None
    url: str
    link: str
    language: str
    citing_facts: int = 0


@dataclass(frozen=True)
class CitationInfo:
    source: SourceInfo
    reliability: str
    reliability_label: str
    quote: str
    locator: str


Citations = tuple[CitationInfo, ...]


class PartyKind:
    PERSON = "person"
    ORGANISATION = "organisation"
    DESCRIPTION = "description"
    WITHHELD = "withheld"


@dataclass(frozen=True)
class Party:
    """Someone with a part in a fact: linked when public, described, or withheld."""

    kind: str
    name: Translated
    slug: str = ""


@dataclass(frozen=True)
class PlaceInfo:
    slug: str
    name: Translated
    within: tuple[Translated, ...]


@dataclass(frozen=True)
class EventRef:
    slug: str
    title: Translated
    date: PartialDate
    type_label: str


@dataclass(frozen=True)
class Role:
    party: Party
    role: str


@dataclass(frozen=True)
class EventSummary:
    slug: str
    title: Translated
    event_type: str
    type_label: str
    date: PartialDate
    place: PlaceInfo | None
    place_detail: str
    people: tuple[Role, ...]
    citations: Citations


@dataclass(frozen=True)
class InvolvementInfo:
    perpetrator: Party
    degree: str
    degree_label: str


@dataclass(frozen=True)
class ActInfo:
    type_label: str
    victim: Party
    date: PartialDate | None
    involvements: tuple[InvolvementInfo, ...]


@dataclass(frozen=True)
class EventDetail:
    slug: str
    title: Translated
    summary: Translated
    event_type: str
    type_label: str
    date: PartialDate
    precision_label: str
    place: PlaceInfo | None
    place_detail: str
    acts: tuple[ActInfo, ...]
    participants: tuple[Role, ...]
    part_of: EventRef | None
    parts: tuple[EventRef, ...]
    citations: Citations


@dataclass(frozen=True)
class OrganisationSummary:
    slug: str
    name: Translated
    abbreviation: str
    kind_label: str
    founded: PartialDate | None
    summary: Translated


@dataclass(frozen=True)
class RelationInfo:
    label: str
    other: Party
    start: PartialDate | None
    end: PartialDate | None
    citations: Citations


@dataclass(frozen=True)
class MemberInfo:
    person: Party
    organisation: Party
    role: str
    start: PartialDate | None
    end: PartialDate | None
    citations: Citations


@dataclass(frozen=True)
class EventRoles:
    event: EventRef
    roles: tuple[str, ...]


@dataclass(frozen=True)
class OrganisationDetail:
    slug: str
    name: Translated
    other_names: tuple[Translated, ...]
    abbreviation: str
    kind_label: str
    founded: PartialDate | None
    dissolved: PartialDate | None
    country: PlaceInfo | None
    ideology: str
    political_position: str
    colours: str
    website: str
    website_link: str
    newspaper: str
    summary: Translated
    citations: Citations
    affiliations: tuple[RelationInfo, ...]
    affiliates: tuple[RelationInfo, ...]
    members: tuple[MemberInfo, ...]
    events: tuple[EventRoles, ...]


@dataclass(frozen=True)
class PersonSummary:
    slug: str
    name: str
    occupation: Translated
    status_label: str


@dataclass(frozen=True)
class NameForm:
    name: str
    language: str
    kind_label: str


@dataclass(frozen=True)
class NameGroup:
    script_label: str
    language: str
    names: tuple[NameForm, ...]


@dataclass(frozen=True)
class TimelineStep:
    """One step of "leader of SRK → threatened (before June 2012) → dead (June 2012)"."""

    label: str
    date: PartialDate | None
    organisation: Party | None
    event: EventRef | None


@dataclass(frozen=True)
class ProsecutionInfo:
    charge: str
    code_article: str
    court: str
    opened: PartialDate | None
    verdict_date: PartialDate | None
    outcome: str
    outcome_label: str
    sentence: str
    appeal: str
    event: EventRef | None
    citations: Citations


@dataclass(frozen=True)
class FacilityInfo:
    name: Translated
    postal_address: str
    place: PlaceInfo | None


@dataclass(frozen=True)
class DetentionInfo:
    facility: FacilityInfo | None
    start: PartialDate | None
    end: PartialDate | None
    correspondence: str
    correspondence_label: str
    citations: Citations


@dataclass(frozen=True)
class CriterionInfo:
    code: str
    label: Translated


@dataclass(frozen=True)
class RecognitionInfo:
    recognised_by: Party
    date: PartialDate | None
    criteria: tuple[CriterionInfo, ...]
    reasons: str
    citations: Citations


@dataclass(frozen=True)
class PersonDetail:
    slug: str
    name: str
    name_groups: tuple[NameGroup, ...]
    occupation: Translated
    summary: Translated
    citations: Citations
    memberships: tuple[MemberInfo, ...]
    timeline: tuple[TimelineStep, ...]
    status_label: str
    prosecutions: tuple[ProsecutionInfo, ...]
    detentions: tuple[DetentionInfo, ...]
    recognitions: tuple[RecognitionInfo, ...]
    events: tuple[EventRoles, ...]

    @property
    def has_prisoner_record(self) -> bool:
        return bool(self.prosecutions or self.detentions or self.recognitions)


@dataclass(frozen=True)
class Home:
    organisations: tuple[OrganisationSummary, ...]
    latest_events: tuple[EventSummary, ...]
    event_count: int
    person_count: int
    organisation_count: int
    source_count: int


@dataclass(frozen=True)
class TimelineFilters:
    event_type: str = ""
    year: int | None = None
    place: str = ""
    person: str = ""
