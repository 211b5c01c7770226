"""An outage of the SMTP relay loses no e-mail (ASVS 16.5.2; solidarity/core/delivery.py).

The real database worker (`db_worker --batch`) sends through Django's SMTP backends to an
aiosmtpd server on loopback that is not running yet, answers 4xx or 5xx, or never answers. A
queued retry is due later (`run_after`); the tests make it due at once by moving its
`run_after` to now, as the clock would. Neither a log record nor the task table (arguments,
return values, tracebacks) may name a supporter's address at any point.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import smtplib
import socket
import time
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pytest_django import Settings

from solidarity.campaigns import services, tasks
from solidarity.campaigns.models import Signature, UrgentActionUpdate
from solidarity.campaigns.services import SupporterDetails
from solidarity.core.delivery import retry_delay
from solidarity.core.models import Section
from solidarity.safety.mail import MailNotSent, is_temporary
from tests.test_campaigns_support import Mailbox, World, make_world, run_worker

pytestmark = pytest.mark.django_db(transaction=True)

ANNA = "anna-outage@example.org"
OLGA = "olga-outage@example.org"
GREY = "grey-outage@example.org"  # the relay answers 451 for it until told otherwise
REFUSED = "refused-outage@example.org"  # the relay answers 550, echoing the address
ADDRESSES = (ANNA, OLGA, GREY, REFUSED)
CONFIRMATION = tasks.send_signature_confirmation.module_path
UPDATE_TO = tasks.send_urgent_action_update_to.module_path
PRODUCTION_SMTP_BACKEND = "solidarity.safety.mail.EmailBackend"
DJANGO_SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


class Relay(Mailbox):
    """An SMTP relay on a fixed loopback port that can be down, greylist or refuse."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port
        self.greylisted = {GREY}
        self._controller: Controller | None = None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.greylisted:
            return f"451 4.7.1 <{address}>: Recipient address rejected: greylisted, try again"
        if address == REFUSED:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def received_by(self, address: str) -> int:
        return sum(tos.count(address) for _from, tos in self.envelopes)


@pytest.fixture(params=[PRODUCTION_SMTP_BACKEND, DJANGO_SMTP_BACKEND], ids=["ours", "django"])
def relay(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Relay]:
    """The relay, down until a test starts it. Both backends: ours scrubs smtplib's errors,
    Django's does not, and the retry must name no address behind either."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    box = Relay(port)
    settings.EMAIL_BACKEND = request.param
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    settings.EMAIL_TIMEOUT = 5
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture
def world() -> World:
    section = Section.objects.create(slug="home", name_en="Home organisation", kind="home")
    return make_world(section)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


def _sign(world: World, email: str) -> None:
    response = Client().post(
        reverse("campaigns:petition", args=[world.petition.slug]),
        {
            "name": "Anna Berg",
            "email": email,
            "country": "Germany",
            "language": "en",
            "processing_consent": "on",
            "public_name_consent": "on",
        },
    )
    assert response.status_code == 302


def _report(world: World, email: str) -> None:
    services.report_letters(
        world.urgent_action,
        SupporterDetails(email=email, name="Supporter"),
        letters=1,
        contact_consent=True,
        processing_consent=True,
    )


def _waiting(path: str) -> list[DBTaskResult]:  # type: ignore[type-arg]
    return list(DBTaskResult.objects.filter(task_path=path, status="READY").order_by("enqueued_at"))


def _time_passes() -> None:
    """Every waiting retry is due now, as if its back-off had passed."""
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())


def _assert_no_address_anywhere(logs: pytest.LogCaptureFixture) -> None:
    """No address in any log record (message, arguments, traceback) nor in the task table."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for record in logs.records:
        if record.name == "mail.log":
            continue  # aiosmtpd's own: the test's relay stands for the provider, outside us
        text = formatter.format(record) + repr(record.args)
        leaked = [address for address in ADDRESSES if address in text]
        assert not leaked, f"a log record names {leaked}: {text}"
    for row in DBTaskResult.objects.all():
        stored = json.dumps(
            [row.args_kwargs, row.return_value, row.exception_class_path, row.traceback]
        )
        leaked = [address for address in ADDRESSES if address in stored]
        assert not leaked, f"the task table keeps {leaked}: {stored}"


