"""Logging in to the back office: Argon2 passwords, a second factor for every account (an
authenticator app or a backup code, set up at the first login), and answers that do not tell
whether an account exists. Driven through the real login pages with the test client."""

from __future__ import annotations

import io
import re
import statistics
import time
from typing import TYPE_CHECKING, Any

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F
from django.test import Client
from django_otp import device_classes
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from pytest_django import Settings

from solidarity.accounts.factors import backup_code_digest
from solidarity.accounts.models import AppDevice
from solidarity.accounts.sessions import PENDING
from solidarity.accounts.views import BAD_CODE, BAD_CREDENTIALS, PENDING_EXPIRED
from tests.conftest import PRODUCTION_HASHERS

PASSWORD = "correct horse battery staple"
# Seconds a code from `code_for` stays valid at least: enough for the request that carries it.
CODE_MARGIN = 3
LOGIN = "/accounts/login/"

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response


# -- Helpers shared by the accounts tests ------------------------------------------------------


def make_staff(username: str = "anna", *, superuser: bool = True) -> User:
    if superuser:
        return User.objects.create_superuser(username, f"{username}@example.org", PASSWORD)
    return User.objects.create_user(username, f"{username}@example.org", PASSWORD, is_staff=True)


def add_authenticator(user: User) -> AppDevice:
    device: AppDevice = AppDevice.objects.create(user=user, name="Phone", confirmed=True)
    return device


def code_for(device: AppDevice, steps_ahead: int = 0) -> str:
    """The code the authenticator app shows `steps_ahead` periods of 30 s from now, as the
    server will accept it then.

    A code is accepted in its own step only, and once; a test that logs in twice asks for the
    next period's code. Rather than wait for it, the device's clock is moved on: its t0 goes
    back by that many steps, which to the verifier is the same as the time having passed.
    Near the end of a step this waits for the next one, so that the code does not expire
    between here and the request that carries it: call it in that request's arguments, never
    before slow work (a password step, another login, a browser starting).
    """
    if steps_ahead:
        AppDevice.objects.filter(pk=device.pk).update(t0=F("t0") - steps_ahead * device.step)
    device.refresh_from_db()
    return app_code(device)


def app_code(device: AppDevice) -> str:
    """The code the app shows now for the secret this instance holds in memory (no reload:
    also for a secret the database no longer has), at least CODE_MARGIN seconds before its
    step ends, waiting for the next step otherwise."""
    left = device.step - (int(time.time()) - device.t0) % device.step
    if left < CODE_MARGIN:
        time.sleep(left)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def password_step(
    client: Client,
    username: str,
    password: str = PASSWORD,
    next_url: str = "/admin/",
    **extra: Any,
) -> Response:
    return client.post(
        LOGIN, {"username": username, "password": password, "next": next_url}, **extra
    )


def log_in(client: Client, user: User, device: AppDevice, steps_ahead: int = 0) -> None:
    """Both steps through the login pages; fails the test if either is refused."""
    first = password_step(client, user.username)
    assert first.status_code == 302, first.content.decode()
    assert first["Location"].startswith("/accounts/verify/")
    second = client.post(
        "/accounts/verify/", {"code": code_for(device, steps_ahead), "next": "/admin/"}
    )
    assert second.status_code == 302, second.content.decode()
    assert second["Location"] == "/admin/"


def sent_to_login(client: Client, url: str) -> bool:
    """Whether opening `url` ends on the login page (the admin goes through /admin/login/)."""
    response = client.get(url, follow=True)
    return bool(response.redirect_chain) and response.redirect_chain[-1][0].startswith(LOGIN)


def text(response: Response) -> str:
    content: bytes = response.content
    return content.decode()


def errors(response: Response) -> list[str]:
    return [
        re.sub(r"\s+", " ", m).strip()
        for m in re.findall(r'<p class="errornote">(.*?)</p>', text(response), re.S)
    ]


# -- Passwords ----------------------------------------------------------------------------------


@pytest.fixture
def argon2(settings: Settings) -> None:
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS


