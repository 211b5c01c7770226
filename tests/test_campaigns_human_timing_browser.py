"""In a real browser (Debian's Chromium): a petition signed quicker than a person could is
shown again with everything typed, and goes through when simply sent again a little later."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from solidarity.campaigns import intake
from solidarity.campaigns.models import SignatureIntake
from tests.test_browser_campaigns import (  # fixtures: imported to register them
    _url,
    browser,  # noqa: F401
    world,  # noqa: F401
)
from tests.test_campaigns_human_timing import PRODUCTION_MINIMUM, Clock, clock  # noqa: F401
from tests.test_campaigns_support import World

pytestmark = pytest.mark.browser


def test_a_quick_signer_sends_again_and_signs(
    world: World,  # noqa: F811 - the fixture imported above
    live_server: LiveServer,
    browser: Browser,  # noqa: F811
    settings: Settings,
    clock: Clock,  # noqa: F811 - the stamps' clock, stopped: the server runs in this process
) -> None:
    """Sent at once, the form comes back with a message and what was typed; three and a half
    seconds later, one more click signs."""
    settings.SOLIDARITY_FORM_MIN_SECONDS = PRODUCTION_MINIMUM
    page = browser.new_page()
    petition_url = _url(live_server, "campaigns:petition", world.petition.slug)
    page.goto(petition_url)
    page.get_by_label("Your name").fill("Anna Berg")
    page.get_by_label("Your e-mail address").fill("anna@example.org")
    page.get_by_label("Your country").fill("Germany")
    page.locator("input[name=processing_consent]").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Sign the petition").click()

    assert page.url == petition_url
    assert page.get_by_role("alert").inner_text().startswith("That was quicker than a person")
    assert page.get_by_label("Your name").input_value() == "Anna Berg"
    assert page.get_by_label("Your e-mail address").input_value() == "anna@example.org"
    assert page.locator("input[name=processing_consent]").is_checked()
    assert not SignatureIntake.objects.exists()

    clock.now += 3.5
    with page.expect_navigation():
        page.get_by_role("button", name="Sign the petition").click()
    assert page.url == _url(live_server, "campaigns:petition_thanks", world.petition.slug)
    assert intake.record() == 1
