"""A new member's one-time link in a real browser (accounts/invitations.py, invitation.js).

The token is after the link's "#": Chromium must never put it in a request's address (which a
reverse proxy would log) nor in a header, and must keep it in no history entry once the page's
script has posted it. The member then chooses a password and logs in with it. Without
JavaScript the member pastes the link; links of the older "?u=…&t=…" form are moved to "#".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import User
from django.db import connections
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright
from pytest_django.live_server_helper import LiveServer

from solidarity.accounts import invitations
from tests.test_accounts_invitations import CHOSEN, parameters
from tests.test_accounts_login import make_staff
from tests.test_browser import CHROMIUM_ARGS

pytestmark = pytest.mark.browser


@dataclass
class Seen:
    """What the browser sent and what went wrong on the page."""

    urls: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        def request(sent: Request) -> None:
            self.urls.append(sent.url)
            self.headers.append(repr(sent.headers))
            self.bodies.append(sent.post_data or "")

        def console(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text:
                self.problems.append(message.text)

        page.on("request", request)
        page.on("console", console)
        page.on("pageerror", lambda error: self.problems.append(str(error)))


@contextmanager
def chromium(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    # Playwright's sync API runs an event loop in this thread; the ORM is used between steps.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            # This thread's second set of database connections (see the WebAuthn browser test).
            connections.close_all()
            browser.close()


def invited() -> tuple[User, str, str]:
    """A new member's account and link (the path with its fragment), and the link's token."""
    member = User.objects.create_user("vera", is_staff=True)
    link = invitations.new_link(member, by=make_staff("boss"))
    return member, link, parameters(link)["t"]


def history(page: Page) -> list[str]:
    entries = page.context.new_cdp_session(page).send("Page.getNavigationHistory")["entries"]
    return [entry["url"] for entry in entries]


def choose_and_log_in(page: Page, live_server: LiveServer) -> None:
    page.fill("#id_new_password1", CHOSEN)
    page.fill("#id_new_password2", CHOSEN)
    page.click("#login-form input[type=submit]")
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "vera")
    page.fill("#id_password", CHOSEN)
    page.click("input[type=submit]")
    # The password opened the login: next comes setting up the second factor.
    page.wait_for_url("**/accounts/enrol/**")
    assert "#" not in page.url


def test_the_link_sets_the_password_and_no_request_address_carries_the_token(
    live_server: LiveServer, transactional_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    member, link, token = invited()
    seen = Seen()
    with chromium(monkeypatch) as browser:
        page = browser.new_page()
        seen.watch(page)

        page.goto(f"{live_server.url}{link}")
        page.wait_for_selector("#id_new_password1")

        # The script posted the fragment and cleared it: not in the address bar, not in any
        # entry of the tab's history.
        assert page.url == f"{live_server.url}/accounts/welcome/"
        assert not any(token in url for url in history(page)), history(page)
        assert "vera" in page.inner_text("#login-form")
        choose_and_log_in(page, live_server)

    assert seen.urls[0] == f"{live_server.url}/accounts/welcome/"
    assert not [url for url in seen.urls if token in url]
    assert not [headers for headers in seen.headers if token in headers]
    # It travelled in POST bodies only: the script's, then the password form's.
    assert sum(token in body for body in seen.bodies) == 2
    assert seen.problems == []
    member.refresh_from_db()
    assert member.check_password(CHOSEN)


def test_without_javascript_the_member_pastes_the_link(
    live_server: LiveServer, transactional_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    member, link, token = invited()
    seen = Seen()
    with chromium(monkeypatch) as browser:
        page = browser.new_page(java_script_enabled=False)
        seen.watch(page)

        page.goto(f"{live_server.url}{link}")
        assert page.locator("#id_new_password1").count() == 0
        page.fill("#id_link", f"{live_server.url}{link}")
        page.click("#invitation-open input[type=submit]")
        page.wait_for_selector("#id_new_password1")
        # The form's own address has no fragment: the token is not carried on to this page's
        # address, nor to the login page's after the redirect (only the first entry keeps it).
        assert page.url == f"{live_server.url}/accounts/welcome/"
        choose_and_log_in(page, live_server)
        assert [url for url in history(page) if token in url] == [f"{live_server.url}{link}"]

    assert not [url for url in seen.urls if token in url]
    member.refresh_from_db()
    assert member.check_password(CHOSEN)


def test_an_old_query_link_ends_on_the_form_with_the_token_in_no_history_entry(
    live_server: LiveServer, transactional_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A link handed out before the token moved behind "#": that one request carries it (it
    was made so), the 303 and the script take it out of the address bar and the history."""
    member, link, token = invited()
    old = link.replace("#", "?")
    seen = Seen()
    with chromium(monkeypatch) as browser:
        page = browser.new_page()
        seen.watch(page)

        page.goto(f"{live_server.url}{old}")
        page.wait_for_selector("#id_new_password1")

        assert page.url == f"{live_server.url}/accounts/welcome/"
        assert not any(token in url for url in history(page)), history(page)
        choose_and_log_in(page, live_server)

    assert [url for url in seen.urls if token in url] == [f"{live_server.url}{old}"]
    assert seen.problems == []
    member.refresh_from_db()
    assert member.check_password(CHOSEN)
