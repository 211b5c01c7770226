"""The public campaign pages, through the test client on a real database."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django_tasks_db.models import DBTaskResult

from solidarity.campaigns import intake, services
from solidarity.campaigns.models import (
    Action,
    ActionKind,
    DemandState,
    LetterReport,
    Signature,
    SignatureIntake,
    Supporter,
    email_index,
)
from solidarity.campaigns.services import SupporterDetails
from solidarity.core.models import Section
from tests.test_campaigns_support import World, make_world


@pytest.fixture
def world(section: Section) -> World:
    return make_world(section)


def _form(**overrides: str) -> dict[str, str]:
    data = {
        "name": "Anna Berg",
        "email": "anna@example.org",
        "country": "Germany",
        "language": "en",
        "comment": "",
        "processing_consent": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v != "<omit>"}


def _sign_url(world: World) -> str:
    return reverse("campaigns:petition", args=[world.petition.slug])


def _nothing_stored() -> bool:
    return not (
        Signature.objects.exists() or Supporter.objects.exists() or DBTaskResult.objects.exists()
    )


# -- Campaign page ------------------------------------------------------------------------------


def test_the_campaign_page_shows_a_won_demand_with_its_dates(world: World, client: Client) -> None:
    """ "Demanded on August 2011, won on March 2012", linked to the release event."""
    url = reverse("campaigns:campaign", args=[world.campaign.slug])
    before = client.get(url).content.decode()
    assert "demanded in August 2011" in before
    assert "still open" in before
    services.record_outcome(world.demand, DemandState.WON, event=world.release)
    page = client.get(url).content.decode()
    assert "won in March 2012" in page
    assert reverse("public:event", args=[world.release.slug]) in page
    assert "Committee for a Workers&#x27; International" in page


def test_a_private_event_or_person_is_not_linked_from_the_campaign_page(
    world: World, client: Client
) -> None:
    """The demand shows "won", but a private release event and person stay unnamed."""
    services.record_outcome(world.demand, DemandState.WON, event=world.release)
    world.release.is_public = False
    world.release.save()
    world.sokolova.is_public = False
    world.sokolova.save()
    page = client.get(reverse("campaigns:campaign", args=[world.campaign.slug])).content.decode()
    assert "won in March 2012" in page
    assert world.release.slug not in page
    assert world.sokolova.slug not in page
    assert "a person whose name is withheld" in page


def test_the_organiser_can_be_hidden(world: World, client: Client) -> None:
    """With hide_organiser the organiser's name is not on the page."""
    world.campaign.hide_organiser = True
    world.campaign.save()
    page = client.get(reverse("campaigns:campaign", args=[world.campaign.slug])).content.decode()
    assert "Workers" not in page


def test_unpublished_campaign_pages_do_not_exist(world: World, client: Client) -> None:
    """A private campaign and everything under it answers 404."""
    world.campaign.is_public = False
    world.campaign.save()
    for url in [
        reverse("campaigns:campaign", args=[world.campaign.slug]),
        reverse("campaigns:petition", args=[world.petition.slug]),
        reverse("campaigns:urgent_action", args=[world.urgent_action.slug]),
        reverse("campaigns:action", args=[world.protests[0].pk]),
        reverse("campaigns:campaign_ical", args=[world.campaign.slug]),
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post(_sign_url(world), _form()).status_code == 404
    assert _nothing_stored()


# -- Petition page ------------------------------------------------------------------------------


def test_signing_stores_a_pending_signature_and_says_to_check_the_inbox(
    world: World, client: Client
) -> None:
    """A good submission is stored, answered with a redirect, and does not count yet."""
    response = client.post(_sign_url(world), _form())
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:petition_thanks", args=["free-natalya"])
    # Received, encrypted (intake.py); the worker makes it a signature, pending confirmation.
    received = SignatureIntake.objects.get()
    assert "anna@example.org" not in str(received.__dict__["details"])
    assert not Signature.objects.exists()
    assert intake.record() == 1
    assert not SignatureIntake.objects.exists()
    assert Signature.objects.get().status == Signature.Status.PENDING
    assert "Check your inbox" in client.get(response["Location"]).content.decode()
    assert "0 signatures" in client.get(_sign_url(world)).content.decode()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"processing_consent": "<omit>"}, "We can only record this with your consent"),
        ({"email": "anna-at-example.org"}, "This is not an e-mail address we can write to"),
        ({"email": ""}, "Please give your e-mail address."),
        ({"name": "A" * 5000}, "Please shorten this to 200 characters at most."),
        ({"comment": "x" * 100_000}, "Please shorten this to 1000 characters at most."),
        ({"name": "<script>alert(1)</script>"}, "Please leave out the characters &lt; and &gt;."),
        ({"comment": '<img src=x onerror="alert(1)">'}, "Please leave out the characters"),
        ({"name": "Anna\u202eBerg"}, "invisible control characters"),
        ({"language": "de"}, "Please choose one of the languages offered."),
    ],
)
def test_bad_input_gets_a_clear_message_and_stores_nothing(
    world: World, client: Client, overrides: dict[str, str], message: str
) -> None:
    """Missing consent, a malformed address, absurd length, markup: a 400 that says why."""
    response = client.post(_sign_url(world), _form(**overrides))
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert "<script>alert(1)</script>" not in page
    assert _nothing_stored()


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("ru", "Мы можем записать это только"),
        ("kk", "Мұны тек сіздің келісіміңізбен жаза аламыз"),
    ],
)
def test_messages_come_in_the_supporters_language(
    world: World, client: Client, language: str, message: str
) -> None:
    """The Russian or Kazakh page gives the consent message in Russian or Kazakh."""
    with translation.override(language):
        url = _sign_url(world)  # /ru/… or /kk/…: the page's language is in its address
    response = client.post(url, _form(processing_consent="<omit>"))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _nothing_stored()


