"""Retention: each rule deletes what is older than its period and nothing younger, confirmed
signatures are never touched, every deletion is audited, and the background task keeps exactly
one next run queued.

The clock is passed explicitly (`purge(now=…)`): no clock-freezing library is a dependency.
"""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from pytest_django import Settings

from solidarity.accounts.models import HashedSession, LoginFailure
from solidarity.audit.models import AuditEntry
from solidarity.campaigns import services
from solidarity.campaigns.models import LetterReport, Signature, Supporter, email_index
from solidarity.campaigns.services import SupporterDetails
from solidarity.core import retention, tasks
from solidarity.core.models import Section
from tests.test_campaigns_support import World, make_world, run_worker

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
H48 = dt.timedelta(hours=48)


@pytest.fixture
def world(section: Section) -> World:
    return make_world(section)


def _sign(world: World, email: str, *, at: dt.datetime = T0, confirm: bool = False) -> Signature:
    services.sign_petition(
        world.petition,
        SupporterDetails(email=email, name="Anna Berg", country="Germany"),
        public_name_consent=True,
        processing_consent=True,
        base_url="http://testserver",
    )
    signature = Signature.objects.select_related("supporter").get(
        supporter__email_index=email_index(email)
    )
    assert signature.supporter is not None
    Supporter.objects.filter(pk=signature.supporter.pk).update(created_at=at)
    changes: dict[str, Any] = {"created_at": at}
    if confirm:
        changes.update(status=Signature.Status.CONFIRMED, confirmed_at=at + dt.timedelta(hours=1))
    Signature.objects.filter(pk=signature.pk).update(**changes)
    return signature


def _purged(now: dt.datetime, **kwargs: Any) -> dict[str, int]:
    return {r.rule.name: r.rows for r in retention.purge(now, **kwargs)}


# -- Unconfirmed signatures and the supporters they leave ------------------------------------


def test_an_unconfirmed_signature_is_kept_48_hours_and_purged_after(world: World) -> None:
    """At exactly 48 hours the signature and its contact details stay; a second later both go."""
    signature = _sign(world, "late@example.org")
    assert _purged(T0 + H48)["unconfirmed_signatures"] == 0
    assert Signature.objects.filter(pk=signature.pk).exists()

    purged = _purged(T0 + H48 + SECOND)
    assert purged["unconfirmed_signatures"] == 1
    assert purged["orphaned_supporters"] == 1
    assert not Signature.objects.exists() and not Supporter.objects.exists()


def test_a_confirmed_signature_is_never_purged_and_counts_do_not_move(world: World) -> None:
    """Years later the confirmed signature, its signer, the public count, the public name and
    the history of counts are all as they were; only the unconfirmed one went."""
    _sign(world, "counted@example.org", confirm=True)
    _sign(world, "never@example.org")
    count = services.count_signatures(world.petition)
    history = services.campaign_dashboard(world.campaign).signatures_by_month

    assert _purged(T0 + dt.timedelta(days=3650))["unconfirmed_signatures"] == 1

    assert services.count_signatures(world.petition) == count == 1
    assert services.campaign_dashboard(world.campaign).signatures_by_month == history
    kept = Signature.objects.get()
    assert kept.status == Signature.Status.CONFIRMED
    assert kept.supporter is not None and kept.supporter.email == "counted@example.org"


def test_a_supporter_with_another_submission_is_kept(world: World) -> None:
    """Contact details that also came with a letter report outlive the unconfirmed signature."""
    _sign(world, "writer@example.org")
    report = services.report_letters(
        world.urgent_action,
        SupporterDetails(email="writer@example.org", name="Anna Berg"),
        letters=1,
        processing_consent=True,
    )
    Supporter.objects.update(created_at=T0)
    purged = _purged(T0 + dt.timedelta(days=30))
    assert purged == {**purged, "unconfirmed_signatures": 1, "orphaned_supporters": 1}
    assert list(Supporter.objects.all()) == [LetterReport.objects.get(pk=report.pk).supporter]


def test_an_orphaned_supporter_is_kept_for_its_period(world: World, settings: Settings) -> None:
    """A supporter row with no submission yet may be one being written: it waits its period."""
    settings.SOLIDARITY_RETENTION = {
        **settings.SOLIDARITY_RETENTION,
        "orphaned_supporters": dt.timedelta(hours=72),
    }
    _sign(world, "late@example.org")
    assert _purged(T0 + dt.timedelta(hours=72))["orphaned_supporters"] == 0
    assert Supporter.objects.count() == 1 and not Signature.objects.exists()
    assert _purged(T0 + dt.timedelta(hours=72) + SECOND)["orphaned_supporters"] == 1
    assert not Supporter.objects.exists()


def test_every_deleted_row_is_in_the_audit_log(world: World) -> None:
    """One "delete" entry per signature and per supporter, attributed to the purge's caller."""
    signatures = [_sign(world, f"s{i}@example.org") for i in range(3)]
    supporters = [s.supporter_id for s in signatures if s.supporter_id is not None]
    before = AuditEntry.objects.count()
    _purged(T0 + H48 + SECOND)
    entries = AuditEntry.objects.filter(action="delete").order_by("seq")
    assert sorted(
        int(e.object_pk) for e in entries.filter(model="campaigns.Signature", seq__gt=before)
    ) == sorted(s.pk for s in signatures)
    assert sorted(
        int(e.object_pk) for e in entries.filter(model="campaigns.Supporter", seq__gt=before)
    ) == sorted(supporters)
    call_command("audit", "verify", stdout=StringIO())


