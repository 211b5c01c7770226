"""Received signatures (solidarity.campaigns.intake): the public form stores one encrypted row
and answers; the worker records it as a signature. Nothing acknowledged is lost, nothing is
recorded twice, a failure is kept and retried, and an erasure reaches rows not yet recorded."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import Client
from django_tasks_db.models import DBTaskResult

from solidarity.audit.models import AuditEntry
from solidarity.campaigns import groupcommit, intake, services, tasks
from solidarity.campaigns.models import Signature, SignatureIntake, Supporter, email_index
from solidarity.campaigns.services import SupporterDetails
from solidarity.core.models import Section
from solidarity.safety.models import Role
from solidarity.safety.rotation import encrypted_fields
from tests.conftest import verified_login
from tests.test_campaigns_groupcommit import _in_threads
from tests.test_campaigns_support import World, make_world

BASE = "http://127.0.0.1:8000"


@pytest.fixture
def world(section: Section) -> World:
    return make_world(section)


@pytest.fixture
def coordinator(db: None) -> User:
    user = User.objects.create_user("coordinator", password="a long test password")
    user.user_permissions.add(*Permission.objects.filter(codename="delete_supporter"))
    return User.objects.get(pk=user.pk)  # fresh: permissions are cached per instance


def _receive(world: World, email: str = "anna@example.org", **options: object) -> None:
    intake.receive(
        world.petition,
        SupporterDetails(email=email, name="Anna Berg", country="Germany", language="ru"),
        comment=str(options.get("comment", "Free them")),
        public_name_consent=bool(options.get("public_name_consent", True)),
        processing_consent=bool(options.get("processing_consent", True)),
        base_url=BASE,
    )


def _stored_row() -> tuple[object, ...]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM campaigns_signatureintake")
        rows = cursor.fetchall()
    assert len(rows) == 1
    return tuple(rows[0])


@pytest.mark.django_db
def test_receiving_writes_one_encrypted_row_and_queues_one_recording(world: World) -> None:
    """What the supporter typed is on disk only as ciphertext; no supporter, signature or audit
    entry is written yet; one recording task serves every submission until it starts."""
    audit_entries = AuditEntry.objects.count()
    _receive(world)
    stored = " ".join(str(value) for value in _stored_row())
    for typed in ("anna@example.org", "Anna Berg", "Germany", "Free them"):
        assert typed not in stored
    assert email_index("anna@example.org") in stored  # what an erasure finds it by
    assert not Supporter.objects.exists() and not Signature.objects.exists()
    assert AuditEntry.objects.count() == audit_entries
    path = tasks.record_received_signatures.module_path
    assert list(DBTaskResult.objects.values_list("task_path", flat=True)) == [path]

    _receive(world, "boris@example.org")
    assert DBTaskResult.objects.count() == 1  # the waiting task will see both rows


@pytest.mark.django_db
def test_receiving_refuses_without_consent_or_on_a_closed_petition(world: World) -> None:
    with pytest.raises(ValidationError):
        _receive(world, processing_consent=False)
    world.petition.accepting = False
    world.petition.save()
    with pytest.raises(ValidationError):
        _receive(world)
    assert not SignatureIntake.objects.exists()


@pytest.mark.django_db
def test_recording_makes_the_signature_the_form_asked_for(world: World) -> None:
    """The worker's step gives what `sign_petition` gives: a pending signature with the typed
    details and consents, its confirmation e-mail queued, both rows audited; the received row
    is gone."""
    _receive(world)
    assert intake.record() == 1
    assert not SignatureIntake.objects.exists()
    signature = Signature.objects.select_related("supporter").get()
    supporter = signature.supporter
    assert supporter is not None
    assert (supporter.email, supporter.name, supporter.country, supporter.language) == (
        "anna@example.org",
        "Anna Berg",
        "Germany",
        "ru",
    )
    assert (signature.comment, signature.public_name) == ("Free them", "Anna Berg")
    assert signature.status == Signature.Status.PENDING
    assert signature.email_index == email_index("anna@example.org")
    confirmation = tasks.send_signature_confirmation.module_path
    assert DBTaskResult.objects.filter(
        task_path=confirmation, args_kwargs__args=[signature.pk, BASE]
    )
    logged = set(AuditEntry.objects.values_list("model", flat=True))
    assert {"campaigns.supporter", "campaigns.signature"} <= {m.lower() for m in logged}
    assert intake.record() == 0  # nothing recorded twice


@pytest.mark.django_db
def test_the_same_address_twice_is_one_signature_and_one_mail_per_interval(world: World) -> None:
    """Signing again resends the link (a lost mail), but at most once per interval: a script
    signing with someone's address from many clients cannot flood their mailbox (M16). Within
    the interval the link already sent stays valid."""
    confirmation = tasks.send_signature_confirmation.module_path
    _receive(world, "anna@example.org")
    assert intake.record() == 1
    signature = Signature.objects.get()
    for _ in range(5):
        _receive(world, "ANNA@example.org ")
    assert intake.record() == 5
    assert Signature.objects.count() == 1
    assert DBTaskResult.objects.filter(task_path=confirmation).count() == 1
    assert Signature.objects.get().token_hash == signature.token_hash

    cache.delete(f"signature-mail:{signature.pk}")  # the interval has passed
    _receive(world, "anna@example.org")
    assert intake.record() == 1
    assert DBTaskResult.objects.filter(task_path=confirmation).count() == 2
    assert Signature.objects.get().token_hash != signature.token_hash  # a new link, the old dead


@pytest.mark.django_db
def test_a_confirmed_signer_is_told_once_per_interval_too(world: World) -> None:
    already = tasks.send_already_signed.module_path
    _receive(world, "anna@example.org")
    intake.record()
    services.confirm_signature(services.signature_token(Signature.objects.get()))
    for _ in range(3):
        _receive(world, "anna@example.org")
    intake.record()
    # The first mail's interval still runs (it was the confirmation link): nothing more yet.
    assert DBTaskResult.objects.filter(task_path=already).count() == 0
    cache.delete(f"signature-mail:{Signature.objects.get().pk}")
    for _ in range(3):
        _receive(world, "anna@example.org")
    intake.record()
    assert DBTaskResult.objects.filter(task_path=already).count() == 1


@pytest.mark.django_db
def test_a_row_that_cannot_be_recorded_is_kept_retried_and_logged_without_data(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """A failure rolls back its own savepoint (no half-made supporter), keeps the row with the
    failure's class name, and is tried ATTEMPTS times; the log line names no one."""
    _receive(world, "anna@example.org")
    _receive(world, "boris@example.org")
    broken = SignatureIntake.objects.order_by("pk").first()
    assert broken is not None
    # The ciphertext of another row: authenticated decryption refuses it.
    other = SignatureIntake.objects.order_by("pk").last()
    assert other is not None
    SignatureIntake.objects.filter(pk=broken.pk).update(details=other.__dict__["details"])

    with caplog.at_level(logging.ERROR, logger="solidarity.campaigns.intake"):
        assert intake.record() == 1  # Boris
    kept = SignatureIntake.objects.get()
    assert (kept.pk, kept.attempts, kept.failure) == (broken.pk, 1, "DecryptionError")
    assert Supporter.objects.count() == 1
    assert f"Received signature {broken.pk} could not be recorded" in caplog.text
    assert "anna" not in caplog.text.lower() and "boris" not in caplog.text.lower()

    for _attempt in range(intake.ATTEMPTS + 2):
        intake.record()
    assert SignatureIntake.objects.get().attempts == intake.ATTEMPTS  # kept, no longer tried


