"""Everything the public campaign pages show, as plain data.

The only module of the public campaign pages that reads models, the way the documentation's
public layer does (solidarity.public.data): `.values(*public_fields(Model))` on records that
are public themselves, handed out as frozen dataclasses, never model instances. A related
record appears only when it is public too: a private person named in a demand becomes "a
person whose name is withheld", a private event behind an outcome is not linked, a private
target is not listed. Supporters appear only as the public names they agreed to show, and as
counts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from solidarity.core.classification import public_fields
from solidarity.core.partialdate import PartialDate, Precision
from solidarity.core.translation import LANGUAGES, Translated, pick
from solidarity.documentation.models import Event, Organisation, Person, Place

from .models import (
    LANGUAGE_CHOICES,
    Action,
    ActionKind,
    ActionSeries,
    Campaign,
    Demand,
    DemandKind,
    DemandState,
    LetterReport,
    Outcome,
    Petition,
    Signature,
    Target,
    UrgentAction,
    UrgentActionUpdate,
)

Row = dict[str, Any]
PUBLIC_NAMES_SHOWN = 50


def _fields(model: type[models.Model]) -> list[str]:
    # Many-to-many fields multiply rows in .values(); they are read on their own.
    return [name for name in public_fields(model) if not model._meta.get_field(name).many_to_many]


def _values(queryset: QuerySet[Any]) -> list[Row]:
    return list(queryset.values(*_fields(queryset.model)))


def _one(queryset: QuerySet[Any]) -> Row | None:
    rows = _values(queryset[:1])
    return rows[0] if rows else None


def _tr(row: Row, base: str, language: str | None = None) -> Translated:
    return pick({lang: row.get(f"{base}_{lang}") or "" for lang in LANGUAGES}, language)


def _label(choices: type[models.Choices], value: str) -> str:
    return str(dict(choices.choices).get(value, value))


def when(date: PartialDate | None) -> str:
    """A date as it follows a verb: "on 16 March 2012", "in June 2012", "before 2016"."""
    if date is None:
        return ""
    if date.precision is Precision.RANGE:
        return date.display()
    if date.precision is Precision.DAY:
        return _("on %(date)s") % {"date": date.display()}
    return _("in %(date)s") % {"date": date.display()}


def _public_campaigns() -> QuerySet[Campaign]:
    return Campaign.objects.filter(is_public=True)


def _public_actions() -> QuerySet[Action]:
    return Action.objects.filter(is_public=True, campaign__is_public=True)


# -- Plain data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonRef:
    slug: str  # "" when the person is not public
    name: str


@dataclass(frozen=True)
class EventRef:
    slug: str
    title: Translated


@dataclass(frozen=True)
class CampaignRef:
    slug: str
    title: Translated


@dataclass(frozen=True)
class DemandInfo:
    kind: str
    kind_label: str
    text: Translated
    person: PersonRef | None
    address: str
    demanded_on: PartialDate | None
    state: str
    state_label: str
    settled_on: PartialDate | None
    settled_by: EventRef | None

    @property
    def is_settled(self) -> bool:
        return self.state != DemandState.OPEN

    @property
    def demanded_when(self) -> str:
        return when(self.demanded_on)

    @property
    def settled_when(self) -> str:
        return when(self.settled_on)


@dataclass(frozen=True)
class TargetInfo:
    id: int
    kind_label: str
    name: str
    holder: str
    country: str
    city: str
    postal_address: str
    email: str
    salutation: str
    language: str

    @property
    def language_name(self) -> str:
        return dict(LANGUAGE_CHOICES).get(self.language, self.language)


@dataclass(frozen=True)
class PetitionSummary:
    slug: str
    title: Translated
    accepting: bool


@dataclass(frozen=True)
class UrgentActionSummary:
    slug: str
    number: str
    title: Translated
    status: str
    status_label: str
    deadline: dt.date


@dataclass(frozen=True)
class PlaceInfo:
    name: Translated
    country_code: str


@dataclass(frozen=True)
class ActionInfo:
    id: int
    kind: str
    kind_label: str
    title: Translated
    campaign: CampaignRef
    series_title: Translated | None
    place: PlaceInfo | None
    address: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    status: str
    status_label: str
    participants: int | None

    @property
    def is_upcoming(self) -> bool:
        return self.starts_at >= timezone.now()

    @property
    def is_cancelled(self) -> bool:
        return self.status == Action.Status.CANCELLED


@dataclass(frozen=True)
class CampaignDetail:
    slug: str
    title: Translated
    summary: Translated
    organiser: str  # "" when hidden or not public
    organiser_slug: str
    started: PartialDate | None
    ended: PartialDate | None
    demands: tuple[DemandInfo, ...]
    petitions: tuple[PetitionSummary, ...]
    urgent_actions: tuple[UrgentActionSummary, ...]
    upcoming_actions: tuple[ActionInfo, ...]
    past_actions: tuple[ActionInfo, ...]


@dataclass(frozen=True)
class PetitionDetail:
    id: int
    slug: str
    title: Translated
    text: Translated
    campaign: CampaignRef
    target: TargetInfo | None
    goal: int | None
    count: int | None  # None when the organiser hides it
    public_names: tuple[str, ...]
    accepting: bool


@dataclass(frozen=True)
class UpdateInfo:
    date: dt.date
    text: Translated
    is_closure: bool


@dataclass(frozen=True)
class Letter:
    target: TargetInfo
    language: str
    body: Translated


@dataclass(frozen=True)
class UrgentActionDetail:
    id: int
    slug: str
    number: str
    title: Translated
    what_happened: Translated
    recommended_points: Translated
    issued_on: dt.date
    deadline: dt.date
    status: str
    status_label: str
    is_open: bool
    person: PersonRef | None
    campaign: CampaignRef
    targets: tuple[TargetInfo, ...]
    letters: tuple[Letter, ...]
    letter_language: str
    updates: tuple[UpdateInfo, ...]
    letters_reported: int


@dataclass(frozen=True)
class CountryGroup:
    country_code: str
    cities: tuple[tuple[str, tuple[ActionInfo, ...]], ...]
    total: int


# -- Readers ----------------------------------------------------------------------------------


def _person_refs(ids: Iterable[int | None]) -> dict[int, PersonRef]:
    wanted = {i for i in ids if i}
    rows = _values(Person.objects.filter(pk__in=wanted, is_public=True))
    refs = {
        r["id"]: PersonRef(
            r["slug"],
            " ".join(p for p in (r["given_name"], r["patronymic"], r["family_name"]) if p),
        )
        for r in rows
    }
    withheld = PersonRef("", _("a person whose name is withheld"))
    return {i: refs.get(i, withheld) for i in wanted}


def _campaign_ref(campaign_id: int) -> CampaignRef:
    row = _one(_public_campaigns().filter(pk=campaign_id))
    if row is None:
        return CampaignRef("", Translated("", "", False))
    return CampaignRef(row["slug"], _tr(row, "title"))


def _target_info(row: Row) -> TargetInfo:
    return TargetInfo(
        id=row["id"],
        kind_label=_label(Target.Kind, row["kind"]),
        name=row["name"],
        holder=row["holder"],
        country=row["country"],
        city=row["city"],
        postal_address=row["postal_address"],
        email=row["email"],
        salutation=row["salutation"],
        language=row["language"],
    )


def _demands(campaign_id: int) -> tuple[DemandInfo, ...]:
    rows = _values(Demand.objects.filter(campaign_id=campaign_id).order_by("id"))
    people = _person_refs(r["person"] for r in rows)
    latest: dict[int, Row] = {}
    for recorded in _values(
        Outcome.objects.filter(demand__campaign_id=campaign_id).order_by("recorded_at", "id")
    ):
        latest[recorded["demand"]] = recorded
    event_ids = {o["event"] for o in latest.values() if o["event"]}
    events = {
        e["id"]: EventRef(e["slug"], _tr(e, "title"))
        for e in _values(Event.objects.filter(pk__in=event_ids, is_public=True))
    }
    demands = []
    for row in rows:
        outcome = latest.get(row["id"])
        settled = outcome is not None and row["state"] != DemandState.OPEN
        demands.append(
            DemandInfo(
                kind=row["kind"],
                kind_label=_label(DemandKind, row["kind"]),
                text=_tr(row, "text"),
                person=people.get(row["person"]) if row["person"] else None,
                address=row["address"],
                demanded_on=row["demanded_on"],
                state=row["state"],
                state_label=_label(DemandState, row["state"]),
                settled_on=outcome["date"] if settled and outcome else None,
                settled_by=events.get(outcome["event"]) if settled and outcome else None,
            )
        )
    return tuple(demands)


def _actions(queryset: QuerySet[Action]) -> list[ActionInfo]:
    rows = _values(queryset.order_by("starts_at", "id"))
    places = {
        p["id"]: PlaceInfo(_tr(p, "name"), p["country_code"])
        for p in _values(
            Place.objects.filter(pk__in={r["place"] for r in rows if r["place"]}, is_public=True)
        )
    }
    series = {
        s["id"]: _tr(s, "title")
        for s in _values(
            ActionSeries.objects.filter(
                pk__in={r["series"] for r in rows if r["series"]}, is_public=True
            )
        )
    }
    campaigns = {
        c["id"]: CampaignRef(c["slug"], _tr(c, "title"))
        for c in _values(_public_campaigns().filter(pk__in={r["campaign"] for r in rows}))
    }
    return [
        ActionInfo(
            id=r["id"],
            kind=r["kind"],
            kind_label=_label(ActionKind, r["kind"]),
            title=_tr(r, "title"),
            campaign=campaigns[r["campaign"]],
            series_title=series.get(r["series"]) if r["series"] else None,
            place=places.get(r["place"]) if r["place"] else None,
            address=r["address"],
            starts_at=r["starts_at"],
            ends_at=r["ends_at"],
            status=r["status"],
            status_label=_label(Action.Status, r["status"]),
            participants=r["participants"],
        )
        for r in rows
        if r["campaign"] in campaigns
    ]


def campaign_list() -> list[CampaignRef]:
    return [CampaignRef(r["slug"], _tr(r, "title")) for r in _values(_public_campaigns())]


def campaign_detail(slug: str) -> CampaignDetail | None:
    row = _one(_public_campaigns().filter(slug=slug))
    if row is None:
        return None
    organiser, organiser_slug = "", ""
    hidden = Campaign.objects.filter(pk=row["id"], hide_organiser=True).exists()
    if row["organiser"] and not hidden:
        org = _one(Organisation.objects.filter(pk=row["organiser"], is_public=True))
        if org is not None:
            organiser, organiser_slug = str(_tr(org, "name")), org["slug"]
    petitions = tuple(
        PetitionSummary(p["slug"], _tr(p, "title"), p["accepting"])
        for p in _values(Petition.objects.filter(campaign_id=row["id"], is_public=True))
    )
    uas = tuple(
        UrgentActionSummary(
            u["slug"],
            u["number"],
            _tr(u, "title"),
            u["status"],
            _label(UrgentAction.Status, u["status"]),
            u["deadline"],
        )
        for u in _values(UrgentAction.objects.filter(campaign_id=row["id"], is_public=True))
    )
    actions = _actions(_public_actions().filter(campaign_id=row["id"]))
    return CampaignDetail(
        slug=row["slug"],
        title=_tr(row, "title"),
        summary=_tr(row, "summary"),
        organiser=organiser,
        organiser_slug=organiser_slug,
        started=row["started"],
        ended=row["ended"],
        demands=_demands(row["id"]),
        petitions=petitions,
        urgent_actions=uas,
        upcoming_actions=tuple(a for a in actions if a.is_upcoming),
        past_actions=tuple(reversed([a for a in actions if not a.is_upcoming])),
    )


def public_petition(slug: str) -> Petition | None:
    """The petition a public form writes to (a model: the signing service needs one)."""
    return (
        Petition.objects.select_related("campaign", "target")
        .filter(slug=slug, is_public=True, campaign__is_public=True)
        .first()
    )


def petition_target_name(petition: Petition) -> str:
    """The name of the petition's target if it is public (the consent text names it)."""
    target = petition.target
    return target.name if target is not None and target.is_public else ""