# -- Sessions, login failures, task results ---------------------------------------------------


def test_an_expired_session_is_deleted_a_minute_after_its_expiry(db: None) -> None:
    HashedSession.objects.create(session_key="k" * 64, session_data="x", expire_date=T0)
    minute = dt.timedelta(minutes=1)
    assert _purged(T0 + minute)["expired_sessions"] == 0
    assert _purged(T0 + minute + SECOND)["expired_sessions"] == 1
    assert not HashedSession.objects.exists()


def test_a_login_failure_is_deleted_once_out_of_the_throttle_window(db: None) -> None:
    LoginFailure.objects.create(scope=LoginFailure.Scope.USERNAME, key="k", at=T0)
    window = dt.timedelta(minutes=15)
    assert _purged(T0 + window - SECOND)["login_failures"] == 0
    assert _purged(T0 + window)["login_failures"] == 1
    assert not LoginFailure.objects.exists()


def test_a_finished_task_result_is_deleted_after_7_days_and_a_waiting_one_never(
    world: World,
) -> None:
    _sign(world, "queued@example.org")  # queues its confirmation e-mail
    DBTaskResult.objects.update(status=TaskResultStatus.SUCCESSFUL, finished_at=T0)
    waiting = tasks.purge_expired.using(run_after=T0).enqueue()
    week = dt.timedelta(days=7)
    assert _purged(T0 + week)["task_results"] == 0
    assert _purged(T0 + week + SECOND)["task_results"] == 1
    assert [str(pk) for pk in DBTaskResult.objects.values_list("id", flat=True)] == [
        str(waiting.id)
    ]


def test_a_login_failure_period_shorter_than_the_throttle_window_is_refused(
    db: None, settings: Settings
) -> None:
    """Purging failures the throttle still counts would end a guesser's cool-off early."""
    settings.SOLIDARITY_RETENTION = {
        **settings.SOLIDARITY_RETENTION,
        "login_failures": dt.timedelta(minutes=5),
    }
    with pytest.raises(ImproperlyConfigured, match="throttle window"):
        retention.purge(T0)


# -- The command --------------------------------------------------------------------------------


def test_the_command_reports_each_rule_and_a_dry_run_changes_nothing(world: World) -> None:
    _sign(world, "late@example.org", at=timezone.now() - H48 - dt.timedelta(minutes=5))
    out = StringIO()
    call_command("purge", "--dry-run", stdout=out)
    assert "unconfirmed signatures (older than 2 days, 0:00:00): would delete 1" in out.getvalue()
    assert "Dry run: would delete 2 rows" in out.getvalue()
    assert Signature.objects.count() == 1 and Supporter.objects.count() == 1

    out = StringIO()
    call_command("purge", stdout=out)
    assert "unconfirmed signatures (older than 2 days, 0:00:00): deleted 1" in out.getvalue()
    assert "supporters left with no submission (older than 2 days, 0:00:00): deleted 1" in (
        out.getvalue()
    )
    assert not Signature.objects.exists() and not Supporter.objects.exists()


# -- The background task ------------------------------------------------------------------------


def _waiting_purges() -> list[DBTaskResult]:  # type: ignore[type-arg]
    return list(
        DBTaskResult.objects.filter(
            task_path=tasks.purge_expired.module_path, status=TaskResultStatus.READY
        )
    )


# The worker commits and closes its connection as in production; on PostgreSQL that ends a
# test's wrapping transaction, so these tests run on committed data.
@pytest.mark.django_db(transaction=True)
def test_the_task_purges_and_queues_its_next_run_once(world: World, settings: Settings) -> None:
    """Run by the real worker, the task purges, then exactly one run waits, an interval later;
    asking again (a server restart) adds none."""
    _sign(world, "late@example.org", at=timezone.now() - H48 - dt.timedelta(minutes=5))
    DBTaskResult.objects.all().delete()  # the confirmation e-mail would need an SMTP server
    first = tasks.purge_expired.enqueue()
    before = timezone.now()

    run_worker()

    ran = DBTaskResult.objects.get(id=first.id)
    assert ran.status == TaskResultStatus.SUCCESSFUL
    assert ran.return_value is not None and ran.return_value["unconfirmed_signatures"] == 1
    assert not Signature.objects.exists()
    [waiting] = _waiting_purges()
    interval = settings.SOLIDARITY_PURGE_INTERVAL
    assert before + interval <= waiting.run_after <= timezone.now() + interval

    assert tasks.ensure_scheduled() == waiting
    assert _waiting_purges() == [waiting]


def test_duplicate_waiting_runs_are_reduced_to_the_first(db: None) -> None:
    """Two servers starting at once may each queue a run; whoever looks next keeps one."""
    now = timezone.now()
    first = tasks.purge_expired.using(run_after=now + dt.timedelta(minutes=10)).enqueue()
    tasks.purge_expired.using(run_after=now + dt.timedelta(minutes=20)).enqueue()
    assert str(tasks.ensure_scheduled().id) == str(first.id)
    assert [str(r.id) for r in _waiting_purges()] == [str(first.id)]


@pytest.mark.django_db(transaction=True)
def test_a_failing_run_still_queues_the_next(
    transactional_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One bad run must not end purging for good."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr(retention, "purge", broken)
    tasks.purge_expired.enqueue()
    run_worker()
    assert DBTaskResult.objects.filter(status=TaskResultStatus.FAILED).count() == 1
    assert len(_waiting_purges()) == 1
