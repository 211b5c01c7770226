"""The mirror's page about what needs the live site exists in each language (en/, ru/,
kk/offline.html), and every link the mirror cannot follow leads to the one of its page's
language.

Before, there was one such page, /offline.html, rendered in English: a Russian or Kazakh reader
who followed a petition's note or a link to the back office landed on an English page. A page
without a language in its address (the root's redirect, a style sheet) leads to the default
language's page; there is no /offline.html any more (a re-run deletes it).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from django.utils import translation

from solidarity.core.models import Section
from solidarity.publishing import mirror as mirror_module
from solidarity.publishing.mirror import MANIFEST, OFFLINE_PAGES, _Page

from .test_publishing_browser import offline_page
from .test_publishing_mirror import mirror, paper, public_petition, snapshot  # noqa: F401
from .test_publishing_pages import Newspaper

LANGUAGES = ("en", "ru", "kk")
# A translated word of each page: its heading, its title and its note's link.
HEADINGS = {
    "en": "Not available in this copy",
    "ru": "В этой копии недоступно",  # noqa: RUF001 (Russian)
    "kk": "Бұл көшірмеде қолжетімсіз",
}
TITLES = {"en": "Not available offline", "ru": "Недоступно офлайн", "kk": "Офлайн қолжетімсіз"}
WHY = {"en": "Why?", "ru": "Почему?", "kk": "Неліктен?"}
HOME = {
    "en": "Back to the home page",
    "ru": "Вернуться на главную страницу",
    "kk": "Басты бетке оралу",
}
LINK = re.compile(r'<a href="([^"]+)"[^>]*>([^<]*)</a>')
FORM_NOTE = re.compile(r'<p class="mirror-form">[^<]*<a href="([^"]+)">([^<]*)</a></p>')
SWITCH = re.compile(r'<nav class="language-switch">(.*?)</nav>', re.DOTALL)


@pytest.fixture
def dest(paper: Newspaper, section: Section, tmp_path: Path) -> Path:  # noqa: F811
    # A public petition: its signing form posts, so each of its pages gets a note.
    public_petition(section, "offline")
    where = tmp_path / "usb stick" / "mirror"
    mirror(where, "-q")
    return where


def leads_to(page: Path, href: str) -> Path:
    """The file a relative link on `page` leads to (it fails on any other link)."""
    assert not urlsplit(href).scheme and not href.startswith("/"), href
    return (page.parent / unquote(urlsplit(href).path)).resolve()


def links_of(text: str) -> dict[str, str]:
    return {label: href for href, label in LINK.findall(text)}


def test_each_language_has_its_offline_page_in_its_language(dest: Path) -> None:
    assert not (dest / "offline.html").exists()
    for code in LANGUAGES:
        page = dest / code / "offline.html"
        text = page.read_text()
        assert f'<html lang="{code}">' in text, code
        assert f"<title>{TITLES[code]} · " in text, code
        assert f"<h1>{HEADINGS[code]}</h1>" in text, code
        for other, heading in HEADINGS.items():
            if other != code:
                assert heading not in text, (code, other)
        # Its links lead to that language's pages, relatively (file://, any sub-path).
        links = links_of(text)
        assert links[HOME[code]] == "index.html", code
        assert leads_to(page, links[HOME[code]]) == (dest / code / "index.html").resolve()
        main = text[text.index("<main") :]
        targets = {leads_to(page, href) for href, _label in LINK.findall(main)}
        assert targets == {
            (dest / code / name).resolve()
            for name in ("index.html", "events/index.html", "newspaper/index.html")
        }, code
        # The site's layout in that language: its navigation and its search lead to that
        # language's pages.
        header = text[text.index("<header") : text.index('<nav class="language-switch">')]
        navigation = [leads_to(page, href) for href, _label in LINK.findall(header)]
        assert len(navigation) > 5
        assert all(target.is_relative_to((dest / code).resolve()) for target in navigation)
        assert 'action="search.html"' in header
        # Its language switch leads to the offline page of each language (the site's led
        # every language to the English home page).
        switch = SWITCH.search(text)
        assert switch is not None, code
        hrefs = re.findall(r'href="([^"]+)"', switch[1])
        assert {leads_to(page, h) for h in hrefs} == {
            (dest / c / "offline.html").resolve() for c in LANGUAGES
        }, code
        assert f'hreflang="{code}" aria-current="page"' in switch[1]


def test_a_form_s_note_leads_to_the_offline_page_of_its_page_s_language(dest: Path) -> None:
    notes: dict[str, int] = dict.fromkeys(LANGUAGES, 0)
    for page in dest.rglob("*.html"):
        text = page.read_text()
        code = page.relative_to(dest).parts[0]
        for href, label in FORM_NOTE.findall(text):
            assert code in LANGUAGES, page
            assert label == WHY[code], (page, label)
            assert leads_to(page, href) == (dest / code / "offline.html").resolve(), (page, href)
            notes[code] += 1
    assert all(notes.values()), notes
    # The petition's page in Russian: its note leads, relatively, to ru/offline.html.
    petition = dest / "ru/petitions/offline-petition/index.html"
    found = FORM_NOTE.search(petition.read_text())
    assert found is not None
    assert found[1] == "../../offline.html"
    assert leads_to(petition, found[1]) == (dest / "ru/offline.html").resolve()


def _pages(*urls: str) -> dict[str, _Page]:
    return {url: _Page(url, "", "page") for url in urls}


def test_a_link_the_mirror_cannot_follow_leads_to_its_page_s_language(tmp_path: Path) -> None:
    """The back office, a page the mirror does not hold, a missing static file: from a page in
    each language, in any order (a link made for one page is reused for others: never for a
    page in another language), to that language's offline page; from a page without a
    language, to the default language's."""
    builder = mirror_module.Mirror(tmp_path)
    text = (
        '<a href="/admin/">a</a> <a href="/en/gone/">b</a> <link href="/static/nothing.css">'
        ' <a href="/en/">c</a>'
    )
    pages = _pages("/", "/en/", "/ru/", "/kk/", "/en/people/", "/ru/people/", "/kk/people/")
    pages.update(_pages("/ru/people/a/", "/en/people/a/", "/kk/people/a/"))
    # A style sheet beside the languages' directories (static/x.css) is in the default one.
    urls = ["/static/x.css", "/en/", "/ru/", "/kk/", "/en/people/a/", "/ru/people/a/"]
    urls += ["/kk/people/a/", "/"]
    for order in (urls, urls[::-1]):
        for url in order:
            code = translation.get_language_from_path(url) or "en"
            own = mirror_module.file_for(url)
            with translation.override(code):
                made = builder._rewrite_links(url, own, text, "text/html", pages, set())
            page = tmp_path / own
            targets = [leads_to(page, href) for href in re.findall(r'href="([^"]+)"', made)]
            offline = (tmp_path / code / "offline.html").resolve()
            assert targets[:3] == [offline] * 3, (url, made)
            assert targets[3] == (tmp_path / "en/index.html").resolve()


