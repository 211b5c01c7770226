"""The user admin's change page reads the user's row once: whether to offer "New invitation
link" is decided on the user the page already loaded."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from solidarity.accounts import invitations
from tests.conftest import verified_login
from tests.test_accounts_login import PASSWORD, make_staff, text

pytestmark = pytest.mark.django_db


def change_page(client: Client, user: User) -> tuple[str, int]:
    """The change page's HTML, and how many queries read the user's own auth_user row."""
    row = re.compile(rf'FROM "auth_user" WHERE "auth_user"\."id" = {user.pk}\b')
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/admin/auth/user/{user.pk}/change/")
    assert response.status_code == 200
    return text(response), sum(1 for q in queries if row.search(q["sql"]))


@pytest.mark.parametrize("invited", [True, False])
def test_the_change_page_loads_the_user_once(invited: bool) -> None:
    client = verified_login(Client(), make_staff("boss"))
    if invited:  # no password chosen yet: the button is offered
        member = User.objects.create_user("vera", is_staff=True)
        member.set_unusable_password()
        member.save()
    else:  # a password of their own: never replaced by a link
        member = User.objects.create_user("own", password=PASSWORD, is_staff=True)
    assert invitations.may_invite(member) is invited

    page, reads = change_page(client, member)

    assert reads == 1
    url = f"/admin/auth/user/{member.pk}/invitation/"
    assert (f'href="{url}"' in page) is invited
    assert ("New invitation link" in page) is invited
