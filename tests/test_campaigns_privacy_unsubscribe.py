"""Every e-mail to a supporter carries their own unsubscribe link and the RFC 8058 headers; after
unsubscribing, nothing more is sent to them.

Mail goes through the real database worker and Django's SMTP backend to an aiosmtpd server on
loopback (see tests/test_campaigns_support.py), and the links are followed with the test client
as a mail client or a person would.
"""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage as ParsedMessage

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import translation

from solidarity.campaigns import services
from solidarity.campaigns.models import LetterReport, Signature, Supporter, UrgentActionUpdate
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

ONE_CLICK = "List-Unsubscribe=One-Click"


@pytest.fixture
def world() -> World:
    section = Section.objects.create(slug="home", name_en="Home organisation", kind="home")
    return make_world(section)


def _report(world: World, email: str, language: str = "en") -> None:
    services.report_letters(
        world.urgent_action,
        SupporterDetails(email=email, name="Supporter", language=language),
        letters=1,
        contact_consent=True,
        processing_consent=True,
    )


def _publish(world: World, text: str, *, is_closure: bool = False) -> None:
    services.publish_update(
        world.urgent_action,
        date=dt.date(2012, 3, 20),
        text_en=text,
        is_closure=is_closure,
        base_url="http://testserver",
    )


def _sign(world: World, email: str, language: str = "en") -> None:
    services.sign_petition(
        world.petition,
        SupporterDetails(email=email, name="Anna Berg", language=language),
        processing_consent=True,
        base_url="http://testserver",
    )


def _unsubscribe_path(message: ParsedMessage, body: str) -> str:
    """The link of the List-Unsubscribe header, checked to be the one in the text as well."""
    header = str(message["List-Unsubscribe"]).strip()  # folded after the colon when long
    found = re.fullmatch(
        r"<http://testserver(/(?:en|ru|kk)/unsubscribe/[0-9]+-[0-9a-f]+/)>", header
    )
    assert found, header
    assert f"http://testserver{found.group(1)}" in body
    assert str(message["List-Unsubscribe-Post"]) == ONE_CLICK
    return found.group(1)


def test_every_kind_of_mail_carries_the_headers_and_the_link(
    world: World, mailbox: Mailbox
) -> None:
    """Confirmation, "already signed" and urgent action updates all carry RFC 8058 headers and
    the supporter's own link."""
    _sign(world, "anna@example.org")
    run_worker()
    services.confirm_signature(services.signature_token(Signature.objects.get()))
    cache.delete(f"signature-mail:{Signature.objects.get().pk}")  # the mail interval has passed
    _sign(world, "anna@example.org")
    _report(world, "olga@example.org")
    _publish(world, "Her appeal was heard today.")
    run_worker()
    confirmation, already = mailbox.to("anna@example.org")
    [update] = mailbox.to("olga@example.org")
    assert mailbox.subject(already).startswith("You have already signed")
    anna = [_unsubscribe_path(m, mailbox.body(m)) for m in (confirmation, already)]
    # Both mails concern the one signature of the address, so both carry its row's link; the
    # other supporter's differs: no link unsubscribes someone else.
    assert anna[0] == anna[1] != _unsubscribe_path(update, mailbox.body(update))


def test_one_click_post_unsubscribes_without_csrf_and_later_updates_skip_the_supporter(
    world: World, mailbox: Mailbox
) -> None:
    """The mail client's POST (no cookie, no CSRF token) unsubscribes; the next update and the
    closure go to the others only."""
    _report(world, "anna@example.org")
    _report(world, "ANNA@example.org ")  # a second report from the same address
    _report(world, "olga@example.org")
    _publish(world, "Her appeal was heard today.")
    run_worker()
    first = mailbox.to("anna@example.org")[0]
    path = _unsubscribe_path(first, mailbox.body(first))
    mail_client = Client(enforce_csrf_checks=True)
    response = mail_client.post(path, ONE_CLICK, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert Supporter.objects.exclude(unsubscribed_at=None).count() == 2  # both of Anna's rows
    assert not LetterReport.objects.filter(supporter__unsubscribed_at__isnull=False).filter(
        contact_consent=True
    )

    _publish(world, "Released today. Thank you: stop writing.", is_closure=True)
    run_worker()
    assert len(mailbox.to("anna@example.org")) == 1
    assert [mailbox.subject(m) for m in mailbox.to("olga@example.org")] == [
        "UA 3/12 update: Lawyer jailed for defending strikers",
        "UA 3/12 closed: Lawyer jailed for defending strikers",
    ]
    assert UrgentActionUpdate.objects.get(is_closure=True).recipients == 1


def test_opening_the_link_changes_nothing_until_the_button_is_pressed(
    world: World, client: Client, mailbox: Mailbox
) -> None:
    """A mail scanner that follows the link unsubscribes nobody; the button on the page does,
    and a pending signature's new confirmation link is then not mailed either."""
    _sign(world, "anna@example.org")
    run_worker()
    [message] = mailbox.to("anna@example.org")
    path = _unsubscribe_path(message, mailbox.body(message))
    page = client.get(path)
    assert page.status_code == 200
    assert "Send me no more e-mail" in page.content.decode()
    assert Supporter.objects.get().unsubscribed_at is None
    done = client.post(path)
    assert "We will send no more e-mail to this address" in done.content.decode()
    assert "We will send no more e-mail" in client.get(path).content.decode()
    _sign(world, "anna@example.org")  # signing again, still unconfirmed: would mail a new link
    run_worker()
    assert len(mailbox.to("anna@example.org")) == 1


def test_a_forged_or_erased_link_unsubscribes_nobody(world: World, client: Client) -> None:
    """A made-up token, another row's token or an erased supporter's link answers 404."""
    _sign(world, "anna@example.org")
    _sign(world, "olga@example.org")
    anna, olga = Supporter.objects.order_by("pk")
    token = services.unsubscribe_token(anna)
    forged = [
        f"{olga.pk}-{token.partition('-')[2]}",
        f"{anna.pk}-{'0' * 64}",
        "x-1",
        token + "0",
    ]
    for bad in forged:
        url = reverse("campaigns:unsubscribe", kwargs={"token": bad})
        assert client.post(url).status_code == 404, bad
    assert not Supporter.objects.exclude(unsubscribed_at=None).exists()
    from django.contrib.auth.models import User

    admin = User.objects.create_superuser("admin", password="a long test password")
    services.erase_supporter("anna@example.org", user=admin)
    url = reverse("campaigns:unsubscribe", kwargs={"token": token})
    assert client.post(url).status_code == 404


@pytest.mark.parametrize(
    ("language", "button", "done"),
    [
        ("en", "Send me no more e-mail", "We will send no more e-mail"),
        ("ru", "Больше не присылайте мне писем", "Мы больше не будем писать"),
        ("kk", "Маған бұдан былай хат жібермеңіз", "Бұл мекенжайға бұдан былай хат жібермейміз"),
    ],
)
def test_the_link_and_the_page_come_in_the_supporters_language(
    world: World, client: Client, mailbox: Mailbox, language: str, button: str, done: str
) -> None:
    """The link carries the supporter's language, so the page speaks it whatever the browser."""
    _sign(world, "anna@example.org", language=language)
    run_worker()
    [message] = mailbox.to("anna@example.org")
    body = mailbox.body(message)
    path = _unsubscribe_path(message, body)
    assert path.startswith(f"/{language}/unsubscribe/")
    with translation.override(language):
        footer = translation.gettext(
            "To receive no more e-mail from us, open this link and press the button on the page:"
        )
    assert footer in body
    assert button in client.get(path).content.decode()
    assert done in client.post(path).content.decode()
