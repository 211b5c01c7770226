"""schema.org JSON-LD and Open Graph on public pages: right types, honest dates, safe escaping,
absolute addresses in every language, and nothing that is not public."""

from __future__ import annotations

import datetime as dt
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from solidarity.campaigns.models import Action
from solidarity.core.models import Section
from solidarity.core.partialdate import PartialDate
from solidarity.documentation.models import Event, Person
from solidarity.public.structured import schema_date
from solidarity.publishing.models import Article

from .test_campaigns_support import make_world
from .test_public_boundary import World, body_of, build_world, crawl, shows
from .test_public_pages import Case, case  # noqa: F401  (the fixture)
from .test_publishing_pages import Newspaper, build_newspaper

LANGS = ("en", "ru", "kk")
OG_LOCALES = {"en": "en_US", "ru": "ru_RU", "kk": "kk_KZ"}
HOSTILE = '</script><script>alert("x")</script><!-- & \u2028'


class Head(HTMLParser):
    """The JSON-LD blocks, the meta tags and the title of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.json_ld: list[str] = []
        self.scripts: list[dict[str, str]] = []
        self.meta: list[tuple[str, str]] = []
        self.title = ""
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "script":
            self.scripts.append(a)
            self._in = "json" if a.get("type") == "application/ld+json" else "script"
            if self._in == "json":
                self.json_ld.append("")
        elif tag == "title":
            self._in = "title"
        elif tag == "meta" and ("property" in a or "name" in a):
            self.meta.append((a.get("property") or a["name"], a.get("content", "")))

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "json":
            self.json_ld[-1] += data
        elif self._in == "title":
            self.title += data

    def og(self, key: str) -> str:
        values = self.all(key)
        assert len(values) == 1, (key, values)
        return values[0]

    def all(self, key: str) -> list[str]:
        return [content for name, content in self.meta if name == key]


def head_of(client: Client, url: str) -> Head:
    response = client.get(url)
    assert response.status_code == 200, url
    head = Head()
    head.feed(response.content.decode())
    return head


def structured(client: Client, url: str) -> dict[str, Any]:
    head = head_of(client, url)
    assert len(head.json_ld) == 1, f"{url}: {len(head.json_ld)} JSON-LD blocks"
    data: dict[str, Any] = json.loads(head.json_ld[0])
    assert data["@context"] == "https://schema.org"
    return data


@pytest.fixture
def paper(section: Section, settings: pytest.FixtureRequest, tmp_path: Path) -> Newspaper:
    settings.MEDIA_ROOT = str(tmp_path / "media")  # type: ignore[attr-defined]
    return build_newspaper(section)


# -- Dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2011-12-16", "2011-12-16"),
        ("June 2012", "2012-06"),
        ("2002", "2002"),
        ("between 1 December 2011 and 20 December 2011", "2011-12"),
        ("2011-05/2011-12", "2011"),
        ("2011/2012", None),
        ("c. 2002", None),
        ("c. June 2012", None),
        ("before 5 March 2012", None),
        ("after 2012", None),
    ],
)
def test_dates_keep_the_precision_of_the_source(written: str, expected: str | None) -> None:
    """A month stays a month (no invented day); what ISO cannot say with its doubt is left out."""
    assert schema_date(PartialDate.parse(written)) == expected


def test_event_pages_carry_partial_dates_without_inventing_a_day(
    client: Client,
    case: Case,  # noqa: F811
) -> None:
    """June 2012 is "2012-06"; an approximate or open date gives no startDate at all."""
    expected = {
        "takhir-found-dead": "2012-06",
        "zhanaozen-massacre": "2011-12-16",
        "srk-founded": "2002",
        "zhanaozen-strike": "2011",
        "threats-against-takhir": None,
        "kuramshin-detained": None,
    }
    for slug, start in expected.items():
        data = structured(client, f"/en/events/{slug}/")
        assert data["@type"] == "Event"
        assert data["url"] == f"http://testserver/en/events/{slug}/"
        assert data.get("startDate") == start, slug


# -- Each kind of page ---------------------------------------------------------------------------


def test_person_page_is_a_schema_org_person(client: Client, case: Case) -> None:  # noqa: F811
    """Name, every public name form as alternateName, public memberships; no private fields."""
    data = structured(client, "/en/people/takhir-mukhamedzyanov/")
    assert data["@type"] == "Person"
    assert data["name"] == "Takhir Narimanovich Mukhamedzyanov"
    assert data["url"] == "http://testserver/en/people/takhir-mukhamedzyanov/"
    assert "Тахир Нариманович Мухамедзянов" in data["alternateName"]
    assert "Tahir Muhamedzyanov" in data["alternateName"]
    assert data["name"] not in data["alternateName"]
    assert data["jobTitle"] == "Leader of Socialist Resistance of Kazakhstan"
    assert {"@type": "Organization", "name": "Socialist Resistance of Kazakhstan",
            "url": "http://testserver/en/organisations/srk/"} in data["memberOf"]  # fmt: skip
    text = json.dumps(data, ensure_ascii=False)
    for private in ("1961", "+7 700", "birthDate", "telephone", "Reading Circle"):
        assert private not in text


def test_organisation_page_is_a_schema_org_organization(
    client: Client,
    case: Case,  # noqa: F811
) -> None:
    """Name in the page's language, the others and the abbreviation as alternateName."""
    data = structured(client, "/ru/organisations/srk/")
    assert data["@type"] == "Organization"
    assert data["name"] == "Социалистическое Сопротивление Казахстана"
    assert data["url"] == "http://testserver/ru/organisations/srk/"
    assert {"Socialist Resistance of Kazakhstan", "SRK"} <= set(data["alternateName"])
    assert data["foundingDate"] == "2002"
    assert data["location"] == {"@type": "Place", "name": "Kazakhstan"}
    assert data["sameAs"] == "https://socialismkz.info"
    assert "Treasurer" not in json.dumps(data, ensure_ascii=False)  # internal notes


