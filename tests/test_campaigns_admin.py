"""The campaigns back office, through the admin with the test client."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from solidarity.campaigns import services
from solidarity.campaigns.models import (
    Demand,
    DemandState,
    ErasureLog,
    ExportLog,
    Outcome,
    Signature,
    Supporter,
    UrgentAction,
    UrgentActionUpdate,
    email_index,
)
from solidarity.campaigns.services import SupporterDetails
from solidarity.core.models import Section
from solidarity.safety.models import Role
from tests.conftest import recently_authenticated, verified_login
from tests.test_campaigns_support import World, make_world


@pytest.fixture
def world(section: Section) -> World:
    return make_world(section)


@pytest.fixture
def admin_client_(world: World) -> Client:
    admin = User.objects.create_superuser("admin", password="a long test password")
    # A superuser sees no section's campaigns without a role in it (solidarity.safety.policy);
    # erasure needs one in every section.
    for section in (world.section, world.abroad):
        Role.objects.create(user=admin, section=section, role="coordinator")
    client = Client()
    return verified_login(client, admin)


def _signed(world: World, email: str, name: str, *, confirm: bool = True) -> None:
    services.sign_petition(
        world.petition,
        SupporterDetails(email=email, name=name, country="Sweden"),
        processing_consent=True,
        base_url="http://testserver",
    )
    if confirm:
        signature = Signature.objects.get(supporter__email_index=email_index(email))
        services.confirm_signature(services.signature_token(signature))


@pytest.mark.parametrize(
    "model",
    [
        "campaign",
        "demand",
        "outcome",
        "target",
        "supporter",
        "petition",
        "signature",
        "exportlog",
        "erasurelog",
        "urgentaction",
        "urgentactionupdate",
        "letterreport",
        "actionseries",
        "action",
        "rsvp",
    ],
)
def test_every_campaigns_list_opens(world: World, admin_client_: Client, model: str) -> None:
    """Each back-office list page loads with data in it."""
    _signed(world, "anna@example.org", "Anna")
    response = admin_client_.get(reverse(f"admin:campaigns_{model}_changelist"))
    assert response.status_code == 200


def test_the_change_pages_of_the_main_records_open(world: World, admin_client_: Client) -> None:
    """Campaign (with its demands), petition, urgent action and action edit pages load."""
    for name, obj in [
        ("campaign", world.campaign),
        ("petition", world.petition),
        ("urgentaction", world.urgent_action),
        ("action", world.protests[0]),
        ("demand", world.demand),
    ]:
        response = admin_client_.get(reverse(f"admin:campaigns_{name}_change", args=[obj.pk]))
        assert response.status_code == 200, name


def test_adding_an_outcome_in_the_admin_wins_the_demand(
    world: World, admin_client_: Client
) -> None:
    """The outcome form goes through record_outcome: state and date follow the event."""
    response = admin_client_.post(
        reverse("admin:campaigns_outcome_add"),
        {"demand": world.demand.pk, "state": "won", "event": world.release.pk, "date": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    outcome = Outcome.objects.get()
    assert outcome.date is not None and outcome.date.text == "2012-03"
    assert outcome.recorded_by is not None and outcome.recorded_by.username == "admin"
    assert Demand.objects.get().state == DemandState.WON


def test_the_admin_refuses_an_outcome_without_its_event(
    world: World, admin_client_: Client
) -> None:
    """Won without an event is an error on the form, and the demand stays open."""
    response = admin_client_.post(
        reverse("admin:campaigns_outcome_add"),
        {"demand": world.demand.pk, "state": "won", "event": "", "date": ""},
    )
    assert response.status_code == 200
    assert "Choose the documented event" in response.content.decode()
    assert not Outcome.objects.exists()
    assert Demand.objects.get().state == DemandState.OPEN


def test_the_dashboard_shows_states_actions_signatures_and_the_timeline(
    world: World, admin_client_: Client
) -> None:
    """One page: the won demand, actions by month, signatures, and the person's chronology."""
    services.record_outcome(world.demand, DemandState.WON, event=world.release)
    _signed(world, "anna@example.org", "Anna")
    response = admin_client_.get(
        reverse("admin:campaigns_campaign_dashboard", args=[world.campaign.pk])
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Release Natalya Sokolova" in page
    assert "won" in page
    assert "2011-09" in page and "2011-10" in page
    assert "1 confirmed, 0 waiting" in page
    timeline = page[page.index('id="impact"') :]
    order = [
        timeline.index("Demanded: Release Natalya Sokolova"),
        timeline.index("Natalya Sokolova sentenced to six years"),
        timeline.index("UA 3/12"),
        timeline.index("Protest outside the Kazakh embassy, London"),
        timeline.index("Natalya Sokolova released"),
        timeline.index("Demand won"),
    ]
    assert order == sorted(order)


def test_export_from_the_admin_downloads_csv_and_logs_it(
    world: World, admin_client_: Client
) -> None:
    """The petition action returns the CSV of confirmed signatures and logs who took it."""
    _signed(world, "anna@example.org", "Anna Berg")
    _signed(world, "olga@example.org", "Olga", confirm=False)
    # Confirmed: the page before it says who will see the export (test_campaigns_export_notice).
    export = {
        "action": "export_signatures",
        "_selected_action": [world.petition.pk],
        "confirm": "yes",
    }
    changelist = reverse("admin:campaigns_petition_changelist")
    # A session whose password and code are not fresh is sent to re-authenticate first.
    stale = admin_client_.post(changelist, export)
    assert stale.status_code == 302 and reverse("accounts:reauth") in stale["Location"]
    assert not ExportLog.objects.exists()
    response = recently_authenticated(admin_client_).post(changelist, export)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["name"] for r in rows] == ["Anna Berg"]
    log = ExportLog.objects.get()
    assert (log.rows, log.user.username) == (1, "admin")


