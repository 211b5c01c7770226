"""Rules of the documentation domain that more than one surface needs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef

from solidarity.core.partialdate import PartialDate

from .models import (
    Act,
    Citation,
    Detention,
    Event,
    Membership,
    Organisation,
    OrganisationRelation,
    Person,
    Prosecution,
    Recognition,
    Sourced,
)
from .vocabularies import STATUS_AFTER_ACT, PersonStatus

# Records that state facts and therefore need a source.
FACT_MODELS: tuple[type[Sourced], ...] = (
    Organisation,
    OrganisationRelation,
    Person,
    Membership,
    Event,
    Prosecution,
    Detention,
    Recognition,
)


@dataclass(frozen=True)
class StatusChange:
    status: PersonStatus
    date: PartialDate
    event_id: int
    act_type: str


def derive_status_timeline(acts: Iterable[Act]) -> list[StatusChange]:
    """A person's status over time, from the acts of which they were the victim.

    Acts are ordered by their (partial) dates; an act that does not change status (an
    eviction) is skipped, and so is one that repeats the current status. Death is final: a
    source that reports a later act against a dead person does not bring them back.
    """
    ordered = sorted(acts, key=lambda act: (act.effective_date, act.pk or 0))
    changes: list[StatusChange] = []
    for act in ordered:
        status = STATUS_AFTER_ACT.get(act.type)
        if status is None:
            continue
        current = changes[-1].status if changes else PersonStatus.FREE
        if current == PersonStatus.DEAD or status == current:
            continue
        changes.append(StatusChange(status, act.effective_date, act.event_id, act.type))
    return changes


def status_timeline(person: Person) -> list[StatusChange]:
    """Every status change of `person`, from all their recorded acts (staff view)."""
    return derive_status_timeline(Act.objects.filter(victim=person).select_related("event"))


def current_status(changes: list[StatusChange]) -> PersonStatus:
    return changes[-1].status if changes else PersonStatus.FREE


def unsourced_facts() -> list[Sourced]:
    """Every fact that cites no source: a data-quality report and a test's invariant."""
    missing: list[Sourced] = []
    for model in FACT_MODELS:
        content_type = ContentType.objects.get_for_model(model)
        cited = Citation.objects.filter(content_type=content_type, object_id=OuterRef("pk"))
        missing.extend(model._default_manager.filter(~Exists(cited)))
    return missing


def people_ever_held(people: Iterable[Person]) -> list[Person]:
    """Those of `people` who were ever detained or imprisoned: they get a prisoner record."""
    held = {PersonStatus.DETAINED, PersonStatus.IMPRISONED}
    return [p for p in people if any(c.status in held for c in status_timeline(p))]