def test_signing_twice_gives_the_same_answer_and_one_signature(
    world: World, client: Client
) -> None:
    """The page does not reveal that an address has signed; the database keeps one row."""
    first = client.post(_sign_url(world), _form())
    second = client.post(_sign_url(world), _form(email="ANNA@Example.ORG", name="Someone"))
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert intake.record() == 2
    assert Signature.objects.count() == 1
    assert Signature.objects.get().supporter.name == "Anna Berg"  # type: ignore[union-attr]


def test_public_names_appear_only_with_consent_and_the_count_can_be_hidden(
    world: World, client: Client
) -> None:
    """Confirmed signers who agreed are listed; a hidden count is not shown."""
    for email, name, consent in [
        ("anna@example.org", "Anna Berg", True),
        ("olga@example.org", "Olga Secret", False),
    ]:
        services.sign_petition(
            world.petition,
            SupporterDetails(email=email, name=name),
            public_name_consent=consent,
            processing_consent=True,
            base_url="http://testserver",
        )
        services.confirm_signature(
            services.signature_token(
                Signature.objects.get(supporter__email_index=email_index(email))
            )
        )
    page = client.get(_sign_url(world)).content.decode()
    assert "2 signatures" in page
    assert "Anna Berg" in page
    assert "Olga Secret" not in page
    world.petition.hide_count = True
    world.petition.save()
    hidden = client.get(_sign_url(world)).content.decode()
    assert "2 signatures" not in hidden
    assert 'id="count"' not in hidden


def test_a_closed_petition_shows_no_form_and_refuses_posts(world: World, client: Client) -> None:
    """After delivery the page says it is closed, and a post records nothing."""
    world.petition.accepting = False
    world.petition.save()
    assert "This petition is closed" in client.get(_sign_url(world)).content.decode()
    response = client.post(_sign_url(world), _form())
    assert response.status_code == 400
    assert "This petition is closed" in response.content.decode()
    assert _nothing_stored()


# -- Confirmation -------------------------------------------------------------------------------


def test_opening_the_link_does_not_confirm_only_the_button_does(
    world: World, client: Client
) -> None:
    """GET (what a mail scanner does) shows a button; only POST counts the signature."""
    client.post(_sign_url(world), _form())
    intake.record()
    signature = Signature.objects.get()
    url = reverse("campaigns:confirm_signature", args=[services.signature_token(signature)])
    for _ in range(3):
        page = client.get(url)
        assert page.status_code == 200
        assert "Confirm my signature" in page.content.decode()
    # A secret link gets no share-card tags that would copy it into a preview.
    assert 'property="og:' not in page.content.decode()
    assert Signature.objects.get().status == Signature.Status.PENDING
    assert client.head(url).status_code == 200
    assert Signature.objects.get().status == Signature.Status.PENDING
    done = client.post(url)
    assert "now counts" in done.content.decode()
    assert Signature.objects.get().status == Signature.Status.CONFIRMED
    assert "Your signature was already confirmed" in client.get(url).content.decode()


def test_an_unknown_link_says_what_may_have_happened(world: World, client: Client) -> None:
    """A wrong token is a 404 page that explains, and posting to it confirms nothing."""
    url = reverse("campaigns:confirm_signature", args=["f" * 64])
    response = client.get(url)
    assert response.status_code == 404
    assert "This confirmation link is not valid" in response.content.decode()
    assert client.post(url).status_code == 404


