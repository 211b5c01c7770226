"""The public site, page by page, on a small case modelled on the seed document (SRK)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django import DjangoAssertNumQueries

from solidarity.core.models import Section
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
    Sourced,
)
from tests.conftest import ensure_pace_criteria


@dataclass
class Case:
    section: Section
    srk: Organisation
    cwi: Organisation
    police: Organisation
    hidden_org: Organisation
    takhir: Person
    ainur: Person
    vadim: Person
    hidden_person: Person
    kazakhstan: Place
    mangystau: Place
    zhanaozen: Place
    almaty: Place
    cwi_2002: Source
    cwi_2012: Source
    moscow_news: Source
    internal_source: Source
    founding: Event
    strike: Event
    massacre: Event
    threats: Event
    death: Event
    detention: Event
    private_event: Event
    assault_on_hidden: Event


def cite(fact: Sourced, source: Source, reliability: str = "reliable", quote: str = "") -> None:
    Citation.objects.create(
        content_type=ContentType.objects.get_for_model(fact),
        object_id=fact.pk,
        source=source,
        reliability=reliability,
        quote=quote,
    )


@pytest.fixture
def case(section: Section, public_source: Source) -> Case:
    kazakhstan = Place.objects.create(
        section=section, is_public=True, slug="kazakhstan", name_en="Kazakhstan", kind="country"
    )
    mangystau = Place.objects.create(
        section=section,
        is_public=True,
        slug="mangystau",
        name_en="Mangystau Region",
        kind="region",
        parent=kazakhstan,
    )
    zhanaozen = Place.objects.create(
        section=section,
        is_public=True,
        slug="zhanaozen",
        name_en="Zhanaozen",
        name_ru="Жанаозен",
        kind="city",
        parent=mangystau,
    )
    almaty = Place.objects.create(
        section=section,
        is_public=True,
        slug="almaty",
        name_en="Almaty",
        kind="city",
        parent=kazakhstan,
    )
    cwi_2012 = Source.objects.create(
        section=section,
        is_public=True,
        slug="cwi-2012",
        title="Leader of Socialist Movement Kazakhstan found dead",
        publisher="Committee for a Workers' International",
        published="2012-06-06",
        accessed="2012-07-09",
        url="https://www.socialistworld.net/",
    )
    moscow_news = Source.objects.create(
        section=section,
        is_public=True,
        slug="moscow-news-2012",
        title="The day Zhanaozen died",
        author="Ainur Kurmanov",
        publisher="The Moscow News",
        published="2012-03-01",
    )
    internal_source = Source.objects.create(
        section=section,
        is_public=False,
        slug="field-report",
        title="Field report from the safe house",
        internal_notes="handled by the Almaty cell",
    )

    cwi = Organisation.objects.create(
        section=section,
        is_public=True,
        slug="cwi",
        name_en="Committee for a Workers' International",
        abbreviation="CWI",
        kind="international",
    )
    srk = Organisation.objects.create(
        section=section,
        is_public=True,
        slug="srk",
        name_en="Socialist Resistance of Kazakhstan",
        name_ru="Социалистическое Сопротивление Казахстана",
        abbreviation="SRK",
        kind="political",
        founded="2002",
        country=kazakhstan,
        ideology="Trotskyism, Socialism, Marxism",
        political_position="Far-left",
        colours="Red",
        website="socialismkz.info",
        newspaper="Солидарность (Solidarity)",
        summary_en="A Trotskyist political organisation in Kazakhstan.",
        internal_notes="Treasurer changes in spring.",
    )
    police = Organisation.objects.create(
        section=section, is_public=True, slug="police", name_en="Police", kind="state_body"
    )
    hidden_org = Organisation.objects.create(
        section=section,
        is_public=False,
        slug="reading-circle",
        name_en="Reading Circle",
        kind="other",
    )
    cite(srk, public_source, quote="Kazakh members of the CWI established the section in 2002")
    relation = OrganisationRelation.objects.create(
        section=section, is_public=True, organisation=srk, kind="affiliated_to", other=cwi
    )
    cite(relation, public_source, reliability="partisan", quote="CWI section established")
    OrganisationRelation.objects.create(
        section=section, is_public=True, organisation=srk, kind="member_of", other=hidden_org
    )

    takhir = Person.objects.create(
        section=section,
        is_public=True,
        slug="takhir-mukhamedzyanov",
        given_name="Takhir",
        patronymic="Narimanovich",
        family_name="Mukhamedzyanov",
        occupation_en="Leader of Socialist Resistance of Kazakhstan",
        birth_year=1961,
        contact="+7 700 000 0000",
    )
    for name, language, script, kind in [
        ("Тахир Нариманович Мухамедзянов", "ru", "Cyrl", "native"),
        ("Takhir Mukhamedzyanov", "en", "Latn", "transliteration"),
        ("Tahir Muhamedzyanov", "en", "Latn", "variant"),
    ]:
        PersonName.objects.create(
            person=takhir, name=name, language=language, script=script, kind=kind, is_public=True
        )
    ainur = Person.objects.create(
        section=section,
        is_public=True,
        slug="ainur-kurmanov",
        given_name="Ainur",
        family_name="Kurmanov",
    )
    vadim = Person.objects.create(
        section=section,
        is_public=True,
        slug="vadim-kuramshin",
        given_name="Vadim",
        family_name="Kuramshin",
        occupation_en="Human rights activist",
    )
    hidden_person = Person.objects.create(
        section=section,
        is_public=False,
        slug="secret-member",
        given_name="Secret",
        family_name="Member",
    )
    leader = Membership.objects.create(
        section=section,
        is_public=True,
        person=takhir,
        organisation=srk,
        role="leader",
        start="2002",
    )
    cite(leader, cwi_2012, quote="Takhir Narimanovich Mukhamedzyanov, leader of SRK")
    Membership.objects.create(
        section=section, is_public=True, person=hidden_person, organisation=srk, role="member"
    )

    founding = Event.objects.create(
        section=section,
        is_public=True,
        slug="srk-founded",
        type="founding",
        title_en="SRK founded at a conference in Russia",
        date="2002",
    )
    cite(founding, public_source, reliability="reliable")
    Participation.objects.create(event=founding, organisation=cwi, role="organiser")
    strike = Event.objects.create(
        section=section,
        is_public=True,
        slug="zhanaozen-strike",
        type="strike",
        title_en="Oil workers' strike in Zhanaozen",
        date="2011-05/2011-12",
        place=zhanaozen,
    )
    massacre = Event.objects.create(
        section=section,
        is_public=True,
        slug="zhanaozen-massacre",
        type="massacre",
        title_en="Zhanaozen massacre",
        title_ru="Жанаозенская бойня",
        date="2011-12-16",
        place=zhanaozen,
        part_of=strike,
        summary_en="Police fired on striking oil workers and their supporters.",
    )
    massacre_act = Act.objects.create(
        event=massacre, type="massacre", victim_description="striking oil workers"
    )
    Involvement.objects.create(act=massacre_act, perpetrator_organisation=police, degree="accused")
    Participation.objects.create(event=massacre, person=ainur, role="witness")
    Participation.objects.create(event=massacre, organisation=srk, role="supporter")
    cite(
        massacre,
        moscow_news,
        reliability="partisan",
        quote="the government initiated a massacre",
    )
    threats = Event.objects.create(
        section=section,
        is_public=True,
        slug="threats-against-takhir",
        type="threat",
        title_en="Death threats against Takhir Mukhamedzyanov",
        date="../2012-06",
    )
    Act.objects.create(event=threats, type="threat", victim=takhir)
    cite(threats, cwi_2012, reliability="uncorroborated", quote="a range of death threats")
    death = Event.objects.create(
        section=section,
        is_public=True,
        slug="takhir-found-dead",
        type="suspicious_death",
        title_en="Takhir Mukhamedzyanov found dead",
        date="2012-06",
        place=almaty,
        place_detail="his home",
    )
    death_act = Act.objects.create(event=death, type="suspicious_death", victim=takhir)
    Involvement.objects.create(
        act=death_act,
        perpetrator_description="state-affiliated interests",
        degree="suspected",
    )
    cite(
        death,
        cwi_2012,
        reliability="reliable",
        quote="found dead in his home under suspicious circumstances",
    )
    cite(death, internal_source, quote="neighbours saw a car")
    detention = Event.objects.create(
        section=section,
        is_public=True,
        slug="kuramshin-detained",
        type="detention",
        title_en="Vadim Kuramshin detained",
        date="2012-08~",
        place=almaty,
    )
    Act.objects.create(event=detention, type="detention", victim=vadim)
    Participation.objects.create(event=detention, person=ainur, role="legal_counsel")
    private_event = Event.objects.create(
        section=section,
        is_public=False,
        slug="planned-detention",
        type="detention",
        title_en="Planned detention known only to staff",
        date="2012-01",
        place=almaty,
    )
    Act.objects.create(event=private_event, type="detention", victim=takhir)
    assault_on_hidden = Event.objects.create(
        section=section,
        is_public=True,
        slug="assault-on-a-member",
        type="assault",
        title_en="A member assaulted",
        date="2013-01",
        place=mangystau,
    )
    Act.objects.create(
        event=assault_on_hidden,
        type="assault",
        victim=hidden_person,
        victim_description="the member who runs the print shop",
    )

    prosecution = Prosecution.objects.create(
        section=section,
        is_public=True,
        person=vadim,
        charge="extortion",
        opened="2012",
        event=detention,
    )
    cite(prosecution, cwi_2012, reliability="partisan")
    colony = DetentionFacility.objects.create(
        section=section,
        is_public=True,
        slug="uk-161-2",
        name_en="Colony UK-161/2",
        place=almaty,
        postal_address="Colony UK-161/2, Almaty region, Kazakhstan",
    )
    held = Detention.objects.create(
        section=section,
        is_public=True,
        person=vadim,
        facility=colony,
        start="2012-08",
        correspondence="open",
        correspondence_notes="letters are read by the governor",
    )
    cite(held, moscow_news)
    recognition = Recognition.objects.create(
        section=section,
        is_public=True,
        person=vadim,
        recognised_by=cwi,
        date="2012-09",
        reasons="Prosecuted for defending striking oil workers.",
    )
    ensure_pace_criteria()  # a transactional test before this one may have flushed them
    recognition.criteria.set(PaceCriterion.objects.filter(code__in=["a", "e"]))
    cite(recognition, cwi_2012, quote="a political prisoner")

    return Case(
        section=section,
        srk=srk,
        cwi=cwi,
        police=police,
        hidden_org=hidden_org,
        takhir=takhir,
        ainur=ainur,
        vadim=vadim,
        hidden_person=hidden_person,
        kazakhstan=kazakhstan,
        mangystau=mangystau,
        zhanaozen=zhanaozen,
        almaty=almaty,
        cwi_2002=public_source,
        cwi_2012=cwi_2012,
        moscow_news=moscow_news,
        internal_source=internal_source,
        founding=founding,
        strike=strike,
        massacre=massacre,
        threats=threats,
        death=death,
        detention=detention,
        private_event=private_event,
        assault_on_hidden=assault_on_hidden,
    )


def page(client: Client, url: str, status: int = 200, language: str = "en") -> str:
    """The page at `url` on the public site in `language` (its address gets that prefix)."""
    response = client.get(f"/{language}{url}", headers={"accept-language": language})
    assert response.status_code == status, url
    return response.content.decode()


def section_of(html: str, heading: str) -> str:
    """The HTML from an <h2> heading to the next one, so assertions look in the right place."""
    start = html.index(f"<h2>{heading}</h2>")
    end = html.find("<h2>", start + 1)
    return html[start : end if end != -1 else len(html)]


def timeline_slugs(html: str) -> list[str]:
    return re.findall(r'<h3><a href="/[a-z]{2}/events/([\w-]+)/">', html)


# -- Home, organisations, sources -----------------------------------------------------------------


def test_home_shows_what_is_documented_and_links_everywhere(client: Client, case: Case) -> None:
    """Home names the public organisations and latest events, and links to every list."""
    html = page(client, "/")
    assert "Socialist Resistance of Kazakhstan" in html
    assert "Reading Circle" not in html
    assert "A member assaulted" in html  # the latest public event
    assert "Planned detention" not in html
    for url in ("/events/", "/people/", "/organisations/", "/sources/"):
        assert f'href="/en{url}"' in html
    assert "<script" not in html


def test_organisation_page_shows_every_public_field_with_citations(
    client: Client, case: Case
) -> None:
    """An organisation page shows its public fields, affiliations and members, each cited."""
    html = page(client, "/organisations/srk/")
    assert "Социалистическое Сопротивление Казахстана" in html
    assert "<dd>2002</dd>" in html  # founded, as a year
    for value in ("Trotskyism, Socialism, Marxism", "Far-left", "Red", "Солидарность"):
        assert value in html
    assert 'href="https://socialismkz.info"' in html
    assert "Kazakhstan" in html  # country
    assert "Kazakh members of the CWI established the section in 2002" in html
    assert "Treasurer" not in html

    affiliations = section_of(html, "Affiliations")
    assert "Affiliated to" in affiliations
    assert 'href="/en/organisations/cwi/"' in affiliations
    assert "CWI section established" in affiliations
    assert "interested party&#x27;s account" in affiliations
    assert "Reading Circle" not in affiliations

    members = section_of(html, "Members")
    assert 'href="/en/people/takhir-mukhamedzyanov/"' in members
    assert "leader" in members and "from 2002" in members
    assert "Takhir Narimanovich Mukhamedzyanov, leader of SRK" in members
    assert "Secret" not in members

    events = section_of(html, "Events")
    assert "Zhanaozen massacre" in events and "supporter" in events


def test_organisation_list_and_unknown_or_private_organisations(client: Client, case: Case) -> None:
    """The list shows public organisations only; a private or unknown slug is a plain 404."""
    html = page(client, "/organisations/")
    assert "Committee for a Workers&#x27; International" in html
    assert "Police" in html
    assert "Reading Circle" not in html
    private = page(client, "/organisations/reading-circle/", status=404)
    unknown = page(client, "/organisations/no-such-organisation/", status=404)
    assert private == unknown


def test_sources_list_counts_only_public_facts(client: Client, case: Case) -> None:
    """Each public source shows its bibliographic details and how many shown facts cite it."""
    html = page(client, "/sources/")
    assert "Field report" not in html
    news = html[html.index('id="source-moscow-news-2012"') :]
    news = news[: news.index("</li>")]
    assert "Ainur Kurmanov" in news and "The Moscow News" in news and "1 March 2012" in news
    assert "2 facts" in news  # the massacre and the detention record
    cwi = html[html.index('id="source-cwi-2012"') :]
    cwi = cwi[: cwi.index("</li>")]
    assert "9 July 2012" in cwi  # accessed
    assert 'href="https://www.socialistworld.net/"' in cwi
    # The membership, two events, the prosecution and the recognition.
    assert "5 facts" in cwi


# -- People ------------------------------------------------------------------------------------


def test_person_page_groups_names_and_derives_the_status_timeline(
    client: Client, case: Case
) -> None:
    """Names are grouped by script; the timeline reads leader → threatened → dead."""
    html = page(client, "/people/takhir-mukhamedzyanov/")
    names = section_of(html, "Names")
    cyrillic = names.index("Cyrillic")
    latin = names.index("Latin")
    assert names.index("Тахир Нариманович Мухамедзянов") < latin
    assert cyrillic < latin < names.index("Takhir Mukhamedzyanov")
    assert names.index("Tahir Muhamedzyanov") > latin
    assert 'lang="ru"' in names

    timeline = section_of(html, "Status timeline")
    steps = re.findall(r"<li>(.*?)</li>", timeline, re.S)
    assert len(steps) == 3
    assert "leader" in steps[0] and "Socialist Resistance of Kazakhstan" in steps[0]
    assert "threatened" in steps[1] and "before June 2012" in steps[1]
    assert "dead" in steps[2] and "June 2012" in steps[2]
    # A detention recorded only in a private event does not show, nor move his status.
    assert "detained" not in html
    assert "Planned detention" not in html

    events = section_of(html, "Events")
    assert "Death threats against Takhir Mukhamedzyanov" in events
    assert "victim" in events
    for secret in ("Flat 12", "+7 700", "1961"):
        assert secret not in html


def test_prisoner_record_says_unknown_for_every_missing_detail(client: Client, case: Case) -> None:
    """Missing prosecution details read "unknown"; detentions and recognitions are complete."""
    html = page(client, "/people/vadim-kuramshin/")
    record = section_of(html, "Prisoner record")
    unknown = '<span class="unknown">unknown</span>'
    for label in ("Article of the criminal code", "Court", "Verdict", "Sentence", "Appeal"):
        assert f"<dt>{label}</dt><dd>{unknown}</dd>" in record, label
    assert f"<dt>Outcome</dt><dd>{unknown}</dd>" in record
    assert "<dt>Charge</dt><dd>extortion</dd>" in record
    assert "<dt>Case opened</dt><dd>2012</dd>" in record
    assert "Colony UK-161/2, Almaty region, Kazakhstan" in record
    assert "open: anyone may write" in record
    assert "letters are read" not in record
    assert "Committee for a Workers&#x27; International" in record
    assert "<strong>a)</strong>" in record and "<strong>e)</strong>" in record
    assert "freedom of expression and information" in record  # criterion a's label
    assert "Prosecuted for defending striking oil workers." in record
    assert "a political prisoner" in record  # the recognition's citation

    events = section_of(html, "Events")
    assert "Vadim Kuramshin detained" in events and "victim" in events


def test_person_list_and_hidden_people(client: Client, case: Case) -> None:
    """The list shows public people with their status; private people are a plain 404."""
    html = page(client, "/people/")
    assert "Takhir Narimanovich Mukhamedzyanov" in html
    assert "Secret" not in html
    takhir = html[html.index("/people/takhir-mukhamedzyanov/") :]
    assert "dead" in takhir[: takhir.index("</li>")]
    ainur = html[html.index("/people/ainur-kurmanov/") :]
    assert "status" not in ainur[: ainur.index("</li>")]  # no act recorded: no status guessed
    assert page(client, "/people/secret-member/", 404) == page(client, "/people/nobody/", 404)


# -- Events ------------------------------------------------------------------------------------


def test_event_page_shows_acts_involvements_and_who_claims_what(client: Client, case: Case) -> None:
    """An event shows its date precision, place, acts, perpetrators, roles and sources."""
    html = page(client, "/events/zhanaozen-massacre/")
    assert "16 December 2011" in html and "precision: day" in html
    assert "Zhanaozen, Mangystau Region, Kazakhstan" in html
    assert 'href="/en/organisations/police/"' in html and "accused by the source" in html
    assert "striking oil workers" in html
    assert 'href="/en/people/ainur-kurmanov/"' in html and "witness" in html
    assert 'href="/en/events/zhanaozen-strike/"' in html  # part of
    sources = section_of(html, "Sources")
    assert "The day Zhanaozen died" in sources
    assert "Ainur Kurmanov" in sources and "The Moscow News" in sources
    assert "1 March 2012" in sources
    assert "interested party&#x27;s account" in sources
    assert "the government initiated a massacre" in sources

    strike = page(client, "/events/zhanaozen-strike/")
    assert "between May 2011 and December 2011" in strike and "precision: range" in strike
    assert 'href="/en/events/zhanaozen-massacre/"' in strike  # its part


def test_event_page_hides_private_sources_and_victims(client: Client, case: Case) -> None:
    """A private source is not cited, and a private victim's identity is withheld."""
    death = page(client, "/events/takhir-found-dead/")
    assert "Accessed 9 July 2012." in death
    assert "found dead in his home under suspicious circumstances" in death
    assert "Field report" not in death and "neighbours saw a car" not in death
    assert "Almaty, Kazakhstan — his home" in death
    assert "state-affiliated interests" in death and "suspected" in death

    assault = page(client, "/events/assault-on-a-member/")
    assert "a person whose identity is withheld" in assault
    assert "Secret" not in assault and "print shop" not in assault
    assert page(client, "/events/planned-detention/", 404) == page(client, "/events/x/", 404)


