"""The mirror's second round of shortcuts (issue 6): each page's address resolved once, the
language switch read from the request's own match, each distinct link of a page rewritten once.
They change how much work a build does, never what a page shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import RequestFactory
from django.urls import resolve, translate_url
from django.utils import translation

from solidarity.core import buildcache
from solidarity.public.templatetags import public_tags
from solidarity.publishing import mirror as mirror_module
from solidarity.publishing.mirror import _Page

LANGUAGES = ("en", "ru", "kk")


@pytest.mark.parametrize(
    "path", ["/en/", "/ru/events/", "/kk/people/someone/", "/en/newspaper/", "/ru/newspaper/"]
)
def test_the_language_switch_from_the_request_s_match_is_django_s_translation(path: str) -> None:
    language = path.split("/")[1]
    request = RequestFactory().get(path)
    with translation.override(language):
        request.resolver_match = resolve(path)
        expected = {code: translate_url(path, code) for code in LANGUAGES}
        assert public_tags._page_language_urls(request, path) == expected
        with buildcache.active():
            assert public_tags._page_language_urls(request, path) == expected
            # Stored where `_language_urls` finds it: the page asks twice (switch, previews).
            assert buildcache.lookup(public_tags._language_urls, (path,)) == (True, expected)


def test_a_match_of_another_address_is_not_used() -> None:
    """A request routed by another path (a script prefix, an internal redirect) is resolved
    again: the switch never leads to the wrong page."""
    request = RequestFactory().get("/en/events/")
    with translation.override("en"):
        request.resolver_match = resolve("/en/people/")
        urls = public_tags._page_language_urls(request, "/en/events/")
    assert urls == {code: f"/{code}/events/" for code in LANGUAGES}


def test_no_match_falls_back_to_resolving_the_address() -> None:
    request = RequestFactory().get("/en/no/such/page/")
    with translation.override("en"):
        assert request.resolver_match is None
        urls = public_tags._page_language_urls(request, "/en/no/such/page/")
    assert urls == {code: translate_url("/en/no/such/page/", code) for code in LANGUAGES}


def test_each_address_is_resolved_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def counting(path: str) -> object:
        calls.append(path)
        return resolve(path)

    monkeypatch.setattr(mirror_module, "resolve", counting)
    builder = mirror_module.Mirror(tmp_path)
    for _round in range(3):
        assert builder._namespace("/ru/events/") == "public"
        match = builder._match("/ru/events/")
        assert match is not None and match.url_name == "event_list"
        assert builder._namespace("/en/no/such/page/") is None
    assert calls == ["/ru/events/", "/en/no/such/page/"]


def _pages(*urls: str) -> dict[str, _Page]:
    return {url: _Page(url, "", "page") for url in urls}


def test_repeated_links_are_rewritten_like_single_ones(tmp_path: Path) -> None:
    """A page that names the same page many times (a list's topics) gets the same relative
    link each time, in either quotes and with fragments, and its static files all listed."""
    builder = mirror_module.Mirror(tmp_path)
    pages = _pages("/en/events/", "/en/people/", "/en/newspaper/topics/prisoners/")
    once = (
        "<p><a href=\"/en/events/\">a</a> <a href='/en/people/#top'>b</a> "
        '<a href="/en/newspaper/topics/prisoners/">c</a> <a href="https://elsewhere.example/">d</a>'
        ' <img src="/static/public/site.css"> <a href="/en/admin/">e</a></p>'
    )
    html = once * 5
    single: set[str] = set()
    repeated: set[str] = set()
    with translation.override("en"):
        alone = builder._rewrite_links("/en/people/", "en/people/index.html", once, "text/html",
                                       pages, single)  # fmt: skip
        many = builder._rewrite_links("/en/people/", "en/people/index.html", html, "text/html",
                                      pages, repeated)  # fmt: skip
    assert many == alone * 5
    assert repeated == single == {"public/site.css"}
    assert 'href="../events/index.html"' in alone
    assert 'href="index.html#top"' in alone
    assert 'href="../newspaper/topics/prisoners/index.html"' in alone
    assert 'href="https://elsewhere.example/"' in alone
    assert 'href="../offline.html"' in alone  # not a page of the mirror: en/offline.html


def test_links_are_found_in_either_quotes_and_empty(tmp_path: Path) -> None:
    builder = mirror_module.Mirror(tmp_path)
    body = (
        b'<a href="/en/events/">a</a><a href=\'/en/people/\'>b</a><a href="">c</a>'
        b'<a href="/en/events/">again</a>'
    )
    links = builder._links("/en/sources/", body, "text/html")
    assert links == ["/en/events/", "/en/people/", "/en/sources/"]