def petition_detail(slug: str) -> PetitionDetail | None:
    row = _one(Petition.objects.filter(slug=slug, is_public=True, campaign__is_public=True))
    if row is None:
        return None
    target = None
    if row["target"]:
        target_row = _one(Target.objects.filter(pk=row["target"], is_public=True))
        target = _target_info(target_row) if target_row else None
    hidden = Petition.objects.filter(pk=row["id"], hide_count=True).exists()
    confirmed = Signature.objects.filter(petition_id=row["id"], status=Signature.Status.CONFIRMED)
    # Public names are stored encrypted (bound to their row), so they are read as rows and
    # decrypted here; only the few shown, and the page cache keeps the result a few seconds.
    named = (
        confirmed.filter(erased=False, public_name_consent=True)
        .order_by("-confirmed_at", "-id")
        .only("id", "row_nonce", "public_name")[:PUBLIC_NAMES_SHOWN]
    )
    names = [signature.public_name for signature in named if signature.public_name]
    return PetitionDetail(
        id=row["id"],
        slug=row["slug"],
        title=_tr(row, "title"),
        text=_tr(row, "text"),
        campaign=_campaign_ref(row["campaign"]),
        target=target,
        goal=row["goal"],
        count=None if hidden else confirmed.count(),
        public_names=tuple(names),
        accepting=row["accepting"],
    )