def test_argon2_is_the_first_hasher_and_hashes_new_passwords(db: None, argon2: None) -> None:
    """A new password is stored as an Argon2id hash."""
    assert PRODUCTION_HASHERS[0].endswith("Argon2PasswordHasher")
    user = make_staff()
    assert user.password.startswith("argon2$argon2id$")


def test_an_older_hash_is_upgraded_to_argon2_at_login(db: None, argon2: None) -> None:
    """A PBKDF2 hash still verifies, and is replaced by an Argon2 hash at the password step."""
    user = make_staff()
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save()

    response = password_step(Client(), "anna")

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")


# -- No user enumeration ------------------------------------------------------------------------


def _anonymised(response: Response, username: str) -> str:
    body = text(response).replace(username, "USERNAME")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)


def test_unknown_user_and_wrong_password_get_the_same_answer(db: None) -> None:
    """Same status, same page, same message for an unknown username, a wrong password and a
    disabled account."""
    make_staff("anna")
    disabled = make_staff("boris")
    disabled.is_active = False
    disabled.save()

    unknown = password_step(Client(), "nobody")
    wrong = password_step(Client(), "anna", "not the password")
    inactive = password_step(Client(), "boris")

    for response in [unknown, wrong, inactive]:
        assert response.status_code == 200
        assert errors(response) == [str(BAD_CREDENTIALS)]
    assert _anonymised(unknown, "nobody") == _anonymised(wrong, "anna")
    assert _anonymised(unknown, "nobody") == _anonymised(inactive, "boris")


def test_unknown_and_known_usernames_take_the_same_time(db: None, argon2: None) -> None:
    """An unknown username runs the Argon2 hasher on a dummy, so its answer takes as long as a
    wrong password's (each around the cost of one Argon2 hash)."""
    make_staff("anna")
    client = Client()

    def timed(username: str) -> float:
        start = time.perf_counter()
        password_step(client, username, "not the password", REMOTE_ADDR=f"10.0.0.{len(username)}")
        return time.perf_counter() - start

    timed("warm-up")
    known = statistics.median(timed("anna") for _ in range(3))
    unknown = statistics.median(timed("nobody") for _ in range(3))

    # Without the dummy hash the unknown name would answer in milliseconds, some 50 times
    # faster; the bounds leave room for a loaded CI machine.
    assert 0.5 * known < unknown < 2 * known, (known, unknown)


# -- Second factor: enrolment at first login ----------------------------------------------------


def test_a_staff_user_without_a_device_sets_one_up_before_anything_else(db: None) -> None:
    """The password step leads to enrolment: a QR code drawn inline as SVG, the key in text, a
    code from the app to confirm it, then ten backup codes shown once, and the back office."""
    user = make_staff()
    client = Client()

    response = password_step(client, "anna")
    assert response["Location"] == "/accounts/enrol/?next=%2Fadmin%2F"
    assert client.get("/admin/").status_code == 302, "no back office before enrolment"

    page = client.get("/accounts/enrol/?next=/admin/")
    html = text(page)
    assert "<svg" in html and 'id="qr-path"' in html
    assert "<img" not in html, "the QR code is not fetched from anywhere"
    device = AppDevice.objects.get(user=user)
    assert not device.confirmed
    assert re.search(r'class="accounts-secret">([A-Z2-7]{4} ?)+<', html)
    assert client.get("/accounts/enrol/").content.count(b'id="qr-path"') == 1
    assert AppDevice.objects.filter(user=user).count() == 1, "a reload keeps the same secret"

    done = client.post("/accounts/enrol/", {"code": code_for(device), "next": "/admin/"})

    assert done.status_code == 200
    assert "no-store" in done["Cache-Control"]
    shown = re.findall(r"<li>([0-9a-z]{4}(?:-[0-9a-z]{4}){5})</li>", text(done))
    assert len(shown) == 10
    backup = StaticDevice.objects.get(user=user)
    stored = StaticToken.objects.filter(device=backup).values_list("token", flat=True)
    assert sorted(stored) == sorted(backup_code_digest(backup, code) for code in shown)
    assert not set(stored) & set(shown), "only hashes of the codes are stored"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/admin/").status_code == 200
    assert client.get("/accounts/backup-codes/").status_code == 200, "fresh login is recent"
    assert not re.findall(r"<li>([0-9a-z]{4}(?:-[0-9a-z]{4}){5})</li>", text(client.get("/admin/")))


