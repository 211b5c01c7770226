"""The mirror's offline search has a page in each language (en/, ru/, kk/search.html).

Before, the only search page was /search.html, in English: the header's search and the note on
every page led Russian and Kazakh readers there. Now each page leads to the search page of its
own language, which speaks that language (its script takes every word it shows from the page)
and links people, organisations and events to their page in that language. /search.html still
works: it forwards to the page in the browser's language, keeping the words asked for.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from solidarity.documentation.models import Event

from .test_publishing_browser import offline_page
from .test_publishing_mirror import files_of, mirror, paper  # noqa: F401
from .test_publishing_pages import Newspaper

HEADINGS = {"en": "Search this copy", "ru": "Поиск по этой копии", "kk": "Осы көшірмеден іздеу"}
SHORT = {
    "en": "Type at least two letters.",
    "ru": "Введите хотя бы две буквы.",
    "kk": "Кемінде екі әріп енгізіңіз.",
}
SITE_SEARCH = re.compile(r'<form class="site-search" action="([^"]+)"')
NOTE = re.compile(r'<p class="mirror-note"[^>]*>.*?<a href="([^"]+)">', re.DOTALL)
EVENT_RU = "Забастовка нефтяников в Жанаозене"


@pytest.fixture
def dest(paper: Newspaper, tmp_path: Path) -> Path:  # noqa: F811
    Event.objects.filter(pk=paper.event.pk).update(title_ru=EVENT_RU)
    where = tmp_path / "usb stick" / "mirror"
    mirror(where, "-q")
    return where


def leads_to(page: Path, href: str) -> Path:
    assert not urlsplit(href).scheme and not href.startswith("/"), href
    return (page.parent / unquote(urlsplit(href).path)).resolve()


def test_each_language_has_its_search_page_in_its_language(dest: Path) -> None:
    for code, heading in HEADINGS.items():
        page = dest / code / "search.html"
        text = page.read_text()
        assert f'<html lang="{code}">' in text, code
        assert f"<h1>{heading}</h1>" in text, code
        assert 'dir="ltr"' in text and f'data-lang="{code}"' in text, code
        # The script's words come from the page, in the page's language.
        assert f'data-short="{SHORT[code]}"' in text, code
        assert 'data-root="../"' in text
        for script in ("search-index.js", "search.js"):
            assert f'<script src="../{script}"></script>' in text
        # Its language switch leads to the search page of each language.
        switch = re.search(r'<nav class="language-switch">(.*?)</nav>', text)
        assert switch is not None, code
        targets = {leads_to(page, h) for h in re.findall(r'href="([^"]+)"', switch[1])}
        assert targets == {(dest / c / "search.html").resolve() for c in HEADINGS}, code
    if SHORT["ru"] in (dest / "en/search.html").read_text():
        pytest.fail("the English page speaks Russian")
    script = (dest / "search.js").read_text()
    literals = " ".join(re.findall(r'"[^"\n]*"', script))
    for english in ("Nothing", "Found", "Type", "article", "person", "event", "English"):
        assert english not in literals, f"search.js has {english!r} written in it"


def test_every_page_leads_to_the_search_page_of_its_language(dest: Path) -> None:
    pages = {
        "ru/search.html": "ru",
        "ru/people/natalya-sokolova/index.html": "ru",
        "ru/newspaper/articles/svobodu-natale/index.html": "ru",
        "kk/events/index.html": "kk",
        "en/people/natalya-sokolova/index.html": "en",
        "en/offline.html": "en",
        "ru/offline.html": "ru",
    }
    for name, code in pages.items():
        page = dest / name
        text = page.read_text()
        form = SITE_SEARCH.search(text)
        note = NOTE.search(text)
        assert form is not None and note is not None, name
        search = (dest / code / "search.html").resolve()
        assert leads_to(page, form[1]) == search, (name, form[1])
        assert leads_to(page, note[1]) == search, (name, note[1])
    # Relative, from the page's own directory: it works from file:// and any sub-path.
    assert SITE_SEARCH.search((dest / "ru/search.html").read_text())[1] == "search.html"  # type: ignore[index]
    person = (dest / "ru/people/natalya-sokolova/index.html").read_text()
    assert SITE_SEARCH.search(person)[1] == "../../search.html"  # type: ignore[index]


def test_the_old_address_forwards_to_a_page_of_each_language(dest: Path) -> None:
    text = (dest / "search.html").read_text()
    assert 'id="search-forward"' in text and '<script src="search.js"></script>' in text
    # Without JavaScript: to the default language's page.
    assert (
        '<noscript><meta http-equiv="refresh" content="0; url=en/search.html"></noscript>' in text
    )
    for code in HEADINGS:
        assert f'<a href="{code}/search.html" lang="{code}" hreflang="{code}">' in text


def test_records_link_to_their_page_in_each_language(dest: Path, paper: Newspaper) -> None:  # noqa: F811
    index = json.loads((dest / "search-index.json").read_text())
    by_url = {entry["url"]: entry for entry in index}
    person = by_url["en/people/natalya-sokolova/index.html"]
    assert person["kind"] == "person" and person["lang"] == ""
    assert person["pages"] == {
        "ru": {"url": "ru/people/natalya-sokolova/index.html"},
        "kk": {"url": "kk/people/natalya-sokolova/index.html"},
    }
    event = by_url["en/events/zhanaozen-strike/index.html"]
    assert event["title"] == "Zhanaozen oil workers' strike"
    # Its title and date as the Russian page writes them.
    ru_url = "ru/events/zhanaozen-strike/index.html"
    ru_page = {"url": ru_url, "title": EVENT_RU, "text": "май 2011"}
    assert event["pages"]["ru"] == ru_page
    # Kazakh falls back to Russian, as the site's Kazakh page does.
    assert event["pages"]["kk"]["title"] == EVENT_RU
    article = by_url["ru/newspaper/articles/svobodu-natale/index.html"]
    assert article["lang"] == "ru" and "pages" not in article
    for entry in index:
        for url in [entry["url"], *(page["url"] for page in entry.get("pages", {}).values())]:
            assert (dest / unquote(url)).is_file(), url
    # Nothing non-public, in any language.
    text = (dest / "search-index.js").read_text()
    for hidden in ("Hidden", "hidden-person", "Scheduled piece", "scheduled-piece", "Draft piece"):
        assert hidden not in text, hidden


@pytest.mark.browser
def test_searching_on_the_russian_page_offline(dest: Path) -> None:
    """From a Russian page on disk (file://), offline: the header's search reaches the Russian
    search page, which answers in Russian, with Russian pages first, linking to files there."""

    def results() -> list[tuple[str, str, str]]:
        rows: list[tuple[str, str, str]] = page.eval_on_selector_all(
            "#search-results li",
            "items => items.map(li => [li.querySelector('a').textContent,"
            " li.querySelector('a').href, li.querySelector('.kind').textContent])",
        )
        return rows

    def exists(href: str) -> bool:
        parts = urlsplit(href)
        return parts.scheme == "file" and Path(unquote(parts.path)).is_file()

    with offline_page(dest / "ru/people/natalya-sokolova/index.html") as page:
        page.get_by_label("Поиск по именам").fill("натал")
        page.get_by_role("button", name="Найти", exact=True).click()
        page.wait_for_url("**/ru/search.html?q=*")
        assert page.locator("html").get_attribute("lang") == "ru"
        assert page.locator("h1").inner_text() == "Поиск по этой копии"
        assert page.locator("#search-input").input_value() == "натал"
        assert page.locator("#search-status").inner_text() == "Найдено: 2"
        found = results()
        # The Russian article first, then the Kazakh one, named as such.
        assert [title for title, _href, _kind in found] == [
            "Свободу Наталье Соколовой",
            "Натальяға бостандық",
        ]
        assert found[0][2] == " (статья)" and found[1][2].startswith(" (статья, ")
        assert all(exists(href) for _title, href, _kind in found), found

        page.locator("#search-input").fill("sokolova")
        found = results()
        people = [row for row in found if row[2] == " (человек)"]
        assert len(people) == 1 and people[0][1].endswith("/ru/people/natalya-sokolova/index.html")
        assert all(exists(href) for _title, href, _kind in found), found
        assert any(title == "Free Natalya Sokolova" for title, _href, _kind in found)
        # Only this language: the English article goes, the person (a Russian page) stays.
        page.get_by_role("checkbox").check()
        found = results()
        assert [row[0] for row in found] == ["Natalya Sokolova"]

        page.locator("#search-input").fill("zzzzzz")
        assert page.locator("#search-status").inner_text().startswith("Ничего не найдено.")

        page.locator("#search-input").fill("жанаозен")
        event = page.get_by_role("link", name=EVENT_RU)
        event.click()
        page.wait_for_url("**/ru/events/zhanaozen-strike/index.html")
        assert page.locator("html").get_attribute("lang") == "ru"

        # The old address, with words asked for, leads on in the browser's language.
        page.goto((dest / "search.html").as_uri() + "?q=natalya")
        page.wait_for_url("**/en/search.html?q=natalya")
        assert page.locator("#search-status").inner_text().startswith("Found: ")
        page.add_init_script("Object.defineProperty(navigator, 'languages', {get: () => ['kk']})")
        page.goto((dest / "search.html").as_uri() + "?q=natalya")
        page.wait_for_url("**/kk/search.html?q=natalya")
        assert page.locator("h1").inner_text() == "Осы көшірмеден іздеу"