def test_timeline_is_in_date_order_with_people_and_citations(client: Client, case: Case) -> None:
    """The timeline lists public events oldest first, with people involved and sources."""
    html = page(client, "/events/")
    # "Before June 2012" may be any day up to then, so it sorts first.
    # Ordered by the latest day each can have happened: the threats "before June 2012" sit
    # just before the death in June 2012, not at the top of the timeline.
    assert timeline_slugs(html) == [
        "srk-founded",
        "zhanaozen-massacre",
        "zhanaozen-strike",
        "threats-against-takhir",
        "takhir-found-dead",
        "kuramshin-detained",
        "assault-on-a-member",
    ]
    assert "c. August 2012" in html
    assert "a range of death threats" in html and "uncorroborated" in html
    assert "a person whose identity is withheld" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type=detention", ["kuramshin-detained"]),
        ("type=massacre&year=2011", ["zhanaozen-massacre"]),
        # "Before June 2012" may fall in any earlier year; "c. August 2012" is 2012.
        ("year=2011", ["zhanaozen-massacre", "zhanaozen-strike", "threats-against-takhir"]),
        ("year=2012", ["threats-against-takhir", "takhir-found-dead", "kuramshin-detained"]),
        ("year=2002", ["srk-founded", "threats-against-takhir"]),
        ("place=mangystau", ["zhanaozen-massacre", "zhanaozen-strike", "assault-on-a-member"]),
        ("place=zhanaozen&type=strike", ["zhanaozen-strike"]),
        ("person=takhir-mukhamedzyanov", ["threats-against-takhir", "takhir-found-dead"]),
        ("person=ainur-kurmanov", ["zhanaozen-massacre", "kuramshin-detained"]),
        ("person=vadim-kuramshin&year=2011", []),
    ],
)
def test_timeline_filters_combine(
    client: Client, case: Case, query: str, expected: list[str]
) -> None:
    """Each filter narrows the timeline, and filters combine."""
    html = page(client, f"/events/?{query}")
    assert timeline_slugs(html) == expected
    if not expected:
        assert "No events match these filters" in html
        assert '<a href="/en/events/">clear filters</a>' in html


