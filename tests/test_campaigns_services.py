"""The campaign rules, through the service functions on a real database."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django_tasks_db.models import DBTaskResult

from solidarity.campaigns import services
from solidarity.campaigns.models import (
    Demand,
    DemandKind,
    DemandState,
    ErasureLog,
    ExportLog,
    LetterReport,
    Outcome,
    Signature,
    Supporter,
    email_index,
)
from solidarity.campaigns.services import SignResult, SupporterDetails
from solidarity.core.models import Section
from solidarity.documentation.models import Event
from solidarity.documentation.vocabularies import EventType
from tests.test_campaigns_support import World, make_world

BASE = "http://testserver"


@pytest.fixture
def world(section: Section) -> World:
    return make_world(section)


@pytest.fixture
def coordinator(db: None) -> User:
    user = User.objects.create_user("coordinator", password="a long test password")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["export_signatures", "delete_supporter"])
    )
    return User.objects.get(pk=user.pk)  # fresh: permissions are cached per instance


def sign(
    world: World,
    email: str,
    name: str = "Anna Berg",
    *,
    comment: str = "",
    public_name_consent: bool = False,
    processing_consent: bool = True,
) -> SignResult:
    return services.sign_petition(
        world.petition,
        SupporterDetails(email=email, name=name, country="Germany", language="en"),
        comment=comment,
        public_name_consent=public_name_consent,
        processing_consent=processing_consent,
        base_url=BASE,
    )


def confirm(signature: Signature) -> None:
    assert services.confirm_signature(services.signature_token(signature)) is not None


# -- Demands and outcomes -----------------------------------------------------------------------


def test_an_outcome_ties_the_won_demand_to_the_release_event(world: World) -> None:
    """Recording the release as the outcome sets the demand to won, dated by the event."""
    outcome = services.record_outcome(world.demand, DemandState.WON, event=world.release)
    world.demand.refresh_from_db()
    assert world.demand.state == DemandState.WON
    assert outcome.event == world.release
    assert outcome.date is not None and outcome.date.text == "2012-03"


def test_a_won_demand_needs_the_event_that_settled_it(world: World) -> None:
    """Won, partly won and lost are facts: without an event nothing changes."""
    with pytest.raises(ValidationError) as error:
        services.record_outcome(world.demand, DemandState.WON)
    assert "event" in error.value.message_dict
    world.demand.refresh_from_db()
    assert world.demand.state == DemandState.OPEN
    assert not Outcome.objects.exists()


def test_a_release_demand_is_settled_only_by_an_event_about_that_person(world: World) -> None:
    """Another person's release cannot mark this demand as won."""
    other = Event.objects.create(
        section=world.section,
        slug="someone-else-released",
        type=EventType.RELEASE,
        title_en="Someone else released",
        date="2012-04",
    )
    with pytest.raises(ValidationError, match="does not concern Natalya Sokolova"):
        services.record_outcome(world.demand, DemandState.WON, event=other)
    assert Demand.objects.get(pk=world.demand.pk).state == DemandState.OPEN


def test_a_demand_can_be_dropped_without_an_event_and_keeps_its_history(world: World) -> None:
    """Every change of state is kept as an outcome, the latest one is the state."""
    services.record_outcome(world.demand, DemandState.DROPPED, date="2012-01", note="Merged.")
    services.record_outcome(world.demand, DemandState.WON, event=world.release)
    assert list(world.demand.outcomes.values_list("state", flat=True)) == ["dropped", "won"]
    assert Demand.objects.get(pk=world.demand.pk).state == DemandState.WON


def test_the_state_of_a_demand_is_not_an_editable_field() -> None:
    """Forms (the admin included) cannot set the state past record_outcome."""
    assert Demand._meta.get_field("state").editable is False


def test_demands_say_what_they_are_about(world: World) -> None:
    """A release names the person, a stopped eviction its address."""
    release = Demand(campaign=world.campaign, kind=DemandKind.RELEASE_PERSON, text_en="Free")
    with pytest.raises(ValidationError) as error:
        release.full_clean()
    assert "person" in error.value.message_dict
    eviction = Demand(campaign=world.campaign, kind=DemandKind.STOP_EVICTION, text_en="Stop")
    with pytest.raises(ValidationError) as error:
        eviction.full_clean()
    assert "address" in error.value.message_dict


# -- Signing ------------------------------------------------------------------------------------


def test_a_signature_counts_only_once_confirmed(world: World) -> None:
    """Signing leaves a pending signature; following the link makes it count."""
    assert sign(world, "anna@example.org") is SignResult.SIGNED
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.PENDING
    assert services.count_signatures(world.petition) == 0
    confirm(signature)
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED
    assert signature.confirmed_at is not None
    assert services.count_signatures(world.petition) == 1


def test_the_confirmation_token_is_stored_only_as_a_hash(world: World) -> None:
    """The database holds the token's SHA-256, never the token itself."""
    sign(world, "anna@example.org")
    signature = Signature.objects.get()
    token = services.signature_token(signature)
    values = Signature.objects.values_list().get()
    assert token not in [str(v) for v in values]
    assert signature.token_hash != token
    assert services.signature_for_token(token) == signature
    assert services.signature_for_token("0" * 64) is None


