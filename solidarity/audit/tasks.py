"""Witnesses of the audit chain's head: a daily plain-text mail to people off the server.

Threat (threat model D9): whoever roots or seizes the server can rewrite the audit log and
recompute every hash after the change, or cut off its newest entries; the chain then verifies
by itself. A head (the last entry's seq and hash) that left the server before the rewrite is
what it cannot match: `solidarity audit verify --head SEQ:HASH` fails on a log rewritten or
truncated below that entry. The signed checkpoints (`audit checkpoint`) do the same, but by
hand, so in practice seldom. Nothing is signed here, and no signing key is on the server: it
would sign whatever a root attacker asked. A mail's worth is only that it left: the witness's
mailbox (and their provider, with its Date header) keeps it, and the server cannot take it
back. A mail that stops coming is a sign too.

What a mail holds: the public host's name, the time, the head's seq and hash, and the number of
entries; never an entry's content. The addresses are the operator's configuration
(SOLIDARITY_AUDIT_WITNESSES) and stay out of the audit log and the task table: a mail task gets
the witness's position in that list. The mail is in English and not translated: it is for the
operators and the people they chose to hold the heads, like the output of the command it names.

Scheduled as the retention purge is (core/tasks.py): the database worker runs `witness_head`,
which queues its next run SOLIDARITY_AUDIT_WITNESS_INTERVAL later; `ensure_scheduled` (called by
`solidarity serve` and `audit witness`) starts the chain, and queues nothing while no witness is
configured. Each mail is its own task, retried through an outage of the relay
(core/delivery.py).
"""

from __future__ import annotations

import datetime as dt
import socket

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from solidarity.accounts.hosts import backoffice_hosts, normalise
from solidarity.core.delivery import send_or_retry

from . import services
from .context import acting_as
from .models import AuditEntry

ACTION = "audit_head_witnessed"


def witnesses() -> list[str]:
    return [address for address in settings.SOLIDARITY_AUDIT_WITNESSES if address.strip()]


def site_host() -> str:
    """The name the witnesses know the site by: the first allowed host that is not a wildcard
    nor a back-office host. Never a back-office host: the mail passes through the relay and the
    witnesses' providers, and that name is kept out of everything sent (threat model D11)."""
    hidden = backoffice_hosts()
    for host in settings.ALLOWED_HOSTS:
        name = normalise(host).lstrip(".")
        if name and "*" not in name and name not in hidden:
            return name
    return socket.gethostname()


def _time_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def witness_now() -> int:
    """Queue one mail of the chain's current head to each witness, and log that it was sent;
    return the number of mails queued (none while no witness is configured).

    The entry is written after the head was read, so it is not in the head it reports; its
    values name that head (seq, hash, entries), so the log itself says what the witnesses hold,
    and the next mail covers the entry. A chain that does not verify is reported as such: the
    witnesses hear of a change made without root (a database login, a restored old backup) the
    day it is found, and the head mailed is the last entry that checks out.
    """
    recipients = witnesses()
    if not recipients:
        return 0
    result = services.verify_chain()
    sent_at = _time_text(timezone.now())
    values: dict[str, object] = {
        "seq": result.head_seq,
        "hash": result.head_hash,
        "entries": result.entries,
        "witnesses": len(recipients),
    }
    if not result.ok:
        values["first_bad_seq"] = result.first_bad_seq
    with transaction.atomic():
        services.append(
            ACTION, services.model_label(AuditEntry), result.head_seq, ["hash"], values=values
        )
        # In the transaction of the entry: mails queued means the entry is in the log.
        for index in range(len(recipients)):
            send_head.enqueue(
                index, result.head_seq, result.head_hash, result.entries, sent_at, result.problem
            )
    return len(recipients)


def head_message(
    recipient: str, seq: int, head_hash: str, entries: int, sent_at: str, problem: str = ""
) -> EmailMessage:
    host = site_host()
    head = f"{seq}:{head_hash}"
    facts = f"Host:    {host}\nTime:    {sent_at} (UTC)\nEntries: {entries}\nHead:    {head}\n"
    keep = (
        "Keep this message where the server cannot reach it. It holds no personal data,\n"
        "only the position and hash of the log's last entry.\n"
    )
    if problem:
        subject = f"Audit log of {host}: NOT intact ({sent_at})"
        body = (
            f"The audit log of {host} did NOT verify at {sent_at}:\n"
            f"{problem}.\n\n"
            "Tell the operators. The head below is the last entry that checks out.\n\n"
            f"{facts}\n{keep}"
        )
    else:
        subject = f"Audit log of {host}: entry {seq} ({sent_at})"
        body = (
            f"The audit log of {host} was intact at {sent_at}.\n\n"
            f"{facts}\n{keep}\n"
            "To check later that the log was not rewritten or cut short since, an operator\n"
            "runs on the server (or on a restored backup):\n\n"
            f"    solidarity audit verify --head {head}\n\n"
            "If that fails, the history this message witnessed was changed.\n"
        )
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])


@task()
def send_head(
    index: int,
    seq: int,
    head_hash: str,
    entries: int,
    sent_at: str,
    problem: str = "",
    attempt: int = 1,
) -> bool:
    """Mail one witness (by position in SOLIDARITY_AUDIT_WITNESSES) the head read at `sent_at`.
    False if nothing was sent: the witness was removed since, or a later attempt is queued."""
    recipients = witnesses()
    if index >= len(recipients):
        return False
    message = head_message(recipients[index], seq, head_hash, entries, sent_at, problem)
    args = [index, seq, head_hash, entries, sent_at, problem]
    return send_or_retry(message, send_head, args, attempt)


@task()
def witness_head() -> int:
    """Mail the chain's head to the witnesses, then queue the next run; return the mails queued."""
    try:
        with acting_as("system:audit_witness"):
            return witness_now()
    finally:
        # Also after a failure: one bad run must not end the witnessing for good.
        ensure_scheduled()


def _waiting() -> list[DBTaskResult]:  # type: ignore[type-arg]
    return list(
        DBTaskResult.objects.filter(
            task_path=witness_head.module_path, status=TaskResultStatus.READY
        ).order_by("run_after", "id")
    )


def ensure_scheduled(now: dt.datetime | None = None) -> DBTaskResult | None:  # type: ignore[type-arg]
    """Make sure exactly one run of `witness_head` waits in the queue, and return it; None, and
    nothing queued, while SOLIDARITY_AUDIT_WITNESSES is empty.

    As `core.tasks.ensure_scheduled`: a new run is due one interval after `now`, and a waiting
    run is kept as it is, so that a server restarting often neither mails at every start nor
    pushes the mail away for good. A run left waiting after the witnesses were removed sends
    nothing and queues no successor.
    """
    if not witnesses():
        return None
    if not _waiting():
        due = (now or timezone.now()) + settings.SOLIDARITY_AUDIT_WITNESS_INTERVAL
        witness_head.using(run_after=due).enqueue()
    waiting = _waiting()
    with transaction.atomic():
        DBTaskResult.objects.filter(pk__in=[run.pk for run in waiting[1:]]).delete()
    return waiting[0]
