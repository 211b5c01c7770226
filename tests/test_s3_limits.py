"""Rate limits on the public entry points that had none (ASVS 2.4.1, 2.3.2): the RSVP form, the
public name search and the API. Under the limit each works; over it the client gets 429 with
Retry-After and nothing is stored; another client (address or token) is unaffected."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from pytest_django import Settings

from solidarity.campaigns.models import Action, Rsvp, Signature
from solidarity.core.models import Section
from tests.test_api_support import (
    ALL_SCOPES,
    CampaignWorld,
    api,
    make_campaign_world,
    organiser_token,
    token_for,
    user_with_scopes,
)
from tests.test_campaigns_support import World, make_world

pytestmark = pytest.mark.django_db

FLOODER = "203.0.113.66"
OTHER = "198.51.100.7"


@pytest.fixture(autouse=True)
def _limits(settings: Settings) -> Iterator[None]:
    settings.SOLIDARITY_FORM_RATE = "3/600"
    settings.SOLIDARITY_SEARCH_RATE = "4/60"
    settings.SOLIDARITY_API_TOKEN_RATE = "5/minute"
    settings.SOLIDARITY_API_CLIENT_RATE = "3/minute"
    settings.SOLIDARITY_CLIENT_IP_HEADER = ""
    settings.SOLIDARITY_TRUSTED_PROXIES = 0
    # The counters live in the cache, which outlives each test's database transaction.
    cache.clear()
    yield
    cache.clear()


# -- RSVP -----------------------------------------------------------------------------------------


def _coming_action(world: World) -> Action:
    action = world.protests[0]
    action.starts_at = dt.datetime(2031, 1, 1, 12, tzinfo=dt.UTC)
    action.ends_at = None
    action.save()
    return action


def _reply(email: str) -> dict[str, str]:
    return {
        "name": "Anna Berg",
        "email": email,
        "country": "Germany",
        "language": "en",
        "comment": "",
        "processing_consent": "on",
    }


def test_rsvps_are_limited_per_client(section: Section, client: Client) -> None:
    """Three replies from one address are stored; the fourth gets 429 with Retry-After and a
    message, and stores no reply; another address still replies."""
    action = _coming_action(make_world(section))
    url = reverse("campaigns:action", args=[action.pk])
    answers = [
        client.post(url, _reply(f"v{n}@example.org"), REMOTE_ADDR=FLOODER).status_code
        for n in range(3)
    ]
    assert answers == [302] * 3
    refused = client.post(url, _reply("v9@example.org"), REMOTE_ADDR=FLOODER)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "600"
    assert "Too many submissions have come from your connection" in refused.content.decode()
    assert Rsvp.objects.count() == 3
    assert client.post(url, _reply("real@example.org"), REMOTE_ADDR=OTHER).status_code == 302
    assert Rsvp.objects.count() == 4


def test_an_invalid_rsvp_does_not_use_up_the_limit(section: Section, client: Client) -> None:
    action = _coming_action(make_world(section))
    url = reverse("campaigns:action", args=[action.pk])
    for _attempt in range(5):
        assert client.post(url, _reply("not-an-address"), REMOTE_ADDR=OTHER).status_code == 400
    assert client.post(url, _reply("anna@example.org"), REMOTE_ADDR=OTHER).status_code == 302
    assert Rsvp.objects.count() == 1


def test_the_rsvp_refusal_is_said_in_the_supporters_language(
    section: Section, client: Client
) -> None:
    action = _coming_action(make_world(section))
    with_language = reverse("campaigns:action", args=[action.pk]).replace("/en/", "/ru/", 1)
    for n in range(3):
        client.post(with_language, _reply(f"v{n}@example.org"), REMOTE_ADDR=FLOODER)
    refused = client.post(with_language, _reply("v9@example.org"), REMOTE_ADDR=FLOODER)
    assert refused.status_code == 429
    assert refused.headers["Content-Language"] == "ru"
    assert "пришло слишком много отправок" in refused.content.decode()


# -- Public search --------------------------------------------------------------------------------


def test_the_public_search_is_limited_per_client(client: Client) -> None:
    """Four queries a minute from one address; the fifth gets a 429 page (HTML or JSON) with
    Retry-After that keeps the search box; another address still searches."""
    for n in range(4):
        assert client.get("/en/search/", {"q": f"Name{n}"}, REMOTE_ADDR=FLOODER).status_code == 200
    page = client.get("/en/search/", {"q": "Uteshbaev"}, REMOTE_ADDR=FLOODER)
    assert page.status_code == 429
    assert page["Retry-After"] == "60"
    text = page.content.decode()
    assert "Too many searches have come from your connection" in text
    assert 'value="Uteshbaev"' in text and "records match" not in text
    as_json = client.get(
        "/en/search/",
        {"q": "Uteshbaev"},
        REMOTE_ADDR=FLOODER,
        headers={"Accept": "application/json"},
    )
    assert as_json.status_code == 429
    assert "Too many searches" in as_json.json()["error"]
    assert client.get("/en/search/", {"q": "Uteshbaev"}, REMOTE_ADDR=OTHER).status_code == 200


def test_the_empty_search_page_does_not_count(client: Client) -> None:
    for _n in range(10):
        assert client.get("/en/search/", REMOTE_ADDR=OTHER).status_code == 200
    assert client.get("/en/search/", {"q": "Uteshbaev"}, REMOTE_ADDR=OTHER).status_code == 200


# -- API ------------------------------------------------------------------------------------------


@pytest.fixture
def campaign_world(section: Section) -> CampaignWorld:
    return make_campaign_world(section)


def _signature_body(email: str) -> Any:
    return {
        "person": {
            "given_name": "Anna",
            "family_name": "Berg",
            "email_addresses": [{"address": email}],
            "postal_addresses": [{"country": "Germany"}],
        },
        "solidarity:consent": {"processing": True},
    }


def test_a_token_is_limited_and_another_token_is_not(campaign_world: CampaignWorld) -> None:
    """Five requests a minute per token; the sixth, a write, gets a HAL+JSON 429 with
    Retry-After and records no signature; a second token still works."""
    flooding = api(organiser_token())
    url = f"/api/v2/petitions/{campaign_world.petition.pk}/signatures/"
    for _n in range(4):
        assert flooding.get("/api/v2/people/").status_code == 200
    first = flooding.post(url, _signature_body("one@example.org"), content_type="application/json")
    assert first.status_code == 202, first.content
    assert Signature.objects.count() == 1

    refused = flooding.post(
        url, _signature_body("two@example.org"), content_type="application/json"
    )
    assert refused.status_code == 429
    assert refused["Content-Type"].startswith("application/hal+json")
    assert 1 <= int(refused["Retry-After"]) <= 60
    error = refused.json()
    assert error["error"] == error["detail"] and "throttled" in error["error"]
    assert Signature.objects.count() == 1

    other = api(token_for(user_with_scopes("second", *ALL_SCOPES), *ALL_SCOPES))
    assert other.get("/api/v2/people/").status_code == 200


def test_unauthenticated_requests_are_limited_per_client_address() -> None:
    """The public exports and the entry point have no token: three a minute per address."""
    client = Client()
    for _n in range(3):
        assert client.get("/api/v2/", REMOTE_ADDR=FLOODER).status_code == 200
    refused = client.get("/api/popolo/people.json", REMOTE_ADDR=FLOODER)
    assert refused.status_code == 429
    assert "Retry-After" in refused
    as_csv = client.get("/api/export/people.csv", REMOTE_ADDR=FLOODER)
    assert as_csv.status_code == 429
    assert as_csv.content.decode().startswith("Too many exports")
    assert client.get("/api/v2/", REMOTE_ADDR=OTHER).status_code == 200


def test_the_schema_documents_the_429(client: Client) -> None:
    schema = client.get("/api/schema/?format=json").json()
    people = schema["paths"]["/api/v2/people/"]["get"]["responses"]
    assert "429" in people