@pytest.mark.django_db
def test_erasure_reaches_a_signature_the_worker_has_not_recorded(
    world: World, coordinator: User
) -> None:
    """Erasing an address records what was received for it and erases it with the rest."""
    _receive(world, "anna@example.org")
    _receive(world, "boris@example.org")
    log = services.erase_supporter("anna@example.org", user=coordinator)
    assert (log.supporters, log.signatures) == (1, 1)
    assert list(SignatureIntake.objects.values_list("email_index", flat=True)) == [
        email_index("boris@example.org")
    ]
    erased = Signature.objects.get()
    assert erased.erased and erased.supporter is None and erased.email_index is None


def test_received_signatures_are_rewritten_by_key_rotation() -> None:
    """`solidarity rotate-keys` finds every encrypted field by its class: this one too."""
    models = {model for model, _fields in encrypted_fields()}
    assert SignatureIntake in models


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_share_one_recording_task(world: World) -> None:
    """Forty submissions from eight threads at once (group commit on SQLite): every one is
    stored, and the task that records them is queued once (on SQLite; at most once per
    concurrent transaction on PostgreSQL), not once per submission."""

    def five(i: int) -> None:
        for n in range(5):
            _receive(world, f"signer{i}-{n}@example.org")

    results = _in_threads(8, five)
    assert results == [None] * 8
    assert SignatureIntake.objects.count() == 40
    if connection.vendor == "sqlite":
        assert DBTaskResult.objects.count() == 1
    else:
        # A waiting run locked by another thread's open transaction is skipped and a new one
        # queued: at most one per transaction in flight (tasks.recording_is_waiting).
        assert 1 <= DBTaskResult.objects.count() <= 8
    assert intake.record() == 40
    assert Signature.objects.count() == 40


