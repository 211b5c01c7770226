"""The documentation pages of a static build, loaded in bulk: the same pages, fewer queries.

`solidarity mirror` loads a batch of person and event pages with a fixed number of queries
(`data.prefetch_pages`), filters the timeline in memory, and writes repeated fragments once per
language (an event's entry, the filter form's labels, the language versions of an address).
Each shortcut must give exactly what the live site gives, which does not use them.
"""

from __future__ import annotations

import itertools

import pytest
from django import forms
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import translate_url
from django.utils import translation

from solidarity.core import buildcache
from solidarity.documentation.models import Event, Person
from solidarity.public import data
from solidarity.public.forms import QuickNumberInput, TimelineFilterForm
from solidarity.public.templatetags import public_tags
from solidarity.public.templatetags.public_tags import event_entry
from solidarity.public.values import TimelineFilters
from tests import test_public_pages
from tests.test_public_pages import Case

# The public site's small case (modelled on the seed document), used here by name.
case = test_public_pages.case

pytestmark = pytest.mark.django_db

LANGUAGES = ("en", "ru", "kk")


def _slugs(model: type[Person] | type[Event]) -> list[str]:
    # Private records too: a batch must answer "no such page" for them, as a single page does.
    return list(model.objects.order_by("slug").values_list("slug", flat=True))


@pytest.mark.parametrize("language", LANGUAGES)
def test_prefetched_people_and_events_are_the_pages_the_live_site_shows(
    case: Case, language: str
) -> None:
    with translation.override(language):
        live = {slug: data.person(slug) for slug in _slugs(Person)}
        live_events = {slug: data.event(slug) for slug in _slugs(Event)}
        with buildcache.active():
            data.prefetch_pages("person", [*_slugs(Person), "nobody"])
            data.prefetch_pages("event", _slugs(Event))
            with CaptureQueriesContext(connection) as queries:
                built = {slug: data.person(slug) for slug in _slugs(Person)}
                built_events = {slug: data.event(slug) for slug in _slugs(Event)}
                assert data.person("nobody") is None
    # Two queries for the slugs above; every page itself came from the batch.
    assert len(queries) == 2
    assert built == live
    assert built_events == live_events
    assert live[case.hidden_person.slug] is None
    vadim = live[case.vadim.slug]
    assert vadim is not None
    assert vadim.prosecutions and vadim.detentions and vadim.recognitions[0].criteria
    takhir = live[case.takhir.slug]
    assert takhir is not None and takhir.memberships and takhir.name_groups


def test_a_batch_of_people_costs_the_same_queries_as_one(case: Case) -> None:
    def queries_for(slugs: list[str]) -> int:
        with buildcache.active(), CaptureQueriesContext(connection) as queries:
            data.prefetch_pages("person", slugs)
        return len(queries)

    public = list(Person.objects.filter(is_public=True).values_list("slug", flat=True))
    assert len(public) >= 3
    assert queries_for(public) == queries_for(public[:1])


def test_outside_a_build_prefetching_does_nothing(case: Case) -> None:
    with CaptureQueriesContext(connection) as queries:
        data.prefetch_pages("person", [case.takhir.slug])
        data.prefetch_pages("event", [case.massacre.slug])
    assert len(queries) == 0
    # And the live site reads the record again: a change shows at once.
    Person.objects.filter(pk=case.takhir.pk).update(given_name="Renamed")
    found = data.person(case.takhir.slug)
    assert found is not None and found.name.startswith("Renamed")


def _every_filter(case: Case) -> list[TimelineFilters]:
    types = ["", "detention", "killing", "no-such-type"]
    years = [None, 2011, 2012, 1990]
    places = ["", "kazakhstan", "zhanaozen", "almaty", "no-such-place"]
    people = ["", case.takhir.slug, case.ainur.slug, case.vadim.slug, case.hidden_person.slug]
    return [
        TimelineFilters(event_type=t, year=y, place=p, person=who)
        for t, y, p, who in itertools.product(types, years, places, people)
    ]


@pytest.mark.parametrize("language", ["en", "kk"])
def test_the_timeline_filtered_in_memory_is_the_one_the_queries_give(
    case: Case, language: str
) -> None:
    filters = _every_filter(case)
    with translation.override(language):
        live = [data.timeline(f, page) for f in filters for page in (None, "2")]
        with buildcache.active():
            built = [data.timeline(f, page) for f in filters for page in (None, "2")]
    assert built == live
    found = {len(page.items) for page in live}
    assert 0 in found and max(found) >= 2, "the case should leave some filters empty, not all"


