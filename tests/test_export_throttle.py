"""The public Popolo and CSV exports rebuild a whole collection per request: each client may
download SOLIDARITY_EXPORT_RATE of them per window, then gets a clear 429 with Retry-After,
while other clients are served as usual (ASVS 15.2.2)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse
from pytest_django import Settings

from solidarity.api.exports import CSV_KINDS, POPOLO_KINDS
from solidarity.api.throttling import export_rate

FLOODER = "203.0.113.66"
OTHER = "198.51.100.7"
EXPORTS = [
    reverse("api:popolo_all"),
    *(reverse(f"api:popolo_{kind}") for kind in POPOLO_KINDS),
    *(reverse(f"api:csv_{kind}") for kind in CSV_KINDS),
]


@pytest.fixture(autouse=True)
def _limits(settings: Settings) -> None:
    settings.SOLIDARITY_EXPORT_RATE = "4/600"
    # The API's own per-client rate stays out of the way: this is the exports' limit.
    settings.SOLIDARITY_API_CLIENT_RATE = "1000/minute"
    settings.SOLIDARITY_CLIENT_IP_HEADER = ""
    settings.SOLIDARITY_TRUSTED_PROXIES = 0


@pytest.mark.django_db
def test_the_fifth_export_from_one_client_is_refused_and_another_client_is_served() -> None:
    """Four downloads of any exports in ten minutes; the fifth, whichever export, is a 429
    saying what to do, with Retry-After no longer than the window; another address is
    still served."""
    client = Client()
    for url in EXPORTS[:4]:
        assert client.get(url, REMOTE_ADDR=FLOODER).status_code == 200, url

    refused = client.get(EXPORTS[4], REMOTE_ADDR=FLOODER)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 600
    detail = refused.json()["detail"]
    assert detail.startswith("Too many exports have been downloaded from your connection")
    assert "Please wait and try again" in detail
    assert f"Expected available in {refused['Retry-After']} seconds." in detail

    as_csv = client.get(reverse("api:csv_people"), REMOTE_ADDR=FLOODER)
    assert as_csv.status_code == 429
    assert as_csv["Content-Type"].startswith("text/csv")
    assert as_csv.content.decode().startswith("Too many exports have been downloaded")
    assert "Retry-After" in as_csv

    for url in (reverse("api:popolo_all"), reverse("api:csv_people")):
        assert Client().get(url, REMOTE_ADDR=OTHER).status_code == 200, url


@pytest.mark.django_db
def test_a_forged_forwarded_for_buys_no_fresh_allowance(settings: Settings) -> None:
    """Behind one trusted proxy, the address the proxy appended is counted, not whatever the
    client put in front of it."""
    settings.SOLIDARITY_TRUSTED_PROXIES = 1
    client = Client()
    for n in range(4):
        forged = f"10.0.0.{n}, {FLOODER}"
        response = client.get(EXPORTS[0], headers={"X-Forwarded-For": forged})
        assert response.status_code == 200
    refused = client.get(EXPORTS[0], headers={"X-Forwarded-For": f"10.9.9.9, {FLOODER}"})
    assert refused.status_code == 429


@pytest.mark.django_db
def test_the_osdi_api_does_not_count_against_the_export_limit() -> None:
    """The export limit is the exports' own: the API entry point is counted only by the
    API's client rate."""
    client = Client()
    for _n in range(6):
        assert client.get("/api/v2/", REMOTE_ADDR=FLOODER).status_code == 200
    assert client.get(EXPORTS[0], REMOTE_ADDR=FLOODER).status_code == 200


def test_without_the_setting_twenty_downloads_in_ten_minutes(settings: Settings) -> None:
    """The default: every export twice over in ten minutes, then a wait."""
    del settings.SOLIDARITY_EXPORT_RATE
    assert export_rate() == (20, 600)
    assert 2 * len(EXPORTS) <= 20


def test_a_malformed_rate_is_refused_loudly(settings: Settings) -> None:
    settings.SOLIDARITY_EXPORT_RATE = "20/minute"
    with pytest.raises(ImproperlyConfigured, match="SOLIDARITY_EXPORT_RATE"):
        export_rate()


@pytest.mark.django_db
def test_the_schema_documents_the_exports_429(client: Client) -> None:
    paths = client.get("/api/schema/?format=json").json()["paths"]
    for url in EXPORTS:
        assert "429" in paths[url]["get"]["responses"], url