def test_the_confirmation_task_gets_ids_not_addresses_or_tokens(world: World) -> None:
    """The queued e-mail job holds the signature id; the address and token stay out of it."""
    sign(world, "anna@example.org")
    signature = Signature.objects.get()
    job = DBTaskResult.objects.get()
    stored = str(job.args_kwargs)
    assert str(signature.pk) in stored
    assert "anna@example.org" not in stored
    assert services.signature_token(signature) not in stored


def test_the_same_address_signs_once_whatever_its_case(world: World) -> None:
    """A second signing with the same address, in any case, adds nothing."""
    sign(world, "Anna@Example.org")
    assert sign(world, "  anna@EXAMPLE.ORG ") is SignResult.PENDING_AGAIN
    assert Signature.objects.count() == 1
    assert Supporter.objects.count() == 1
    confirm(Signature.objects.get())
    assert sign(world, "anna@example.org") is SignResult.ALREADY_CONFIRMED
    assert Signature.objects.count() == 1
    assert services.count_signatures(world.petition) == 1


def test_signing_again_before_confirming_replaces_the_link(world: World) -> None:
    """The new e-mail carries a new link; the old one stops working."""
    sign(world, "anna@example.org")
    old_token = services.signature_token(Signature.objects.get())
    cache.delete(f"signature-mail:{Signature.objects.get().pk}")  # the mail interval has passed
    sign(world, "anna@example.org")
    assert services.signature_for_token(old_token) is None
    assert services.confirm_signature(services.signature_token(Signature.objects.get()))


def test_without_consent_to_processing_nothing_is_stored(world: World) -> None:
    """Consent is checked in the service and, again, by a database constraint."""
    with pytest.raises(ValidationError):
        sign(world, "anna@example.org", processing_consent=False)
    assert not Signature.objects.exists()
    assert not Supporter.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_a_closed_or_private_petition_takes_no_signatures(world: World) -> None:
    """A delivered (closed) petition and an unpublished one refuse signatures."""
    world.petition.accepting = False
    world.petition.save()
    with pytest.raises(ValidationError, match="not accepting"):
        sign(world, "anna@example.org")
    world.petition.accepting = True
    world.petition.is_public = False
    world.petition.save()
    with pytest.raises(ValidationError, match="not accepting"):
        sign(world, "anna@example.org")
    assert not Signature.objects.exists()


def test_a_public_name_is_kept_only_with_consent(world: World) -> None:
    """Only signers who agreed have a public name."""
    sign(world, "anna@example.org", name="Anna Berg", public_name_consent=True)
    sign(world, "olga@example.org", name="Olga K.")
    # Names are encrypted: read through the model, which decrypts them.
    signatures = Signature.objects.select_related("supporter")
    names = {s.supporter.name: s.public_name for s in signatures if s.supporter is not None}
    assert names == {"Anna Berg": "Anna Berg", "Olga K.": ""}


# -- Erasure ------------------------------------------------------------------------------------


def test_erasure_wipes_the_person_and_keeps_the_count(world: World, coordinator: User) -> None:
    """After erasure the signature still counts, but nothing says whose it was."""
    sign(world, "Anna@example.org", public_name_consent=True, comment="Free her!")
    confirm(Signature.objects.get())
    sign(world, "olga@example.org")
    services.report_letters(
        world.urgent_action,
        SupporterDetails(email="anna@example.org", name="Anna Berg"),
        letters=3,
        contact_consent=True,
        processing_consent=True,
    )
    log = services.erase_supporter(" ANNA@example.org", user=coordinator)
    assert (log.supporters, log.signatures, log.letter_reports, log.rsvps) == (2, 1, 1, 0)
    assert services.count_signatures(world.petition) == 1
    erased = Signature.objects.get(erased=True)
    assert erased.status == Signature.Status.CONFIRMED
    assert (erased.supporter, erased.email_index, erased.comment, erased.public_name) == (
        None,
        None,
        "",
        "",
    )
    assert erased.token_hash == ""
    assert not Supporter.objects.filter(email_index=email_index("anna@example.org")).exists()
    assert Supporter.objects.filter(email_index=email_index("olga@example.org")).exists()
    assert services.letters_reported(world.urgent_action) == 3
    assert LetterReport.objects.get().supporter is None
    assert ErasureLog.objects.get().user == coordinator


def test_erasure_logs_nothing_about_whose_data_it_was(world: World, coordinator: User) -> None:
    """The erasure log records counts, never the address."""
    sign(world, "anna@example.org")
    services.erase_supporter("anna@example.org", user=coordinator)
    values = [str(v) for v in ErasureLog.objects.values_list().get()]
    assert not any("anna" in v for v in values)


# -- Export -------------------------------------------------------------------------------------