@pytest.mark.django_db(transaction=True)
def test_once_runs_its_work_once_per_batch() -> None:
    """Writes committed together that all ask for the same work get it done once, in their
    transaction, after the writes; outside a batch it runs at once."""
    calls: list[str] = []
    groupcommit.once("k", lambda: calls.append("alone"))
    assert calls == ["alone"]

    def asks(name: str) -> groupcommit._Write[None]:
        def function() -> None:
            calls.append(name)
            groupcommit.once("k", lambda: calls.append("once"))

        return groupcommit._Write(function)

    batch = [asks("first"), asks("second"), asks("third")]
    groupcommit._run(batch)
    assert calls == ["alone", "first", "second", "third", "once"]
    assert all(job.done.is_set() and job.error is None for job in batch)


@pytest.mark.django_db(transaction=True)
def test_a_waiting_run_cannot_be_claimed_before_the_row_that_relied_on_it_is_committed(
    world: World,
) -> None:
    """The worker claims with SELECT ... FOR UPDATE SKIP LOCKED: while a signer's transaction
    relies on a waiting run (and so queues none), that run is locked and the worker skips it,
    so it cannot read the rows before that transaction's row is committed."""
    if not connection.features.has_select_for_update_skip_locked:
        pytest.skip("SQLite serialises all writers: no run can be claimed mid-transaction")
    _receive(world, "first@example.org")  # queues the run, committed
    with transaction.atomic():
        _receive(world, "second@example.org")  # relies on the waiting run and locks it
        claimed = _in_threads(1, lambda i: _claim_ready_in_another_connection())
    assert claimed == [None]  # skipped while locked
    assert _in_threads(1, lambda i: _claim_ready_in_another_connection()) != [None]


def _claim_ready_in_another_connection() -> object:
    with transaction.atomic():
        locked = DBTaskResult.objects.ready().get_locked()
        return None if locked is None else locked.pk


@pytest.mark.django_db
def test_a_failed_row_can_be_recorded_again_once_the_cause_is_fixed(world: World) -> None:
    """After ATTEMPTS failures a row waits; "record again" (the back office's action) clears
    its failure and queues the worker's run, which then records it."""
    _receive(world)
    SignatureIntake.objects.update(attempts=intake.ATTEMPTS, failure="OperationalError")
    DBTaskResult.objects.all().delete()
    assert intake.record() == 0
    assert intake.retry(SignatureIntake.objects.all()) == 1
    assert SignatureIntake.objects.get().failure == ""
    assert DBTaskResult.objects.get().task_path == tasks.record_received_signatures.module_path
    assert intake.record() == 1
    assert Signature.objects.count() == 1


@pytest.mark.django_db
def test_record_again_from_the_back_office_page(world: World) -> None:
    """The same, through the admin's change list: the action clears the failure and says so,
    and the list shows the row's failure class but nothing the supporter typed."""
    coordinator = User.objects.create_superuser("admin", password="a long test password")
    Role.objects.create(user=coordinator, section=world.section, role="coordinator")
    admin_client_ = verified_login(Client(), coordinator)
    _receive(world)
    SignatureIntake.objects.update(attempts=intake.ATTEMPTS, failure="OperationalError")
    url = "/admin/campaigns/signatureintake/"
    listing = admin_client_.get(url).content.decode()
    assert "OperationalError" in listing
    assert "anna" not in listing.lower() and "Free them" not in listing
    row = SignatureIntake.objects.get()
    response = admin_client_.post(
        url, {"action": "record_again", "_selected_action": [str(row.pk)]}, follow=True
    )
    assert "1 received signature will be recorded again." in response.content.decode()
    assert SignatureIntake.objects.get().failure == ""
    assert intake.record() == 1
    assert Signature.objects.count() == 1
