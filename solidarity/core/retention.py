"""Retention: what is deleted automatically, and when (ASVS 14.2.7; threat model M16).

Every row kept is a row a seized disk or a rooted server can surrender (threat model A1, A2),
and a public form that an adversary floods must not grow the database without bound. So rows
that no longer serve their purpose are deleted on a schedule: by `solidarity purge`, and by the
background task `solidarity.core.tasks.purge_expired` that re-enqueues itself.

The rules span apps (campaigns, accounts and its sessions, the task queue), so they live here,
in one list a reviewer can read to know what goes when. Each is a small function that deletes
(or, dry, counts) what is older than its period in `settings.SOLIDARITY_RETENTION`, in a
transaction per chunk of rows. Deleting through the ORM (never raw SQL) makes the audit log's
`post_delete` handler record each row of the audited apps, in the same transaction; a rule
over a model that is not audited row by row (a received signature) logs its deletions itself.
One rule deletes files, not rows: the mails the demo's file backend wrote to disk.

Counts never move: a signature counts only once confirmed, and no rule touches a confirmed one.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from solidarity.accounts import throttle
from solidarity.accounts.models import HashedSession, LoginFailure, SignedInSession
from solidarity.accounts.sessions import ABSOLUTE_LIMIT
from solidarity.audit.services import record_change
from solidarity.campaigns import intake
from solidarity.campaigns.models import Signature, SignatureIntake, Supporter

# Rows deleted per transaction: short transactions keep SQLite's write lock free for the public
# forms, so that a real signer still gets through while a flood is purged (threat model A6).
CHUNK = 1000


@dataclass(frozen=True)
class Rule:
    name: str  # the key of its period in settings.SOLIDARITY_RETENTION
    description: str
    rows: Callable[[dt.datetime], models.QuerySet[Any]] | None = None
    # Instead of rows: the files to delete.
    files: Callable[[dt.datetime], list[Path]] | None = None
    # Log each deleted row as `delete` in the audit chain, for a model whose own rows are not
    # audited (audit.signals.NOT_AUDITED).
    audit: bool = False


def period(name: str) -> dt.timedelta:
    """The retention period of a rule, from settings; a missing or absurd one fails loudly."""
    configured = getattr(settings, "SOLIDARITY_RETENTION", {})
    value = configured.get(name)
    if not isinstance(value, dt.timedelta) or value <= dt.timedelta(0):
        raise ImproperlyConfigured(
            f"SOLIDARITY_RETENTION[{name!r}] must be a positive datetime.timedelta, not {value!r}."
        )
    if name == "signed_in_sessions" and value < ABSOLUTE_LIMIT:
        # Shorter would delete the row of a session still within its limits: logged out.
        raise ImproperlyConfigured(
            f"SOLIDARITY_RETENTION['signed_in_sessions'] must be at least the session limit "
            f"({ABSOLUTE_LIMIT})."
        )
    if name == "login_failures" and value < throttle.WINDOW:
        # Shorter would forget failures the throttle still counts: a guesser's cool-off ends early.
        raise ImproperlyConfigured(
            f"SOLIDARITY_RETENTION['login_failures'] must be at least the throttle window "
            f"({throttle.WINDOW})."
        )
    return value


# -- The rules ------------------------------------------------------------------------------------


def unconfirmed_signatures(now: dt.datetime) -> models.QuerySet[Signature]:
    """Signatures whose e-mail link was never followed: they never counted and never will.

    Letter reports and RSVPs have no confirmation step, so there is nothing of theirs to wait for.
    """
    cutoff = now - period("unconfirmed_signatures")
    return Signature.objects.filter(status=Signature.Status.PENDING, created_at__lt=cutoff)


def orphaned_supporters(now: dt.datetime) -> models.QuerySet[Supporter]:
    """Contact details left with no submission, or with none but signatures purged above.

    Counting the signatures the first rule purges makes a dry run say what a real run does.
    Only rows older than the period: a supporter row is written just before its submission,
    and a young one without any may be a signature still being written.
    """
    cutoff = now - period("orphaned_supporters")
    kept_signatures = (
        Signature.objects.exclude(pk__in=unconfirmed_signatures(now).values("pk"))
        # NOT IN over a list holding NULL would exclude every row.
        .filter(supporter__isnull=False)
        .values("supporter")
    )
    return Supporter.objects.filter(
        created_at__lt=cutoff, letter_reports__isnull=True, rsvps__isnull=True
    ).exclude(pk__in=kept_signatures)


def expired_sessions(now: dt.datetime) -> models.QuerySet[HashedSession]:
    """Sessions past their expiry, as `clearsessions` deletes them (accounts.session_store)."""
    return HashedSession.objects.filter(expire_date__lt=now - period("expired_sessions"))


def old_login_failures(now: dt.datetime) -> models.QuerySet[LoginFailure]:
    """Throttle counters past their window: they no longer slow anyone down."""
    return LoginFailure.objects.filter(at__lte=now - period("login_failures"))


def stale_signed_in_sessions(now: dt.datetime) -> models.QuerySet[SignedInSession]:
    """Rows of logged-in sessions past the absolute session limit: they log nobody in, and a
    list of old logins is a record of a member's devices kept for nothing."""
    return SignedInSession.objects.filter(started_at__lt=now - period("signed_in_sessions"))


def finished_task_results(now: dt.datetime) -> models.QuerySet[DBTaskResult[Any, Any]]:
    """Results of finished background tasks: their arguments and tracebacks name rows."""
    finished = Q(status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED])
    return DBTaskResult.objects.filter(finished, finished_at__lt=now - period("task_results"))