def public_urgent_action(slug: str) -> UrgentAction | None:
    return (
        UrgentAction.objects.select_related("campaign")
        .filter(slug=slug, is_public=True, campaign__is_public=True)
        .first()
    )


def _letter_body(row: Row, target: TargetInfo, language: str) -> Translated:
    points = _tr(row, "recommended_points", language)
    return Translated(f"{target.salutation},\n\n{points.text}", points.language, points.is_fallback)


def urgent_action_detail(slug: str, letter_language: str) -> UrgentActionDetail | None:
    row = _one(UrgentAction.objects.filter(slug=slug, is_public=True, campaign__is_public=True))
    if row is None:
        return None
    targets = tuple(
        _target_info(t)
        for t in _values(
            Target.objects.filter(urgent_actions__pk=row["id"], is_public=True).order_by(
                "country", "name"
            )
        )
    )
    updates = tuple(
        UpdateInfo(u["date"], _tr(u, "text"), u["is_closure"])
        for u in _values(UrgentActionUpdate.objects.filter(urgent_action_id=row["id"]))
    )
    person = _person_refs([row["person"]]).get(row["person"]) if row["person"] else None
    total = LetterReport.objects.filter(urgent_action_id=row["id"]).aggregate(n=Sum("letters"))
    return UrgentActionDetail(
        id=row["id"],
        slug=row["slug"],
        number=row["number"],
        title=_tr(row, "title"),
        what_happened=_tr(row, "what_happened"),
        recommended_points=_tr(row, "recommended_points", letter_language),
        issued_on=row["issued_on"],
        deadline=row["deadline"],
        status=row["status"],
        status_label=_label(UrgentAction.Status, row["status"]),
        is_open=row["status"] == UrgentAction.Status.OPEN,
        person=person,
        campaign=_campaign_ref(row["campaign"]),
        targets=targets,
        letters=tuple(
            Letter(t, letter_language, _letter_body(row, t, letter_language)) for t in targets
        ),
        letter_language=letter_language,
        updates=updates,
        letters_reported=int(total["n"] or 0),
    )


