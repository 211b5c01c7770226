"""Campaigns in a real browser (Debian's Chromium): signing a petition through the e-mail link,
and the campaign page showing a won demand."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Browser, Page, sync_playwright
from pytest_django.live_server_helper import LiveServer

from solidarity.campaigns import services
from solidarity.campaigns.models import DemandState, Signature
from solidarity.core.models import Section
from tests.test_browser import CHROMIUM_ARGS
from tests.test_campaigns_support import (  # mailbox_fixture: imported to register it
    Mailbox,
    World,
    mailbox_fixture,  # noqa: F401
    make_world,
    run_worker,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def world(transactional_db: None, section: Section, monkeypatch: pytest.MonkeyPatch) -> World:
    # Playwright's sync API runs an event loop in this thread, and the test uses the ORM (and
    # the worker) between browser steps; no other coroutine touches the database meanwhile.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    return make_world(section)


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            # While Playwright's event loop runs, this thread's ORM uses a second set of database
            # connections (Django keeps them per thread, and per context under a running loop):
            # close those, or one stays open after the test and PostgreSQL cannot drop the test
            # database at the end of the run ("being accessed by other users").
            connections.close_all()
            chromium.close()


def _url(live_server: LiveServer, name: str, *args: str) -> str:
    with translation.override("en"):
        return live_server.url + reverse(name, args=args)


def _count(page: Page) -> str:
    return page.locator("#count").inner_text()


def test_signing_a_petition_through_the_confirmation_email(
    world: World, live_server: LiveServer, mailbox: Mailbox, browser: Browser
) -> None:
    """Fill in the form and sign; the worker mails a link; opening it shows a button (the link
    alone confirms nothing); pressing it counts the signature and the name appears."""
    page = browser.new_page()
    petition_url = _url(live_server, "campaigns:petition", world.petition.slug)
    page.goto(petition_url)
    assert _count(page).startswith("0 signatures")

    page.get_by_label("Your name").fill("Anna Berg")
    page.get_by_label("Your e-mail address").fill("anna@example.org")
    page.get_by_label("Your country").fill("Germany")
    page.get_by_label("Show my name on the public list of signers.").check()
    page.locator("input[name=processing_consent]").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Sign the petition").click()
    assert page.url == _url(live_server, "campaigns:petition_thanks", world.petition.slug)

    run_worker()
    [message] = mailbox.to("anna@example.org")
    match = re.search(r"https?://\S+/petitions/confirm/\S+/", mailbox.body(message))
    assert match is not None, mailbox.body(message)
    link = match.group(0)
    assert link.startswith(live_server.url)

    page.goto(link)
    assert Signature.objects.get().status == Signature.Status.PENDING
    assert page.get_by_role("heading", name="Confirm your signature").is_visible()
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm my signature").click()
    assert Signature.objects.get().status == Signature.Status.CONFIRMED

    page.goto(petition_url)
    assert _count(page).startswith("1 signature")
    assert page.locator("#signers li").all_inner_texts() == ["Anna Berg"]


def test_the_campaign_page_shows_a_won_demand_with_its_release(
    world: World, live_server: LiveServer, browser: Browser
) -> None:
    """Once the release settles the demand, the campaign page says "won in March 2012" and
    links to the documented release."""
    services.record_outcome(world.demand, DemandState.WON, event=world.release)
    page = browser.new_page()
    page.goto(_url(live_server, "campaigns:campaign", world.campaign.slug))
    demand = page.locator("li.demand", has_text="Release Natalya Sokolova")
    assert demand.locator("strong.state").inner_text() == "won in March 2012"
    with page.expect_navigation():
        demand.get_by_role("link", name="Natalya Sokolova released").click()
    assert page.get_by_role("heading", name="Natalya Sokolova released").is_visible()
