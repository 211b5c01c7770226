"""E-mail to supporters: queued in the database with the change, sent by the real database
worker (`db_worker --batch`) through Django's SMTP backend to an aiosmtpd server on loopback,
and read back from that server.

These tests use `transactional_db`: the worker commits and closes connections as it does in
production, which a test wrapped in one rolled-back transaction would not survive.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from solidarity.campaigns import services
from solidarity.campaigns.models import Signature, UrgentActionUpdate
from solidarity.campaigns.services import SupporterDetails
from solidarity.core.models import Section
from tests.test_campaigns_support import (  # mailbox_fixture: imported to register it
    Mailbox,
    World,
    mailbox_fixture,  # noqa: F401
    make_world,
    run_worker,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world() -> World:
    section = Section.objects.create(slug="home", name_en="Home organisation", kind="home")
    return make_world(section)


def _sign(client: Client, world: World, email: str, language: str = "en") -> None:
    response = client.post(
        reverse("campaigns:petition", args=[world.petition.slug]),
        {
            "name": "Anna Berg",
            "email": email,
            "country": "Germany",
            "language": language,
            "processing_consent": "on",
            "public_name_consent": "on",
        },
    )
    assert response.status_code == 302


def _link(body: str) -> str:
    found = re.search(r"http://testserver(/(?:en|ru|kk)/petitions/confirm/[0-9a-f]+/)", body)
    assert found, body
    return found.group(1)


def test_signing_through_the_confirmation_email_to_the_count(
    world: World, client: Client, mailbox: Mailbox
) -> None:
    """Sign on the page, receive the e-mail over SMTP, open its link, press the button."""
    _sign(client, world, "anna@example.org")
    assert mailbox.messages == []  # nothing is sent until the worker runs
    run_worker()
    [message] = mailbox.to("anna@example.org")
    assert mailbox.subject(message) == "Please confirm your signature: Free Natalya Sokolova"
    assert mailbox.envelopes[0][1] == ["anna@example.org"]
    link = _link(mailbox.body(message))
    assert link.startswith("/en/")
    petition = reverse("campaigns:petition", args=[world.petition.slug])
    assert "0 signatures" in client.get(petition).content.decode()
    assert "Confirm my signature" in client.get(link).content.decode()
    assert Signature.objects.get().status == Signature.Status.PENDING
    client.post(link)
    page = client.get(petition).content.decode()
    assert "1 signature" in page
    assert "Anna Berg" in page
    # The recording of the received signature, then its e-mail.
    assert [task.status for task in DBTaskResult.objects.all()] == ["SUCCESSFUL"] * 2


def test_the_email_comes_in_the_language_the_supporter_chose(
    world: World, client: Client, mailbox: Mailbox
) -> None:
    """A supporter who chose Russian gets the Russian e-mail and the Russian petition title."""
    _sign(client, world, "olga@example.org", language="ru")
    run_worker()
    [message] = mailbox.to("olga@example.org")
    assert mailbox.subject(message) == "Подтвердите, пожалуйста, подпись: Свободу Наталье Соколовой"
    assert "Спасибо, что подписали" in mailbox.body(message)
    # The link opens the confirmation page in Russian, whatever language the signer browsed in.
    link = _link(mailbox.body(message))
    assert link.startswith("/ru/petitions/confirm/")
    assert 'lang="ru"' in client.get(link).content.decode()


def test_signing_twice_mails_the_signer_instead_of_counting_twice(
    world: World, client: Client, mailbox: Mailbox
) -> None:
    """Before confirming: a fresh link. After: a note that the signature already counts.
    (At most one mail per interval: each re-signing here comes after it has passed.)"""
    _sign(client, world, "anna@example.org")
    run_worker()
    _interval_passes()
    _sign(client, world, "Anna@Example.org")
    run_worker()
    first, second = mailbox.to("anna@example.org")
    old, new = _link(mailbox.body(first)), _link(mailbox.body(second))
    assert old != new
    assert client.get(old).status_code == 404  # replaced by the newer link
    client.post(new)
    _interval_passes()
    _sign(client, world, "ANNA@example.org")
    run_worker()
    third = mailbox.to("anna@example.org")[2]
    assert mailbox.subject(third) == "You have already signed: Free Natalya Sokolova"
    assert Signature.objects.count() == 1
    assert services.count_signatures(world.petition) == 1


def _interval_passes() -> None:
    """As if SOLIDARITY_SIGNATURE_MAIL_INTERVAL had passed since the last mail."""
    cache.delete(f"signature-mail:{Signature.objects.get().pk}")


def test_a_script_signing_with_someones_address_sends_them_one_mail(
    world: World, client: Client, mailbox: Mailbox
) -> None:
    """Ten signings with one address, each from another client (under every per-client
    limit): one mail reaches that address, and its link still works."""
    for n in range(10):
        client.defaults["REMOTE_ADDR"] = f"198.51.100.{n + 1}"
        _sign(client, world, "victim@example.org")
    run_worker()
    (only,) = mailbox.to("victim@example.org")
    assert client.get(_link(mailbox.body(only))).status_code == 200


def test_an_erased_signers_pending_email_is_never_sent(
    world: World, client: Client, mailbox: Mailbox
) -> None:
    """The worker reads the current rows: erased before it ran, nothing goes out."""
    from django.contrib.auth.models import User

    _sign(client, world, "anna@example.org")
    admin = User.objects.create_superuser("admin", password="a long test password")
    services.erase_supporter("anna@example.org", user=admin)
    run_worker()
    assert mailbox.messages == []


def test_updates_and_closure_go_to_everyone_who_took_part_and_agreed(
    world: World, client: Client, mailbox: Mailbox
) -> None:
    """One message per address that reported letters and asked for news; none to others."""
    ua = world.urgent_action
    for email, consent, language in [
        ("anna@example.org", True, "en"),
        ("ANNA@example.org", True, "en"),  # reported twice: one message
        ("olga@example.org", True, "ru"),
        ("quiet@example.org", False, "en"),
    ]:
        services.report_letters(
            ua,
            SupporterDetails(email=email, name="Supporter", language=language),
            letters=2,
            contact_consent=consent,
            processing_consent=True,
        )
    services.publish_update(
        ua,
        date=dt.date(2012, 3, 20),
        text_en="Natalya Sokolova has been released. Thank you: stop writing.",
        text_ru="Наталья Соколова освобождена. Спасибо: больше не пишите.",
        is_closure=True,
        base_url="http://testserver",
    )
    run_worker()
    assert sorted(to for _from, tos in mailbox.envelopes for to in tos) == [
        "anna@example.org",
        "olga@example.org",
    ]
    [english] = mailbox.to("anna@example.org")
    assert mailbox.subject(english) == "UA 3/12 closed: Lawyer jailed for defending strikers"
    assert "stop writing" in mailbox.body(english)
    assert "http://testserver/en/urgent-actions/ua-3-12/" in mailbox.body(english)
    [russian] = mailbox.to("olga@example.org")
    assert mailbox.subject(russian) == "UA 3/12 закрыта: Юрист осуждена за защиту бастующих"
    assert "Наталья Соколова освобождена" in mailbox.body(russian)
    assert "http://testserver/ru/urgent-actions/ua-3-12/" in mailbox.body(russian)
    update = UrgentActionUpdate.objects.get()
    assert update.sent_at is not None and update.recipients == 2
    page = client.get(reverse("campaigns:urgent_action", args=[ua.slug])).content.decode()
    assert "Natalya Sokolova has been released." in page


def test_a_task_that_ran_is_not_sent_again(world: World, mailbox: Mailbox) -> None:
    """Running the worker again sends nothing twice."""
    services.report_letters(
        world.urgent_action,
        SupporterDetails(email="anna@example.org", name="Anna"),
        letters=1,
        contact_consent=True,
        processing_consent=True,
    )
    services.publish_update(
        world.urgent_action,
        date=dt.date(2012, 1, 10),
        text_en="Her appeal was heard today.",
        base_url="http://testserver",
    )
    run_worker()
    run_worker()
    assert len(mailbox.messages) == 1