def failed_received_signatures(now: dt.datetime) -> models.QuerySet[SignatureIntake]:
    """Received signatures the worker gave up on, a period after their last failure.

    Each holds what a supporter typed (address, name, comment; encrypted), acknowledged but
    never recorded: without this rule a bug would keep it for ever (threat model A1). Rows
    still to be tried, or being tried, are not touched; "record again" clears `failed_at`.
    """
    cutoff = now - period("failed_received_signatures")
    return SignatureIntake.objects.filter(attempts__gte=intake.ATTEMPTS, failed_at__lt=cutoff)


# The names Django's file backend gives its files, "20260301-120000-140234.log"
# (django/core/mail/backends/filebased.py). Nothing else is touched, should EMAIL_FILE_PATH
# point at a directory that holds other files.
_MAIL_FILE = re.compile(r"\d{8}-\d{6}-\d+\.log")


def old_mail_files(now: dt.datetime) -> list[Path]:
    """Mails written to EMAIL_FILE_PATH by the file backend (the demo, without an SMTP server).

    They are plaintext: supporters' addresses and names and their confirmation and unsubscribe
    links, on the server's disk and in every copy of the data directory (threat model A1).
    Looked for whatever the backend is now: a site that moved from files to SMTP keeps the old
    ones otherwise. The age is the file's last modification.
    """
    cutoff = (now - period("mail_files")).timestamp()
    directory = getattr(settings, "EMAIL_FILE_PATH", None)
    if not directory:
        return []
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(
        Path(entry.path)
        for entry in entries
        if _MAIL_FILE.fullmatch(entry.name)
        and entry.is_file(follow_symlinks=False)
        and entry.stat(follow_symlinks=False).st_mtime < cutoff
    )


RULES: tuple[Rule, ...] = (
    Rule("unconfirmed_signatures", "unconfirmed signatures", unconfirmed_signatures),
    # After the signatures: the supporters they leave behind go in the same run.
    Rule("orphaned_supporters", "supporters left with no submission", orphaned_supporters),
    Rule("expired_sessions", "expired sessions", expired_sessions),
    Rule("login_failures", "login failures past the throttle window", old_login_failures),
    Rule(
        "signed_in_sessions",
        "rows of logged-in sessions past the 8-hour limit",
        stale_signed_in_sessions,
    ),
    Rule("task_results", "finished background task results", finished_task_results),
    Rule(
        "failed_received_signatures",
        "received signatures that could not be recorded",
        failed_received_signatures,
        audit=True,
    ),
    Rule("mail_files", "mails written to files", files=old_mail_files),
)


# -- Running them ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Purged:
    rule: Rule
    rows: int


def run_rule(rule: Rule, now: dt.datetime, *, dry_run: bool = False) -> int:
    """Delete (or, dry, count) what `rule` selects at `now`; return how many rows (or files)."""
    if rule.files is not None:
        return _delete_files(rule.files(now), dry_run=dry_run)
    if rule.rows is None:
        raise ImproperlyConfigured(f"Retention rule {rule.name!r} selects neither rows nor files.")
    queryset = rule.rows(now)
    if dry_run:
        return queryset.count()
    model = queryset.model
    label = model._meta.label
    deleted = 0
    while True:
        # One transaction per chunk: the rows, what cascades from them (taggings) and their
        # audit entries commit together. Keys are read again each time, and the delete is
        # filtered by the rule again, so a row that changed meanwhile (a signature confirmed
        # a moment ago) is left alone.
        with transaction.atomic():
            pks = list(queryset.order_by("pk").values_list("pk", flat=True)[:CHUNK])
            if not pks:
                return deleted
            doomed = queryset.filter(pk__in=pks)
            if rule.audit:
                # Locked, and read again under the lock, so that the entries name exactly
                # the rows deleted (not one "recorded again" a moment ago).
                pks = list(doomed.select_for_update().values_list("pk", flat=True))
                doomed = model._base_manager.filter(pk__in=pks)
            _total, per_model = doomed.delete()
            if rule.audit and per_model.get(label):
                record_change(model, pks, (), action="delete")
        if not per_model.get(label):
            return deleted
        deleted += per_model[label]


def _delete_files(paths: list[Path], *, dry_run: bool) -> int:
    if dry_run:
        return len(paths)
    deleted = 0
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:  # deleted meanwhile (another purge, an operator)
            continue
        deleted += 1
    return deleted


def purge(
    now: dt.datetime | None = None,
    *,
    dry_run: bool = False,
    report: Callable[[Purged], None] | None = None,
) -> list[Purged]:
    """Apply every rule at `now` (default: the current time), in order."""
    now = now or timezone.now()
    results = []
    for rule in RULES:
        result = Purged(rule, run_rule(rule, now, dry_run=dry_run))
        if report is not None:
            report(result)
        results.append(result)
    return results


def vacuum() -> bool:
    """On SQLite, rewrite the file from live rows and empty the write-ahead log; else nothing.

    secure_delete already zeroes what a delete frees, but old page images wait in the WAL until
    a checkpoint, and a disk image taken meanwhile would show them (threat model A1). VACUUM
    blocks every writer while it runs, so the periodic task does not call it: an operator does,
    at a quiet hour (`solidarity purge --vacuum`). PostgreSQL reuses dead tuples after its own
    autovacuum; see docs/threat-model.md on encrypting the disk.
    """
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("VACUUM")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return True
