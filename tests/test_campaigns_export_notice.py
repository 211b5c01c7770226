"""A signature export is shown, in the app, to everyone else who reads the section's signatures
(threat model M10): on the back-office home page for SOLIDARITY_EXPORT_NOTICE_DAYS, another
person's export flagged, never another section's; and the exporter is told so before the list
leaves."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import Settings

from solidarity.campaigns import services
from solidarity.campaigns.models import Campaign, ExportLog, Petition, Signature, email_index
from solidarity.campaigns.services import SupporterDetails
from solidarity.core.models import Section
from solidarity.safety.models import Role
from tests.conftest import recently_authenticated, verified_login
from tests.test_campaigns_support import World, make_world

INDEX = "admin:index"
CHANGELIST = "admin:campaigns_petition_changelist"


@pytest.fixture
def world(section: Section, settings: Settings) -> World:
    settings.SOLIDARITY_EXPORT_NOTICE_DAYS = 14
    return make_world(section)


@pytest.fixture
def abroad_petition(world: World) -> Petition:
    campaign = Campaign.objects.create(
        section=world.abroad, slug="solidarity-abroad", title_en="Solidarity abroad"
    )
    return Petition.objects.create(
        section=world.abroad,
        campaign=campaign,
        slug="abroad-petition",
        title_en="Petition of the section abroad",
        text_en="Free them.",
    )


def _member(username: str, section: Section, role: str = "coordinator") -> tuple[User, Client]:
    # A superuser, as administrators who coordinate are: the roles alone decide what they see.
    user = User.objects.create_superuser(username, password="a long test password")
    Role.objects.create(user=user, section=section, role=role)
    return user, verified_login(Client(), user)


def _signed(petition: Petition, address: str) -> None:
    services.sign_petition(
        petition,
        SupporterDetails(email=address, name="Signer", country="Sweden"),
        processing_consent=True,
        base_url="http://testserver",
    )
    signature = Signature.objects.get(supporter__email_index=email_index(address))
    services.confirm_signature(services.signature_token(signature))


def _export(client: Client, petition: Petition, *, confirm: bool) -> str:
    data = {"action": "export_signatures", "_selected_action": [petition.pk]}
    if confirm:
        data["confirm"] = "yes"
    response = recently_authenticated(client).post(reverse(CHANGELIST), data)
    assert response.status_code == 200
    return str(response["Content-Type"])


def _notice(client: Client) -> str:
    page = client.get(reverse(INDEX)).content.decode()
    start = page.find('id="export-notice"')
    return page[start : page.index("</section>", start)] if start >= 0 else ""


def _rows(notice: str) -> list[tuple[str, str]]:
    """Each listed export as (whose: export-own or export-other, its cells as plain text)."""
    rows = re.findall(r'<tr class="(export-\w+)">(.*?)</tr>', notice, re.S)
    return [
        (kind, " ".join(html.unescape(re.sub(r"<[^>]+>", " ", cells)).split()))
        for kind, cells in rows
    ]


def test_an_export_is_flagged_to_the_sections_other_coordinator_and_hidden_elsewhere(
    world: World, abroad_petition: Petition
) -> None:
    """Anna exports in the home section: Boris, who coordinates it too, sees her export flagged
    as someone else's, with what to do if unexpected; Clara, coordinator abroad only, does not
    see it, and Boris does not see Clara's export abroad."""
    _, anna = _member("anna", world.section)
    _, boris = _member("boris", world.section)
    _, clara = _member("clara", world.abroad)
    _signed(world.petition, "signer@example.org")
    assert _export(anna, world.petition, confirm=True).startswith("text/csv")
    assert _export(clara, abroad_petition, confirm=True).startswith("text/csv")

    notice = _notice(boris)
    assert "Exports of personal data in your sections, last 14 days" in notice
    [(kind, cells)] = _rows(notice)
    assert kind == "export-other"
    assert "anna (someone else: did you expect it?)" in cells
    assert "Free Natalya Sokolova" in cells and "Home organisation" in cells
    assert cells.endswith(" 1")  # the rows that left
    assert "Not expected? Ask whoever made it" in notice
    assert f'href="{reverse("accounts:sessions")}"' in notice
    assert "Petition of the section abroad" not in notice and "clara" not in notice

    clara_notice = _notice(clara)
    assert [kind for kind, _ in _rows(clara_notice)] == ["export-own"]
    assert "Free Natalya Sokolova" not in clara_notice and "anna" not in clara_notice


def test_ones_own_export_is_listed_as_ones_own(world: World) -> None:
    """The exporter sees their export too, marked as theirs, not flagged."""
    _, anna = _member("anna", world.section)
    _export(anna, world.petition, confirm=True)
    [(kind, cells)] = _rows(_notice(anna))
    assert kind == "export-own"
    assert "anna (you)" in cells and "someone else" not in cells


def test_exports_older_than_the_setting_are_not_listed(world: World, settings: Settings) -> None:
    """14 days back an export is still listed; 15 days back it is not, nor beyond a shorter
    setting."""
    anna, _ = _member("anna", world.section)
    _, boris = _member("boris", world.section)
    recent = ExportLog.objects.create(petition=world.petition, user=anna, rows=3)
    old = ExportLog.objects.create(petition=world.petition, user=anna, rows=7)
    now = timezone.now()
    ExportLog.objects.filter(pk=recent.pk).update(created_at=now - dt.timedelta(days=13))
    ExportLog.objects.filter(pk=old.pk).update(created_at=now - dt.timedelta(days=15))

    rows = _rows(_notice(boris))
    assert [cells.rsplit(" ", 1)[1] for _, cells in rows] == ["3"]
    settings.SOLIDARITY_EXPORT_NOTICE_DAYS = 7
    notice = _notice(boris)
    assert _rows(notice) == []
    assert "No signatures were exported in your sections in the last 7 days." in notice


def test_the_notice_is_only_for_those_who_read_signatures(world: World) -> None:
    """A read-only role, which may not read signatures, gets no export block; an empty
    reader's block says that nothing was exported."""
    anna, _ = _member("anna", world.section)
    ExportLog.objects.create(petition=world.petition, user=anna, rows=3)
    _, reader = _member("reader", world.section, role="read_only")
    assert _notice(reader) == ""
    assert not services.visible_exports(User.objects.get(username="reader")).exists()
    _, clara = _member("clara", world.abroad)
    assert "No signatures were exported in your sections in the last 14 days." in _notice(clara)


def test_the_exporter_is_told_before_the_export_that_the_others_will_see_it(
    world: World,
) -> None:
    """The export action first asks for confirmation, saying how many rows go and that the
    section's other coordinators will see it; nothing leaves or is logged until confirmed."""
    _, anna = _member("anna", world.section)
    assert _export(anna, world.petition, confirm=False).startswith("text/html")
    page = recently_authenticated(anna).post(
        reverse(CHANGELIST),
        {"action": "export_signatures", "_selected_action": [world.petition.pk]},
    )
    text = " ".join(page.content.decode().split())
    assert "0 confirmed signatures will leave the system" in text
    assert (
        "the other coordinators of Home organisation, with everyone else who may read its "
        "signatures, will see it on their back-office home page for 14 days" in text
    )
    assert 'name="confirm" value="yes"' in text
    assert not ExportLog.objects.exists()
    assert _export(anna, world.petition, confirm=True).startswith("text/csv")
    assert ExportLog.objects.count() == 1
