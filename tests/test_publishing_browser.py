"""The mirror opened from disk (file://) in Chromium, offline: links work, search finds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, Route, sync_playwright

from solidarity.core.models import Section

from .test_publishing_pages import Newspaper, build_newspaper

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]


@contextmanager
def offline_page(start: Path) -> Iterator[Page]:
    """Chromium, offline, opened on `start` (a file of a mirror on disk). Anything but a file
    is refused, and the test fails afterwards if the pages asked for anything else."""
    requested: list[str] = []

    def only_files(route: Route) -> None:
        if urlsplit(route.request.url).scheme == "file":
            route.continue_()
        else:
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = browser.new_context(offline=True)
            context.route("**/*", only_files)
            page = context.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.goto(start.as_uri())
            yield page
        finally:
            browser.close()
    assert requested
    assert all(urlsplit(url).scheme == "file" for url in requested), [
        url for url in requested if not url.startswith("file:")
    ]


@pytest.fixture
def paper(section: Section, settings: pytest.FixtureRequest, tmp_path: Path) -> Newspaper:
    settings.MEDIA_ROOT = str(tmp_path / "media")  # type: ignore[attr-defined]
    return build_newspaper(section)


@pytest.mark.browser
def test_the_mirror_works_from_disk_offline(paper: Newspaper, tmp_path: Path) -> None:
    """From index.html on disk: newspaper, article, translation, person page, then search."""
    dest = tmp_path / "usb stick" / "mirror"
    call_command("mirror", str(dest), "-q")

    with offline_page(dest / "index.html") as page:
        page.wait_for_url("**/en/index.html")
        page.get_by_role("link", name="Newspaper", exact=True).first.click()
        page.wait_for_url("**/en/newspaper/index.html")
        page.get_by_role("link", name="Free Natalya Sokolova").first.click()
        page.wait_for_url("**/en/newspaper/articles/free-natalya/index.html")
        assert page.locator("h1").inner_text() == "Free Natalya Sokolova"
        image = page.locator("figure.article-image img")
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")
        page.get_by_role("link", name="Русский: Свободу Наталье Соколовой").click()
        page.wait_for_url("**/ru/newspaper/articles/svobodu-natale/index.html")
        assert page.locator("h1").inner_text() == "Свободу Наталье Соколовой"
        page.go_back()
        page.get_by_role("link", name="Natalya Sokolova", exact=True).click()
        page.wait_for_url("**/en/people/natalya-sokolova/index.html")
        stylesheet = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert stylesheet != "rgba(0, 0, 0, 0)", "the mirror's stylesheet did not load"

        page.get_by_role("link", name="Search this copy").click()
        page.wait_for_url("**/search.html")
        page.locator("#search-input").fill("natalya free")
        result = page.locator("#search-results a").first
        assert result.inner_text() == "Free Natalya Sokolova"
        result.click()
        page.wait_for_url("**/en/newspaper/articles/free-natalya/index.html")
