"""Witnesses of the audit chain's head (solidarity/audit/tasks.py, threat model D9): the real
database worker mails each address of SOLIDARITY_AUDIT_WITNESSES the head's seq and hash through
Django's SMTP backend to an aiosmtpd server on loopback, every SOLIDARITY_AUDIT_WITNESS_INTERVAL;
`solidarity audit verify --head SEQ:HASH` then fails on a log altered, recomputed or cut short
below that head. Tampering is done in raw SQL, as someone holding the database would."""

from __future__ import annotations

import json
import re
import socket
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from pytest_django import Settings

from solidarity.audit import tasks
from solidarity.audit.models import AuditEntry
from solidarity.audit.services import verify_chain
from solidarity.core.management.commands.serve import schedule_witnesses
from solidarity.core.models import Section
from tests.test_audit_chain import rewrite_entry_2_and_recompute, sql
from tests.test_campaigns_support import (  # mailbox_fixture: imported to register it
    Mailbox,
    mailbox_fixture,  # noqa: F401
    run_worker,
)

ANNA = "anna-witness@example.org"
BORIS = "boris-witness@example.net"
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def run(*args: str) -> str:
    out = StringIO()
    call_command("audit", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _chain(entries: int = 6) -> list[AuditEntry]:
    """A log of `entries` entries from 1: sections created, after emptying the table (a
    transactional test before may have left entries of permissions re-created at its flush)."""
    sql("DELETE FROM {t}")
    for n in range(entries):
        Section.objects.create(slug=f"section-{n}", name_en=f"Section {n}", kind="national")
    chain = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in chain] == list(range(1, entries + 1))
    return chain


def _head(entry: AuditEntry) -> str:
    return f"{entry.seq}:{entry.hash}"


def _waiting(task_path: str) -> list[DBTaskResult]:  # type: ignore[type-arg]
    return list(DBTaskResult.objects.filter(task_path=task_path, status=TaskResultStatus.READY))


# -- The mail ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_each_witness_is_mailed_the_head_and_nothing_personal(
    mailbox: Mailbox, settings: Settings
) -> None:
    """Run by the real worker: one message to each witness alone, naming the public host, the
    head and the command that checks it, with no address in it; the sending is itself an entry,
    without the addresses; the next run waits a day later; the mailed head verifies."""
    settings.SOLIDARITY_AUDIT_WITNESSES = [ANNA, BORIS]
    settings.ALLOWED_HOSTS = ["office.example.net", "solidarity.example.org"]
    settings.SOLIDARITY_BACKOFFICE_HOSTS = ["office.example.net"]
    chain = _chain()
    head = chain[-1]
    DBTaskResult.objects.all().delete()
    queued = tasks.witness_head.enqueue()
    before = timezone.now()

    run_worker()

    assert DBTaskResult.objects.get(id=queued.id).return_value == 2
    assert sorted(tos[0] for _from, tos in mailbox.envelopes) == sorted([ANNA, BORIS])
    assert all(len(tos) == 1 for _from, tos in mailbox.envelopes)
    for address in (ANNA, BORIS):
        [message] = mailbox.to(address)
        assert message["Cc"] is None and message["Bcc"] is None
        body = mailbox.body(message).replace("\r\n", "\n")
        assert "solidarity.example.org" in mailbox.subject(message)
        assert f"entry {head.seq}" in mailbox.subject(message)
        assert f"Head:    {_head(head)}\n" in body
        assert "Entries: 6\n" in body
        assert "Host:    solidarity.example.org\n" in body
        assert f"solidarity audit verify --head {_head(head)}\n" in body
        assert re.search(r"Time:    \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(UTC\)", body)
        assert "office.example.net" not in body + mailbox.subject(message)
        assert ADDRESS.findall(body) == []
        # Only the position, hash, count, time and host: no entry's content.
        assert "Section" not in body and "section-" not in body

    [entry] = AuditEntry.objects.filter(action="audit_head_witnessed")
    assert entry.seq == head.seq + 1
    assert entry.actor == "system:audit_witness"
    assert entry.values == {"seq": 6, "hash": head.hash, "entries": 6, "witnesses": 2}
    stored = json.dumps([entry.actor, entry.model, entry.object_pk, entry.fields, entry.values])
    assert ADDRESS.findall(stored) == []
    assert verify_chain().ok

    [waiting] = _waiting(tasks.witness_head.module_path)
    interval = settings.SOLIDARITY_AUDIT_WITNESS_INTERVAL
    assert before + interval <= waiting.run_after <= timezone.now() + interval
    assert tasks.ensure_scheduled() == waiting
    assert len(_waiting(tasks.witness_head.module_path)) == 1

    # What the witness holds checks out, and keeps checking out as the log grows.
    Section.objects.create(slug="later", name_en="Later", kind="national")
    assert "entry 6 has the witnessed hash" in run("verify", "--head", _head(head))


