"""The static mirror's shortcuts (issue 6) change how much work a build does, never what it shows:
fragments rendered once per language, article bodies converted once, workers kept for every
round of the crawl."""

from __future__ import annotations

import os
from pathlib import Path

import markdown
import pytest
from django.template import loader
from django.test import Client

from solidarity.core import buildcache
from solidarity.publishing import mirror as mirror_module
from solidarity.publishing import public_data, services
from solidarity.publishing.services import render_markdown
from solidarity.publishing.templatetags import newspaper_fragments

from .test_publishing_mirror import paper
from .test_publishing_pages import Newspaper

__all__ = ["paper"]  # the fixture, used by name

LANGS = ("en", "ru", "kk")
LIST_PAGES = (
    "/{lang}/newspaper/",
    "/{lang}/newspaper/topics/prisoners/",
    "/{lang}/newspaper/authors/a-zhaksylyk/",
    "/{lang}/newspaper/issues/2012-12/",
)


def _pid_of(batch: list[int]) -> list[int]:
    return [os.getpid() for _n in batch]


def test_workers_are_forked_once_for_every_round(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The crawl's rounds share one pool: its workers keep their build cache between rounds."""
    monkeypatch.setattr(mirror_module, "_can_fork", lambda: True)
    builder = mirror_module.Mirror(tmp_path, workers=2)
    with builder._pool(2) as pool:
        assert pool is not None
        # The pool's own processes (which of them takes a batch is up to the pool).
        forked = {process.pid for process in pool._pool}  # type: ignore[attr-defined]
        first = {
            pid for batch in builder._parallel(_pid_of, [[1], [2], [3]], pool) for pid in batch
        }
        second = {pid for batch in builder._parallel(_pid_of, [[4]], pool) for pid in batch}
    assert os.getpid() not in first | second
    assert first | second <= forked  # no new process for the second round
    assert len(forked) <= 2


def test_one_worker_works_in_this_process(tmp_path: Path) -> None:
    builder = mirror_module.Mirror(tmp_path, workers=1)
    with builder._pool(4) as pool:
        assert pool is None
        assert list(builder._parallel(_pid_of, [[1], [2]], pool)) == [[os.getpid()]] * 2


def test_a_reused_converter_gives_what_a_new_one_gives() -> None:
    """Footnotes, abbreviations and references of one body never reach the next one."""
    bodies = [
        "Text[^1]\n\n[^1]: a note",
        "*[HTML]: Hyper Text\n\nHTML here, and [a link][ref]\n\n[ref]: https://example.org/",
        "Another text[^1] with HTML and [a link][ref]",
        "| a | b |\n|---|---|\n| 1 | 2 |\n\nTerm\n: definition",
        "1. one\n2. two\n\n* a\n* b",
    ]
    for body in bodies * 2:
        fresh = markdown.markdown(body, extensions=["extra", "sane_lists"], output_format="html")
        assert services._converter().reset().convert(body) == fresh, body
    third = render_markdown.__wrapped__(bodies[2])
    assert "a note" not in third and "Hyper Text" not in third and "example.org" not in third


def test_a_reused_converter_still_sanitises() -> None:
    html = render_markdown.__wrapped__(
        'One\n\n<script>alert(1)</script>\n\n<a href="javascript:x()" onclick="y()">z</a>'
    )
    assert "<script" not in html and "javascript:" not in html and "onclick" not in html


@pytest.mark.parametrize("lang", LANGS)
def test_cached_fragments_give_the_same_pages(client: Client, paper: Newspaper, lang: str) -> None:
    """A list page and an article page are the same, byte for byte, with the build's cache."""
    urls = [url.format(lang=lang) for url in LIST_PAGES]
    urls.append(public_data.article_url(paper.en.slug, "en"))
    plain = {url: client.get(url).content for url in urls}
    assert all(b"article-list" in plain[url] for url in urls[:-1])
    with buildcache.active():
        for _twice in range(2):
            for url in urls:
                assert client.get(url).content == plain[url], url


def test_an_article_item_is_rendered_once_per_language(
    client: Client, paper: Newspaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[str] = []
    real = loader.get_template

    def counting(name: str) -> object:
        rendered.append(name)
        return real(name)

    monkeypatch.setattr(newspaper_fragments, "get_template", counting)
    with buildcache.active():
        for lang in ("en", "ru"):
            for url in LIST_PAGES:
                assert client.get(url.format(lang=lang)).status_code == 200
    items = rendered.count("publishing/_article_item.html")
    # Three public articles, listed on every page above, in two languages.
    assert items == 3 * 2
    assert rendered.count("publishing/_newspaper_nav.html") == 2


def test_a_feed_shows_what_the_article_shows(paper: Newspaper) -> None:
    """A feed reads summaries and bodies only, the same as the article's own page."""
    feed = public_data.feed_articles(language="en")
    article = public_data.article(paper.en.slug)
    assert feed is not None and article is not None
    item = next(item for item in feed if item.summary.slug == paper.en.slug)
    assert item.summary == article.summary
    assert item.body_html == article.body_html
    assert item.uuid == article.uuid
    assert not any(item.summary.slug == paper.draft.slug for item in feed)