def test_timeline_filter_form_shows_current_values(client: Client, case: Case) -> None:
    """The form shows the filters in use and offers public places and people only."""
    html = page(client, "/events/?type=threat&year=2012&place=almaty&person=ainur-kurmanov")
    assert '<option value="threat" selected>' in html
    assert 'value="2012"' in html
    assert '<option value="almaty" selected>' in html
    assert '<option value="ainur-kurmanov" selected>' in html
    assert "secret-member" not in html
    assert "Clear filters" in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("type=picnic", "That type of event is unknown"),
        ("year=twenty-twelve", "The year must be a number"),
        ("year=0", "The year must be between 1 and 9999"),
        ("place=atlantis", "No place on this site matches"),
        ("person=secret-member", "No person on this site matches"),
        ("page=last-one", None),
    ],
)
def test_timeline_answers_bad_filters_with_a_message(
    client: Client, case: Case, query: str, message: str | None
) -> None:
    """A bad filter value is reported and left out; it never causes a server error."""
    html = page(client, f"/events/?{query}")
    if message:
        assert message in html
        assert 'role="alert"' in html
    assert "atlantis" not in html and "picnic" not in html


def test_timeline_paginates_and_keeps_filters(client: Client, case: Case) -> None:
    """30 protests make two pages of 25; page links keep the filters."""
    for n in range(30):
        Event.objects.create(
            section=case.section,
            is_public=True,
            slug=f"protest-{n:02d}",
            type="protest",
            title_en=f"Protest {n:02d}",
            date=f"2014-01-{n % 28 + 1:02d}",
            place=case.almaty,
        )
    first = page(client, "/events/?type=protest&place=kazakhstan")
    assert len(timeline_slugs(first)) == 25
    assert "page 1 of 2" in first
    match = re.search(r'<a rel="next" href="([^"]+)"', first)
    assert match is not None
    next_url = match.group(1).replace("&amp;", "&")
    assert "type=protest" in next_url and "place=kazakhstan" in next_url and "page=2" in next_url
    second = page(client, f"/events/{next_url}")
    assert len(timeline_slugs(second)) == 5
    assert set(timeline_slugs(first)).isdisjoint(timeline_slugs(second))
    assert "page 2 of 2" in second


