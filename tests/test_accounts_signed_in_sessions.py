"""Logged-in sessions a user can see and end, and an administrator can end for a user whose
device was seized (ASVS 7.5.2; accounts/signed_in.py). Driven through the real login pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from solidarity.accounts import signed_in
from solidarity.accounts.models import SignedInSession
from solidarity.audit.models import AuditEntry
from solidarity.core import retention
from tests.conftest import recently_authenticated, verified_login
from tests.test_accounts_login import PASSWORD, add_authenticator, log_in, make_staff

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)


def _two_devices() -> tuple[User, Client, Client]:
    user = make_staff("anna")
    device = add_authenticator(user)
    laptop, phone = Client(HTTP_USER_AGENT=FIREFOX), Client(HTTP_USER_AGENT=PHONE)
    log_in(laptop, user, device)
    log_in(phone, user, device, steps_ahead=1)
    return user, laptop, phone


def _end_buttons(html: str) -> list[str]:
    return re.findall(r'name="which" value="([^"]+)"', html)


@pytest.mark.django_db
def test_each_login_is_listed_with_a_coarse_device_and_its_factor_never_an_address() -> None:
    user, laptop, _phone = _two_devices()
    page = laptop.get("/accounts/sessions/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Firefox on Linux" in html and "Chrome on Android" in html
    assert "authenticator app" in html
    assert "This session" in html
    # One button for the other session, one for "all others"; none for this one.
    (phone_row,) = SignedInSession.objects.filter(user=user, device="Chrome on Android")
    assert _end_buttons(html) == [str(phone_row.public_id), "others"]
    # Nothing that would locate the member or replay the session.
    row = SignedInSession.objects.filter(user=user).values()[0]
    assert "127.0.0.1" not in repr(row) and "session_key" not in row
    assert laptop.cookies[django_settings.SESSION_COOKIE_NAME].value not in html


@pytest.mark.django_db
def test_ending_another_session_logs_it_out_at_its_next_request_and_is_audited() -> None:
    user, laptop, phone = _two_devices()
    (phone_row,) = SignedInSession.objects.filter(user=user, device="Chrome on Android")
    response = laptop.post("/accounts/sessions/end/", {"which": str(phone_row.public_id)})
    assert response.status_code == 302
    assert "1 session ended." in laptop.get(response["Location"]).content.decode()

    refused = phone.get("/admin/", follow=True)
    assert refused.redirect_chain[-1][0].startswith("/accounts/login/")
    assert "This session was ended." in refused.content.decode()
    assert laptop.get("/admin/").status_code == 200  # the laptop stays logged in
    entry = AuditEntry.objects.filter(action="sessions_ended").get()
    assert entry.object_pk == str(user.pk)
    assert entry.values == {"count": 1, "by_owner": True}


@pytest.mark.django_db
def test_end_all_others_keeps_only_this_session() -> None:
    user, laptop, phone = _two_devices()
    third = verified_login(Client(HTTP_USER_AGENT="curl/8.5.0"), user)
    assert third.get("/admin/").status_code == 200  # its row is made on its first request
    assert SignedInSession.objects.filter(user=user).count() == 3
    laptop.post("/accounts/sessions/end/", {"which": "others"})
    assert SignedInSession.objects.filter(user=user).count() == 1
    assert phone.get("/admin/").status_code == 302
    assert third.get("/admin/").status_code == 302
    assert laptop.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_another_users_session_bad_values_and_this_session_end_nothing() -> None:
    _user, laptop, _phone = _two_devices()
    other = make_staff("boris")
    other_client = Client()
    log_in(other_client, other, add_authenticator(other))
    (others_row,) = SignedInSession.objects.filter(user=other)
    current = signed_in.current_id(laptop.session)
    for which in (str(others_row.public_id), "not-a-uuid", "", current):
        response = laptop.post("/accounts/sessions/end/", {"which": which}, follow=True)
        assert "No session was ended" in response.content.decode()
    assert SignedInSession.objects.count() == 3
    assert not AuditEntry.objects.filter(action="sessions_ended").exists()


@pytest.mark.django_db
def test_ending_needs_a_post_and_a_verified_login() -> None:
    _user, laptop, _phone = _two_devices()
    assert laptop.get("/accounts/sessions/end/?which=others").status_code == 405
    anonymous = Client()
    assert anonymous.get("/accounts/sessions/")["Location"].startswith("/accounts/login/")
    response = anonymous.post("/accounts/sessions/end/", {"which": "others"})
    assert response["Location"].startswith("/accounts/login/")
    assert SignedInSession.objects.count() == 2


@pytest.mark.django_db
def test_logout_forgets_its_row_and_asks_the_browser_to_clear_what_it_kept() -> None:
    user, laptop, _phone = _two_devices()
    response = laptop.post("/accounts/logout/")
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    assert list(SignedInSession.objects.filter(user=user).values_list("device", flat=True)) == [
        "Chrome on Android"
    ]


@pytest.mark.django_db
def test_a_session_made_without_the_login_pages_gets_a_row_on_its_first_request(
    client: Client,
) -> None:
    user = User.objects.create_superuser("staff", "staff@example.org", "a long passphrase")
    verified_login(client, user)
    assert client.get("/admin/").status_code == 200
    assert SignedInSession.objects.filter(user=user).count() == 1
    assert client.get("/admin/").status_code == 200
    assert SignedInSession.objects.filter(user=user).count() == 1


@pytest.mark.django_db
def test_only_sessions_within_the_time_limits_are_listed() -> None:
    user, laptop, _phone = _two_devices()
    SignedInSession.objects.filter(device="Chrome on Android").update(
        seen_at=timezone.now() - dt.timedelta(minutes=16)
    )
    assert "Chrome on Android" not in laptop.get("/accounts/sessions/").content.decode()
    assert [s.device for s in signed_in.active(user)] == ["Firefox on Linux"]


@pytest.mark.django_db
def test_an_administrator_ends_every_session_of_a_user_without_reauthenticating(
    staff_client: Client,
) -> None:
    user, laptop, phone = _two_devices()
    response = staff_client.post(
        "/admin/auth/user/",
        {"action": "end_sessions", "_selected_action": [str(user.pk)]},
        follow=True,
    )
    assert "2 sessions ended." in response.content.decode()
    # Every back-office page leads to one's own sessions.
    assert 'href="/accounts/sessions/"' in response.content.decode()
    assert not SignedInSession.objects.filter(user=user).exists()
    assert laptop.get("/admin/").status_code == 302 and phone.get("/admin/").status_code == 302
    entry = AuditEntry.objects.filter(action="sessions_ended").get()
    assert entry.values == {"count": 2, "by_owner": False}
    assert entry.actor != AuditEntry.objects.filter(action="login").first().actor  # type: ignore[union-attr]


@pytest.mark.django_db
def test_other_bulk_actions_on_users_still_need_a_fresh_login(staff_client: Client) -> None:
    victim = make_staff("boris")
    response = staff_client.post(
        "/admin/auth/user/", {"action": "delete_selected", "_selected_action": [str(victim.pk)]}
    )
    assert response.status_code == 302 and "/accounts/reauth/" in response["Location"]
    recently_authenticated(staff_client)
    response = staff_client.post(
        "/admin/auth/user/", {"action": "delete_selected", "_selected_action": [str(victim.pk)]}
    )
    assert response.status_code == 200  # Django's own confirmation page


@pytest.mark.django_db
def test_retention_removes_rows_past_the_session_limit_only() -> None:
    user, _laptop, _phone = _two_devices()
    SignedInSession.objects.filter(device="Chrome on Android").update(
        started_at=timezone.now() - dt.timedelta(hours=10)
    )
    results = {r.rule.name: r.rows for r in retention.purge()}
    assert results["signed_in_sessions"] == 1
    assert list(SignedInSession.objects.values_list("device", flat=True)) == ["Firefox on Linux"]
    assert SignedInSession.objects.filter(user=user).count() == 1


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (FIREFOX, "Firefox on Linux"),
        (PHONE, "Chrome on Android"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari on iOS",
        ),
        ("curl/8.5.0", "curl"),
        ("", ""),
        ("<script>", ""),
    ],
)
def test_devices_are_described_coarsely(agent: str, expected: str) -> None:
    assert signed_in.describe_device(agent) == expected


@pytest.mark.django_db
def test_new_backup_codes_come_with_an_offer_to_end_other_sessions() -> None:
    _user, laptop, _phone = _two_devices()
    recently_authenticated(laptop)
    page = laptop.post("/accounts/backup-codes/").content.decode()
    assert (
        'If a device of yours was lost or taken, end its session: <a href="/accounts/sessions/">'
        in page
    )


@pytest.mark.django_db
def test_changing_ones_password_ends_the_other_sessions_rows_too() -> None:
    user, laptop, phone = _two_devices()
    recently_authenticated(laptop)
    new = "another long passphrase for anna"
    response = laptop.post(
        "/admin/password_change/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert [s.device for s in SignedInSession.objects.filter(user=user)] == ["Firefox on Linux"]
    assert phone.get("/admin/").status_code == 302
    assert laptop.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_an_administrator_setting_a_password_ends_that_users_sessions(
    staff_client: Client,
) -> None:
    user, _laptop, phone = _two_devices()
    recently_authenticated(staff_client)
    new = "a password the administrator chose"
    response = staff_client.post(
        f"/admin/auth/user/{user.pk}/password/",
        {"password1": new, "password2": new, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not SignedInSession.objects.filter(user=user).exists()
    assert phone.get("/admin/").status_code == 302