def test_a_petition_s_form_becomes_a_note_in_its_page_s_language(tmp_path: Path) -> None:
    builder = mirror_module.Mirror(tmp_path)
    body = (
        '<html><body><form method="post" action="/ru/campaigns/c/petitions/p/sign/">'
        '<input name="name"><button>Подписать</button></form></body></html>'
    )
    pages = _pages("/ru/campaigns/c/petitions/p/", "/en/campaigns/c/petitions/p/")
    made = {}
    for code in ("en", "ru"):
        url = f"/{code}/campaigns/c/petitions/p/"
        made[code] = builder.rewrite(url, body.encode(), "text/html", pages, set()).decode()
    for code, text in made.items():
        note = FORM_NOTE.search(text)
        assert note is not None, text
        assert note[1] == "../../../../offline.html" and note[2] == WHY[code]
        assert "<form" not in text and "Подписать" not in text


def test_a_rerun_rewrites_nothing_and_removes_the_old_offline_page(dest: Path) -> None:
    """A mirror made before has /offline.html in its manifest: a re-run deletes it, and
    writes nothing else (the offline pages are part of the incremental manifest)."""
    again = mirror(dest)
    assert "(0 written," in again and "0 deleted" in again, again
    manifest = json.loads((dest / MANIFEST).read_text())
    assert {url.lstrip("/") for url in OFFLINE_PAGES.values()} <= set(manifest["files"])
    manifest["files"]["offline.html"] = "0" * 64
    (dest / MANIFEST).write_text(json.dumps(manifest))
    (dest / "offline.html").write_text("<p>Not available in this copy</p>")
    before = snapshot(dest)
    output = mirror(dest)
    assert "(0 written," in output and "1 deleted" in output, output
    assert not (dest / "offline.html").exists()
    after = snapshot(dest)
    assert after == {name: when for name, when in before.items() if name != "offline.html"}


@pytest.mark.browser
def test_a_russian_reader_follows_a_note_to_the_russian_offline_page(dest: Path) -> None:
    """From disk (file://), offline: a Russian petition's note, then back to the newspaper."""
    start = dest / "ru/petitions/offline-petition/index.html"
    with offline_page(start) as page:
        page.get_by_role("link", name=WHY["ru"]).click()
        page.wait_for_url("**/ru/offline.html")
        assert page.locator("h1").inner_text() == HEADINGS["ru"]
        assert page.locator("html").get_attribute("lang") == "ru"
        page.get_by_role("link", name="English").click()
        page.wait_for_url("**/en/offline.html")
        assert page.locator("h1").inner_text() == HEADINGS["en"]
        page.go_back()
        page.locator("main").get_by_role("link", name="Газета").click()
        page.wait_for_url("**/ru/newspaper/index.html")