def test_event_page_places_the_event_in_its_region_and_country(
    client: Client,
    case: Case,  # noqa: F811
) -> None:
    """Location is a Place inside its public containers; the strike is the massacre's superEvent."""
    data = structured(client, "/en/events/zhanaozen-massacre/")
    assert data["name"] == "Zhanaozen massacre"
    place = data["location"]
    assert place["@type"] == "Place" and place["name"] == "Zhanaozen"
    assert place["containedInPlace"]["name"] == "Mangystau Region"
    assert place["containedInPlace"]["containedInPlace"]["name"] == "Kazakhstan"
    assert data["superEvent"]["url"] == "http://testserver/en/events/zhanaozen-strike/"
    assert data["superEvent"]["startDate"] == "2011"
    strike = structured(client, "/en/events/zhanaozen-strike/")
    assert [e["name"] for e in strike["subEvent"]] == ["Zhanaozen massacre"]


def test_article_page_is_a_news_article(client: Client, paper: Newspaper) -> None:
    """Headline, dates, language, author, image with caption and credit, what it is about, and
    its issue; people and events that are not public are not named."""
    data = structured(client, "/en/newspaper/articles/free-natalya/")
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == "Free Natalya Sokolova"
    assert data["inLanguage"] == "en"
    assert paper.en.publish_at is not None
    published = paper.en.publish_at.replace(microsecond=0).isoformat()
    assert data["datePublished"] == published
    # updated_at is internal: no dateModified rather than a made-up one.
    assert "dateModified" not in data
    assert data["author"] == {
        "@type": "Person",
        "name": "A. Zhaksylyk",
        "url": "http://testserver/en/newspaper/authors/a-zhaksylyk/",
    }
    [image] = data["image"]
    assert image["@type"] == "ImageObject"
    assert image["caption"] == "Picket in Almaty"
    assert image["creditText"] == "Staff photographer"
    assert image["url"].startswith("http://testserver/en/newspaper/articles/free-natalya/images/")
    assert client.get(image["url"]).status_code == 200
    assert data["about"] == [
        {
            "@type": "Person",
            "name": "Natalya Sokolova",
            "url": "http://testserver/en/people/natalya-sokolova/",
        },
        {
            "@type": "Event",
            "name": "Zhanaozen oil workers' strike",
            "url": "http://testserver/en/events/zhanaozen-strike/",
        },
    ]
    assert data["isPartOf"]["@type"] == "PublicationIssue"
    assert data["isPartOf"]["url"] == "http://testserver/en/newspaper/issues/2012-12/"
    assert "Hidden" not in json.dumps(data)


