"""The newspaper's cheaper rendering (issue 6) writes exactly what the plain way wrote: dates as
Django's `date` filter, addresses as `build_absolute_uri` and `reverse`, previews as before, and
fragments shared in a static build only where they are the same."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.conf.urls.i18n import i18n_patterns
from django.http import HttpRequest, HttpResponse
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, path, resolve, reverse
from django.urls.resolvers import RegexPattern
from django.utils import timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy

from solidarity.core import buildcache
from solidarity.public import structured
from solidarity.public.templatetags import public_tags
from solidarity.publishing import public_data
from solidarity.publishing.templatetags import newspaper_fragments

from .test_publishing_mirror import paper
from .test_publishing_pages import Newspaper

__all__ = ["paper"]  # the fixture, used by name

LANGS = ("en", "ru", "kk")
# Near midnight: the day depends on the time zone it is read in.
MOMENTS = [
    dt.datetime(2012, 1, 26, 16, 3, tzinfo=dt.UTC),
    dt.datetime(2011, 12, 31, 23, 30, 15, 120, tzinfo=dt.UTC),
    dt.date(2012, 5, 1),
]


def _render(source: str, value: object) -> str:
    return Template(source).render(Context({"v": value}))


@pytest.mark.parametrize("zone", ["UTC", "Asia/Almaty"])
@pytest.mark.parametrize("lang", LANGS)
def test_newspaper_dates_are_what_the_date_filter_writes(lang: str, zone: str) -> None:
    plain = '{{ v|date:"j F Y" }}|{{ v|date:"c" }}'
    cheap = "{% load newspaper_dates %}{{ v|day_month_year }}|{{ v|iso_datetime }}"
    with translation.override(lang), timezone.override(ZoneInfo(zone)):
        for value in [*MOMENTS, None]:
            expected = _render(plain, value)
            assert _render(cheap, value) == expected
            with buildcache.active():  # written once per day and language, the same
                assert _render(cheap, value) == expected
                assert _render(cheap, value) == expected
    assert _render(cheap, MOMENTS[0]) != _render(cheap, MOMENTS[1])


DAY = "{% load newspaper_dates %}{{ v|day_month_year }}"


def test_a_day_is_written_in_each_language_within_one_build() -> None:
    with buildcache.active():
        written = {}
        for lang in LANGS:
            with translation.override(lang):
                written[lang] = _render(
                    "{% load newspaper_dates %}{{ v|day_month_year }}", MOMENTS[0]
                )
    assert written["en"] == "26 January 2012"
    assert len(set(written.values())) == 3


@pytest.mark.parametrize(
    "location",
    [
        "/en/newspaper/articles/a-b-12/",
        "/ru/people/person-1/",
        "/en/newspaper/articles/a/images/3.jpg",
        "/путь/страница/",
        "/a b/",
        "/a%20b/",
        "//evil.example/x",
        "/a/../b/",
        "/a/./b/",
        "/q/?x=1&y=<2>",
        "relative/path",
        "https://example.org/x",
    ],
)
def test_absolute_addresses_are_those_of_build_absolute_uri(location: str) -> None:
    request = RequestFactory(HTTP_HOST="testserver").get("/en/newspaper/")
    assert structured.absolute_urls(request)(location) == request.build_absolute_uri(location)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  A short\n summary  ",
        "word " * 39 + "words",  # 200 characters exactly
        "word " * 60,
        "e\u0301" * 150,  # combining accents: 150 letters, 300 code points
        "e\u0301" * 250,
    ],
)
def test_a_preview_description_is_cut_as_before(text: str) -> None:
    assert structured.cut(text) == Truncator(" ".join(text.split())).chars(200)


def test_open_graph_tags_are_escaped_as_before() -> None:
    graph = structured.OpenGraph(
        title='A "quoted" <title> & more',
        url="https://example.net/en/x/?a=1&b=2",
        locale="kk",
        kind="article",
        description="<b>bold</b> 'single' " * 20,
        alternate_locales=("en", "ru"),
        image="https://example.net/i.jpg",
        image_alt=mark_safe("already &amp; safe"),
        published="2012-01-26T16:03:00+00:00",
    )
    pairs = [
        ("og:site_name", "Solidarity"),
        ("og:title", graph.title),
        ("og:type", "article"),
        ("og:url", graph.url),
        ("og:locale", "kk_KZ"),
        ("og:locale:alternate", "en_US"),
        ("og:locale:alternate", "ru_RU"),
        ("og:description", structured.cut(graph.description)),
        ("og:image", graph.image),
        ("og:image:alt", graph.image_alt),
        ("article:published_time", graph.published),
    ]
    tags = format_html_join("\n", '<meta property="{}" content="{}">', pairs)
    expected = format_html(
        '{}\n<meta name="twitter:card" content="{}">', tags, "summary_large_image"
    )
    with translation.override("en"):
        assert graph.tags() == expected
    assert "&lt;title&gt; &amp; more" in expected and "already &amp; safe" in expected


def test_json_ld_cannot_end_its_script_element() -> None:
    written = structured.script({"name": "</script><script>alert(1)</script> & <!--"})
    assert written.count("<script") == 1 and written.count("</script>") == 1
    assert "\\u003C/script\\u003E" in written and "\\u0026" in written and "<!--" not in written


def _each_language(path: str) -> dict[str, str]:
    """What language_versions gave before: the route reversed in each language."""
    match = resolve(path)
    urls = {}
    for code in LANGS:
        with translation.override(code):
            urls[code] = reverse(
                f"{match.namespace}:{match.url_name}", args=match.args, kwargs=match.kwargs
            )
    return urls


def test_language_versions_are_the_page_reversed_in_each_language(
    client: Client, paper: Newspaper
) -> None:
    addresses = [
        public_data.article_url(paper.en.slug, "en"),
        "/ru/newspaper/topics/prisoners/",
        "/kk/newspaper/archive/2012/12/",
        "/en/newspaper/issues/2012-12/",
        "/en/events/",
        "/ru/feeds/newspaper/kk.atom",
    ]
    for address in addresses:
        language = translation.get_language_from_path(address)
        with translation.override(language):
            found = public_tags._translated_urls(address, resolve(address))
            assert found == _each_language(address), address
    page = client.get(addresses[0]).content.decode()
    for code in LANGS:
        other = public_data.article_url(paper.en.slug, code)
        assert f'hreflang="{code}" href="http://testserver{other}"' in page
        assert f'formaction="/i18n/setlang/?next={other}"' in page


def test_an_address_the_route_would_write_otherwise_keeps_its_own_reversal() -> None:
    """/en/…/02012/05/ is the month 2012/05, which reverses to /…/2012/05/ in each language."""
    address = "/en/newspaper/archive/02012/05/"
    with translation.override("en"):
        found = public_tags._translated_urls(address, resolve(address))
    assert found == {code: f"/{code}/newspaper/archive/2012/05/" for code in LANGS}


def _view(request: HttpRequest) -> HttpResponse:
    return HttpResponse()


def _resolver(patterns: list[URLPattern | URLResolver]) -> URLResolver:
    return URLResolver(RegexPattern(r"^/"), patterns)


def test_only_routes_that_differ_by_their_prefix_alone_take_the_short_cut() -> None:
    patterns = [
        *i18n_patterns(
            path("plain/<slug:slug>/", _view, name="plain"),
            path(gettext_lazy("about/"), _view, name="translated"),
        ),
        path("outside/", _view, name="outside"),
    ]
    assert public_tags._prefixed_names(_resolver(patterns)) == frozenset({"plain"})
    unprefixed = i18n_patterns(path("plain/", _view, name="plain"), prefix_default_language=False)
    assert public_tags._prefixed_names(_resolver(unprefixed)) == frozenset()
    site = public_tags._prefixed_names(get_resolver())
    assert {"public:person", "publishing:article", "publishing:month"} <= site
    assert "set_language" not in site


@pytest.mark.django_db
def test_the_search_box_shows_each_page_its_own_query(client: Client) -> None:
    """The shared header is shared per query: a build never shows one page's query on another."""
    with buildcache.active():
        first = client.get("/en/search/", {"q": "Zhaksylyk"}).content.decode()
        second = client.get("/en/search/", {"q": "Kozlov"}).content.decode()
        plain = client.get("/en/events/").content.decode()
    assert 'name="q" value="Zhaksylyk"' in first
    assert 'name="q" value="Kozlov"' in second and "Zhaksylyk" not in second
    assert 'name="q" value=""' in plain


