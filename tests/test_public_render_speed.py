"""The documentation site's pages rendered with less work in a static build, byte for byte the
same: record addresses from one reverse per language, dates written once per date, the
language links written by a tag instead of a template loop, link-preview texts cut without
counting each character. The live site, which has no build cache, must show the same pages.
"""

from __future__ import annotations

import random
import unicodedata

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.text import Truncator

from solidarity.core import buildcache
from solidarity.core.partialdate import PartialDate
from solidarity.documentation.models import Event, Organisation, Person
from solidarity.public import data, structured
from solidarity.public.templatetags import public_tags
from tests import test_public_pages
from tests.test_public_pages import Case

case = test_public_pages.case

LANGUAGES = ("en", "ru", "kk")


@pytest.mark.django_db
def test_every_record_page_is_the_same_in_a_build(case: Case, client: Client) -> None:
    """Every person, event and organisation page (and the lists linking them), public or
    not, in every language: the build's shortcuts give the live site's bytes."""
    urls = []
    for code in LANGUAGES:
        urls += [f"/{code}/", f"/{code}/people/", f"/{code}/events/", f"/{code}/organisations/"]
        for model, part in ((Person, "people"), (Event, "events"), (Organisation, "organisations")):
            urls += [
                f"/{code}/{part}/{slug}/" for slug in model.objects.values_list("slug", flat=True)
            ]
    live = [client.get(url) for url in urls]
    assert {r.status_code for r in live} == {200, 404}
    with buildcache.active():
        for code in LANGUAGES:
            with translation.override(code):
                data.prefetch_pages("person", Person.objects.values_list("slug", flat=True))
                data.prefetch_pages("event", Event.objects.values_list("slug", flat=True))
        built = [client.get(url).content for url in urls]
        again = [client.get(url).content for url in urls]
    assert built == [r.content for r in live]
    assert again == built
    page = client.get(f"/ru/people/{case.takhir.slug}/").content.decode()
    assert f'href="/ru/events/?person={case.takhir.slug}"' in page


@pytest.mark.parametrize("name", ["public:person", "public:event", "public:organisation"])
@pytest.mark.parametrize("slug", ["takhir-1", "A_b-9", "жанаозен", "a b", "x/y", "slug-mark-0"])
def test_a_record_address_is_what_reverse_gives(name: str, slug: str) -> None:
    def outcome() -> str:
        try:
            return structured.record_path(name, slug)
        except NoReverseMatch:
            return "no match"

    for code in LANGUAGES:
        with translation.override(code):
            try:
                expected = reverse(name, args=[slug])
            except NoReverseMatch:
                expected = "no match"
            assert outcome() == expected
            with buildcache.active():
                assert outcome() == expected
                assert outcome() == expected
                found, _around = buildcache.lookup(structured._path_around_slug, (name,))
            # Only a plain slug takes the shortcut; anything else is reversed.
            assert found == (structured._PLAIN_SLUG.fullmatch(slug) is not None)


def test_a_date_is_written_as_its_display() -> None:
    dates = ["2011-12-16", "2012-06", "2002~", "../2012-03-05", "2011-12-01/2011-12-20", "2011/.."]
    for code in LANGUAGES:
        with translation.override(code):
            for text in dates:
                date = PartialDate.parse(text)
                assert public_tags.written(date) == date.display()
                with buildcache.active():
                    assert public_tags.written(date) == date.display()
                    assert public_tags.written(date) == date.display()
            assert public_tags.written(None) == ""


def test_a_preview_text_is_cut_as_truncator_cuts_it() -> None:
    rng = random.Random(6)  # noqa: S311  test texts, not secrets
    for code in LANGUAGES:
        with translation.override(code):
            for n in range(3000):
                # Some texts with combining accents, which Truncator does not count.
                alphabet = "abc деф қңә  ..x\n" + ("\u0301" if n % 3 == 0 else "")
                text = "".join(rng.choice(alphabet) for _ in range(rng.randint(150, 260)))
                plain = unicodedata.normalize("NFC", " ".join(text.split()))
                expected = plain if len(plain) <= 200 else Truncator(plain).chars(200)
                assert structured.cut(text) == expected


# The loops base.html had before the tags wrote the same links.
_FORMER_LOOPS = Template(
    "{% for v in versions %}\n"
    '  <link rel="alternate" hreflang="{{ v.code }}" href="{{ v.absolute_url }}">{% endfor %}|'
    '{% for v in versions %}<button type="submit" name="language" value="{{ v.code }}" '
    'lang="{{ v.code }}"{% if not not_found %} formaction="{{ v.switch_url }}"{% endif %}'
    '{% if v.is_current %} aria-current="true"{% endif %}>{{ v.name }}</button>{% endfor %}'
)
_TAGS = Template(
    "{% load public_tags %}{% language_alternates versions %}|"
    "{% language_buttons versions not_found %}"
)


@pytest.mark.parametrize("not_found", [False, True, None])
def test_the_language_links_are_the_former_loops(not_found: bool | None) -> None:
    request = RequestFactory().get('/ru/people/a"<b>/?q=<x>')
    versions = [
        *public_tags.language_versions({"request": request}),
        public_tags.LanguageVersion('x"<', "<b>&", "/u", '/a?b="c"&d', False, "/s?n=<>"),
    ]
    values: dict[str, object] = (
        {"versions": versions}
        if not_found is None
        else {"versions": versions, "not_found": not_found}
    )
    with translation.override("ru"):
        expected = _FORMER_LOOPS.render(Context(values))
        assert _TAGS.render(Context(values)) == expected
    assert "&lt;b&gt;&amp;" in expected
