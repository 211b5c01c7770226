"""Pages whose address holds a secret token (signature confirmation, unsubscribe) name no
other address of themselves: no hreflang alternates, no share-card tags.

Threat: the token copied out of the page's head by whatever reads it (a crawler following
alternates, a link preview, a translation service), where anyone holding the link may
confirm a signature in the supporter's name or unsubscribe them.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from solidarity.campaigns import services
from solidarity.core.models import Section
from tests.test_api_support import CampaignWorld, make_campaign_world, sign
from tests.test_s3_fixes_referrer import policies

LANGUAGES = ("en", "ru", "kk")


@pytest.fixture
def world(section: Section) -> CampaignWorld:
    return make_campaign_world(section)


def _url(name: str, token: str, language: str) -> str:
    with translation.override(language):
        return reverse(name, args=[token])


def _head(html: str) -> str:
    return html.split("</head>", 1)[0]


def _assert_names_no_other_address(html: str, token: str) -> None:
    head = _head(html)
    assert "hreflang" not in head
    assert 'rel="alternate"' not in head
    assert 'property="og:' not in head
    assert token not in head
    assert policies(html) == ["no-referrer"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_confirmation_pages_carry_no_alternates(
    world: CampaignWorld, client: Client, language: str
) -> None:
    """The button page, the page after confirming and a wrong link's page, in each language."""
    token = services.signature_token(sign(world, "anna@example.org"))
    url = _url("campaigns:confirm_signature", token, language)
    button = client.get(url)
    assert button.status_code == 200
    _assert_names_no_other_address(button.content.decode(), token)
    done = client.post(url)
    assert done.status_code == 200
    _assert_names_no_other_address(done.content.decode(), token)
    again = client.get(url)  # "already confirmed": the done page again
    _assert_names_no_other_address(again.content.decode(), token)
    wrong = "f" * 64
    unknown = client.get(_url("campaigns:confirm_signature", wrong, language))
    assert unknown.status_code == 404
    _assert_names_no_other_address(unknown.content.decode(), wrong)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_unsubscribe_pages_carry_no_alternates(
    world: CampaignWorld, client: Client, language: str
) -> None:
    """The button page, the page after unsubscribing and a wrong link's page."""
    signature = sign(world, "anna@example.org", contact_consent=True)
    assert signature.supporter is not None
    token = services.unsubscribe_token(signature.supporter)
    url = _url("campaigns:unsubscribe", token, language)
    button = client.get(url)
    assert button.status_code == 200
    assert "unsubscribe" in button.content.decode().lower()
    _assert_names_no_other_address(button.content.decode(), token)
    done = client.post(url)
    assert done.status_code == 200
    _assert_names_no_other_address(done.content.decode(), token)
    wrong = f"{signature.supporter.pk}-{'0' * 64}"
    unknown = client.get(_url("campaigns:unsubscribe", wrong, language))
    assert unknown.status_code == 404
    _assert_names_no_other_address(unknown.content.decode(), wrong)


def test_ordinary_pages_keep_their_alternates(world: CampaignWorld, client: Client) -> None:
    """The petition page (no secret in its address) still names its three language versions,
    so the check above is not passing for want of alternates anywhere."""
    html = client.get(_url("campaigns:petition", world.petition.slug, "en")).content.decode()
    alternates = re.findall(r'<link rel="alternate" hreflang="(\w+)" href="([^"]+)"', _head(html))
    assert alternates == [
        (code, f"http://testserver/{code}/petitions/{world.petition.slug}/") for code in LANGUAGES
    ]
