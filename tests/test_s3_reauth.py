"""Re-authentication before granting privileges and changing the password (ASVS 7.5.1, 7.5.3).

A back-office session whose last password + code is older than 5 minutes is sent to the
re-authentication page when it tries to make someone superuser or staff, change their groups
or permissions, set their password, change a group, grant or withdraw a section role, or
change its own password; nothing changes. Right after re-authenticating the same request
works. Editing a name or an address needs nothing more.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client

from solidarity.core.models import Section
from solidarity.safety.models import Role
from tests.conftest import recently_authenticated, verified_login
from tests.test_accounts_login import PASSWORD, add_authenticator, code_for, log_in, make_staff
from tests.test_accounts_sessions import _shift

pytestmark = pytest.mark.django_db


def _reauth_url(path: str) -> str:
    return f"/accounts/reauth/?next={quote(path, safe='')}"


def _asked_to_reauthenticate(response: Any, path: str) -> bool:
    return bool(response.status_code == 302 and response["Location"] == _reauth_url(path))


@pytest.fixture
def admin_client() -> Client:
    """A superuser's back-office session, verified but not re-authenticated lately."""
    return verified_login(Client(), make_staff("boss"))


@pytest.fixture
def target() -> User:
    return User.objects.create_user("volunteer", "volunteer@example.org", "a long passphrase")


def _user_form(user: User, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "groups": [str(g.pk) for g in user.groups.all()],
        "user_permissions": [str(p.pk) for p in user.user_permissions.all()],
    }
    for flag in ("is_active", "is_staff", "is_superuser"):
        if getattr(user, flag):
            data[flag] = "on"
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = "on" if value is True else value
    return data


# -- The user admin -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "grant",
    [
        {"is_superuser": True},
        {"is_staff": True},
        {"groups": "group"},
        {"user_permissions": "permission"},
    ],
    ids=["superuser", "staff", "group", "permission"],
)
def test_a_grant_in_the_user_admin_needs_recent_authentication(
    admin_client: Client, target: User, grant: dict[str, Any]
) -> None:
    group = Group.objects.create(name="Coordinators")
    permission = Permission.objects.get(codename="view_section")
    values = {"group": [str(group.pk)], "permission": [str(permission.pk)]}
    changes = {k: values.get(v, v) if isinstance(v, str) else v for k, v in grant.items()}
    url = f"/admin/auth/user/{target.pk}/change/"

    stale = admin_client.post(url, _user_form(target, **changes))
    assert _asked_to_reauthenticate(stale, url)
    target.refresh_from_db()
    assert not (target.is_superuser or target.is_staff)
    assert not target.groups.exists() and not target.user_permissions.exists()

    recently_authenticated(admin_client)
    done = admin_client.post(url, _user_form(target, **changes))
    assert done.status_code == 302 and done["Location"] == "/admin/auth/user/"
    target.refresh_from_db()
    held = (
        target.is_superuser,
        target.is_staff,
        target.groups.count(),
        target.user_permissions.count(),
    )
    assert held != (False, False, 0, 0)


def test_withdrawing_superuser_needs_recent_authentication_too(admin_client: Client) -> None:
    other = make_staff("deputy")
    url = f"/admin/auth/user/{other.pk}/change/"
    stale = admin_client.post(url, _user_form(other, is_superuser=False))
    assert _asked_to_reauthenticate(stale, url)
    other.refresh_from_db()
    assert other.is_superuser


def test_editing_a_name_or_address_needs_no_reauthentication(
    admin_client: Client, target: User
) -> None:
    url = f"/admin/auth/user/{target.pk}/change/"
    done = admin_client.post(url, _user_form(target, first_name="Vera", email="vera@example.org"))
    assert done.status_code == 302 and done["Location"] == "/admin/auth/user/"
    target.refresh_from_db()
    assert (target.first_name, target.email) == ("Vera", "vera@example.org")
    # Viewing the page never needs it.
    assert admin_client.get(url).status_code == 200


