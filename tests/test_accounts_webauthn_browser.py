"""A security key in a real browser: Chromium with a CDP virtual authenticator registers a key
during a coordinator's first login and then logs in with it, under the site's CSP."""

from __future__ import annotations

import pytest
from django.db import connections
from playwright.sync_api import ConsoleMessage, sync_playwright
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from solidarity.accounts.models import WebAuthnCredential
from solidarity.core.models import Section
from solidarity.safety.models import Role
from tests.test_accounts_login import PASSWORD, add_authenticator, code_for, make_staff
from tests.test_browser import CHROMIUM_ARGS


@pytest.mark.browser
def test_a_coordinator_registers_a_key_and_logs_in_with_it(
    live_server: LiveServer,
    transactional_db: None,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Password + TOTP lead to the key registration; the next login takes the key instead."""
    # Playwright's sync API runs an event loop in this thread; the ORM is used between steps.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.SOLIDARITY_WEBAUTHN_REQUIRED_ROLES = ["coordinator"]
    section = Section.objects.create(slug="home", name_en="Home organisation", kind="home")
    kate = make_staff("kate", superuser=False)
    Role.objects.create(user=kate, section=section, role="coordinator")
    device = add_authenticator(kate)
    # WebAuthn needs a secure context: http://localhost is one (the RP ID is then "localhost").
    assert live_server.url.startswith("http://localhost:")
    login_url = f"{live_server.url}/accounts/login/?next=/admin/"

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = browser.new_context()
            page = context.new_page()
            problems: list[str] = []

            def watch(message: ConsoleMessage) -> None:
                # (The only other console error is the 404 of /favicon.ico.)
                if "Content Security Policy" in message.text:
                    problems.append(message.text)

            page.on("console", watch)
            page.on("pageerror", lambda error: problems.append(str(error)))
            cdp = context.new_cdp_session(page)
            cdp.send("WebAuthn.enable")
            authenticator = cdp.send(
                "WebAuthn.addVirtualAuthenticator",
                {
                    "options": {
                        "protocol": "ctap2",
                        "transport": "usb",
                        "hasResidentKey": False,
                        "hasUserVerification": True,
                        "isUserVerified": True,
                    }
                },
            )

            # First login: password, authenticator code, then the key must be registered.
            page.goto(login_url)
            page.fill("#id_username", "kate")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.fill("#id_code", code_for(device))
            page.click("#login-form input[type=submit]")
            page.wait_for_url("**/accounts/keys/enrol/**")
            page.fill("#id_name", "Virtual key")
            page.click("button[data-webauthn=create]")
            page.wait_for_url(f"{live_server.url}/admin/")
            assert WebAuthnCredential.objects.get(user=kate).name == "Virtual key"

            # Second login, in a fresh session: the key is the second step.
            context.clear_cookies()
            page.goto(login_url)
            page.fill("#id_username", "kate")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_url("**/accounts/verify/**")
            page.click("button[data-webauthn=get]")
            page.wait_for_url(f"{live_server.url}/admin/")
            assert page.locator("#site-name").count() == 1

            credentials = cdp.send(
                "WebAuthn.getCredentials", {"authenticatorId": authenticator["authenticatorId"]}
            )
            assert len(credentials["credentials"]) == 1
            stored = WebAuthnCredential.objects.get(user=kate)
            assert stored.last_used_at is not None
            # No inline script was needed: the CSP refused nothing, and no script failed.
            assert problems == []
        finally:
            # While Playwright's event loop runs, this thread's ORM uses a second set of database
            # connections (Django keeps them per thread, and per context under a running loop):
            # close those, or one stays open after the test and PostgreSQL cannot drop the test
            # database at the end of the run ("being accessed by other users").
            connections.close_all()
            browser.close()