def test_export_has_confirmed_signatures_without_addresses_and_is_logged(
    world: World, coordinator: User
) -> None:
    """The CSV for the target lists confirmed, not erased signers, and the export is logged."""
    sign(world, "anna@example.org", name="Anna Berg", comment="=HYPERLINK(evil)")
    confirm(Signature.objects.get(supporter__email_index=email_index("anna@example.org")))
    sign(world, "olga@example.org", name="Olga K.")  # never confirmed
    sign(world, "erik@example.org", name="Erik")
    confirm(Signature.objects.get(supporter__email_index=email_index("erik@example.org")))
    services.erase_supporter("erik@example.org", user=coordinator)
    text, log = services.export_signatures_csv(world.petition, coordinator)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["name"] for r in rows] == ["Anna Berg"]
    assert rows[0]["country"] == "Germany"
    assert rows[0]["comment"] == "'=HYPERLINK(evil)"
    assert rows[0]["signed_on"] == dt.datetime.now(tz=dt.UTC).date().isoformat()
    assert "@" not in text
    assert (log.petition, log.user, log.rows) == (world.petition, coordinator, 1)
    assert ExportLog.objects.count() == 1


def test_export_and_erasure_need_their_permissions(world: World) -> None:
    """A coordinator without the permissions can neither export nor erase; nothing is logged."""
    clerk = User.objects.create_user("clerk", password="a long test password")
    sign(world, "anna@example.org")
    with pytest.raises(PermissionError):
        services.export_signatures_csv(world.petition, clerk)
    with pytest.raises(PermissionError):
        services.erase_supporter("anna@example.org", user=clerk)
    assert not ExportLog.objects.exists()
    assert not ErasureLog.objects.exists()
    assert Supporter.objects.count() == 1


# -- Urgent actions and RSVPs -------------------------------------------------------------------


def test_letters_are_counted_and_closed_actions_take_no_more(world: World) -> None:
    """Reports add up; after the closure update the action takes no further reports."""
    details = SupporterDetails(email="anna@example.org", name="Anna")
    services.report_letters(
        world.urgent_action, details, letters=2, target=world.embassy, processing_consent=True
    )
    services.report_letters(world.urgent_action, details, letters=1, processing_consent=True)
    assert services.letters_reported(world.urgent_action) == 3
    services.publish_update(
        world.urgent_action,
        date=dt.date(2012, 3, 20),
        text_en="Natalya Sokolova has been released. Thank you: stop writing.",
        is_closure=True,
        base_url=BASE,
    )
    world.urgent_action.refresh_from_db()
    assert world.urgent_action.status == "closed"
    with pytest.raises(ValidationError, match="closed"):
        services.report_letters(world.urgent_action, details, letters=1, processing_consent=True)


def test_an_address_replies_to_an_action_once(world: World) -> None:
    """A second RSVP from the same address is refused and stores nothing."""
    action = world.protests[0]
    action.starts_at = dt.datetime(2031, 1, 1, 12, tzinfo=dt.UTC)
    action.save()
    details = SupporterDetails(email="anna@example.org", name="Anna")
    services.rsvp(action, details, processing_consent=True)
    with pytest.raises(services.AlreadyRsvpd):
        services.rsvp(action, SupporterDetails("ANNA@example.org", "A."), processing_consent=True)
    assert action.rsvps.count() == 1
    assert Supporter.objects.count() == 1


def test_past_actions_take_no_rsvp(world: World) -> None:
    """Saying you will come to something that already happened makes no sense."""
    details = SupporterDetails(email="anna@example.org", name="Anna")
    with pytest.raises(ValidationError, match="already taken place"):
        services.rsvp(world.protests[0], details, processing_consent=True)


# -- Dashboard and impact timeline --------------------------------------------------------------


def test_the_impact_timeline_puts_persecution_actions_and_outcomes_in_order(
    world: World,
) -> None:
    """One chronology: demand, imprisonment, appeal, protests, release, outcome."""
    services.record_outcome(world.demand, DemandState.WON, event=world.release)
    entries = services.impact_timeline(world.sokolova)
    assert [(e.date.text, e.kind) for e in entries] == [
        ("2011-08", "demand"),
        ("2011-08-08", "persecution"),
        ("2011-09-01", "urgent_action"),
        ("2011-09-15", "action"),
        ("2011-10-03", "action"),
        ("2012-03", "release"),
        ("2012-03", "outcome"),
    ]
    assert "participants: 40" in entries[3].detail


def test_the_dashboard_counts_demands_actions_and_signatures(world: World) -> None:
    """States are tallied, actions and signatures grouped by month with gaps kept."""
    services.record_outcome(world.demand, DemandState.WON, event=world.release)
    sign(world, "anna@example.org")
    confirm(Signature.objects.get())
    board = services.campaign_dashboard(world.campaign)
    assert board.demand_states == {"won": 1}
    assert [(m.month, m.count, m.extra) for m in board.actions_by_month] == [
        (dt.date(2011, 9, 1), 1, 40),
        (dt.date(2011, 10, 1), 1, 25),
    ]
    assert sum(m.count for m in board.signatures_by_month) == 1
    assert board.petitions == [(world.petition, 1, 0)]
    assert board.people == [world.sokolova]