def test_setting_another_users_password_needs_recent_authentication(
    admin_client: Client, target: User
) -> None:
    url = f"/admin/auth/user/{target.pk}/password/"
    form = {"password1": "another long passphrase", "password2": "another long passphrase"}
    assert _asked_to_reauthenticate(admin_client.post(url, form), url)
    target.refresh_from_db()
    assert target.check_password("a long passphrase")

    recently_authenticated(admin_client)
    assert admin_client.post(url, form).status_code == 302
    target.refresh_from_db()
    assert target.check_password("another long passphrase")


# -- Groups and section roles ---------------------------------------------------------------------


def test_a_group_change_needs_recent_authentication(admin_client: Client) -> None:
    permission = Permission.objects.get(codename="view_section")
    form = {"name": "Readers", "permissions": [str(permission.pk)]}
    url = "/admin/auth/group/add/"
    assert _asked_to_reauthenticate(admin_client.post(url, form), url)
    assert not Group.objects.exists()

    recently_authenticated(admin_client)
    assert admin_client.post(url, form).status_code == 302
    assert list(Group.objects.get().permissions.all()) == [permission]


def test_granting_and_withdrawing_a_role_need_recent_authentication(
    admin_client: Client, target: User, section: Section
) -> None:
    url = "/admin/safety/role/add/"
    form = {"user": str(target.pk), "section": str(section.pk), "role": "section_organiser"}
    assert _asked_to_reauthenticate(admin_client.post(url, form), url)
    assert not Role.objects.exists()

    recently_authenticated(admin_client)
    assert admin_client.post(url, form).status_code == 302
    role = Role.objects.get()
    assert (role.user, role.section, role.role) == (target, section, "section_organiser")

    # Withdrawing, one at a time or in bulk, once the window has passed.
    _shift(admin_client, auth=5 * 60 + 1)
    delete_url = f"/admin/safety/role/{role.pk}/delete/"
    assert _asked_to_reauthenticate(admin_client.post(delete_url, {"post": "yes"}), delete_url)
    bulk = {"action": "delete_selected", "_selected_action": [str(role.pk)], "post": "yes"}
    assert _asked_to_reauthenticate(
        admin_client.post("/admin/safety/role/", bulk), "/admin/safety/role/"
    )
    assert Role.objects.filter(pk=role.pk).exists()

    recently_authenticated(admin_client)
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 302
    assert not Role.objects.exists()


# -- API tokens -----------------------------------------------------------------------------------


def test_the_back_office_cannot_make_api_tokens(admin_client: Client) -> None:
    """Tokens are made only by `solidarity apitoken create` on the server's command line, so
    there is no web form to guard; the admin refuses to add one even right after re-auth."""
    recently_authenticated(admin_client)
    assert admin_client.get("/admin/api/apitoken/add/").status_code == 403
    assert admin_client.post("/admin/api/apitoken/add/", {"name": "x"}).status_code == 403


# -- Own password ---------------------------------------------------------------------------------


def test_the_password_change_asks_for_password_and_code_first() -> None:
    """Through the real re-authentication page: a stale session is sent there, changes
    nothing, and after password + code comes back to the form, which then works."""
    user = make_staff("anna")
    device = add_authenticator(user)
    client = Client()
    log_in(client, user, device)
    _shift(client, auth=5 * 60 + 1)
    url = "/admin/password_change/"
    form = {
        "old_password": PASSWORD,
        "new_password1": "a brand new long passphrase",
        "new_password2": "a brand new long passphrase",
    }
    assert _asked_to_reauthenticate(client.get(url), url)
    assert _asked_to_reauthenticate(client.post(url, form), url)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)

    back = client.post(
        "/accounts/reauth/", {"password": PASSWORD, "code": code_for(device, 1), "next": url}
    )
    assert back.status_code == 302 and back["Location"] == url
    assert client.get(url).status_code == 200
    assert client.post(url, form).status_code == 302
    user.refresh_from_db()
    assert user.check_password("a brand new long passphrase")
