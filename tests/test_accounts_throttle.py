"""Login throttling: per username and per client address, in the database, with a finite
cool-off, on the password step and the second-factor step alike — and never a lockout of
everyone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from pytest_django import Settings

from solidarity.accounts.models import LoginFailure
from solidarity.accounts.throttle import CLIENT_LIMIT, USERNAME_LIMIT, WINDOW
from tests.test_accounts_login import (
    add_authenticator,
    code_for,
    errors,
    log_in,
    make_staff,
    password_step,
    text,
)


def age_failures(by: timedelta) -> None:
    """Move every recorded failure into the past, as the clock would."""
    for failure in LoginFailure.objects.all():
        failure.at -= by
        failure.save()


def fail_passwords(username: str, times: int, address: str = "192.0.2.1") -> None:
    for _ in range(times):
        response = password_step(Client(), username, "wrong password", REMOTE_ADDR=address)
        assert response.status_code == 200


def test_five_wrong_passwords_make_that_username_wait_fifteen_minutes(db: None) -> None:
    """After 5 failures the right password is refused too, with a plain "wait 15 minutes";
    another account from the same address logs in meanwhile; after the cool-off the first
    user gets in."""
    anna = make_staff("anna")
    device = add_authenticator(anna)
    boris = make_staff("boris")
    boris_device = add_authenticator(boris)
    fail_passwords("anna", USERNAME_LIMIT)

    refused = password_step(Client(), "anna", REMOTE_ADDR="192.0.2.1")

    assert refused.status_code == 429
    assert errors(refused)[0].startswith(
        "Too many failed attempts. Please wait 15 minutes and try again."
    )
    other = Client(REMOTE_ADDR="192.0.2.1")
    log_in(other, boris, boris_device)
    assert other.get("/admin/").status_code == 200

    age_failures(WINDOW - timedelta(minutes=3))
    still = password_step(Client(), "anna")
    assert "Please wait 3 minutes" in errors(still)[0]

    age_failures(timedelta(minutes=3, seconds=1))
    client = Client()
    log_in(client, anna, device)
    assert client.get("/admin/").status_code == 200


def test_attempts_while_throttled_do_not_prolong_the_wait(db: None) -> None:
    """Hammering a throttled username adds no failures, so the wait still ends on time."""
    make_staff("anna")
    fail_passwords("anna", USERNAME_LIMIT)
    for _ in range(10):
        password_step(Client(), "anna", "guess")
    assert LoginFailure.objects.filter(scope="user").count() == USERNAME_LIMIT


def test_an_unknown_username_is_throttled_exactly_like_a_real_one(db: None) -> None:
    """The throttle does not reveal which usernames exist."""
    make_staff("anna")
    fail_passwords("anna", USERNAME_LIMIT, "192.0.2.1")
    fail_passwords("nobody", USERNAME_LIMIT, "192.0.2.2")

    real = password_step(Client(), "anna", REMOTE_ADDR="192.0.2.3")
    ghost = password_step(Client(), "nobody", REMOTE_ADDR="192.0.2.4")

    assert real.status_code == ghost.status_code == 429
    assert errors(real) == errors(ghost)


def test_one_address_trying_many_usernames_is_made_to_wait(db: None) -> None:
    """20 failures from one address, spread over many usernames, stop that address (even
    for a correct password), and only that address."""
    anna = make_staff("anna")
    device = add_authenticator(anna)
    for n in range(CLIENT_LIMIT):
        fail_passwords(f"user{n}", 1, "198.51.100.7")

    refused = password_step(Client(), "anna", REMOTE_ADDR="198.51.100.7")
    assert refused.status_code == 429
    assert "Please wait 15 minutes" in errors(refused)[0]

    elsewhere = Client(REMOTE_ADDR="198.51.100.8")
    log_in(elsewhere, anna, device)


def test_ipv6_clients_are_counted_by_their_slash_64(db: None) -> None:
    """Rotating through the addresses of one /64 does not escape the address limit."""
    make_staff("anna")
    for n in range(CLIENT_LIMIT):
        fail_passwords(f"user{n}", 1, f"2001:db8:1:2::{n + 1:x}")
    refused = password_step(Client(), "anna", REMOTE_ADDR="2001:db8:1:2::ffff")
    assert refused.status_code == 429
    assert password_step(Client(), "anna", REMOTE_ADDR="2001:db8:1:3::1").status_code == 302


def test_wrong_codes_count_like_wrong_passwords(db: None, settings: Settings) -> None:
    """The second step is throttled per username too: after 5 wrong codes even the right code
    is refused until the cool-off ends."""
    # django-otp's own per-device back-off (1 s, 2 s, 4 s…) would hide ours here.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    anna = make_staff("anna")
    device = add_authenticator(anna)
    client = Client()
    password_step(client, "anna")
    for n in range(USERNAME_LIMIT):
        response = client.post("/accounts/verify/", {"code": f"{n:06d}"})
        assert response.status_code == 200

    refused = client.post("/accounts/verify/", {"code": code_for(device)})

    assert refused.status_code == 429
    assert "Please wait 15 minutes" in text(refused)
    assert "_auth_user_id" not in client.session


def test_django_otp_back_off_is_explained(db: None) -> None:
    """After a wrong code the device's own short back-off is stated in seconds."""
    anna = make_staff("anna")
    add_authenticator(anna)
    client = Client()
    password_step(client, "anna")
    client.post("/accounts/verify/", {"code": "000000"})
    response = client.post("/accounts/verify/", {"code": "000001"})
    assert re.search(r"wait \d+ seconds? before the next one", errors(response)[0])