def test_a_confirmation_mail_waits_out_the_outage_and_arrives_once(
    world: World, relay: Relay, logs: pytest.LogCaptureFixture
) -> None:
    """Relay down: the task queues itself again, due later, with the same arguments. It is not
    run before it is due; once due, with the relay back, the mail arrives once, and its link
    confirms the signature."""
    _sign(world, ANNA)
    run_worker()
    [retry] = _waiting(CONFIRMATION)
    first = DBTaskResult.objects.get(task_path=CONFIRMATION, status="SUCCESSFUL")
    assert first.return_value is False  # not sent, and no failure: the retry carries it on
    assert retry.args_kwargs["args"] == first.args_kwargs["args"]
    assert retry.args_kwargs["kwargs"] == {"attempt": 2}
    assert timezone.now() < retry.run_after <= timezone.now() + dt.timedelta(minutes=1)
    assert "ConnectionRefusedError" in logs.text and "attempt 1 of 54" in logs.text

    relay.start()
    run_worker()  # not due yet: nothing is sent before its time
    assert relay.messages == [] and _waiting(CONFIRMATION) == [retry]

    _time_passes()
    run_worker()
    run_worker()
    assert relay.received_by(ANNA) == 1
    assert _waiting(CONFIRMATION) == []
    link = re.search(r"http://testserver(/\S+/confirm/\S+/)", relay.body(relay.messages[0]))
    assert link is not None
    assert Client().post(link.group(1)).status_code == 200
    assert Signature.objects.get().status == Signature.Status.CONFIRMED
    _assert_no_address_anywhere(logs)


def test_an_update_is_retried_only_for_the_recipient_it_did_not_reach(
    world: World, relay: Relay, logs: pytest.LogCaptureFixture
) -> None:
    """A batch must not be sent twice: the relay greylists one recipient (451) and takes the
    others; only that one's message is retried, and when it goes through nobody gets a second
    copy. The relay down for the whole update is the same, for every recipient."""
    for email in (ANNA, GREY, OLGA):
        _report(world, email)
    services.publish_update(
        world.urgent_action,
        date=dt.date(2012, 1, 10),
        text_en="Her appeal was heard today.",
        base_url="http://testserver",
    )
    relay.start()
    run_worker()
    assert [relay.received_by(a) for a in (ANNA, GREY, OLGA)] == [1, 0, 1]
    [retry] = _waiting(UPDATE_TO)
    assert retry.args_kwargs["kwargs"] == {"attempt": 2}
    assert UrgentActionUpdate.objects.get().recipients == 2

    relay.greylisted.clear()
    _time_passes()
    run_worker()
    run_worker()
    assert [relay.received_by(a) for a in (ANNA, GREY, OLGA)] == [1, 1, 1]
    assert len(relay.messages) == 3
    assert _waiting(UPDATE_TO) == []
    assert UrgentActionUpdate.objects.get().recipients == 3
    _assert_no_address_anywhere(logs)


def test_an_update_during_an_outage_reaches_everyone_once_afterwards(
    world: World, relay: Relay, logs: pytest.LogCaptureFixture
) -> None:
    for email in (ANNA, OLGA):
        _report(world, email)
    services.publish_update(
        world.urgent_action,
        date=dt.date(2012, 1, 10),
        text_en="Her appeal was heard today.",
        base_url="http://testserver",
    )
    run_worker()
    assert len(_waiting(UPDATE_TO)) == 2
    relay.start()
    _time_passes()
    run_worker()
    run_worker()
    assert [relay.received_by(a) for a in (ANNA, OLGA)] == [1, 1]
    assert UrgentActionUpdate.objects.get().recipients == 2
    _assert_no_address_anywhere(logs)


def test_a_permanent_rejection_is_not_retried(
    world: World, relay: Relay, logs: pytest.LogCaptureFixture
) -> None:
    """A 5xx for the recipient fails the task at once, with an error that gives the code and
    not the address the relay echoed; nothing is queued again."""
    relay.start()
    _sign(world, REFUSED)
    run_worker()
    failed = DBTaskResult.objects.get(task_path=CONFIRMATION)
    assert failed.status == "FAILED"
    assert failed.exception_class_path == "solidarity.safety.mail.MailNotSent"
    assert _waiting(CONFIRMATION) == []
    errors = [r.getMessage() for r in logs.records if r.name == "solidarity.core.delivery"]
    assert errors == [
        "Mail task send_signature_confirmation: the mail server did not accept the message:"
        " SMTPRecipientsRefused (SMTP 550); not retried (permanent)."
    ]
    assert relay.messages == []
    _assert_no_address_anywhere(logs)