def test_timeline_query_count_does_not_grow_with_events(
    client: Client, case: Case, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    """Listing 25 events with their people and sources costs no more queries than listing 7."""
    client.get("/en/events/")  # warm the content-type cache, as a running site would be
    with CaptureQueriesContext(connection) as small:
        client.get("/en/events/")
    for n in range(40):
        event = Event.objects.create(
            section=case.section,
            is_public=True,
            slug=f"event-{n:02d}",
            type="threat",
            title_en=f"Threat {n:02d}",
            date="2013-05",
            place=case.zhanaozen,
        )
        act = Act.objects.create(event=event, type="threat", victim=case.vadim)
        Involvement.objects.create(act=act, perpetrator_organisation=case.police, degree="direct")
        Participation.objects.create(event=event, person=case.ainur, role="witness")
        cite(event, case.moscow_news)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get("/en/events/")
    assert len(timeline_slugs(response.content.decode())) == 25


def test_untranslated_text_is_marked(client: Client, case: Case) -> None:
    """In Russian, a Russian title shows as is; an English-only title is marked untranslated."""
    html = page(client, "/events/", language="ru")
    assert "Жанаозенская бойня" in html
    assert '<span lang="en">Oil workers&#x27; strike in Zhanaozen</span>' in html
    assert "untranslated" in html


def test_empty_site_has_helpful_empty_states(client: Client, section: Section) -> None:
    """With nothing published, every list says so instead of showing a blank page."""
    assert "No event has been published yet." in page(client, "/events/")
    assert "No event has been published yet." in page(client, "/")
    assert "No person has been published yet." in page(client, "/people/")
    assert "No organisation has been published yet." in page(client, "/organisations/")
    assert "No source has been published yet." in page(client, "/sources/")
