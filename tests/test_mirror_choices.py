"""A filter with many choices becomes one link to a page of choices, not a list on every page.

A timeline by person has one choice per person documented; repeated on each of the thousand
timeline pages of a thousand people it made the mirror grow with the square of the site.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from django.utils import translation

from solidarity.core.models import Section
from solidarity.publishing import mirror as mirror_module

from .test_public_boundary import World, build_world, shows
from .test_publishing_browser import offline_page
from .test_publishing_mirror import LANGS, Links, files_of, mirror, paper  # noqa: F401
from .test_publishing_pages import Newspaper

CHOICES = "en/events/index.choose-type.html"


@pytest.fixture
def few_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every filter counts as one with many choices (the test site has only a few)."""
    monkeypatch.setattr(mirror_module, "FILTER_INLINE_LIMIT", 0)


def links_of(path: Path) -> list[str]:
    parser = Links()
    parser.feed(path.read_text())
    return parser.hrefs


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.usefixtures("few_inline")
def test_a_long_filter_becomes_a_page_of_choices(
    paper: Newspaper,  # noqa: F811
    tmp_path: Path,
    workers: str,
) -> None:
    dest = tmp_path / "mirror"
    mirror(dest, "-q", "--workers", workers)
    for name in ("index.html", "index--type-strike.html", "index--year-2011.html"):
        timeline = (dest / "en/events" / name).read_text()
        # The choices are not on the timeline's pages, only a link to them.
        assert 'href="index--type-strike.html"' not in timeline, name
        assert re.search(r'<a href="index.choose-type.html">Choose from \d+</a>', timeline), name
        assert "<strong>Type:</strong>" in timeline  # one colon: the label's own is dropped
    choices = dest / CHOICES
    assert "<h1>Type</h1>" in choices.read_text()
    hrefs = links_of(choices)
    assert "index--type-strike.html" in hrefs  # the choice, leading to its filtered page
    assert "index.html" in hrefs  # back to the list
    for href in hrefs:
        target = (choices.parent / href.partition("#")[0]).resolve()
        assert target.is_file() and dest.resolve() in target.parents, href
    for code in LANGS:
        page = dest / code / "events/index.choose-year.html"
        assert 'href="index--year-2011.html">2011</a>' in page.read_text(), code
        assert f'<html lang="{code}">' in page.read_text()


@pytest.mark.usefixtures("few_inline")
def test_pages_of_choices_hold_nothing_non_public(
    section: Section,
    paper: Newspaper,  # noqa: F811
    tmp_path: Path,
) -> None:
    world: World = build_world(section)
    dest = tmp_path / "mirror"
    mirror(dest, "-q")
    pages = list(dest.rglob("*.choose-*.html"))
    kinds = {page.name for page in pages}
    assert len(pages) == len(kinds) * len(LANGS)  # each filter in every language
    assert {f"index.choose-{name}.html" for name in ("type", "year", "person")} <= kinds
    canaries = {**world.canaries, "Hidden Person": "private person", "hidden-person": "slug"}
    for page in pages:
        text = page.read_text()
        leaked = [c for c in canaries if shows(c, text)]
        assert not leaked, (page, leaked)


@pytest.mark.usefixtures("few_inline")
def test_a_rerun_keeps_pages_of_choices_and_restores_a_lost_one(
    paper: Newspaper,  # noqa: F811
    tmp_path: Path,
) -> None:
    dest = tmp_path / "mirror"
    mirror(dest, "-q")
    before = {name: path.read_bytes() for name, path in files_of(dest).items()}
    assert CHOICES in before

    again = mirror(dest)
    assert "(0 written," in again and "0 deleted" in again
    assert (dest / CHOICES).read_bytes() == before[CHOICES]

    (dest / CHOICES).unlink()
    mirror(dest, "-q")
    assert (dest / CHOICES).read_bytes() == before[CHOICES]
    assert {name: path.read_bytes() for name, path in files_of(dest).items()} == before


def test_short_filters_stay_on_the_page(paper: Newspaper, tmp_path: Path) -> None:  # noqa: F811
    dest = tmp_path / "mirror"
    mirror(dest, "-q")
    timeline = (dest / "en/events/index.html").read_text()
    assert 'href="index--type-strike.html"' in timeline
    assert not list(dest.rglob("*.choose-*.html"))


def test_a_page_of_choices_never_replaces_a_page_of_the_site(tmp_path: Path) -> None:
    builder = mirror_module.Mirror(tmp_path)
    taken = "/en/events/index.choose-type.html"
    pages = {taken: mirror_module._Page(taken, "", "page")}
    with pytest.raises(mirror_module.MirrorError, match="both a page of the site"):
        builder._choices_page("/en/events/", "type", "Type", [("strike", "/x/")], pages)
    assert re.fullmatch(
        r"/en/events/index\.choose-year\.html",
        builder._choices_page(
            "/en/events/", "year", "Year", [("2011", "/en/events/?year=2011")], {}
        ),
    )


@pytest.mark.browser
@pytest.mark.usefixtures("few_inline")
def test_a_page_of_choices_is_followed_offline(paper: Newspaper, tmp_path: Path) -> None:  # noqa: F811
    """From the timeline on disk (file://), offline: to the choices, to a filtered timeline."""
    dest = tmp_path / "usb stick" / "mirror"
    mirror(dest, "-q")
    with offline_page(dest / "en/events/index.html") as page:
        by_type = page.locator("nav.mirror-filters p", has_text="Type:")
        by_type.get_by_role("link", name=re.compile(r"^Choose from \d+$")).click()
        page.wait_for_url("**/en/events/index.choose-type.html")
        assert page.locator("h1").inner_text() == "Type"
        page.get_by_role("link", name="strike", exact=True).click()
        page.wait_for_url("**/en/events/index--type-strike.html")
        assert page.locator("h1").inner_text() == "Timeline"
        assert page.get_by_text("Zhanaozen oil workers' strike").count()
        page.go_back()
        page.get_by_role("link", name="Back to the unfiltered list").click()
        page.wait_for_url("**/en/events/index.html")


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_written_files_are_readable_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    """A file is written with four system calls when the umask allows, chmod-ed when not."""
    old = os.umask(umask)
    try:
        builder = mirror_module.Mirror(tmp_path)
        assert builder._umask_keeps_readable is (umask == 0o022)
        digest, written = builder._write("en/a b/index.html", b"<p>x</p>", {})
    finally:
        os.umask(old)
    path = tmp_path / "en/a b/index.html"
    assert written and path.read_bytes() == b"<p>x</p>"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert not list(tmp_path.rglob(".tmp-*"))
    assert builder._write("en/a b/index.html", b"<p>x</p>", {"en/a b/index.html": digest}) == (
        digest,
        False,
    )


def test_only_attributes_of_their_own_are_links(tmp_path: Path) -> None:
    """href, src and action after white space are links; data-href and formaction are not."""
    builder = mirror_module.Mirror(tmp_path)
    body = (
        '<a data-href="/en/people/">a</a><button formaction="/en/sources/">b</button>'
        "<a\nhref='/en/events/'>c</a><img\tsrc=\"/en/events/\">"
    )
    assert builder._links("/en/", body.encode(), "text/html") == ["/en/events/"]
    pages = {url: mirror_module._Page(url, "", "page") for url in ("/en/events/", "/en/people/")}
    with translation.override("en"):
        text = builder._rewrite_links("/en/", "en/index.html", body, "text/html", pages, set())
    assert text == (
        '<a data-href="/en/people/">a</a><button formaction="/en/sources/">b</button>'
        '<a\nhref="events/index.html">c</a><img\tsrc="events/index.html">'
    )