def test_erasure_from_the_admin_wipes_and_logs(world: World, admin_client_: Client) -> None:
    """The erase page wipes the supporter, keeps the count and says what it did."""
    _signed(world, "anna@example.org", "Anna Berg")
    url = reverse("admin:campaigns_supporter_erase")
    assert admin_client_.get(url).status_code == 200
    refused = admin_client_.post(url, {"email": "anna@example.org"})
    assert "Tick the box to confirm." in refused.content.decode()
    assert Supporter.objects.exists()
    response = admin_client_.post(url, {"email": "ANNA@example.org", "confirm": "on"}, follow=True)
    assert "Erased: 1 sets of contact details, 1 signatures" in response.content.decode()
    assert not Supporter.objects.exists()
    assert services.count_signatures(world.petition) == 1
    assert ErasureLog.objects.count() == 1


def test_publishing_a_closure_in_the_admin_closes_and_queues_the_mail(
    world: World, admin_client_: Client
) -> None:
    """An update added in the admin goes through publish_update: closed, e-mail queued."""
    response = admin_client_.post(
        reverse("admin:campaigns_urgentactionupdate_add"),
        {
            "urgent_action": world.urgent_action.pk,
            "date": "2012-03-20",
            "text_en": "Natalya Sokolova is free. Thank you: stop writing.",
            "text_ru": "",
            "text_kk": "",
            "is_closure": "on",
        },
    )
    assert response.status_code == 302
    assert UrgentAction.objects.get().status == UrgentAction.Status.CLOSED
    update = UrgentActionUpdate.objects.get()
    job = DBTaskResult.objects.get()
    assert job.task_path.endswith("send_urgent_action_update")
    assert update.pk in job.args_kwargs["args"]


def test_supporters_submissions_cannot_be_edited_in_the_admin(
    world: World, admin_client_: Client
) -> None:
    """Signatures and supporters are read-only; there is no add page."""
    _signed(world, "anna@example.org", "Anna")
    signature = Signature.objects.get()
    assert admin_client_.get(reverse("admin:campaigns_signature_add")).status_code == 403
    response = admin_client_.post(
        reverse("admin:campaigns_signature_change", args=[signature.pk]),
        {"public_name": "Someone else"},
    )
    assert response.status_code == 403
    assert Signature.objects.get().public_name == ""