@pytest.mark.django_db(transaction=True)
def test_a_relay_outage_is_retried_with_no_address_in_the_task_table(
    settings: Settings,
) -> None:
    """Nothing listens on the relay's port: the mail task queues its next attempt, the same
    arguments, none of them an address (the task table keeps them for a week)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "solidarity.safety.mail.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.SOLIDARITY_AUDIT_WITNESSES = [ANNA]
    _chain(2)
    DBTaskResult.objects.all().delete()

    assert run("witness").startswith("The head was queued for 1 witnesses")
    run_worker()

    [first] = DBTaskResult.objects.filter(
        task_path=tasks.send_head.module_path, status=TaskResultStatus.SUCCESSFUL
    )
    assert first.return_value is False
    [retry] = _waiting(tasks.send_head.module_path)
    assert retry.args_kwargs["args"] == first.args_kwargs["args"]
    assert retry.args_kwargs["kwargs"] == {"attempt": 2}
    assert retry.run_after > timezone.now()
    table = json.dumps(
        [[r.args_kwargs, r.return_value, r.traceback] for r in DBTaskResult.objects.all()]
    )
    assert "@" not in table


@pytest.mark.django_db(transaction=True)
def test_a_broken_chain_is_reported_to_the_witnesses(mailbox: Mailbox, settings: Settings) -> None:
    """A change made straight in the database is news for the witnesses the same day: the mail
    says the log is not intact, names the entry, and mails the last head that checks out."""
    settings.SOLIDARITY_AUDIT_WITNESSES = [ANNA]
    chain = _chain()
    sql("UPDATE {t} SET actor = %s WHERE seq = 4", ["user:1:somebody-else"])
    DBTaskResult.objects.all().delete()
    tasks.witness_head.enqueue()
    run_worker()

    [message] = mailbox.to(ANNA)
    body = mailbox.body(message).replace("\r\n", "\n")
    assert "NOT intact" in mailbox.subject(message)
    assert "did NOT verify" in body and "entry 4 was modified" in body
    assert f"Head:    {_head(chain[2])}\n" in body
    [entry] = AuditEntry.objects.filter(action="audit_head_witnessed")
    assert entry.values["first_bad_seq"] == 4


@pytest.mark.django_db(transaction=True)
def test_without_witnesses_nothing_is_scheduled_or_mailed(
    mailbox: Mailbox, settings: Settings
) -> None:
    """Off by default: `serve` queues no run, a run left over from before sends nothing and
    queues no successor, `audit witness` says what to set, and the log records no sending."""
    settings.SOLIDARITY_AUDIT_WITNESSES = []
    _chain(2)
    DBTaskResult.objects.all().delete()

    errors = StringIO()
    schedule_witnesses(errors)
    assert errors.getvalue() == ""
    assert tasks.ensure_scheduled() is None
    assert not DBTaskResult.objects.filter(task_path=tasks.witness_head.module_path).exists()

    left_over = tasks.witness_head.enqueue()
    run_worker()
    assert DBTaskResult.objects.get(id=left_over.id).return_value == 0
    assert _waiting(tasks.witness_head.module_path) == []
    assert not DBTaskResult.objects.filter(task_path=tasks.send_head.module_path).exists()
    assert mailbox.messages == []
    assert not AuditEntry.objects.filter(action="audit_head_witnessed").exists()
    with pytest.raises(CommandError, match="SOLIDARITY_AUDIT_WITNESSES"):
        run("witness")

    settings.SOLIDARITY_AUDIT_WITNESSES = [ANNA]
    schedule_witnesses(errors)
    assert len(_waiting(tasks.witness_head.module_path)) == 1


# -- verify --head and head -------------------------------------------------------------------


def test_audit_head_prints_the_head_and_verify_accepts_it(db: None) -> None:
    """`audit head` gives SEQ:HASH; that head, and an older one, verify (repeatable --head)."""
    chain = _chain()
    assert run("head") == f"{_head(chain[-1])}\n"
    out = run("verify", "--head", _head(chain[-1]), "--head", _head(chain[2]).upper())
    assert "intact: 6 entries" in out
    assert "entry 6 has the witnessed hash" in out and "entry 3 has the witnessed hash" in out
    assert "the head of an empty log" in run("verify", "--head", "0:" + "0" * 64)


def test_verify_head_fails_after_an_entry_is_altered(db: None) -> None:
    chain = _chain()
    sql("UPDATE {t} SET actor = %s WHERE seq = 3", ["user:1:somebody-else"])
    with pytest.raises(
        CommandError,
        match=r"entry 3 was modified.*First bad entry: 3 .*below the witnessed head 6 was changed",
    ):
        run("verify", "--head", _head(chain[-1]))
    with pytest.raises(CommandError, match="Refusing to give the head of a broken chain"):
        run("head")


def test_verify_head_fails_after_the_log_is_cut_short(db: None) -> None:
    """The remaining entries verify by themselves; the witnessed head is gone."""
    chain = _chain()
    sql("DELETE FROM {t} WHERE seq >= 5")
    assert verify_chain().ok
    assert "entry 3 has the witnessed hash" in run("verify", "--head", _head(chain[2]))
    with pytest.raises(
        CommandError,
        match=r"truncated: the witnessed head is entry 6, but the log now ends at entry 4",
    ):
        run("verify", "--head", _head(chain[2]), "--head", _head(chain[-1]))


def test_verify_head_fails_on_a_recomputed_chain(db: None) -> None:
    """Entry 2 rewritten and every hash after it recomputed, as a root attacker would: the
    chain verifies by itself, the witnessed head 6 does not, the head 1 before it still does."""
    chain = _chain()
    rewrite_entry_2_and_recompute(chain[0].hash)
    assert verify_chain().ok
    assert "entry 1 has the witnessed hash" in run("verify", "--head", _head(chain[0]))
    with pytest.raises(CommandError, match="rewritten: entry 6 no longer has the witnessed hash"):
        run("verify", "--head", _head(chain[-1]))


@pytest.mark.parametrize(
    "head", ["6", "6:abc", "x:" + "a" * 64, "6:" + "g" * 64, "0:" + "a" * 64, "-1:" + "a" * 64]
)
def test_a_malformed_head_is_refused(db: None, head: str) -> None:
    with pytest.raises(CommandError, match=r"is not a head|Head 0 is the empty log's"):
        run("verify", f"--head={head}")
