"""Retention of what the worker could not record and of mails written to disk: a received
signature that failed for good goes a week after its last failure (audited; rows still being
tried never), an erasure reaches it at once, and mails the demo's file backend wrote go after
two days, nothing else in their directory.

The clock is passed explicitly (`purge(now=…)`), as in tests/test_retention.py.
"""

from __future__ import annotations

import datetime as dt
import os
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.utils import timezone
from pytest_django import Settings

from solidarity.audit.models import AuditEntry
from solidarity.campaigns import intake, services
from solidarity.campaigns.models import Signature, SignatureIntake, email_index
from solidarity.core import retention
from solidarity.core.models import Section
from tests.test_campaigns_intake import _receive
from tests.test_campaigns_support import World, make_world, run_worker

WEEK = dt.timedelta(days=7)
TWO_DAYS = dt.timedelta(days=2)
SECOND = dt.timedelta(seconds=1)
FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"


@pytest.fixture
def world(section: Section) -> World:
    return make_world(section)


def _purged(now: dt.datetime, *, dry_run: bool = False) -> dict[str, int]:
    return {r.rule.name: r.rows for r in retention.purge(now, dry_run=dry_run)}


def _fail_for_good(world: World, *emails: str) -> list[SignatureIntake]:
    """Receive a signature for each address and make the worker fail on each ATTEMPTS times, as
    a bug would: each row's ciphertext is swapped for another row's, which decryption refuses
    (bound to its row)."""
    for email in emails:
        _receive(world, email)
    _receive(world, "donor@example.org")
    rows = list(SignatureIntake.objects.order_by("pk"))
    donor = rows.pop()
    for row in rows:
        SignatureIntake.objects.filter(pk=row.pk).update(details=donor.__dict__["details"])
    SignatureIntake.objects.filter(pk=donor.pk).delete()
    for _attempt in range(intake.ATTEMPTS):
        intake.record()
    failed = list(SignatureIntake.objects.order_by("pk"))
    assert [(r.attempts, r.failure) for r in failed] == [
        (intake.ATTEMPTS, "DecryptionError")
    ] * len(emails)
    assert all(r.failed_at is not None for r in failed)
    return failed


# -- Received signatures that could not be recorded -----------------------------------------


@pytest.mark.django_db
def test_a_failed_row_goes_a_week_after_its_last_failure_and_younger_ones_stay(
    world: World,
) -> None:
    """At exactly a week the failed row stays (an operator may still look at it); a second later
    it goes, while one that failed a day later stays, and so does one still waiting to be tried,
    however old."""
    old, recent = _fail_for_good(world, "old@example.org", "recent@example.org")
    now = timezone.now()
    SignatureIntake.objects.filter(pk=old.pk).update(failed_at=now - WEEK)
    SignatureIntake.objects.filter(pk=recent.pk).update(failed_at=now - WEEK + dt.timedelta(days=1))
    _receive(world, "pending@example.org")
    pending = SignatureIntake.objects.get(email_index=email_index("pending@example.org"))
    SignatureIntake.objects.filter(pk=pending.pk).update(received_at=now - 10 * WEEK)

    assert _purged(now)["failed_received_signatures"] == 0
    assert _purged(now + SECOND)["failed_received_signatures"] == 1
    assert set(SignatureIntake.objects.values_list("pk", flat=True)) == {recent.pk, pending.pk}
    assert not Signature.objects.exists()  # nothing half-recorded, nothing counted


@pytest.mark.django_db
def test_every_purged_row_is_in_the_audit_log(world: World) -> None:
    """Received signatures are not audited as they come and go (audit.signals.NOT_AUDITED), but
    one dropped by the purge was acknowledged and never recorded: each gets a "delete" entry,
    naming the row and nothing of its content, and the chain still verifies."""
    rows = _fail_for_good(world, "a@example.org", "b@example.org")
    before = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    _purged(timezone.now() + WEEK + SECOND)
    entries = AuditEntry.objects.filter(
        seq__gt=before, model="campaigns.SignatureIntake", action="delete"
    )
    assert sorted(int(e.object_pk) for e in entries) == sorted(r.pk for r in rows)
    assert all(e.fields == [] and e.values == {} for e in entries)
    call_command("audit", "verify", stdout=StringIO())