def test_enrolment_refuses_a_wrong_code(db: None) -> None:
    """A wrong code leaves the device unconfirmed and the user logged out."""
    user = make_staff()
    client = Client()
    password_step(client, "anna")
    client.get("/accounts/enrol/")

    response = client.post("/accounts/enrol/", {"code": "000000"})

    assert response.status_code == 200
    assert str(BAD_CODE) in text(response)
    assert not AppDevice.objects.get(user=user).confirmed
    assert not StaticDevice.objects.filter(user=user).exists()
    assert client.get("/admin/").status_code == 302


def test_an_abandoned_enrolment_secret_is_never_confirmed_later(
    db: None, settings: Settings
) -> None:
    """Someone who had the password and looked at the QR code, then left: the real user's
    enrolment gets a new secret, and codes from the old one are refused."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's 1-second back-off after a wrong code
    user = make_staff()
    intruder = Client()
    password_step(intruder, "anna")
    intruder.get("/accounts/enrol/")
    seen = AppDevice.objects.get(user=user)

    owner = Client()
    password_step(owner, "anna")
    owner.get("/accounts/enrol/")
    fresh = AppDevice.objects.get(user=user)

    assert fresh.key != seen.key
    # The old secret's code of this very step: refused for its secret, not for its age.
    refused = owner.post("/accounts/enrol/", {"code": app_code(seen)})
    assert str(BAD_CODE) in text(refused)
    assert not AppDevice.objects.filter(confirmed=True).exists()
    accepted = owner.post("/accounts/enrol/", {"code": code_for(fresh)})
    assert "These are your backup codes" in text(accepted)
    assert AppDevice.objects.get(confirmed=True).key == fresh.key


def test_enrolment_only_ever_touches_ones_own_account(db: None) -> None:
    """A user id slipped into the enrolment form is ignored: the device is made for the user who
    passed the password step, and the other account is unchanged."""
    anna = make_staff("anna")
    boris = make_staff("boris")
    client = Client()
    password_step(client, "anna")
    client.get("/accounts/enrol/", {"user": boris.pk})
    device = AppDevice.objects.get()
    client.post("/accounts/enrol/", {"code": code_for(device), "user": boris.pk})

    assert device.user == anna
    assert not AppDevice.objects.filter(user=boris).exists()
    assert not StaticDevice.objects.filter(user=boris).exists()


def test_only_an_authenticator_app_and_backup_codes_are_factors(db: None) -> None:
    """No e-mail or SMS device exists: a mailbox is what a state can get from a provider."""
    labels = {model._meta.label for model in device_classes()}
    # django-otp's own TOTP model stays installed for the migration that moved its rows to
    # AppDevice (secret encrypted); it holds none, and the login accepts it nowhere.
    assert labels == {
        "accounts.AppDevice",
        "accounts.WebAuthnCredential",  # security keys (tests/test_accounts_webauthn.py)
        "otp_static.StaticDevice",
        "otp_totp.TOTPDevice",
    }


# -- Second factor: logging in ------------------------------------------------------------------


def test_password_and_app_code_open_the_back_office(db: None) -> None:
    """With both factors the user reaches the admin; the session knows the device."""
    user = make_staff()
    device = add_authenticator(user)
    client = Client()

    log_in(client, user, device)

    assert client.get("/admin/").status_code == 200
    assert client.session["otp_device_id"] == device.persistent_id


def test_the_password_alone_opens_nothing(db: None) -> None:
    """Between the two steps the session is not logged in: the admin still sends the user to
    the login page, and the login page itself asks for the password again."""
    user = make_staff()
    add_authenticator(user)
    client = Client()
    password_step(client, "anna")

    assert sent_to_login(client, "/admin/")
    assert "_auth_user_id" not in client.session


def test_an_app_code_is_accepted_once(db: None) -> None:
    """The same code cannot be replayed, even by the same person moments later."""
    user = make_staff()
    device = add_authenticator(user)
    first, second = Client(), Client()
    # Both password steps (Argon2, slow) first: the code is used and replayed in one step.
    password_step(first, "anna")
    password_step(second, "anna")
    used = code_for(device)
    assert first.post("/accounts/verify/", {"code": used, "next": "/admin/"}).status_code == 302

    response = second.post("/accounts/verify/", {"code": used})

    assert response.status_code == 200
    assert str(BAD_CODE) in errors(response)[0]
    assert second.get("/admin/").status_code == 302


def test_a_backup_code_works_once(db: None) -> None:
    """A backup code stands in for the app once, and is then gone."""
    user = make_staff()
    add_authenticator(user)
    backup = StaticDevice.objects.create(user=user, name="Backup codes")
    backup.token_set.create(token=backup_code_digest(backup, "abcd2345"))

    client = Client()
    password_step(client, "anna")
    response = client.post("/accounts/verify/", {"code": "ABCD 2345", "next": "/admin/"})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200

    again = Client()
    password_step(again, "anna")
    assert again.post("/accounts/verify/", {"code": "abcd2345"}).status_code == 200
    assert not backup.token_set.exists()


def test_a_session_without_a_verified_device_cannot_use_the_admin(db: None) -> None:
    """A session logged in by any other path than the two steps (here Django's force_login) is
    sent to the login page by the admin."""
    user = make_staff()
    client = Client()
    client.force_login(user)

    assert sent_to_login(client, "/admin/documentation/person/")


def test_the_admin_login_address_leads_to_the_two_step_login(db: None) -> None:
    """/admin/login/ forwards to the accounts login, keeping where to go next."""
    response = Client().get("/admin/login/?next=/admin/auth/user/")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/admin/auth/user/"
    page = Client().get(response["Location"])
    assert 'name="next" value="/admin/auth/user/"' in text(page)


def test_a_foreign_next_address_is_ignored(db: None) -> None:
    """After login the user is never sent to another site."""
    user = make_staff()
    device = add_authenticator(user)
    client = Client()
    password_step(client, "anna", next_url="https://phish.example/")
    response = client.post(
        "/accounts/verify/", {"code": code_for(device), "next": "https://phish.example/"}
    )
    assert response["Location"] == "/admin/"


def test_the_second_step_must_follow_the_first_within_five_minutes(db: None) -> None:
    """A password step older than 5 minutes is forgotten and must be done again."""
    user = make_staff()
    device = add_authenticator(user)
    client = Client()
    password_step(client, "anna")
    session = client.session
    session[PENDING] = {**session[PENDING], "at": session[PENDING]["at"] - 301}
    session.save()

    response = client.post("/accounts/verify/", {"code": code_for(device)}, follow=True)

    assert response.redirect_chain[0][0].startswith(LOGIN)
    assert str(PENDING_EXPIRED) in text(response)
    assert "_auth_user_id" not in client.session


def test_a_logged_in_user_visiting_the_login_page_is_told_so(db: None) -> None:
    """No loop between the admin and the login page: the page says who is logged in and offers
    a logout button."""
    user = make_staff(superuser=False)
    device = add_authenticator(user)
    client = Client()
    log_in(client, user, device)

    html = text(client.get(LOGIN))

    assert "You are logged in as <strong>anna</strong>" in html
    assert 'action="/accounts/logout/"' in html


def test_a_lost_second_factor_is_reset_from_the_command_line(db: None) -> None:
    """`solidarity reset_second_factor` removes the app and backup codes and the password (a
    one-time link sets a new one: test_accounts_lifecycle). An unknown name is refused."""
    user = make_staff()
    add_authenticator(user)
    StaticDevice.objects.create(user=user, name="Backup codes")
    out = io.StringIO()

    call_command("reset_second_factor", "anna", stdout=out)

    assert "Removed 2 second-factor device(s) of anna" in out.getvalue()
    assert not AppDevice.objects.filter(user=user).exists()
    assert not StaticDevice.objects.filter(user=user).exists()
    assert errors(password_step(Client(), "anna")) == [str(BAD_CREDENTIALS)]
    with pytest.raises(CommandError, match="No user 'nobody'"):
        call_command("reset_second_factor", "nobody")