def test_the_attempts_cap_out_with_an_error_that_names_no_address(
    world: World, relay: Relay, logs: pytest.LogCaptureFixture, settings: Settings
) -> None:
    """The relay never comes back: after the last attempt the task fails and the log has an
    error for the operator, and no further attempt is queued."""
    settings.SOLIDARITY_MAIL_ATTEMPTS = 3
    _sign(world, ANNA)
    run_worker()
    for _attempt in (2, 3):
        _time_passes()
        run_worker()
    assert _waiting(CONFIRMATION) == []
    runs = DBTaskResult.objects.filter(task_path=CONFIRMATION).order_by("enqueued_at")
    assert [run.status for run in runs] == ["SUCCESSFUL", "SUCCESSFUL", "FAILED"]
    assert [run.args_kwargs["kwargs"].get("attempt", 1) for run in runs] == [1, 2, 3]
    gave_up = [
        record
        for record in logs.records
        if record.name == "solidarity.core.delivery" and record.levelno == logging.ERROR
    ]
    assert [record.getMessage() for record in gave_up] == [
        "Mail task send_signature_confirmation: the mail server could not be reached:"
        " ConnectionRefusedError; gave up after 3 attempts: this e-mail is not sent."
    ]
    failed = runs.last()
    assert failed is not None and "gave up after 3 attempts" in failed.traceback
    _assert_no_address_anywhere(logs)


def test_a_relay_that_never_answers_is_timed_out_and_retried(
    world: World, relay: Relay, logs: pytest.LogCaptureFixture, settings: Settings
) -> None:
    """A relay that accepts the connection and says nothing must not hold the worker (and
    every task behind it): the connection times out (EMAIL_TIMEOUT) and the mail is retried."""
    settings.EMAIL_TIMEOUT = 1
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", relay.port))
        silent.listen()  # the kernel completes the handshake; nobody ever answers
        _sign(world, ANNA)
        started = time.monotonic()
        run_worker()
        assert time.monotonic() - started < 4  # the timeout, not the operating system's
    [retry] = _waiting(CONFIRMATION)
    assert retry.args_kwargs["kwargs"] == {"attempt": 2}
    # smtplib reports the timeout of the greeting as a disconnection.
    assert "SMTPServerDisconnected; attempt 1 of 54" in logs.text
    relay.start()
    _time_passes()
    run_worker()
    assert relay.received_by(ANNA) == 1
    _assert_no_address_anywhere(logs)


def test_the_back_off_doubles_up_to_its_cap(settings: Settings) -> None:
    settings.SOLIDARITY_MAIL_RETRY_DELAY = dt.timedelta(minutes=1)
    settings.SOLIDARITY_MAIL_RETRY_MAX_DELAY = dt.timedelta(hours=1)
    minutes = [retry_delay(attempt) / dt.timedelta(minutes=1) for attempt in range(1, 10)]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert retry_delay(10_000) == dt.timedelta(hours=1)


def test_a_failure_that_is_no_delivery_failure_is_not_retried(
    world: World, settings: Settings
) -> None:
    """Only the relay's failures are retried: a bug fails the task as before, traceback and
    all, instead of being tried 54 times."""
    settings.EMAIL_BACKEND = "tests.test_mail_outage.BrokenBackend"
    _sign(world, ANNA)
    run_worker()
    failed = DBTaskResult.objects.get(task_path=CONFIRMATION)
    assert failed.status == "FAILED" and failed.exception_class_path == "builtins.ValueError"
    assert _waiting(CONFIRMATION) == []
    assert "a bug in a mail backend" in failed.traceback


@pytest.mark.parametrize(
    ("error", "temporary"),
    [
        (smtplib.SMTPRecipientsRefused({ANNA: (452, b"4.2.2 mailbox full")}), True),
        (smtplib.SMTPRecipientsRefused({ANNA: (550, b"5.1.1 unknown")}), False),
        (smtplib.SMTPConnectError(421, b"4.3.2 shutting down"), True),
        (smtplib.SMTPDataError(554, b"5.7.1 rejected as spam"), False),
        (smtplib.SMTPAuthenticationError(454, b"4.7.0 try again later"), True),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), True),
        (smtplib.SMTPNotSupportedError("STARTTLS extension not supported"), False),
        (ConnectionRefusedError(111, "Connection refused"), True),
        (TimeoutError("timed out"), True),
        (socket.gaierror(-2, "Name or service not known"), True),
        (MailNotSent("the mail server did not accept the message", temporary=True), True),
        (ValueError("a bug"), None),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else None,
)
def test_which_failures_may_pass(error: BaseException, temporary: bool | None) -> None:
    """RFC 5321: 4xx may pass, 5xx will not; a network failure is an outage; a bug is none."""
    assert is_temporary(error) is temporary


class BrokenBackend:
    """A mail backend with a bug (not an SMTP failure)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def send_messages(self, messages: object) -> int:
        raise ValueError("a bug in a mail backend")
