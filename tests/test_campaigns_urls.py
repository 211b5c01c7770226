"""Campaign pages carry their language in the address, like the rest of the public site.

/en/petitions/<slug>/, /ru/actions/, /kk/campaigns/…; an address without a language (an old
link, a printed leaflet, a subscribed calendar) is redirected to the same page in the reader's
language, and the language switch leads to the same page in the other language.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from solidarity.core.models import Section
from tests.test_campaigns_support import World, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(section: Section) -> World:
    return make_world(section)


def _in(language: str, name: str, *args: object) -> str:
    with translation.override(language):
        return reverse(name, args=args)


def test_campaign_addresses_carry_the_language(world: World) -> None:
    """Every campaign page is reversed under /en/, /ru/ or /kk/."""
    slug = world.petition.slug
    assert _in("en", "campaigns:petition", slug) == f"/en/petitions/{slug}/"
    assert _in("ru", "campaigns:campaign_list") == "/ru/campaigns/"
    assert _in("kk", "campaigns:action_ical") == "/kk/actions.ics"
    assert _in("ru", "campaigns:urgent_action", world.urgent_action.slug).startswith("/ru/")


@pytest.mark.parametrize(
    ("old", "name"),
    [
        ("/petitions/{petition}/", "campaigns:petition"),
        ("/campaigns/{campaign}/", "campaigns:campaign"),
        ("/urgent-actions/{ua}/", "campaigns:urgent_action"),
        ("/actions.ics", "campaigns:action_ical"),
        ("/actions/", "campaigns:action_calendar"),
    ],
)
def test_an_old_address_without_language_reaches_its_page(
    world: World, client: Client, old: str, name: str
) -> None:
    """Links from before the language prefix redirect to the page, in the negotiated language."""
    slugs = {
        "petition": world.petition.slug,
        "campaign": world.campaign.slug,
        "ua": world.urgent_action.slug,
    }
    address = old.format(**slugs)
    args = [slugs[key] for key in slugs if "{" + key + "}" in old]
    response = client.get(address, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 302
    assert response["Location"] == _in("ru", name, *args)
    assert client.get(response["Location"]).status_code == 200


def test_the_old_calendar_address_still_serves_the_calendar(world: World, client: Client) -> None:
    """A calendar app subscribed to /actions.ics follows the redirect to the same feed."""
    response = client.get("/actions.ics", follow=True)
    assert response.redirect_chain == [("/en/actions.ics", 302)]
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert b"BEGIN:VCALENDAR" in response.content


def test_the_language_switch_keeps_the_petition(world: World, client: Client) -> None:
    """Each button of the switch leads to this petition in its language, not to the home page."""
    page = client.get(_in("en", "campaigns:petition", world.petition.slug)).content.decode()
    slug = world.petition.slug
    for code in ("en", "ru", "kk"):
        assert f'formaction="/i18n/setlang/?next=/{code}/petitions/{slug}/"' in page
        assert f'hreflang="{code}" href="http://testserver/{code}/petitions/{slug}/"' in page
    response = client.post(
        f"/i18n/setlang/?next=/ru/petitions/{slug}/",
        {"language": "ru"},
        HTTP_ORIGIN="http://testserver",
    )
    assert response.status_code == 302
    assert response["Location"] == f"/ru/petitions/{slug}/"
    russian = client.get(response["Location"]).content.decode()
    assert '<html lang="ru">' in russian


def test_a_signature_thanks_in_the_language_of_the_page(world: World, client: Client) -> None:
    """The POST/redirect/GET stays in the page's language."""
    response = client.post(
        _in("kk", "campaigns:petition", world.petition.slug),
        {
            "name": "Айгүл",
            "email": "aigul@example.org",
            "country": "Kazakhstan",
            "language": "kk",
            "processing_consent": "on",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == _in("kk", "campaigns:petition_thanks", world.petition.slug)
