"""Account lifecycle: a reset second factor takes the password too (ASVS 6.4.4), and a
production site has no demo superuser nor its password file (ASVS 6.3.2, 15.2.3).

`solidarity reset_second_factor` removes the factors, makes the password unusable, ends the
sessions and prints a one-time invitation link (accounts/invitations.py), so a phished password
no longer leads to enrolling the adversary's authenticator. `check --deploy` refuses the demo's
`admin` account with a usable password and the demo's password file (accounts.E013).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.core.checks import Tags, run_checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from pytest_django import Settings

from solidarity.accounts.models import AppDevice, SignedInSession
from solidarity.accounts.views import BAD_CREDENTIALS, INVITATION_STATUS
from solidarity.audit.models import AuditEntry
from solidarity.core.management.commands.demo import ADMIN_USERNAME, LOGIN_FILENAME, ensure_admin
from tests.test_accounts_invitations import CHOSEN, choose, head, open_link, token_of
from tests.test_accounts_login import (
    LOGIN,
    PASSWORD,
    add_authenticator,
    errors,
    log_in,
    make_staff,
    password_step,
    sent_to_login,
)

pytestmark = pytest.mark.django_db

COMMAND = "system:reset_second_factor"


def reset(username: str = "anna", *args: str) -> str:
    out = io.StringIO()
    call_command("reset_second_factor", username, *args, stdout=out)
    return out.getvalue()


def link_in(output: str) -> str:
    """The one link line the command prints, as it is printed."""
    found = [line.strip() for line in output.splitlines() if "/accounts/welcome/#" in line]
    assert len(found) == 1, output
    return found[0]


# -- reset_second_factor -------------------------------------------------------------------------


def test_a_reset_takes_the_password_and_prints_a_link_that_leads_to_enrolment() -> None:
    """After the reset the old password opens nothing; the printed link sets a new one once,
    and the login with it goes on to setting up a new second factor."""
    user = make_staff()
    add_authenticator(user)
    StaticDevice.objects.create(user=user, name="Backup codes")

    output = reset()

    assert "Removed 2 second-factor device(s) of anna" in output
    assert "never by e-mail" in output
    assert not AppDevice.objects.filter(user=user).exists()
    assert not StaticDevice.objects.filter(user=user).exists()
    user.refresh_from_db()
    assert not user.has_usable_password()
    refused = password_step(Client(), "anna", PASSWORD)
    assert refused.status_code == 200 and errors(refused) == [str(BAD_CREDENTIALS)]

    link = link_in(output)
    # No --base-url: the path only; the token after "#", where no request carries it.
    assert link.startswith("/accounts/welcome/#u=") and "?" not in link
    assert "Put the site's address before it" in output
    assert open_link(link).status_code == 200
    done = choose(link)
    assert done.status_code == 302 and done["Location"] == LOGIN
    login = password_step(Client(), "anna", CHOSEN)
    assert login.status_code == 302 and login["Location"].startswith("/accounts/enrol/")
    # Once only: the used link is dead and cannot set another password.
    assert open_link(link).status_code == INVITATION_STATUS
    assert choose(link, "someone else's passphrase").status_code == INVITATION_STATUS
    user.refresh_from_db()
    assert user.check_password(CHOSEN)


def test_a_reset_ends_every_session_and_a_second_reset_kills_the_first_link() -> None:
    """The lost phone may still be signed in: its session ends. Running the command again
    makes a new link; the first one then opens nothing."""
    user = make_staff()
    device = add_authenticator(user)
    phone = Client()
    log_in(phone, user, device)
    assert SignedInSession.objects.filter(user=user).count() == 1

    first = link_in(reset())

    assert not SignedInSession.objects.filter(user=user).exists()
    assert sent_to_login(phone, "/admin/")
    second = link_in(reset())
    assert first != second
    assert open_link(first).status_code == INVITATION_STATUS
    assert open_link(second).status_code == 200


def test_a_reset_is_in_the_audit_chain_without_the_token() -> None:
    """Each removed device, the new link and the ended sessions are entries by the command;
    neither the token nor the link is in any of them."""
    user = make_staff()
    device = add_authenticator(user)
    StaticDevice.objects.create(user=user, name="Backup codes")
    log_in(Client(), user, device)
    before = head()

    link = link_in(reset())

    entries = list(AuditEntry.objects.filter(seq__gt=before).order_by("seq"))
    by_command = {(e.action, e.model) for e in entries if e.actor == COMMAND}
    assert ("delete", "accounts.AppDevice") in by_command
    assert ("delete", "otp_static.StaticDevice") in by_command
    assert ("invitation_created", "auth.User") in by_command
    assert ("sessions_ended", "auth.User") in by_command
    ended = next(e for e in entries if e.action == "sessions_ended")
    assert ended.values == {"count": 1, "by_owner": False}
    token = token_of(link)
    for entry in entries:
        stored = json.dumps([entry.values, entry.fields, entry.object_pk, entry.actor])
        assert token not in stored and "/accounts/welcome/" not in stored


def test_a_base_url_makes_a_full_link(settings: Settings) -> None:
    """With --base-url of an allowed host the link is complete, and it works."""
    settings.ALLOWED_HOSTS = ["solidarity.example.org", "testserver"]
    make_staff()

    output = reset("anna", "--base-url", "https://solidarity.example.org/")

    link = link_in(output)
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "solidarity.example.org",
        "/accounts/welcome/",
    )
    assert "Put the site's address before it" not in output
    assert parts.query == "" and parts.fragment.startswith("u=")
    assert open_link(f"{parts.path}#{parts.fragment}").status_code == 200


@pytest.mark.parametrize(
    ("base", "message"),
    [
        ("solidarity.example.org", "give the site's address"),
        ("ftp://solidarity.example.org", "give the site's address"),
        ("https://solidarity.example.org/accounts/", "without a path"),
        ("https://user@solidarity.example.org", "without a path"),
        ("https://look-alike.example.net", "not in ALLOWED_HOSTS"),
        ("http://solidarity.example.org", "use https://"),
    ],
)
def test_a_bad_base_url_is_refused_before_anything_changes(
    settings: Settings, base: str, message: str
) -> None:
    """A typo must not cost the member their factor and password without giving a link."""
    settings.ALLOWED_HOSTS = ["solidarity.example.org"]
    settings.HTTPS = True
    user = make_staff()
    add_authenticator(user)

    with pytest.raises(CommandError, match=message):
        reset("anna", "--base-url", base)

    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert AppDevice.objects.filter(user=user).exists()


def test_a_public_host_is_refused_when_the_back_office_has_its_own(settings: Settings) -> None:
    """With SOLIDARITY_BACKOFFICE_HOSTS, the welcome page answers only there: a link on the
    public host would not open, so nothing changes."""
    settings.ALLOWED_HOSTS = ["solidarity.example.org", "office.example.org"]
    settings.SOLIDARITY_BACKOFFICE_HOSTS = ["office.example.org"]
    user = make_staff()
    add_authenticator(user)

    with pytest.raises(CommandError, match="not a back-office host"):
        reset("anna", "--base-url", "https://solidarity.example.org")
    assert AppDevice.objects.filter(user=user).exists()
    assert "https://office.example.org/" in reset(
        "anna", "--base-url", "https://office.example.org"
    )


def test_unknown_and_deactivated_accounts_are_refused() -> None:
    """No link for an account whose link could not open; nothing of it changes."""
    user = make_staff()
    add_authenticator(user)
    User.objects.filter(pk=user.pk).update(is_active=False)

    with pytest.raises(CommandError, match="deactivated"):
        reset()
    with pytest.raises(CommandError, match="No user 'nobody'"):
        reset("nobody")

    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert AppDevice.objects.filter(user=user).exists()


# -- The demo's account and password file (accounts.E013) ---------------------------------------


def demo_errors() -> list[str]:
    messages = run_checks(tags=[Tags.security], include_deployment_checks=True)
    return [m.msg for m in messages if m.id == "accounts.E013"]


def test_the_demo_admin_and_its_password_file_fail_the_deploy_check(
    settings: Settings, tmp_path: Path
) -> None:
    """What `solidarity demo` leaves behind is refused, each with its own message; removing
    both, as the hints say, silences the check."""
    settings.DATA_DIR = tmp_path
    assert demo_errors() == []

    password = ensure_admin(tmp_path / LOGIN_FILENAME)  # the demo's own code

    assert password
    found = demo_errors()
    assert len(found) == 2
    assert any(f"{ADMIN_USERNAME!r} can log in" in m for m in found)
    assert any(str(tmp_path / LOGIN_FILENAME) in m for m in found)
    User.objects.filter(username=ADMIN_USERNAME).delete()
    assert len(demo_errors()) == 1
    (tmp_path / LOGIN_FILENAME).unlink()
    assert demo_errors() == []


def test_an_admin_account_that_cannot_log_in_with_a_password_passes(
    settings: Settings, tmp_path: Path
) -> None:
    """Only a usable password is refused, under any capitalisation of the name."""
    settings.DATA_DIR = tmp_path
    account = User.objects.create_user("Admin", password=PASSWORD)
    assert len(demo_errors()) == 1
    account.set_unusable_password()
    account.save()
    assert demo_errors() == []
