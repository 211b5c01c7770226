"""Fixtures shared by the campaigns tests: a small campaign world, a real SMTP server on
loopback, and the real database task worker. (No tests here; the test_ prefix keeps the module
beside the tests that import it.)"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import signal
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage as ParsedMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.core.management import call_command
from pytest_django import Settings

from solidarity.campaigns.models import (
    Action,
    ActionKind,
    ActionSeries,
    Campaign,
    Demand,
    DemandKind,
    Petition,
    Target,
    UrgentAction,
)
from solidarity.core.models import Section
from solidarity.documentation.models import Act, Event, Organisation, Person, Place
from solidarity.documentation.vocabularies import EventType, OrganisationKind


@dataclass
class World:
    section: Section
    abroad: Section
    organiser: Organisation
    sokolova: Person
    imprisonment: Event
    release: Event
    london: Place
    berlin: Place
    campaign: Campaign
    demand: Demand
    embassy: Target
    petition: Petition
    urgent_action: UrgentAction
    series: ActionSeries
    protests: list[Action] = field(default_factory=list)


def make_world(section: Section) -> World:
    abroad = Section.objects.create(
        slug="england-wales", name_en="Socialist Party", kind="national", country="GB"
    )
    organiser = Organisation.objects.create(
        section=section,
        is_public=True,
        slug="cwi",
        name_en="Committee for a Workers' International",
        kind=OrganisationKind.INTERNATIONAL,
    )
    sokolova = Person.objects.create(
        section=section,
        is_public=True,
        slug="natalya-sokolova",
        given_name="Natalya",
        family_name="Sokolova",
    )
    imprisonment = Event.objects.create(
        section=section,
        is_public=True,
        slug="sokolova-imprisoned",
        type=EventType.IMPRISONMENT,
        title_en="Natalya Sokolova sentenced to six years",
        date="2011-08-08",
    )
    Act.objects.create(event=imprisonment, type=EventType.IMPRISONMENT, victim=sokolova)
    release = Event.objects.create(
        section=section,
        is_public=True,
        slug="sokolova-released",
        type=EventType.RELEASE,
        title_en="Natalya Sokolova released",
        date="2012-03",
    )
    Act.objects.create(event=release, type=EventType.RELEASE, victim=sokolova)
    london = Place.objects.create(
        section=section,
        is_public=True,
        slug="london",
        name_en="London",
        name_ru="Лондон",
        kind=Place.Kind.CITY,
        country_code="GB",
    )
    berlin = Place.objects.create(
        section=section,
        is_public=True,
        slug="berlin",
        name_en="Berlin",
        kind=Place.Kind.CITY,
        country_code="DE",
    )
    campaign = Campaign.objects.create(
        section=section,
        is_public=True,
        slug="campaign-kazakhstan",
        title_en="Campaign Kazakhstan",
        title_ru="Кампания «Казахстан»",
        summary_en="Release the jailed oil workers' lawyers.",
        organiser=organiser,
        started="2011",
    )
    demand = Demand.objects.create(
        campaign=campaign,
        kind=DemandKind.RELEASE_PERSON,
        person=sokolova,
        text_en="Release Natalya Sokolova",
        text_ru="Освободить Наталью Соколову",
        demanded_on="2011-08",
    )
    embassy = Target.objects.create(
        section=section,
        is_public=True,
        kind=Target.Kind.EMBASSY,
        name="Embassy of the Republic of Kazakhstan",
        country="GB",
        city="London",
        postal_address="125 Pall Mall\nLondon SW1Y 5EA",
        email="london@mfa.kz",
        salutation="Dear Ambassador",
        language="en",
    )
    petition = Petition.objects.create(
        section=section,
        is_public=True,
        campaign=campaign,
        slug="free-natalya",
        title_en="Free Natalya Sokolova",
        title_ru="Свободу Наталье Соколовой",
        text_en="We call for the immediate release of Natalya Sokolova.",
        target=embassy,
        goal=1000,
    )
    urgent_action = UrgentAction.objects.create(
        section=section,
        is_public=True,
        campaign=campaign,
        number="UA 3/12",
        slug="ua-3-12",
        person=sokolova,
        issued_on=dt.date(2011, 9, 1),
        deadline=dt.date(2030, 12, 31),
        title_en="Lawyer jailed for defending strikers",
        title_ru="Юрист осуждена за защиту бастующих",
        what_happened_en="Natalya Sokolova was sentenced to six years.",
        recommended_points_en="Release Natalya Sokolova immediately and unconditionally.",
        recommended_points_ru="Немедленно и безоговорочно освободите Наталью Соколову.",
    )
    urgent_action.targets.add(embassy)
    series = ActionSeries.objects.create(
        section=section,
        is_public=True,
        campaign=campaign,
        slug="embassy-protests",
        title_en="Protest outside the Kazakh embassy",
    )
    protests = [
        Action.objects.create(
            section=abroad,
            is_public=True,
            campaign=campaign,
            series=series,
            kind=ActionKind.PROTEST,
            title_en="Protest outside the Kazakh embassy, London",
            place=london,
            address="125 Pall Mall",
            starts_at=dt.datetime(2011, 9, 15, 12, 0, tzinfo=dt.UTC),
            ends_at=dt.datetime(2011, 9, 15, 14, 0, tzinfo=dt.UTC),
            participants=40,
        ),
        Action.objects.create(
            section=section,
            is_public=True,
            campaign=campaign,
            series=series,
            kind=ActionKind.PROTEST,
            title_en="Kundgebung vor der kasachischen Botschaft, Berlin",
            place=berlin,
            starts_at=dt.datetime(2011, 10, 3, 11, 0, tzinfo=dt.UTC),
            participants=25,
        ),
    ]
    return World(
        section=section,
        abroad=abroad,
        organiser=organiser,
        sokolova=sokolova,
        imprisonment=imprisonment,
        release=release,
        london=london,
        berlin=berlin,
        campaign=campaign,
        demand=demand,
        embassy=embassy,
        petition=petition,
        urgent_action=urgent_action,
        series=series,
        protests=protests,
    )


# -- A real SMTP server -------------------------------------------------------------------------


class Mailbox:
    """What the SMTP server received, parsed back into messages."""

    def __init__(self) -> None:
        self.messages: list[ParsedMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, ParsedMessage)
        with self._lock:
            self.messages.append(parsed)
            self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[ParsedMessage]:
        with self._lock:
            return [m for m in self.messages if m["To"] == address]

    def subject(self, message: ParsedMessage) -> str:
        # Django folds a long non-ASCII subject right after "Subject:", which Python's parser
        # reads back with one leading space; mail clients drop it.
        return str(message["Subject"]).strip()

    def body(self, message: ParsedMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        assert part is not None
        content = part.get_content()
        assert isinstance(content, str)
        return content


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(name="mailbox")
def mailbox_fixture(settings: Settings) -> Iterator[Mailbox]:
    """An aiosmtpd server on loopback; Django's SMTP backend sends to it."""
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    # pytest-django swaps in the in-memory backend for every test; these tests talk SMTP.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield box
    finally:
        controller.stop()


def run_worker() -> None:
    """Run the real database worker until the queue is empty, as `solidarity db_worker` does."""
    saved: dict[int, Any] = {
        sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)
    }
    try:
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    finally:
        # The worker installs its own shutdown handlers; pytest's Ctrl-C must work afterwards.
        for sig, handler in saved.items():
            signal.signal(sig, handler)
