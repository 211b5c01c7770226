"""The language switch in a real browser: no JavaScript, the same page in the chosen language,
and the choice remembered for the next visit."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import sync_playwright
from pytest_django.live_server_helper import LiveServer

from solidarity.core.models import Section
from solidarity.documentation.models import Event, Place

from .test_browser import CHROMIUM_ARGS


@pytest.mark.browser
def test_switching_the_public_site_to_russian_then_kazakh(
    live_server: LiveServer, transactional_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From an English event page, Русский shows it in Russian and Қазақша in Kazakh; a later
    visit to the site's root opens in Kazakh although the browser asks for English."""
    # Playwright's sync API runs an event loop in this thread; the ORM is only used before it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    section = Section.objects.create(slug="home", name_en="Home organisation", kind="home")
    zhanaozen = Place.objects.create(
        section=section,
        is_public=True,
        slug="zhanaozen",
        name_en="Zhanaozen",
        name_ru="Жанаозен",
        name_kk="Жаңаөзен",
        kind="city",
    )
    Event.objects.create(
        section=section,
        is_public=True,
        slug="zhanaozen-massacre",
        type="massacre",
        title_en="Zhanaozen massacre",
        title_ru="Жанаозенская бойня",
        title_kk="Жаңаөзен қырғыны",
        date="2011-12-16",
        place=zhanaozen,
    )

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = browser.new_context(java_script_enabled=False, locale="en-GB")
            page = context.new_page()
            page.goto(f"{live_server.url}/en/events/zhanaozen-massacre/")
            assert page.locator("h1").inner_text() == "Zhanaozen massacre"
            assert page.locator("html").get_attribute("lang") == "en"

            with page.expect_navigation():
                page.get_by_role("button", name="Русский").click()
            assert urlsplit(page.url).path == "/ru/events/zhanaozen-massacre/"
            assert page.locator("html").get_attribute("lang") == "ru"
            assert page.locator("h1").inner_text() == "Жанаозенская бойня"
            assert "16 декабря 2011" in page.locator("time").first.inner_text()
            assert page.get_by_role("link", name="Хроника").first.is_visible()

            with page.expect_navigation():
                page.get_by_role("button", name="Қазақша").click()
            assert urlsplit(page.url).path == "/kk/events/zhanaozen-massacre/"
            assert page.locator("html").get_attribute("lang") == "kk"
            assert page.locator("h1").inner_text() == "Жаңаөзен қырғыны"
            assert page.locator("time").first.inner_text() == "2011 жылғы 16 желтоқсан"
            assert page.get_by_role("link", name="Адамдар").is_visible()

            page.goto(f"{live_server.url}/")
            assert urlsplit(page.url).path == "/kk/"
            assert page.locator("html").get_attribute("lang") == "kk"
            assert page.get_by_role("heading", name="Соңғы оқиғалар").is_visible()
        finally:
            browser.close()
