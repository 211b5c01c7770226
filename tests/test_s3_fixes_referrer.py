"""No page sets a referrer policy weaker than the `Referrer-Policy: no-referrer` header.

Threat: a page's address (a search for a name, a case page, a secret confirmation link)
leaving in the Referer header. A `<meta name="referrer">` overrides the header in browsers,
so one weaker tag in a template would undo the header on every page built on it; and the
mirror, served from disk by any web server, has no header at all, only the tag.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.template import engines
from django.test import Client
from playwright.sync_api import Request, sync_playwright
from pytest_django.live_server_helper import LiveServer

from solidarity.core.models import Section
from solidarity.documentation.models import Event
from tests.test_browser import CHROMIUM_ARGS
from tests.test_publishing_mirror import files_of, mirror, paper  # noqa: F401
from tests.test_publishing_pages import Newspaper

META = re.compile(r"<meta\b[^>]*>", re.IGNORECASE)
NAMED_REFERRER = re.compile(r"""\bname\s*=\s*["']?referrer\b""", re.IGNORECASE)
CONTENT = re.compile(r"""\bcontent\s*=\s*["']?([\w-]*)""", re.IGNORECASE)
POLICY_ATTRIBUTE = re.compile(r"""\breferrerpolicy\s*=\s*["']?([\w-]*)""", re.IGNORECASE)
REFRESH = re.compile(r"""<meta\b[^>]*http-equiv\s*=\s*["']?refresh""", re.IGNORECASE)


def policies(html: str) -> list[str]:
    """Every referrer policy a document sets: <meta name="referrer"> and referrerpolicy=."""
    found = [
        match.group(1).lower() if (match := CONTENT.search(tag)) else ""
        for tag in META.findall(html)
        if NAMED_REFERRER.search(tag)
    ]
    return found + [value.lower() for value in POLICY_ATTRIBUTE.findall(html)]


def test_policies_are_found_in_any_spelling() -> None:
    """The scan below is only as good as this parser."""
    assert policies('<meta name="referrer" content="same-origin">') == ["same-origin"]
    assert policies("<META content='origin' NAME=referrer>") == ["origin"]
    assert policies('<a href="/" referrerpolicy="unsafe-url">') == ["unsafe-url"]
    assert policies('<meta name="viewport" content="width=device-width">') == []


def test_every_template_that_sets_a_referrer_policy_sets_no_referrer() -> None:
    """The public site's base template keeps its tag (the mirror has nothing else), at
    no-referrer; no template anywhere, ours or an installed app's, asks for less."""
    found: dict[str, list[str]] = {}
    for directory in engines["django"].template_dirs:
        for path in Path(directory).rglob("*"):
            if path.is_file() and path.suffix in {".html", ".txt", ".xml", ".svg"}:
                values = policies(path.read_text(encoding="utf-8", errors="replace"))
                if values:
                    found[str(path)] = values
    base = [name for name in found if name.endswith("public/templates/public/base.html")]
    assert base, "public/base.html lost its referrer tag"
    assert {name: v for name, v in found.items() if set(v) != {"no-referrer"}} == {}


def test_live_pages_say_no_referrer_in_the_header_and_the_tag(section: Section) -> None:
    """Header and tag agree on every language's home page, a search and the newspaper."""
    client = Client()
    for url in ("/en/", "/ru/", "/kk/", "/en/search/?q=Sokolova", "/en/newspaper/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Referrer-Policy"] == "no-referrer"
        assert policies(response.content.decode()) == ["no-referrer"], url


def test_every_mirrored_page_carries_no_referrer(paper: Newspaper, tmp_path: Path) -> None:  # noqa: F811
    """Each page of the mirror (served without our headers) sets no-referrer itself; the
    small redirect files, which only send the browser on to another file of the same
    mirror, set no weaker policy."""
    dest = tmp_path / "mirror"
    mirror(dest, "--quiet")
    pages = redirects = 0
    for name, path in files_of(dest).items():
        if path.suffix != ".html":
            continue
        html = path.read_text(encoding="utf-8")
        if REFRESH.search(html):
            redirects += 1
            assert set(policies(html)) <= {"no-referrer"}, name
        else:
            pages += 1
            assert policies(html) == ["no-referrer"], name
    assert pages > 50 and redirects > 0


@pytest.mark.browser
def test_chromium_sends_no_referer_and_our_forms_still_work(
    live_server: LiveServer, transactional_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Following a link, searching and switching the language: no request carries a Referer,
    the language form's POST goes out with `Origin: null` (what no-referrer makes browsers
    send), and the switch works all the same."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    section = Section.objects.create(slug="home", name_en="Home organisation", kind="home")
    Event.objects.create(
        section=section,
        is_public=True,
        slug="zhanaozen-massacre",
        type="massacre",
        title_en="Zhanaozen massacre",
        title_ru="Жанаозенская бойня",
        date="2011-12-16",
    )
    sent: list[tuple[str, str, dict[str, str]]] = []

    def record(request: Request) -> None:
        if request.is_navigation_request():
            sent.append((request.method, request.url, request.all_headers()))

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_context(java_script_enabled=False, locale="en-GB").new_page()
            page.on("request", record)
            page.goto(f"{live_server.url}/en/events/zhanaozen-massacre/")
            with page.expect_navigation():
                page.get_by_role("link", name="Timeline", exact=True).click()
            assert urlsplit(page.url).path == "/en/events/"
            with page.expect_navigation():
                page.get_by_role("searchbox").fill("Zhanaozen")
                page.get_by_role("button", name="Search").click()
            assert urlsplit(page.url).path == "/en/search/"
            page.goto(f"{live_server.url}/en/events/zhanaozen-massacre/")
            with page.expect_navigation():
                page.get_by_role("button", name="Русский").click()
            assert urlsplit(page.url).path == "/ru/events/zhanaozen-massacre/"
            assert page.locator("h1").inner_text() == "Жанаозенская бойня"
        finally:
            browser.close()

    assert len(sent) >= 5  # two visits, a link, a search, the language switch
    assert [url for _m, url, headers in sent if "referer" in headers] == []
    posts = [headers for method, _url, headers in sent if method == "POST"]
    assert len(posts) == 1
    assert posts[0].get("origin") == "null"
