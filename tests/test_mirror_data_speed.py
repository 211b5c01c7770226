"""The newspaper's data layer does less work in a static build (issue 6), never other work:
addresses spliced into a pattern reversed once, summaries made once per article and language,
list pages that read no article rows (let alone bodies) once those are made."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, path, re_path, register_converter, reverse
from django.utils import translation

from solidarity.core import buildcache
from solidarity.core.buildcache import build_cached
from solidarity.public import data as documentation_data
from solidarity.publishing import public_data
from solidarity.publishing.models import Article

from .test_publishing_mirror import paper
from .test_publishing_pages import Newspaper

__all__ = ["paper"]  # the fixture, used by name

LANGS = ("en", "ru", "kk")
# (URL name, arguments): every pattern the data layer makes addresses of, plain arguments and
# arguments that reverse() quotes or that a converter refuses.
ADDRESSES: list[tuple[str, tuple[str | int, ...]]] = [
    ("publishing:article", ("free-natalya",)),
    ("publishing:topic", ("prisoners",)),
    ("publishing:author", ("a-zhaksylyk",)),
    ("publishing:issue", ("2012-12",)),
    ("publishing:month", (2012, "03")),
    ("publishing:month", (987654, "12")),
    ("publishing:language", ("kk",)),
    ("publishing:image", ("free-natalya", 7, "jpg")),
    ("publishing:image", ("free-natalya", 7, "j p")),
    ("publishing:image", ("free-natalya", 975310, "addr-mark-0")),
    ("publishing:topic_feed", ("prisoners",)),
    ("publishing:campaign_feed", ("free-them",)),
    ("publishing:front", ()),
    ("public:person", ("natalya-sokolova",)),
    ("public:event", ("zhanaozen-strike",)),
    ("public:organisation", ("addr-mark-0",)),
]


class _FourDigitYear:
    """A converter with a rule of its own: not every whole number is a year to it."""

    regex = "[0-9]{4}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(_FourDigitYear, "test_data_speed_year")


def _view(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse()


urlpatterns = [
    path("y/<test_data_speed_year:year>/", _view, name="by-year"),
    re_path(r"^r/(?P<code>[a-z]{2})/$", _view, name="by-code"),
    path("s/<slug:slug>/<int:n>/", _view, name="by-slug"),
]


def _reversed(name: str, args: tuple[str | int, ...], language: str) -> str:
    with translation.override(language):
        return reverse(name, args=list(args))


@pytest.mark.parametrize(("name", "args"), ADDRESSES)
def test_a_spliced_address_is_what_reverse_gives(name: str, args: tuple[str | int, ...]) -> None:
    for active in LANGS:
        with translation.override(active):
            outside = public_data.address(name, *args)
            with buildcache.active():
                for language in LANGS:
                    expected = _reversed(name, args, language)
                    assert public_data.address(name, *args, language=language) == expected
                    # Asked again: the pattern's pieces come from the build cache now.
                    assert public_data.address(name, *args, language=language) == expected
                assert public_data.address(name, *args) == _reversed(name, args, active)
        assert outside == _reversed(name, args, active)


def test_arguments_that_are_not_plain_are_reversed() -> None:
    with buildcache.active():
        # A space is quoted by reverse(), never put in place as it is.
        assert public_data.address("publishing:image", "a", 1, "j p", language="en").endswith(
            "/1.j%20p"
        )
        # A slug the converter refuses is refused as reverse() refuses it.
        with pytest.raises(Exception, match="Reverse"):
            public_data.address("publishing:article", "not/a slug", language="en")
        # A negative number is not a whole number the int converter takes.
        with pytest.raises(Exception, match="Reverse"):
            public_data.address("publishing:month", -2012, "03", language="en")


@pytest.mark.urls(__name__)
def test_only_patterns_that_take_every_plain_argument_are_spliced() -> None:
    with buildcache.active():
        assert public_data._address_pieces("by-slug", "en", (False, True)) == ("/s/", "/", "/")
        # A converter or a regex of its own could refuse what its mark stood for: reversed.
        assert public_data._address_pieces("by-year", "en", (True,)) is None
        assert public_data._address_pieces("by-code", "en", (False,)) is None
        assert public_data.address("by-year", 2012) == "/y/2012/"
        assert public_data.address("by-code", "ab") == "/r/ab/"
        for name, args in (("by-year", (975310,)), ("by-code", ("abc",))):
            with pytest.raises(NoReverseMatch):
                public_data.address(name, *args)
        assert public_data.address("by-slug", "x-1", 3) == reverse("by-slug", args=["x-1", 3])


def test_many_article_addresses_at_once_are_each_articles_own() -> None:
    rows = [
        {"slug": "free-natalya", "language": "en"},
        {"slug": "svobodu-natale", "language": "ru"},
        {"slug": "natalyaga-bostandyq", "language": "kk"},
        {"slug": "second-en", "language": "en"},
    ]
    outside = list(public_data.article_urls(rows))
    with translation.override("ru"), buildcache.active():
        inside = list(public_data.article_urls(rows))
    expected = [_reversed("publishing:article", (r["slug"],), r["language"]) for r in rows]
    assert outside == inside == expected
    assert inside[0].startswith("/en/") and inside[1].startswith("/ru/")


def _summaries_everywhere() -> dict[str, object]:
    shown: dict[str, object] = {}
    for code in LANGS:
        with translation.override(code):
            shown[code] = (
                public_data.front_page(),
                public_data.language_page("en"),
                public_data.topic_page("prisoners"),
                public_data.author_page("a-zhaksylyk"),
                public_data.issue_detail("2012-12"),
                public_data.feed_articles(language="en"),
                public_data.article("free-natalya"),
            )
    return shown


def test_a_build_shows_what_the_live_site_shows(paper: Newspaper) -> None:
    live = _summaries_everywhere()
    with buildcache.active():
        public_data.warm_summaries(LANGS)
        built = _summaries_everywhere()
        again = _summaries_everywhere()
    assert built == live == again
    assert live["ru"] != live["en"]  # the labels and addresses of each language


def test_a_list_page_reads_no_article_once_its_summaries_are_made(
    paper: Newspaper,
) -> None:
    article_table = Article._meta.db_table
    with translation.override("en"), buildcache.active():
        with CaptureQueriesContext(connection) as first:
            found = public_data.topic_page("prisoners")
        assert found is not None and len(found[1].items) == 3
        # Summarised the first time, from the columns a summary shows: never a body.
        assert not [q for q in first.captured_queries if '"body' in q["sql"]]
        with CaptureQueriesContext(connection) as second:
            again = public_data.topic_page("prisoners")
        assert again == found
        # The list's ids are kept by the build: only the topic itself is read again.
        assert not [q for q in second.captured_queries if f'FROM "{article_table}"' in q["sql"]]


def test_warming_summarises_every_published_article_and_reads_no_body(paper: Newspaper) -> None:
    with buildcache.active():
        with CaptureQueriesContext(connection) as queries:
            public_data.warm_summaries(LANGS)
        assert not [q for q in queries.captured_queries if '"body' in q["sql"]]
        for code in LANGS:
            with translation.override(code):
                table = public_data._summary_table()
                assert {paper.en.pk, paper.ru.pk, paper.kk.pk} <= set(table)
                assert paper.scheduled.pk not in table and paper.draft.pk not in table
                assert table[paper.ru.pk].url == _reversed(
                    "publishing:article", (paper.ru.slug,), "ru"
                )


def test_an_article_page_reads_only_the_columns_it_shows_of_linked_records(
    paper: Newspaper,
) -> None:
    with CaptureQueriesContext(connection) as queries:
        detail = public_data.article("free-natalya")
    assert detail is not None
    assert [link.title for link in detail.people] == ["Natalya Sokolova"]  # not the hidden one
    assert [link.url for link in detail.events] == [
        reverse("public:event", args=[paper.event.slug])
    ]
    assert {t.language for t in detail.translations} == {"ru", "kk"}
    people = [q["sql"] for q in queries.captured_queries if "documentation_person" in q["sql"]]
    assert people and not [sql for sql in people if "summary_en" in sql]


def test_only_public_columns_are_read() -> None:
    assert public_data._columns(Article, "slug", "title") == ["slug", "title"]
    with pytest.raises(ImproperlyConfigured, match="internal_notes"):
        public_data._columns(Article, "slug", "internal_notes")


def test_the_plan_is_the_same_inside_and_outside_a_build(paper: Newspaper) -> None:
    with translation.override("en"):
        live = public_data.newspaper_pages(LANGS)
        with buildcache.active():
            built = public_data.newspaper_pages(LANGS)
    assert list(built.items()) == list(live.items())
    assert "/ru/newspaper/issues/2012-12/" in built
    assert "/kk/newspaper/articles/natalyaga-bostandyq/" in built


@build_cached
def _echo(*args: object, **kwargs: object) -> tuple[object, ...]:
    return (*args, tuple(sorted(kwargs.items())), translation.get_language())


def test_the_build_cache_keys_by_arguments_names_and_language() -> None:
    with buildcache.active(), translation.override("en"):
        assert _echo(1, b=2) == (1, (("b", 2),), "en")
        assert _echo(1, c=2) == (1, (("c", 2),), "en")
        assert _echo(1) == (1, (), "en")
        with translation.override("kk"):
            assert _echo(1) == (1, (), "kk")
        found, value = buildcache.lookup(_echo, (1,))
        assert found and value == (1, (), "en")
        assert buildcache.lookup(_echo, (2,)) == (False, None)
    assert buildcache.lookup(_echo, (1,)) == (False, None)


def test_the_list_of_people_reads_no_biography(paper: Newspaper) -> None:
    with CaptureQueriesContext(connection) as queries:
        listed = documentation_data.people(None)
    assert [p.name for p in listed.items] == ["Natalya Sokolova"]  # not the hidden person
    assert listed.items[0].slug == paper.person.slug
    people = [q["sql"] for q in queries.captured_queries if "documentation_person" in q["sql"]]
    assert people and not [sql for sql in people if "summary_en" in sql]
