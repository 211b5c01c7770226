"""The record-signature helper (POST /api/v2/petitions/{id}/signatures/) obeys the public
form's rules: consent, confirmation by e-mail, one signature per address."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django_tasks_db.models import DBTaskResult

from solidarity.campaigns import services
from solidarity.campaigns.models import Signature, Supporter
from solidarity.core.models import Section
from tests.test_api_support import CampaignWorld, api, make_campaign_world, organiser_token


@pytest.fixture
def world(section: Section) -> CampaignWorld:
    return make_campaign_world(section)


@pytest.fixture
def client(section: Section) -> Client:
    return api(organiser_token())


def body(email: str = "anna@example.org", *, processing: bool = True, **extra: Any) -> Any:
    return {
        "person": {
            "given_name": "Anna",
            "family_name": "Berg",
            "email_addresses": [{"address": email}],
            "postal_addresses": [{"country": "Germany"}],
            "languages_spoken": ["ru"],
        },
        "comments": "Free her now",
        "solidarity:consent": {"processing": processing, **extra},
        "add_tags": ["ignored"],
    }


def record(client: Client, world: CampaignWorld, data: Any) -> Any:
    return client.post(
        f"/api/v2/petitions/{world.petition.pk}/signatures/", data, content_type="application/json"
    )


def test_it_records_a_pending_signature_and_queues_the_confirmation(
    client: Client, world: CampaignWorld
) -> None:
    """A new signature waits for its e-mail link, exactly as one from the public form does."""
    response = record(client, world, body(public_name=True, contact=True))
    assert response.status_code == 202, response.content
    assert response.json()["solidarity:status"] == "received"
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.PENDING
    assert signature.comment == "Free her now"
    assert signature.public_name == "Anna Berg" and signature.contact_consent
    supporter = Supporter.objects.get()
    assert (supporter.email, supporter.country, supporter.language) == (
        "anna@example.org",
        "Germany",
        "ru",
    )
    assert DBTaskResult.objects.count() == 1  # the confirmation e-mail
    assert services.count_signatures(world.petition) == 0


def test_it_requires_consent_to_processing(client: Client, world: CampaignWorld) -> None:
    """Without the signer's consent nothing is stored and the error names the field."""
    for data in (body(processing=False), {"person": body()["person"]}):
        response = record(client, world, data)
        assert response.status_code == 400
        assert "solidarity:consent.processing" in response.json()["detail"]
    assert not Signature.objects.exists() and not Supporter.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_an_address_signs_once(client: Client, world: CampaignWorld) -> None:
    """A second signature from the same address, in any case, matches the first: no second
    signature and no second count, and the answer is the first one's word for word. The signer
    gets a fresh link, once the mail interval has passed (SOLIDARITY_SIGNATURE_MAIL_INTERVAL)."""
    first = record(client, world, body("anna@example.org"))
    again = record(client, world, body("ANNA@Example.org"))
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert Signature.objects.count() == 1
    assert Supporter.objects.count() == 1
    assert DBTaskResult.objects.count() == 1
    cache.delete(f"signature-mail:{Signature.objects.get().pk}")  # the interval has passed
    record(client, world, body("anna@example.org"))
    assert DBTaskResult.objects.count() == 2


def test_it_checks_the_person_as_the_public_form_does(client: Client, world: CampaignWorld) -> None:
    """A bad address, a missing name or country are 400s naming the OSDI field at fault."""
    data = body("not-an-address")
    data["person"].pop("given_name")
    data["person"].pop("family_name")
    data["person"]["postal_addresses"] = []
    response = record(client, world, data)
    assert response.status_code == 400
    errors = response.json()["detail"]
    assert {"person.email_addresses", "person.given_name", "person.postal_addresses.country"} <= (
        set(errors)
    )
    assert "person.email_addresses" in response.json()["error"]
    assert record(client, world, ["not", "an", "object"]).status_code == 400
    assert not Signature.objects.exists()


def test_a_closed_or_private_petition_takes_no_signatures(
    client: Client, world: CampaignWorld
) -> None:
    """A delivered or unpublished petition refuses signatures by API as on the public site."""
    response = client.post(
        f"/api/v2/petitions/{world.closed_petition.pk}/signatures/",
        body(),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "not accepting signatures" in response.json()["error"]
    world.petition.is_public = False
    world.petition.save()
    assert record(client, world, body()).status_code == 400
    assert not Signature.objects.exists()


def test_a_confirmed_signature_counts(client: Client, world: CampaignWorld) -> None:
    """Once its link is followed, a signature recorded by API counts like any other."""
    record(client, world, body())
    signature = Signature.objects.get()
    assert services.confirm_signature(services.signature_token(signature)) is not None
    petition = client.get(f"/api/v2/petitions/{world.petition.pk}/").json()
    assert petition["total_signatures"] == 1