def test_failures_are_stored_as_keyed_hashes_only(db: None) -> None:
    """A seized database shows neither the usernames tried nor the addresses they came from."""
    fail_passwords("ainur.secret-name", 1, "203.0.113.99")
    keys = list(LoginFailure.objects.values_list("key", flat=True))
    assert len(keys) == 2
    for key in keys:
        assert len(key) == 64
        assert "ainur" not in key and "203.0.113" not in key


def test_old_failures_are_deleted(db: None) -> None:
    """Failures older than the window are removed when new ones are recorded."""
    fail_passwords("anna", 2)
    age_failures(WINDOW + timedelta(seconds=1))
    fail_passwords("boris", 1)
    assert LoginFailure.objects.count() == 2


@pytest.mark.parametrize("proxies", [0, 1])
def test_the_client_address_behind_a_proxy(db: None, settings: Settings, proxies: int) -> None:
    """Behind one trusted proxy, clients are told apart by X-Forwarded-For; without a trusted
    proxy the header is the client's own claim and is ignored."""
    settings.SOLIDARITY_TRUSTED_PROXIES = proxies
    make_staff("anna")
    for n in range(CLIENT_LIMIT):
        password_step(
            Client(),
            f"user{n}",
            "wrong",
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 198.51.100.1",
        )

    other_client = password_step(
        Client(), "anna", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.2"
    )
    forged = password_step(
        Client(), "anna", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.250"
    )

    if proxies:
        # Every failure came from the proxy's client 198.51.100.1, whatever was claimed left
        # of it; a different client behind the same proxy is not affected.
        assert other_client.status_code == 302
        assert forged.status_code == 302
        blocked = password_step(
            Client(), "anna", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="x, 198.51.100.1"
        )
        assert blocked.status_code == 429
    else:
        assert other_client.status_code == forged.status_code == 429


def test_a_header_set_by_the_proxy_can_name_the_client(db: None, settings: Settings) -> None:
    """With SOLIDARITY_CLIENT_IP_HEADER (e.g. X-Real-IP, overwritten by the proxy) clients
    behind one proxy are told apart; a value the client smuggled in front is not believed."""
    settings.SOLIDARITY_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    make_staff("anna")
    for n in range(CLIENT_LIMIT):
        password_step(
            Client(), f"user{n}", "wrong", REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP="198.51.100.1"
        )
    blocked = password_step(Client(), "anna", REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP="198.51.100.1")
    other = password_step(Client(), "anna", REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP="198.51.100.2")
    assert blocked.status_code == 429
    assert other.status_code == 302