def public_action(action_id: int) -> Action | None:
    return _public_actions().select_related("campaign").filter(pk=action_id).first()


def action_detail(action_id: int) -> ActionInfo | None:
    found = _actions(_public_actions().filter(pk=action_id))
    return found[0] if found else None


def action_calendar(campaign_slug: str | None = None) -> list[ActionInfo]:
    """Public actions, oldest first; of one campaign when a slug is given."""
    queryset = _public_actions()
    if campaign_slug is not None:
        queryset = queryset.filter(campaign__slug=campaign_slug)
    return _actions(queryset)


def actions_by_place() -> list[CountryGroup]:
    """Public actions grouped by country, then by city; actions without a public place last."""
    grouped: dict[str, dict[str, list[ActionInfo]]] = defaultdict(lambda: defaultdict(list))
    for action in action_calendar():
        country = action.place.country_code if action.place else ""
        city = str(action.place.name) if action.place else ""
        grouped[country][city].append(action)
    groups = [
        CountryGroup(
            country_code=country,
            cities=tuple(
                (city, tuple(actions))
                for city, actions in sorted(cities.items(), key=lambda c: (not c[0], c[0]))
            ),
            total=sum(len(a) for a in cities.values()),
        )
        for country, cities in grouped.items()
    ]
    return sorted(groups, key=lambda g: (not g.country_code, g.country_code))
