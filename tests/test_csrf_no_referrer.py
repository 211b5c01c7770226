"""`Referrer-Policy: no-referrer` and CSRF together: our own forms, posted with the null Origin
that policy makes browsers send, still work; a null Origin from anywhere else is refused."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.conftest import verified_login


def _token(client: Client) -> str:
    # The back office's pages carry a logout form, with its token.
    page = client.get(reverse("admin:index")).content.decode()
    return page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]


@pytest.fixture
def logged_in(db: None) -> Client:
    user = User.objects.create_user("olga", password="a long test passphrase", is_staff=True)
    return verified_login(Client(enforce_csrf_checks=True), user)


@pytest.mark.parametrize(
    ("headers", "with_token", "status"),
    [
        # What Chromium sends for our own form under no-referrer.
        ({"origin": "null", "sec-fetch-site": "same-origin"}, True, 302),
        ({"origin": "http://testserver"}, True, 302),
        # A sandboxed frame or another site: null origin, but not same-origin.
        ({"origin": "null", "sec-fetch-site": "cross-site"}, True, 403),
        ({"origin": "null", "sec-fetch-site": "none"}, True, 403),
        ({"origin": "null"}, True, 403),
        ({"origin": "https://attacker.example", "sec-fetch-site": "same-origin"}, True, 403),
        # The token is still required.
        ({"origin": "null", "sec-fetch-site": "same-origin"}, False, 403),
    ],
)
def test_a_null_origin_passes_only_from_our_own_pages_and_with_a_token(
    logged_in: Client, headers: dict[str, str], with_token: bool, status: int
) -> None:
    token = _token(logged_in)
    data = {"csrfmiddlewaretoken": token} if with_token else {}
    response = logged_in.post(reverse("accounts:logout"), data, headers=headers)
    assert response.status_code == status
    still_in = logged_in.get(reverse("admin:index")).status_code == 200
    assert still_in == (status == 403)


def test_no_page_sends_a_referer_anywhere(logged_in: Client) -> None:
    assert logged_in.get("/en/")["Referrer-Policy"] == "no-referrer"
    assert logged_in.get(reverse("admin:index"))["Referrer-Policy"] == "no-referrer"
