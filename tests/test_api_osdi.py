"""The OSDI API as Action Network's v2 shapes it: HAL documents, `osdi:` collections, paging."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from solidarity.core.models import Section
from tests.test_api_support import (
    CampaignWorld,
    api,
    attend,
    make_campaign_world,
    organiser_token,
    sign,
)


@pytest.fixture
def world(section: Section) -> CampaignWorld:
    return make_campaign_world(section)


@pytest.fixture
def full_token(section: Section) -> str:
    return organiser_token()


COLLECTION_KEYS = {"total_pages", "per_page", "page", "total_records", "_links", "_embedded"}


def get(client: Client, path: str) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/hal+json")
    data: dict[str, Any] = response.json()
    return data


def check_collection(data: dict[str, Any], name: str, count: int) -> list[dict[str, Any]]:
    """A HAL collection: paging fields, a self link, osdi: curies, links to and embedded items."""
    assert set(data) >= COLLECTION_KEYS
    assert data["total_records"] == count
    assert data["page"] == 1 and data["per_page"] == 25 and data["total_pages"] == 1
    links = data["_links"]
    assert links["self"]["href"].startswith("http://testserver/api/v2/")
    assert links["curies"][0]["name"] == "osdi"
    items: list[dict[str, Any]] = data["_embedded"][name]
    assert len(items) == count
    assert [link["href"] for link in links[name]] == [i["_links"]["self"]["href"] for i in items]
    for item in items:
        assert item["identifiers"][0].startswith("solidarity:")
        assert item["origin_system"] == "Solidarity"
        assert item["created_date"].endswith("Z")
    return items


def path_of(href: str) -> str:
    return href.removeprefix("http://testserver")


def test_the_entry_point_links_every_collection(world: CampaignWorld) -> None:
    """/api/v2/ answers without a token, with links to people, petitions and events."""
    data = get(Client(), "/api/v2/")
    links = data["_links"]
    for name in ("osdi:people", "osdi:petitions", "osdi:events"):
        assert get(Client(headers={}), "/api/v2/")["_links"][name]["href"].endswith("/")
        assert name in links
    assert links["self"]["href"] == "http://testserver/api/v2/"
    assert links["docs"]["href"] == "http://testserver/api/schema/"
    assert data["max_page_size"] == 25


def test_people_are_one_per_email_address(world: CampaignWorld, full_token: str) -> None:
    """Two submissions from one address (any case) are one person, shown by the newest."""
    sign(world, "anna@example.org", contact_consent=True)
    attend(world, "ANNA@example.org", name="Anna Maria Berg")
    sign(world, "ben@example.org", name="Ben")
    client = api(full_token)
    people = check_collection(get(client, "/api/v2/people/"), "osdi:people", 2)
    ben, anna = people
    assert anna["given_name"] == "Anna Maria" and anna["family_name"] == "Berg"
    assert anna["email_addresses"] == [
        {"primary": True, "address": "anna@example.org", "status": "subscribed"}
    ]
    assert anna["postal_addresses"][0]["country"] == "Germany"
    assert ben["given_name"] == "Ben" and ben["email_addresses"][0]["status"] == "unsubscribed"
    detail = get(client, path_of(anna["_links"]["self"]["href"]))
    assert detail["identifiers"] == anna["identifiers"]
    signatures = get(client, path_of(anna["_links"]["osdi:signatures"]["href"]))
    assert len(check_collection(signatures, "osdi:signatures", 1)) == 1
    attendances = get(client, path_of(anna["_links"]["osdi:attendances"]["href"]))
    check_collection(attendances, "osdi:attendances", 1)


def test_petitions_and_their_signatures(world: CampaignWorld, full_token: str) -> None:
    """A petition links its signatures and the record-signature helper; a signature links its
    petition and person and says whether it is confirmed."""
    signature = sign(world, "anna@example.org", comment="Free her now")
    client = api(full_token)
    petitions = check_collection(get(client, "/api/v2/petitions/"), "osdi:petitions", 2)
    petition = next(p for p in petitions if p["name"] == "release-sokolova")
    assert petition["title"] == "Release Natalya Sokolova"
    assert petition["total_signatures"] == 0  # pending until the e-mail link is followed
    assert petition["browser_url"] == "http://testserver/en/petitions/release-sokolova/"
    links = petition["_links"]
    assert links["osdi:record_signature_helper"] == links["osdi:signatures"]
    assert get(client, path_of(links["self"]["href"]))["name"] == "release-sokolova"
    signatures = check_collection(
        get(client, path_of(links["osdi:signatures"]["href"])), "osdi:signatures", 1
    )
    item = signatures[0]
    assert item["comments"] == "Free her now"
    assert item["solidarity:status"] == "pending"
    assert item["action_network:petition_id"] == str(world.petition.pk)
    assert item["action_network:person_id"] == str(signature.supporter_id)
    assert (
        get(client, path_of(item["_links"]["self"]["href"]))["identifiers"] == item["identifiers"]
    )
    assert get(client, path_of(item["_links"]["osdi:person"]["href"]))["email_addresses"]


def test_events_and_their_attendances(world: CampaignWorld, full_token: str) -> None:
    """Actions are OSDI events with a location and a count of RSVPs, which are attendances."""
    attend(world, "anna@example.org")
    client = api(full_token)
    events = check_collection(get(client, "/api/v2/events/"), "osdi:events", 1)
    event = events[0]
    assert event["title"] == "Protest outside the Kazakh embassy"
    assert event["status"] == "confirmed"
    assert event["location"] == {"venue": "125 Pall Mall", "locality": "London", "country": "GB"}
    assert event["total_accepted"] == 1
    assert get(client, path_of(event["_links"]["self"]["href"]))["title"] == event["title"]
    attendances = check_collection(
        get(client, path_of(event["_links"]["osdi:attendances"]["href"])),
        "osdi:attendances",
        1,
    )
    assert attendances[0]["status"] == "accepted"
    assert attendances[0]["action_network:event_id"] == str(world.protest.pk)
    detail = get(client, path_of(attendances[0]["_links"]["self"]["href"]))
    assert detail["identifiers"] == attendances[0]["identifiers"]


def test_browser_urls_are_the_public_pages_own_addresses(
    world: CampaignWorld, full_token: str
) -> None:
    """A petition's and an event's browser_url is the page itself, with its language prefix
    (no redirect to follow), in the language the document's texts are given in: English
    unless the client asks for another."""
    for language, title in (
        ("en", "Release Natalya Sokolova"),
        ("ru", "Освободите Наталью Соколову"),
    ):
        client = Client(headers={"OSDI-API-Token": full_token, "Accept-Language": language})
        petition = get(client, f"/api/v2/petitions/{world.petition.pk}/")
        assert petition["title"] == title
        assert petition["browser_url"] == (
            f"http://testserver/{language}/petitions/release-sokolova/"
        )
        event = get(client, f"/api/v2/events/{world.protest.pk}/")
        assert event["browser_url"] == f"http://testserver/{language}/actions/{world.protest.pk}/"
        for url in (petition["browser_url"], event["browser_url"]):
            page = Client().get(path_of(url))
            assert page.status_code == 200, url
            assert page["Content-Language"] == language
    world.petition.is_public = False
    world.petition.save()
    hidden = get(api(full_token), f"/api/v2/petitions/{world.petition.pk}/")
    assert hidden["browser_url"] is None


def test_paging_follows_action_network(world: CampaignWorld, full_token: str) -> None:
    """per_page splits a collection into pages with next/previous links; per_page is capped at
    25; a page past the end is empty; a page that is not a number is a 400 that says why."""
    for n in range(3):
        sign(world, f"signer{n}@example.org")
    client = api(full_token)
    first = get(client, "/api/v2/people/?per_page=2")
    assert (first["page"], first["per_page"], first["total_pages"]) == (1, 2, 2)
    assert first["total_records"] == 3
    assert len(first["_embedded"]["osdi:people"]) == 2
    second = get(client, path_of(first["_links"]["next"]["href"]))
    assert second["page"] == 2 and len(second["_embedded"]["osdi:people"]) == 1
    assert "next" not in second["_links"] and "previous" in second["_links"]
    assert get(client, "/api/v2/people/?per_page=500")["per_page"] == 25
    beyond = get(client, "/api/v2/people/?page=9")
    assert beyond["_embedded"]["osdi:people"] == [] and beyond["total_records"] == 3
    response = client.get("/api/v2/people/?page=first")
    assert response.status_code == 400
    assert "'page' must be a whole number" in response.json()["error"]


def test_unknown_records_are_404(world: CampaignWorld, full_token: str) -> None:
    """A record that does not exist, or a signature asked for under another petition, is 404."""
    signature = sign(world, "anna@example.org")
    client = api(full_token)
    assert client.get("/api/v2/people/999999/").status_code == 404
    assert client.get("/api/v2/petitions/999999/").status_code == 404
    wrong = f"/api/v2/petitions/{world.closed_petition.pk}/signatures/{signature.pk}/"
    assert client.get(wrong).status_code == 404
    assert client.get("/api/v2/events/999999/attendances/").status_code == 404


def test_the_schema_is_served() -> None:
    """/api/schema/ is the OpenAPI description, naming the OSDI token header."""
    response = Client().get("/api/schema/", headers={"Accept": "application/json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v2/petitions/{id}/signatures/" in schema["paths"]
    scheme = schema["components"]["securitySchemes"]["OSDIApiToken"]
    assert scheme == {"type": "apiKey", "in": "header", "name": "OSDI-API-Token"}
