"""The timeline filter in a real browser: no JavaScript needed, nothing fetched from elsewhere."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Request, sync_playwright
from pytest_django.live_server_helper import LiveServer

from solidarity.core.models import Section
from solidarity.documentation.models import Act, Event, Person, Place

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.mark.browser
def test_filtering_the_timeline_by_type_in_a_browser(
    live_server: LiveServer, transactional_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Choosing "detention" and submitting shows detentions only, all served by this site."""
    # Playwright's sync API runs an event loop in this thread; the ORM is only used before it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    section = Section.objects.create(slug="home", name_en="Home organisation", kind="home")
    almaty = Place.objects.create(
        section=section, is_public=True, slug="almaty", name_en="Almaty", kind="city"
    )
    vadim = Person.objects.create(
        section=section, is_public=True, slug="vadim", given_name="Vadim", family_name="Kuramshin"
    )
    for slug, kind, title, date in [
        ("kuramshin-detained", "detention", "Vadim Kuramshin detained", "2012-08"),
        ("kuramshin-detained-again", "detention", "Vadim Kuramshin detained again", "2013-02"),
        ("embassy-protest", "protest", "Protest at the embassy", "2012-09"),
        ("death-threats", "threat", "Death threats received", "2012-05"),
    ]:
        event = Event.objects.create(
            section=section,
            is_public=True,
            slug=slug,
            type=kind,
            title_en=title,
            date=date,
            place=almaty,
        )
        if kind == "detention":
            Act.objects.create(event=event, type=kind, victim=vadim)
    Event.objects.create(
        section=section,
        is_public=False,
        slug="planned-detention",
        type="detention",
        title_en="Planned detention known only to staff",
        date="2012-10",
    )

    origin = urlsplit(live_server.url).netloc
    requested: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = browser.new_context(java_script_enabled=False)
            page = context.new_page()

            def record(request: Request) -> None:
                requested.append(request.url)

            page.on("request", record)
            page.goto(f"{live_server.url}/en/events/")
            assert page.locator("article.event-entry").count() == 4
            page.select_option("select[name=type]", "detention")
            with page.expect_navigation():
                page.get_by_role("button", name="Filter").click()

            assert "type=detention" in page.url
            titles = page.locator("article.event-entry h3").all_inner_texts()
            assert titles == ["Vadim Kuramshin detained", "Vadim Kuramshin detained again"]
            types = page.locator("article.event-entry .event-type").all_inner_texts()
            assert types == ["detention", "detention"]
            assert page.locator("select[name=type]").input_value() == "detention"
            assert page.get_by_role("link", name="Clear filters").is_visible()
        finally:
            browser.close()

    assert requested, "the browser recorded no request"
    foreign = [url for url in requested if urlsplit(url).netloc != origin]
    assert not foreign, f"requests to other origins: {foreign}"
    assert any(urlsplit(url).path.endswith("/site.css") for url in requested)
