"""The public forms (signing, letter reports, RSVPs) must come back no sooner than a person
could fill them in, with their page's own genuine stamp; otherwise nothing is stored and the
form comes back with what was typed, a fresh stamp and a polite message (ASVS 2.4.2)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse
from pytest_django import Settings

from solidarity.campaigns import human_timing, intake, page_cache
from solidarity.campaigns.models import Action, LetterReport, Rsvp, Signature, SignatureIntake
from solidarity.core.models import Section
from tests.test_api_support import api, make_campaign_world, organiser_token
from tests.test_campaigns_support import World, make_world

TOO_FAST = "That was quicker than a person usually fills in this form"
NOT_CHECKED = "This form was open too long or could not be checked"
STAMP = re.compile(r'name="served" value="([^"]*)"')
# Read before any test overrides it: settings.py's default (or the environment's).
PRODUCTION_MINIMUM = django_settings.SOLIDARITY_FORM_MIN_SECONDS


class Clock:
    """The stamps' clock, moved by the test instead of waiting for it."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now

    def time_ns(self) -> int:
        return int(self.now * 1_000_000_000)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(human_timing, "time", fake)
    return fake


@pytest.fixture(autouse=True)
def _real_minimum(_no_wait_on_public_forms: None, settings: Settings) -> None:
    """The production minimum, which tests/conftest.py sets to 0 for every other test."""
    settings.SOLIDARITY_FORM_MIN_SECONDS = PRODUCTION_MINIMUM
    assert human_timing.minimum_seconds() == 3


@pytest.fixture
def world(section: Section) -> Iterator[World]:
    page_cache.forget_all()
    yield make_world(section)
    page_cache.forget_all()


@dataclass
class PublicForm:
    name: str
    url: str
    data: dict[str, str]

    def stored(self) -> int:
        if self.name == "sign":
            return SignatureIntake.objects.count() + Signature.objects.count()
        if self.name == "letters":
            return LetterReport.objects.count()
        return Rsvp.objects.count()


def _coming_action(world: World, index: int = 0) -> Action:
    action = world.protests[index]
    action.starts_at = dt.datetime(2031, 1, 1, 12, tzinfo=dt.UTC)
    action.ends_at = None
    action.save()
    return action


def _typed(email: str = "anna@example.org") -> dict[str, str]:
    return {
        "name": "Anna Berg",
        "email": email,
        "country": "Germany",
        "language": "en",
        "processing_consent": "on",
    }


def _forms(world: World) -> dict[str, PublicForm]:
    return {
        "sign": PublicForm(
            "sign", reverse("campaigns:petition", args=[world.petition.slug]), _typed()
        ),
        "letters": PublicForm(
            "letters",
            reverse("campaigns:urgent_action", args=[world.urgent_action.slug]),
            {**_typed(), "letters": "3", "target": ""},
        ),
        "rsvp": PublicForm(
            "rsvp", reverse("campaigns:action", args=[_coming_action(world).pk]), _typed()
        ),
    }


FORMS = ["sign", "letters", "rsvp"]


def _stamp(page: str) -> str:
    match = STAMP.search(page)
    assert match is not None, "the form has no stamp"
    return match.group(1)