def test_the_confirmation_needs_the_csrf_token_of_its_page(world: World) -> None:
    """A cross-site POST cannot confirm a signature on someone's behalf."""
    strict = Client(enforce_csrf_checks=True)
    strict.post(_sign_url(world), _form())  # refused too: no token
    assert not Signature.objects.exists()
    services.sign_petition(
        world.petition,
        SupporterDetails(email="anna@example.org", name="Anna"),
        processing_consent=True,
        base_url="http://testserver",
    )
    url = reverse(
        "campaigns:confirm_signature",
        args=[services.signature_token(Signature.objects.get())],
    )
    assert strict.post(url).status_code == 403
    assert Signature.objects.get().status == Signature.Status.PENDING


# -- Urgent action page -------------------------------------------------------------------------


def test_the_letter_comes_in_the_visitors_language_with_salutation_and_address(
    world: World, client: Client
) -> None:
    """A Russian visitor sees the Russian points under the salutation, beside the address."""
    url = reverse("campaigns:urgent_action", args=[world.urgent_action.slug])
    with translation.override("ru"):
        russian_url = reverse("campaigns:urgent_action", args=[world.urgent_action.slug])
    page = client.get(russian_url).content.decode()
    russian_points = "Немедленно и безоговорочно освободите"
    assert "Dear Ambassador,\n\n" + russian_points in page
    assert "125 Pall Mall<br>London SW1Y 5EA" in page
    english = client.get(url + "?letter=en").content.decode()
    assert "Dear Ambassador,\n\nRelease Natalya Sokolova immediately" in english
    assert "Please send appeals before 2030-12-31" in english


def test_reported_letters_are_counted_on_the_page(world: World, client: Client) -> None:
    """A report adds to the total the page shows; a bad one stores nothing."""
    url = reverse("campaigns:urgent_action", args=[world.urgent_action.slug])
    bad = client.post(url, {**_form(), "letters": "5000", "target": ""})
    assert bad.status_code == 400
    assert "Please report between 1 and 100 letters." in bad.content.decode()
    assert not LetterReport.objects.exists()
    response = client.post(url, {**_form(), "letters": "3", "target": str(world.embassy.pk)})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "3 letters reported so far" in page
    assert "your letters have been counted" in page
    assert LetterReport.objects.get().target == world.embassy


def test_a_closed_urgent_action_shows_the_closure_and_no_form(world: World, client: Client) -> None:
    """After the closure update the page says "stop writing" and shows the update."""
    services.publish_update(
        world.urgent_action,
        date=dt.date(2012, 3, 20),
        text_en="Natalya Sokolova has been released.",
        is_closure=True,
        base_url="http://testserver",
    )
    page = client.get(
        reverse("campaigns:urgent_action", args=[world.urgent_action.slug])
    ).content.decode()
    assert "This urgent action is closed" in page
    assert "Natalya Sokolova has been released." in page
    assert "Report my letters" not in page


# -- Actions: calendar, places, RSVP ------------------------------------------------------------


def test_the_calendar_lists_public_actions_only(world: World, client: Client) -> None:
    """Past and coming actions are listed; a private one is not."""
    Action.objects.create(
        section=world.section,
        is_public=False,
        campaign=world.campaign,
        kind=ActionKind.DELEGATION,
        title_en="Secret delegation",
        starts_at=dt.datetime(2031, 5, 1, 9, tzinfo=dt.UTC),
    )
    page = client.get(reverse("campaigns:action_calendar")).content.decode()
    assert "Protest outside the Kazakh embassy, London" in page
    assert "40 took part" in page
    assert "Secret delegation" not in page
    assert "No actions are planned at the moment." in page


def test_actions_by_country_and_city(world: World, client: Client) -> None:
    """Actions are grouped under their country code and city."""
    page = client.get(reverse("campaigns:actions_by_place")).content.decode()
    assert page.index("DE") < page.index("Berlin") < page.index("GB") < page.index("London")


def test_a_supporter_can_say_they_will_come(world: World, client: Client) -> None:
    """An RSVP to a coming action is stored once; a second one gets the same thanks."""
    action = world.protests[0]
    action.starts_at = dt.datetime(2031, 1, 1, 12, tzinfo=dt.UTC)
    action.ends_at = None
    action.save()
    url = reverse("campaigns:action", args=[action.pk])
    data = _form(country="")
    first = client.post(url, data)
    second = client.post(url, data)
    assert first.status_code == second.status_code == 302
    assert action.rsvps.count() == 1
    assert "the organisers know to expect you" in client.get(first["Location"]).content.decode()