# -- Escaping --------------------------------------------------------------------------------------


def test_a_hostile_title_cannot_break_out_of_the_json(client: Client, paper: Newspaper) -> None:
    """A "</script>" in an article title, a name or an event title stays inside the JSON."""
    paper.en.title = HOSTILE
    paper.en.save()
    Person.objects.filter(pk=paper.person.pk).update(given_name=HOSTILE)
    Event.objects.filter(pk=paper.event.pk).update(title_en=HOSTILE)
    for url, key in [
        ("/en/newspaper/articles/free-natalya/", "headline"),
        ("/en/people/natalya-sokolova/", "name"),
        ("/en/events/zhanaozen-strike/", "name"),
    ]:
        html = client.get(url).content.decode()
        head = Head()
        head.feed(html)
        assert [s.get("type") for s in head.scripts] == ["application/ld+json"], url
        assert "<script>alert" not in html and "</script><script" not in html, url
        data = json.loads(head.json_ld[0])
        assert HOSTILE in data[key], url
        assert HOSTILE in head.og("og:title"), url


# -- Open Graph ------------------------------------------------------------------------------------


def test_open_graph_in_each_language_with_absolute_addresses(
    client: Client,
    case: Case,  # noqa: F811
) -> None:
    """Each language's page names itself, absolutely, and the other two languages."""
    for lang in LANGS:
        head = head_of(client, f"/{lang}/people/takhir-mukhamedzyanov/")
        assert head.og("og:type") == "profile"
        assert head.og("og:url") == f"http://testserver/{lang}/people/takhir-mukhamedzyanov/"
        assert head.og("og:title") == "Takhir Narimanovich Mukhamedzyanov"
        assert head.og("og:locale") == OG_LOCALES[lang]
        others = {OG_LOCALES[other] for other in LANGS if other != lang}
        assert set(head.all("og:locale:alternate")) == others
        assert head.og("twitter:card") == "summary"

        org = head_of(client, f"/{lang}/organisations/srk/")
        assert org.og("og:type") == "website"
        assert org.og("og:url") == f"http://testserver/{lang}/organisations/srk/"
        assert org.og("og:description") == "A Trotskyist political organisation in Kazakhstan."


def test_every_list_page_has_open_graph_titled_like_the_page(
    client: Client,
    case: Case,  # noqa: F811
) -> None:
    """List pages are og:type website, with the page's own title and address (no query)."""
    for path in ("/", "/events/", "/people/", "/organisations/", "/sources/", "/newspaper/"):
        for lang in LANGS:
            head = head_of(client, f"/{lang}{path}?page=1&q=<b>")
            assert head.og("og:type") == "website"
            assert head.og("og:url") == f"http://testserver/{lang}{path}"
            assert head.og("og:title") == head.title.rsplit(" · ", 1)[0]
            assert head.og("og:locale") == OG_LOCALES[lang]
            assert len(head.all("og:locale:alternate")) == 2
            assert not head.json_ld


def test_an_article_previews_with_its_image_in_its_own_language(
    client: Client, paper: Newspaper
) -> None:
    """og:type article, the absolute image, and the article's own language and address."""
    for lang in LANGS:
        head = head_of(client, f"/{lang}/newspaper/articles/free-natalya/")
        assert head.og("og:type") == "article"
        assert head.og("og:url") == "http://testserver/en/newspaper/articles/free-natalya/"
        assert head.og("og:locale") == "en_US"
        assert set(head.all("og:locale:alternate")) == {"ru_RU", "kk_KZ"}
        assert head.og("og:description") == "Standfirst of Free Natalya Sokolova"
        image = head.og("og:image")
        assert image.startswith("http://testserver/en/newspaper/articles/free-natalya/images/")
        assert client.get(image)["Content-Type"] == "image/jpeg"
        assert head.og("twitter:card") == "summary_large_image"
    ru = head_of(client, "/ru/newspaper/articles/svobodu-natale/")
    assert ru.og("og:locale") == "ru_RU"
    assert "og:image" not in dict(ru.meta)