@pytest.mark.django_db
def test_record_again_gives_the_row_a_new_week(world: World) -> None:
    """An operator's "record again" clears the failure; if the row fails again, its week counts
    from that failure, not from the first."""
    [row] = _fail_for_good(world, "anna@example.org")
    first = timezone.now()
    SignatureIntake.objects.filter(pk=row.pk).update(failed_at=first - WEEK - SECOND)
    assert intake.retry(SignatureIntake.objects.all()) == 1
    assert SignatureIntake.objects.get().failed_at is None
    assert _purged(first)["failed_received_signatures"] == 0  # being tried again: kept

    for _attempt in range(intake.ATTEMPTS):
        intake.record()
    again = SignatureIntake.objects.get()
    assert again.attempts == intake.ATTEMPTS and again.failed_at is not None
    assert again.failed_at >= first
    assert _purged(first + dt.timedelta(days=6))["failed_received_signatures"] == 0
    assert _purged(again.failed_at + WEEK + SECOND)["failed_received_signatures"] == 1


@pytest.mark.django_db
def test_erasure_reaches_a_row_that_failed(world: World) -> None:
    """Erasing an address deletes its failed received signature at once, without waiting for
    the purge and without trying to record it again."""
    coordinator = User.objects.create_user("coordinator", password="a long test password")
    coordinator.user_permissions.add(*Permission.objects.filter(codename="delete_supporter"))
    coordinator = User.objects.get(pk=coordinator.pk)
    _fail_for_good(world, "anna@example.org", "boris@example.org")

    log = services.erase_supporter("anna@example.org", user=coordinator)

    assert (log.supporters, log.signatures) == (0, 0)
    assert list(SignatureIntake.objects.values_list("email_index", flat=True)) == [
        email_index("boris@example.org")
    ]
    assert not Signature.objects.exists()


# -- Mails written to files (the demo) ------------------------------------------------------


def _mail_a_confirmation(world: World, directory: Path, settings: Settings) -> Path:
    """Sign, and let the real worker send the confirmation through the file backend."""
    settings.EMAIL_BACKEND = FILE_BACKEND
    settings.EMAIL_FILE_PATH = directory
    services.sign_petition(
        world.petition,
        services.SupporterDetails(email="anna@example.org", name="Anna Berg", country="Germany"),
        processing_consent=True,
        base_url="http://testserver",
    )
    run_worker()
    [written] = list(directory.iterdir())
    assert "anna@example.org" in written.read_text()  # plaintext: why it must not stay
    return written


@pytest.mark.django_db(transaction=True)
def test_a_mail_file_goes_after_two_days_and_nothing_else_in_its_directory(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    directory = tmp_path / "mail"
    directory.mkdir()
    mail = _mail_a_confirmation(world, directory, settings)
    written = dt.datetime.fromtimestamp(mail.stat().st_mtime, tz=dt.UTC)
    # Not the backend's name pattern: an operator's file, left alone however old.
    other = directory / "notes.txt"
    other.write_text("not a mail")
    os.utime(other, (0, 0))
    young = directory / "20991231-235959-1.log"
    young.write_text("written a day later")
    a_day_later = mail.stat().st_mtime + 86400
    os.utime(young, (a_day_later, a_day_later))

    # A second short of two days: `written` is the file time rounded to the microsecond, which
    # may be just after it, so "exactly two days" could fall either side.
    assert _purged(written + TWO_DAYS - SECOND)["mail_files"] == 0
    assert mail.exists()
    dry = _purged(written + TWO_DAYS + SECOND, dry_run=True)
    assert dry["mail_files"] == 1 and mail.exists()
    assert _purged(written + TWO_DAYS + SECOND)["mail_files"] == 1
    assert sorted(p.name for p in directory.iterdir()) == [young.name, "notes.txt"]


@pytest.mark.django_db
def test_old_mail_files_go_whatever_the_backend_is_now(settings: Settings, tmp_path: Path) -> None:
    """A site that moved from the demo's files to SMTP keeps no old mail on disk; without the
    directory there is nothing to do."""
    settings.EMAIL_BACKEND = "solidarity.safety.mail.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    assert _purged(timezone.now())["mail_files"] == 0
    settings.EMAIL_FILE_PATH.mkdir()
    left = settings.EMAIL_FILE_PATH / "20260301-120000-140234.log"
    left.write_text("To: anna@example.org")
    os.utime(left, (0, 0))
    assert _purged(timezone.now())["mail_files"] == 1
    assert not left.exists()


@pytest.mark.django_db
def test_the_command_reports_both_rules(settings: Settings, tmp_path: Path) -> None:
    settings.EMAIL_FILE_PATH = tmp_path
    out = StringIO()
    call_command("purge", "--dry-run", stdout=out)
    assert "received signatures that could not be recorded (older than 7 days" in out.getvalue()
    assert "mails written to files (older than 2 days" in out.getvalue()