def test_an_event_entry_is_the_template_s_and_written_once_per_language(case: Case) -> None:
    with translation.override("ru"):
        page = data.timeline(TimelineFilters(), None)
        summary = page.items[0]
        expected = render_to_string("public/_event_entry.html", {"event": summary})
        assert event_entry(summary) == expected
        with buildcache.active():
            built = data.timeline(TimelineFilters(), None).items[0]
            first = event_entry(built)
            assert first == expected
            assert event_entry(built) is first
            # Another summary of the same event (a different state) is not taken for it.
            assert event_entry(summary) == expected
            with translation.override("en"):
                assert event_entry(data.timeline(TimelineFilters(), None).items[0]) != first


def test_the_filter_form_is_the_same_in_a_build(case: Case) -> None:
    queries = [{}, {"person": case.takhir.slug}, {"year": "2011"}, {"place": "nowhere"}]
    for language in LANGUAGES:
        with translation.override(language):
            live = [str(TimelineFilterForm(q or None)) for q in queries]
            labels = [TimelineFilterForm(q or None)["type"].label_tag() for q in queries]
            with buildcache.active():
                assert [str(TimelineFilterForm(q or None)) for q in queries] == live
                built = [TimelineFilterForm(q or None)["type"].label_tag() for q in queries]
    assert built == labels
    form = TimelineFilterForm({"place": "nowhere"})
    assert form.filters() == TimelineFilters()
    assert "place" in form.errors


def test_timeline_pages_are_the_same_in_a_build(case: Case, client: Client) -> None:
    """The views with the build's shortcuts give byte for byte the live site's pages."""
    urls = [
        "/en/",
        "/ru/events/",
        f"/kk/events/?person={case.takhir.slug}",
        "/en/events/?year=2011",
    ]
    urls += [f"/ru/people/{case.takhir.slug}/", f"/en/events/{case.massacre.slug}/"]
    live = [client.get(url).content for url in urls]
    with buildcache.active():
        data.prefetch_pages("person", [case.takhir.slug])
        built = [client.get(url).content for url in urls]
        again = [client.get(url).content for url in urls]
    assert built == live
    assert again == live


@pytest.mark.parametrize(
    "path",
    [
        "/en/",
        "/ru/events/",
        "/kk/people/takhir-mukhamedzyanov/",
        "/en/newspaper/",
        "/en/no/such/page/",
        "/",
        "//elsewhere.example/en/events/",
    ],
)
def test_language_versions_are_django_s_translations(path: str) -> None:
    for active in LANGUAGES:
        with translation.override(active):
            expected = {code: translate_url(path, code) for code in LANGUAGES}
            assert public_tags._language_urls(path) == expected
            with buildcache.active():
                assert public_tags._language_urls(path) == expected


def test_the_navigation_is_rendered_once_per_language_in_a_build(
    case: Case, client: Client
) -> None:
    urls = ["/en/people/", "/ru/events/", "/kk/sources/", "/ru/people/", "/en/newspaper/"]
    live = [client.get(url).content for url in urls]
    with buildcache.active():
        built = [client.get(url).content for url in urls]
        for code in LANGUAGES:
            with translation.override(code):
                found, navigation = buildcache.lookup(public_tags._SameOnEveryPage, ("navigation",))
            assert found and isinstance(navigation, str)
            assert f'href="/{code}/events/"' in navigation
    assert built == live


@pytest.mark.parametrize("value", [None, "", 2011, "2011", "20x1", '"><script>', 0])
def test_the_quick_number_input_writes_what_django_s_writes(value: object) -> None:
    attrs = {"inputmode": "numeric", "size": 6, "min": 1, "max": 9999, "id": "id_year"}
    for extra in ({}, {"required": True, "disabled": False, "title": "a & b"}):
        quick = QuickNumberInput(attrs={**attrs, **extra}).render("year", value)
        plain = forms.NumberInput(attrs={**attrs, **extra}).render("year", value)
        assert quick == plain
    assert "<script>" not in QuickNumberInput().render("year", '"><script>')
