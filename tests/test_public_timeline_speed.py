"""The timeline's pages in a static build: read and written once per language, shown as live.

`solidarity mirror` renders the timeline of every person, year, type and place in each
language. In a build (`solidarity.core.buildcache`) the summaries of all public events are read
at once per language, the filter form's choices are made once per language, and its empty
widgets are written once. Outside a build none of this is kept: the live site reads and writes
everything for each request. Each shortcut must give exactly what the live site gives.
"""

from __future__ import annotations

import re

import pytest
from django import forms
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from solidarity.core import buildcache
from solidarity.documentation.models import Act, Event, Person
from solidarity.public import data
from solidarity.public.forms import (
    QuickSelect,
    TimelineFilterForm,
    _filter_choices,
    _FlatChoices,
    _QuickChoiceField,
)
from solidarity.public.values import TimelineFilters
from tests import test_public_pages
from tests.test_public_pages import Case, cite

# The public site's small case (modelled on the seed document), used here by name.
case = test_public_pages.case

pytestmark = pytest.mark.django_db

LANGUAGES = ("en", "ru", "kk")


def _public_event_rows() -> list[dict[str, object]]:
    return list(data._timeline_index().events)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_build_summarises_every_public_event_as_the_live_site_does(
    case: Case, language: str
) -> None:
    with translation.override(language):
        rows = _public_event_rows()
        live = data._load_event_summaries(rows, data._place_rows())
        with buildcache.active():
            built = data._event_summaries(rows, data._place_rows())
            again = data._event_summaries(rows, data._place_rows())
    assert built == live
    assert all(a is b for a, b in zip(again, built, strict=True))  # made once, then picked
    by_slug = {summary.slug: summary for summary in built}
    assert case.private_event.slug not in by_slug
    # The case's hard parts are there: a withheld victim, a private source left out.
    assert any(r.party.kind == "withheld" for r in by_slug[case.assault_on_hidden.slug].people)
    death = by_slug[case.death.slug]
    assert death.citations
    assert all(c.source.slug != case.internal_source.slug for c in death.citations)


def test_a_build_reads_the_summaries_once_then_asks_the_database_nothing(case: Case) -> None:
    filters = [
        TimelineFilters(person=case.takhir.slug),
        TimelineFilters(person=case.ainur.slug),
        TimelineFilters(year=2011),
        TimelineFilters(event_type="detention"),
        TimelineFilters(place="kazakhstan"),
    ]
    with translation.override("en"):
        live = [data.timeline(f, None) for f in filters]
        with buildcache.active():
            first = data.timeline(TimelineFilters(), None)
            with CaptureQueriesContext(connection) as queries:
                built = [data.timeline(f, None) for f in filters]
    assert len(first.items) >= 5
    assert len(queries) == 0
    assert built == live


def test_an_event_the_build_did_not_read_is_still_summarised_as_live(case: Case) -> None:
    with translation.override("en"), buildcache.active():
        data.timeline(TimelineFilters(), None)  # the build has read its public events
        late = Event.objects.create(
            section=case.section,
            is_public=True,
            slug="late-event",
            type="threat",
            title_en="A late threat",
            date="2030-01-01",
            place=case.almaty,
        )
        Act.objects.create(event=late, type="threat", victim=case.vadim)
        cite(late, case.moscow_news)
        built = data.home().latest_events[0]
    live = data.home().latest_events[0]
    assert built.slug == "late-event"
    assert built == live
    assert built.people and built.citations


def test_outside_a_build_the_timeline_shows_a_change_at_once(case: Case) -> None:
    filters = TimelineFilters(person=case.takhir.slug)
    before = data.timeline(filters, None)
    Event.objects.filter(pk=case.death.pk).update(title_en="Renamed")
    after = data.timeline(filters, None)
    assert [e.title.text for e in after.items] != [e.title.text for e in before.items]
    assert "Renamed" in [e.title.text for e in after.items]


def test_the_filter_choices_are_made_once_per_language_only_in_a_build(case: Case) -> None:
    with buildcache.active():
        with translation.override("en"):
            english = _filter_choices("person")
            assert _filter_choices("person") is english
            assert TimelineFilterForm().fields["person"].choices is english  # type: ignore[attr-defined]
        with translation.override("kk"):
            kazakh = _filter_choices("type")
            assert kazakh is not _filter_choices("person")
        with translation.override("en"):
            assert _filter_choices("type") is not kazakh
            assert _filter_choices("type").choices[0] != kazakh.choices[0]  # "any type", translated
    # The live site makes them for every form: a person made public shows at once.
    assert _filter_choices("person") is not _filter_choices("person")
    Person.objects.filter(pk=case.hidden_person.pk).update(is_public=True)
    assert case.hidden_person.slug in dict(TimelineFilterForm().fields["person"].choices)  # type: ignore[attr-defined]


