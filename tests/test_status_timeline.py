"""A person's status over time is derived from the acts of which they were the victim."""

from __future__ import annotations

from solidarity.core.models import Section
from solidarity.documentation.models import Act, Event, Person
from solidarity.documentation.services import current_status, status_timeline
from solidarity.documentation.vocabularies import EventType, PersonStatus


def _person(section: Section, slug: str) -> Person:
    return Person.objects.create(
        section=section, slug=slug, given_name=slug.title(), family_name="Test"
    )


def _act(section: Section, person: Person, kind: EventType, date: str, slug: str) -> Act:
    event = Event.objects.create(section=section, slug=slug, type=kind, title_en=slug, date=date)
    return Act.objects.create(event=event, type=kind, victim=person)


def test_imprisoned_then_released(section: Section) -> None:
    """Acts recorded out of order still give imprisoned → released in date order."""
    person = _person(section, "natalya")
    _act(section, person, EventType.RELEASE, "2012-03", "release")
    _act(section, person, EventType.IMPRISONMENT, "2011-08", "prison")
    changes = status_timeline(person)
    assert [c.status for c in changes] == [PersonStatus.IMPRISONED, PersonStatus.RELEASED]
    assert [c.date.text for c in changes] == ["2011-08", "2012-03"]
    assert current_status(changes) is PersonStatus.RELEASED


def test_threatened_then_found_dead_is_final(section: Section) -> None:
    """Death ends the timeline: a later act does not bring the person back."""
    person = _person(section, "takhir")
    _act(section, person, EventType.THREAT, "../2012-06", "threats")
    _act(section, person, EventType.SUSPICIOUS_DEATH, "2012-06", "death")
    _act(section, person, EventType.DETENTION, "2013", "later-report")
    changes = status_timeline(person)
    assert [c.status for c in changes] == [PersonStatus.THREATENED, PersonStatus.DEAD]
    assert current_status(changes) is PersonStatus.DEAD


def test_acts_that_do_not_change_status_are_skipped(section: Section) -> None:
    """An eviction is recorded, but it does not change a person's status; repeats collapse."""
    person = _person(section, "ainur")
    _act(section, person, EventType.EVICTION, "2010", "eviction")
    _act(section, person, EventType.THREAT, "2011-01", "threat-1")
    _act(section, person, EventType.ASSAULT, "2011-02", "assault")
    changes = status_timeline(person)
    assert [c.status for c in changes] == [PersonStatus.THREATENED]
    assert current_status([]) is PersonStatus.FREE


def test_an_act_may_carry_its_own_date(section: Section) -> None:
    """An act dated apart from its event is placed by its own date."""
    person = _person(section, "bolat")
    act = _act(section, person, EventType.IMPRISONMENT, "2012", "prison")
    act.date = "2012-01-05"
    act.save()
    act.refresh_from_db()
    assert status_timeline(person)[0].date.text == "2012-01-05"