def test_a_shared_fragment_with_a_value_that_is_no_key_is_rendered() -> None:
    source = (
        '{% load public_tags %}{% same_on_every_page "x" v %}[{{ v|length }}]'
        "{% end_same_on_every_page %}"
    )
    with buildcache.active():
        assert Template(source).render(Context({"v": [1, 2]})) == "[2]"
        assert Template(source).render(Context({"v": [1, 2, 3]})) == "[3]"
        assert Template(source).render(Context({"v": 0})) == "[0]"
        # 0 == False, but they are different values to show: not the same key.
        assert Template(source.replace("|length", "")).render(Context({"v": False})) == "[False]"


def test_an_article_item_is_shared_only_while_its_summary_is_the_same(paper: Newspaper) -> None:
    summary = public_data.article(paper.en.slug).summary  # type: ignore[union-attr]
    with translation.override("en"), buildcache.active():
        first = newspaper_fragments.article_item(summary)
        assert newspaper_fragments.article_item(dataclasses.replace(summary)) is first
        renamed = dataclasses.replace(summary, title="Another title")
        second = newspaper_fragments.article_item(renamed)
    assert "Another title" in second and "Another title" not in first
    assert first == newspaper_fragments.article_item(summary)  # outside a build: rendered


def test_a_list_is_its_items_one_after_another(paper: Newspaper) -> None:
    summaries = [public_data.article(a.slug).summary for a in (paper.en, paper.ru)]  # type: ignore[union-attr]
    with translation.override("ru"):
        items = [newspaper_fragments.article_item(s) for s in summaries]
        listed = Template("{% load newspaper_fragments %}{% article_items v %}").render(
            Context({"v": summaries})
        )
        nothing = Template("{% load newspaper_fragments %}[{% article_items v %}]")
        assert nothing.render(Context({"v": None})) == "[]"
    assert listed == "".join(items) and summaries[1].title in listed