def _served(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return _stamp(response.content.decode())


def _shown_again(response_content: bytes, message: str) -> str:
    """The page of a refused submission: the message, and everything typed still filled in."""
    page = response_content.decode()
    assert message in page
    assert 'value="Anna Berg"' in page
    assert 'value="anna@example.org"' in page
    assert 'value="Germany"' in page
    assert re.search(r'name="processing_consent"[^>]*checked', page)
    return page


@pytest.mark.parametrize("kind", FORMS)
def test_a_form_sent_too_soon_is_kept_and_goes_through_when_sent_again(
    kind: str, world: World, client: Client, clock: Clock
) -> None:
    """Sent two seconds after its page: not stored, shown again with what was typed and a
    fresh stamp; the person sends it again three seconds later and it is stored."""
    form = _forms(world)[kind]
    stamp = _served(client, form.url)
    clock.now += 2
    refused = client.post(form.url, {**form.data, "served": stamp})
    assert refused.status_code == 400
    page = _shown_again(refused.content, TOO_FAST)
    assert form.stored() == 0
    fresh = _stamp(page)
    assert fresh != stamp
    clock.now += 3
    sent_again = client.post(form.url, {**form.data, "served": fresh})
    assert sent_again.status_code == 302
    assert form.stored() == 1


@pytest.mark.parametrize("kind", FORMS)
def test_a_form_sent_after_the_minimum_is_stored_as_before(
    kind: str, world: World, client: Client, clock: Clock
) -> None:
    form = _forms(world)[kind]
    stamp = _served(client, form.url)
    clock.now += 3.5
    assert client.post(form.url, {**form.data, "served": stamp}).status_code == 302
    assert form.stored() == 1


@pytest.mark.parametrize("kind", FORMS)
@pytest.mark.parametrize("stamp", ["<omit>", "", "1799999990000:forged", "<tampered>"])
def test_a_missing_or_forged_stamp_stores_nothing(
    kind: str, stamp: str, world: World, client: Client, clock: Clock
) -> None:
    """Without a genuine stamp (none, empty, made up, or a real one with an earlier time
    written in) the form comes back with the message and what was typed."""
    form = _forms(world)[kind]
    genuine = _served(client, form.url)
    clock.now += 60
    data = dict(form.data)
    if stamp == "<tampered>":
        served, rest = genuine.split(".", 1)
        data["served"] = f"{int(served) - 60_000}.{rest}"
    elif stamp != "<omit>":
        data["served"] = stamp
    response = client.post(form.url, data)
    assert response.status_code == 400
    _shown_again(response.content, NOT_CHECKED)
    assert form.stored() == 0


def test_a_stamp_is_bound_to_its_form_and_what_it_is_for(
    world: World, client: Client, clock: Clock
) -> None:
    """A stamp served with one form, old enough, does not let another form skip its wait:
    neither another kind of form nor the same form of another action."""
    forms = _forms(world)
    other_action = _coming_action(world, 1)
    other_url = reverse("campaigns:action", args=[other_action.pk])
    stamps = {kind: _served(client, form.url) for kind, form in forms.items()}
    other_stamp = _served(client, other_url)
    clock.now += 60
    replays = [
        (forms["sign"], stamps["rsvp"]),
        (forms["letters"], stamps["sign"]),
        (forms["rsvp"], stamps["letters"]),
        (forms["rsvp"], other_stamp),
    ]
    for form, stamp in replays:
        response = client.post(form.url, {**form.data, "served": stamp})
        assert response.status_code == 400, form.name
        assert NOT_CHECKED in response.content.decode()
        assert form.stored() == 0
    assert client.post(other_url, {**_typed(), "served": other_stamp}).status_code == 302


def _anonymous(page: bytes) -> str:
    """A page with its stamp and CSRF token blanked: what is left is the answer itself."""
    return re.sub(r'value="[^"]{40,}"', 'value="TOKEN"', page.decode())


@pytest.mark.parametrize("kind", FORMS)
def test_a_stamp_is_used_once(kind: str, world: World, client: Client, clock: Clock) -> None:
    """A script that loads the page once and sends its stamp again, for another address:
    nothing more is stored, and the answer is word for word that to a missing stamp, so it
    does not say what went wrong."""
    form = _forms(world)[kind]
    stamp = _served(client, form.url)
    clock.now += 3.5
    assert client.post(form.url, {**form.data, "served": stamp}).status_code == 302
    assert form.stored() == 1
    other = {**form.data, "email": "boris@example.org"}
    clock.now += 60
    replayed = client.post(form.url, {**other, "served": stamp})
    missing = client.post(form.url, other)
    assert replayed.status_code == missing.status_code == 400
    assert NOT_CHECKED in replayed.content.decode()
    assert _anonymous(replayed.content) == _anonymous(missing.content)
    assert form.stored() == 1
    if kind == "sign":
        assert intake.record() == 1
        assert Signature.objects.count() == 1


@pytest.mark.parametrize("kind", FORMS)
def test_a_form_refused_for_what_was_typed_goes_through_once_corrected(
    kind: str, world: World, client: Client, clock: Clock
) -> None:
    """A mistyped address, sent after the wait: shown again with a fresh stamp; corrected and
    sent with it, the form is stored (the mistake used up nothing)."""
    form = _forms(world)[kind]
    stamp = _served(client, form.url)
    clock.now += 3.5
    refused = client.post(form.url, {**form.data, "email": "anna@", "served": stamp})
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "This is not an e-mail address we can write to" in page
    assert NOT_CHECKED not in page and TOO_FAST not in page
    assert form.stored() == 0
    fresh = _stamp(page)
    assert fresh != stamp
    clock.now += 10
    assert client.post(form.url, {**form.data, "served": fresh}).status_code == 302
    assert form.stored() == 1


@pytest.mark.parametrize("kind", FORMS)
def test_two_page_loads_at_the_same_moment_give_two_usable_stamps(
    kind: str, world: World, client: Client, clock: Clock
) -> None:
    """Two loads in the same millisecond (the stopped clock): two different stamps, each good
    for one submission."""
    form = _forms(world)[kind]
    first, second = _served(client, form.url), _served(client, form.url)
    assert first != second
    clock.now += 3.5
    assert client.post(form.url, {**form.data, "served": first}).status_code == 302
    boris = {**form.data, "email": "boris@example.org", "served": second}
    assert client.post(form.url, boris).status_code == 302
    assert form.stored() == 2


def test_a_stamp_older_than_a_day_is_refused(world: World, client: Client, clock: Clock) -> None:
    form = _forms(world)["sign"]
    stamp = _served(client, form.url)
    clock.now += human_timing.MAX_AGE + 1
    response = client.post(form.url, {**form.data, "served": stamp})
    assert response.status_code == 400
    _shown_again(response.content, NOT_CHECKED)
    assert form.stored() == 0


def test_the_shared_petition_page_gives_each_reader_a_stamp_of_their_own(
    world: World, clock: Clock
) -> None:
    """Two readers of the kept page get different stamps, each good for their own signature;
    the kept page itself holds only the placeholder."""
    url = _forms(world)["sign"].url
    anna, boris = Client(), Client()
    anna_stamp = _served(anna, url)
    clock.now += 0.5
    boris_stamp = _served(boris, url)
    assert anna_stamp != boris_stamp
    kept = [body for _expires, _generation, body in page_cache._pages.values()]
    assert len(kept) == 1, "the second reader was not served the kept page"
    assert human_timing.PLACEHOLDER in kept[0]
    assert anna_stamp not in kept[0] and boris_stamp not in kept[0]
    clock.now += 3
    assert anna.post(url, {**_typed(), "served": anna_stamp}).status_code == 302
    assert boris.post(url, {**_typed("boris@example.org"), "served": boris_stamp}).status_code
    assert intake.record() == 2


def test_the_answer_does_not_say_whether_the_address_has_signed(
    world: World, client: Client, clock: Clock
) -> None:
    """Too soon is said the same way for an address that has signed and one that has not."""
    form = _forms(world)["sign"]
    stamp = _served(client, form.url)
    clock.now += 5
    assert client.post(form.url, {**form.data, "served": stamp}).status_code == 302
    assert intake.record() == 1

    def too_soon(email: str) -> str:
        stamp = _served(client, form.url)
        clock.now += 1
        response = client.post(form.url, {**_typed(email), "served": stamp})
        assert response.status_code == 400
        page = response.content.decode().replace(email, "EMAIL")
        return re.sub(r'value="[^"]{40,}"', 'value="TOKEN"', page)

    assert too_soon("anna@example.org") == too_soon("nobody@example.org")


@pytest.mark.parametrize("value", ["-1", "soon", "inf", "nan"])
def test_a_bad_minimum_is_a_loud_configuration_error(value: str, settings: Settings) -> None:
    settings.SOLIDARITY_FORM_MIN_SECONDS = value
    with pytest.raises(ImproperlyConfigured, match="SOLIDARITY_FORM_MIN_SECONDS"):
        human_timing.minimum_seconds()


def test_with_no_minimum_a_missing_stamp_passes_but_a_forged_one_does_not(
    world: World, client: Client, settings: Settings
) -> None:
    """0 (the test suites', a load bench's) waives the wait, not the stamp's signature."""
    settings.SOLIDARITY_FORM_MIN_SECONDS = "0"
    form = _forms(world)["rsvp"]
    forged = client.post(form.url, {**form.data, "served": "1:forged"})
    assert forged.status_code == 400
    assert form.stored() == 0
    assert client.post(form.url, form.data).status_code == 302
    assert form.stored() == 1


def test_with_no_minimum_a_stamp_is_still_used_once(
    world: World, client: Client, settings: Settings
) -> None:
    """0 waives the wait, not the single use of a stamp that is sent."""
    settings.SOLIDARITY_FORM_MIN_SECONDS = "0"
    form = _forms(world)["rsvp"]
    stamp = _served(client, form.url)
    assert client.post(form.url, {**form.data, "served": stamp}).status_code == 302
    boris = {**form.data, "email": "boris@example.org"}
    replayed = client.post(form.url, {**boris, "served": stamp})
    assert replayed.status_code == 400
    assert NOT_CHECKED in replayed.content.decode()
    assert form.stored() == 1
    assert client.post(form.url, boris).status_code == 302
    assert form.stored() == 2


def test_the_apis_record_signature_helper_is_not_timed(section: Section) -> None:
    """Authenticated tools sign through the API at once and without a stamp: they are limited
    by their token (human_timing.py says why)."""
    world = make_campaign_world(section)
    response = api(organiser_token()).post(
        f"/api/v2/petitions/{world.petition.pk}/signatures/",
        {
            "person": {
                "given_name": "Anna",
                "email_addresses": [{"address": "a@example.org"}],
                "postal_addresses": [{"country": "Germany"}],
            },
            "solidarity:consent": {"processing": True},
        },
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    assert Signature.objects.count() == 1