QUERIES: list[dict[str, str]] = [
    {},
    {"person": "takhir-mukhamedzyanov"},
    {"person": "ainur-kurmanov", "year": "2012"},
    {"year": "2011"},
    {"type": "detention"},
    {"place": "zhanaozen", "type": "strike"},
    {"place": "nowhere"},
    {"year": "twenty"},
    {"year": "0", "type": "picnic"},
    {"person": "secret-member"},
    {"type": ""},
    {"page": "2"},
]


def test_the_filter_form_written_in_a_build_is_the_live_one(case: Case) -> None:
    for language in LANGUAGES:
        with translation.override(language):
            live = [_written(q) for q in QUERIES]
            with buildcache.active():
                # Twice, and backwards: a widget written for one page is not another's.
                built = [_written(q) for q in QUERIES]
                backwards = [_written(q) for q in reversed(QUERIES)]
            assert built == live
            assert backwards == live[::-1]
    refused = _written({"year": "twenty"})
    assert 'aria-invalid="true"' in refused and "twenty" in refused


def _written(query: dict[str, str]) -> str:
    form = TimelineFilterForm(query or None)
    form.filters()
    return "\n".join(f"{field.label_tag()} {field}" for field in form) + str(form)


CHOICES = (("", "any"), ("a", "Ann & Bo"), ("b", "<b>"), ("a", "again"), ("1", "one"))


def _select_parts(html: str) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """A select's attributes (in any order) and options (value, " selected" or "", label)."""
    head = re.match(r"<select([^>]*)>", html)
    assert head is not None
    attributes = sorted(re.findall(r'\s([\w-]+)="([^"]*)"', head[1]))
    return attributes, re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', html)


@pytest.mark.parametrize("value", [None, "", "a", "b", "1", 1, "missing", ["b", "a"], '"><x>'])
def test_the_quick_select_writes_what_django_s_select_writes(value: object) -> None:
    attrs = {"id": "id_person", "aria-invalid": "true"}
    quick = QuickSelect(choices=_FlatChoices(CHOICES)).render("person", value, attrs)
    # Other choices than the filter form's are made flat first: the same HTML.
    assert QuickSelect(choices=list(CHOICES)).render("person", value, attrs) == quick
    # Django's own differs in spacing and in the order of attributes only.
    plain = forms.Select(choices=CHOICES).render("person", value, attrs)
    assert _select_parts(quick) == _select_parts(plain)
    assert len(_select_parts(quick)[1]) == len(CHOICES)
    assert sum(1 for option in _select_parts(quick)[1] if option[1]) <= 1


@pytest.mark.parametrize("value", ["", "a", "b", "1", 1, "missing", " a", "A"])
def test_the_quick_choice_field_accepts_what_django_s_accepts(value: object) -> None:
    quick = _QuickChoiceField(choices=_FlatChoices(CHOICES))
    plain = forms.ChoiceField(choices=CHOICES)
    assert quick.valid_value(value) == plain.valid_value(value)


def test_timeline_pages_are_the_same_in_a_build(case: Case, client: Client) -> None:
    """The views with the build's shortcuts give byte for byte the live site's pages."""
    for n in range(30):  # two pages of protests
        Event.objects.create(
            section=case.section,
            is_public=True,
            slug=f"protest-{n:02d}",
            type="protest",
            title_en=f"Protest {n:02d}",
            date=f"2014-01-{n % 28 + 1:02d}",
            place=case.almaty,
        )
    people = Person.objects.values_list("slug", flat=True)  # the private one too
    queries = [f"person={slug}" for slug in people]
    queries += ["", "type=protest", "type=protest&page=2", "page=2", "year=2011", "year=x"]
    queries += ["place=kazakhstan", "place=atlantis", "type=threat&year=2012&place=almaty"]
    urls = [f"/{code}/events/?{query}" for code in LANGUAGES for query in queries]
    live = [client.get(url).content for url in urls]
    with buildcache.active():
        built = [client.get(url).content for url in urls]
        again = [client.get(url).content for url in urls]
    assert built == live
    assert again == live
    assert b"page 2 of 2" in live[urls.index("/en/events/?type=protest&page=2")]
