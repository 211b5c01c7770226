"""A coordinator ends every session of a member of their sections: the night a member is
arrested with a logged-in phone, without waking an administrator (threat model M9,
accounts/signed_in.py `members_of`)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from solidarity.accounts.models import SignedInSession
from solidarity.audit.context import actor_for_user
from solidarity.audit.models import AuditEntry
from solidarity.core.models import Section
from solidarity.safety.models import Role
from tests.conftest import verified_login
from tests.test_accounts_login import make_staff


def _member(username: str, section: Section, role: str = "researcher") -> tuple[User, Client]:
    user = make_staff(username, superuser=False)
    Role.objects.create(user=user, section=section, role=role)
    client = verified_login(Client(), user)
    assert client.get("/accounts/sessions/").status_code == 200  # its row is made now
    return user, client


@pytest.fixture
def other_section(db: None) -> Section:
    return Section.objects.create(slug="abroad", name_en="Section abroad", kind="national")


@pytest.mark.django_db
def test_a_coordinator_ends_a_members_sessions_and_it_is_audited(section: Section) -> None:
    coordinator, desk = _member("coordinator", section, "coordinator")
    member, phone = _member("member", section)
    page = desk.get("/accounts/sessions/").content.decode()
    assert "Members of the sections you coordinate" in page
    assert f'name="member" value="{member.pk}"' in page

    response = desk.post("/accounts/sessions/end-member/", {"member": member.pk}, follow=True)
    assert "1 session of member ended." in response.content.decode()
    assert not SignedInSession.objects.filter(user=member).exists()
    refused = phone.get("/accounts/sessions/", follow=True)
    assert refused.redirect_chain[-1][0].startswith("/accounts/login/")
    assert desk.get("/accounts/sessions/").status_code == 200  # the coordinator stays in
    entry = AuditEntry.objects.filter(action="sessions_ended").get()
    assert entry.object_pk == str(member.pk)
    assert entry.actor == actor_for_user(coordinator)
    assert entry.values == {"count": 1, "by_owner": False}


@pytest.mark.django_db
def test_only_members_of_ones_own_sections_and_never_an_administrator(
    section: Section, other_section: Section
) -> None:
    _coordinator, desk = _member("coordinator", section, "coordinator")
    stranger, stranger_phone = _member("stranger", other_section)
    admin = make_staff("admin")
    Role.objects.create(user=admin, section=section, role="researcher")
    admin_client = verified_login(Client(), admin)
    assert admin_client.get("/accounts/sessions/").status_code == 200
    page = desk.get("/accounts/sessions/").content.decode()
    assert "stranger" not in page and f'value="{admin.pk}"' not in page

    for target in (stranger.pk, admin.pk, 999_999, "x", ""):
        response = desk.post("/accounts/sessions/end-member/", {"member": target}, follow=True)
        assert "you cannot end that user" in response.content.decode()
    assert SignedInSession.objects.filter(user__in=[stranger, admin]).count() == 2
    assert stranger_phone.get("/accounts/sessions/").status_code == 200
    assert not AuditEntry.objects.filter(action="sessions_ended").exists()


@pytest.mark.django_db
def test_a_member_who_is_not_a_coordinator_sees_no_list_and_ends_nothing(
    section: Section,
) -> None:
    _researcher, desk = _member("researcher", section)
    colleague, colleague_phone = _member("colleague", section)
    page = desk.get("/accounts/sessions/").content.decode()
    assert "Members of the sections you coordinate" not in page
    desk.post("/accounts/sessions/end-member/", {"member": colleague.pk})
    assert SignedInSession.objects.filter(user=colleague).count() == 1
    assert colleague_phone.get("/accounts/sessions/").status_code == 200


@pytest.mark.django_db
def test_ending_needs_a_post_from_a_verified_login(section: Section) -> None:
    member, _phone = _member("member", section)
    assert Client().post("/accounts/sessions/end-member/", {"member": member.pk}).status_code == 302
    _coordinator, desk = _member("coordinator", section, "coordinator")
    assert desk.get("/accounts/sessions/end-member/").status_code == 405
    assert SignedInSession.objects.filter(user=member).count() == 1