def test_a_long_summary_is_cut_for_the_preview(client: Client, case: Case) -> None:  # noqa: F811
    """og:description is the public summary, cut at a word to at most 200 characters."""
    case.srk.summary_en = "Word " * 100
    case.srk.save()
    description = head_of(client, "/en/organisations/srk/").og("og:description")
    assert description.startswith("Word Word") and description.endswith("…")
    assert len(description) <= 200


def test_not_found_pages_carry_no_preview(client: Client, case: Case) -> None:  # noqa: F811
    """A 404 names no address, so a withheld record's 404 equals a missing one's."""
    hidden = client.get(f"/en/people/{case.hidden_person.slug}/")
    missing = client.get("/en/people/no-one-by-this-name/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content
    assert b"og:" not in missing.content and b"ld+json" not in missing.content


# -- Nothing that is not public --------------------------------------------------------------------


def test_no_canary_in_the_structured_data_or_previews_of_any_page(
    client: Client, section: Section
) -> None:
    """Every crawled page's JSON-LD, decoded, and its meta tags hold no canary of hidden data.

    (The crawl of tests/test_public_boundary.py reads whole bodies, JSON-LD included; this reads
    the decoded JSON too, so no escaping can hide a leak from it.)
    """
    world: World = build_world(section)
    # The world's articles are unpublished: one published article about a public and a hidden
    # person and event, with canaries in its internal fields, brings NewsArticle into the crawl.
    article = world.make(
        Article,
        hidden=False,
        slug="published",
        language="en",
        title="A published article",
        publish_at=timezone.now() - dt.timedelta(days=1),
    )
    article.people.set([world.shown[Person], *Person.objects.filter(is_public=False)])
    article.events.set(Event.objects.all())
    pages = crawl(client, ["/en/", "/ru/newspaper/", "/kk/people/"])
    blocks = 0
    kinds: set[str] = set()
    for url, response in pages.items():
        if "html" not in response.get("Content-Type", ""):
            continue
        head = Head()
        head.feed(body_of(response).decode())
        for block in head.json_ld:
            data = json.loads(block)
            kinds.add(data["@type"])
            blocks += 1
            text = json.dumps(data, ensure_ascii=False)
            leaked = [label for c, label in world.canaries.items() if shows(c, text)]
            assert not leaked, f"{url}: JSON-LD leaks {leaked}"
        meta = " ".join(f"{k}={v}" for k, v in head.meta)
        leaked = [label for c, label in world.canaries.items() if shows(c, meta)]
        assert not leaked, f"{url}: meta tags leak {leaked}"
    assert {"Person", "Organization", "Event", "NewsArticle"} <= kinds
    assert blocks >= 4
    news = structured(client, "/en/newspaper/articles/published/")
    assert [p["url"] for p in news["about"] if p["@type"] == "Person"] == [
        f"http://testserver/en/people/{world.shown[Person].slug}/"  # type: ignore[attr-defined]
    ]


def test_a_campaign_action_is_a_schema_org_event(client: Client, section: Section) -> None:
    """Exact start and end in UTC, where it happens, and a cancelled action says so."""
    world = make_world(section)
    london, berlin = world.protests
    data = structured(client, reverse("campaigns:action", args=[london.pk]))
    assert data["@type"] == "Event"
    assert data["name"] == "Protest outside the Kazakh embassy, London"
    assert data["url"] == f"http://testserver/en/actions/{london.pk}/"
    assert data["startDate"] == "2011-09-15T12:00:00+00:00"
    assert data["endDate"] == "2011-09-15T14:00:00+00:00"
    assert data["location"]["address"]["streetAddress"] == "125 Pall Mall"
    assert data["location"]["address"]["addressLocality"] == data["location"]["name"]
    head = head_of(client, reverse("campaigns:action", args=[london.pk]))
    assert head.og("og:url") == f"http://testserver/en/actions/{london.pk}/"
    assert head.og("og:title") == "Protest outside the Kazakh embassy, London"

    berlin.status = Action.Status.CANCELLED
    berlin.save()
    cancelled = structured(client, reverse("campaigns:action", args=[berlin.pk]))
    assert cancelled["eventStatus"] == "https://schema.org/EventCancelled"
    assert "endDate" not in cancelled
