"""Public forms resist floods: one client is cut off after SOLIDARITY_FORM_RATE submissions,
stores nothing more, and everyone else still signs and reports letters."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from pytest_django import Settings

from solidarity.campaigns import intake, services
from solidarity.campaigns.models import LetterReport, Signature, email_index
from solidarity.core.models import Section
from tests.test_campaigns_support import World, make_world

FLOODER = "203.0.113.66"
SIGNER = "198.51.100.7"
PROXY = "127.0.0.1"


@pytest.fixture
def world(section: Section, settings: Settings) -> Iterator[World]:
    settings.SOLIDARITY_FORM_RATE = "5/600"
    settings.SOLIDARITY_CLIENT_IP_HEADER = ""
    # The counters live in the cache, which outlives each test's database transaction.
    cache.clear()
    yield make_world(section)
    cache.clear()


def _signature(email: str, name: str = "Anna Berg") -> dict[str, str]:
    return {
        "name": name,
        "email": email,
        "country": "Germany",
        "language": "en",
        "processing_consent": "on",
    }


def test_a_real_signer_gets_through_while_one_client_floods(world: World, client: Client) -> None:
    """After five signatures from the flooding address the rest are refused with 429 and a
    message, storing nothing; a supporter on another address signs, confirms and counts."""
    url = reverse("campaigns:petition", args=[world.petition.slug])
    answers = [
        client.post(url, _signature(f"victim{n}@example.org"), REMOTE_ADDR=FLOODER).status_code
        for n in range(12)
    ]
    assert answers == [302] * 5 + [429] * 7
    assert intake.record() == 5
    assert Signature.objects.count() == 5
    # One task recorded the five; each got its confirmation e-mail task.
    assert DBTaskResult.objects.count() == 1 + 5

    refused = client.post(url, _signature("victim99@example.org"), REMOTE_ADDR=FLOODER)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "600"
    assert "Too many submissions have come from your connection" in refused.content.decode()
    assert not Signature.objects.filter(
        supporter__email_index=email_index("victim99@example.org")
    ).exists()

    signed = client.post(url, _signature("real@example.org", "Real Signer"), REMOTE_ADDR=SIGNER)
    assert signed.status_code == 302
    intake.record()
    real = Signature.objects.get(supporter__email_index=email_index("real@example.org"))
    # The flood's signatures were never confirmed, so none of them counts.
    assert services.count_signatures(world.petition) == 0
    services.confirm_signature(services.signature_token(real))
    assert services.count_signatures(world.petition) == 1


def test_invalid_submissions_do_not_use_up_the_limit(world: World, client: Client) -> None:
    """A supporter who gets the form wrong several times can still sign afterwards."""
    url = reverse("campaigns:petition", args=[world.petition.slug])
    for _attempt in range(8):
        bad = _signature("not-an-address")
        assert client.post(url, bad, REMOTE_ADDR=SIGNER).status_code == 400
    assert client.post(url, _signature("anna@example.org"), REMOTE_ADDR=SIGNER).status_code == 302


def test_letter_reports_are_limited_per_client_too(world: World, client: Client) -> None:
    """The sixth report from one address is refused; another address still reports."""
    url = reverse("campaigns:urgent_action", args=[world.urgent_action.slug])
    report = {**_signature("writer@example.org"), "letters": "2"}
    answers = [client.post(url, report, REMOTE_ADDR=FLOODER).status_code for _n in range(7)]
    assert answers == [302] * 5 + [429] * 2
    assert client.post(url, report, REMOTE_ADDR=SIGNER).status_code == 302
    assert LetterReport.objects.count() == 6


def test_behind_a_proxy_clients_are_told_apart_by_the_named_header(
    world: World, client: Client, settings: Settings
) -> None:
    """With SOLIDARITY_CLIENT_IP_HEADER set, everyone arriving through one proxy address is not
    one client: the flooder is cut off by the address the proxy forwarded."""
    settings.SOLIDARITY_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    url = reverse("campaigns:petition", args=[world.petition.slug])
    for n in range(5):
        flood = client.post(
            url, _signature(f"v{n}@example.org"), HTTP_X_FORWARDED_FOR=FLOODER, REMOTE_ADDR=PROXY
        )
        assert flood.status_code == 302
    # The flooder now sends an X-Forwarded-For of its own; the proxy appends the address it
    # really saw. A fresh forged entry per request must not buy a fresh allowance.
    for n in range(3):
        cut_off = client.post(
            url,
            _signature(f"w{n}@example.org"),
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, {FLOODER}",
            REMOTE_ADDR=PROXY,
        )
        assert cut_off.status_code == 429
    signer = client.post(
        url, _signature("real@example.org"), HTTP_X_FORWARDED_FOR=SIGNER, REMOTE_ADDR=PROXY
    )
    assert signer.status_code == 302
