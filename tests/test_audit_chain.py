"""The audit log is a hash chain: `solidarity audit verify` finds any modified, deleted, inserted
or reordered entry and names the first bad one; a signed checkpoint kept off-server also
catches truncation and a chain recomputed by someone who controls the server."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from solidarity.audit.models import AuditEntry
from solidarity.audit.services import entry_hash, hash_of, verify_chain
from solidarity.core.models import Section

TABLE = AuditEntry._meta.db_table


def q(name: str) -> str:
    return connection.ops.quote_name(name)


def sql(statement: str, params: list[Any] | None = None) -> None:
    """Run raw SQL against the log's table; {t}, {values} and {ts} stand for quoted names."""
    names = {"t": q(TABLE), "values": q("values"), "ts": q("timestamp")}
    with connection.cursor() as cursor:
        cursor.execute(statement.format(**names), params or [])


def run(*args: str) -> str:
    out = StringIO()
    call_command("audit", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def chain(db: None) -> list[AuditEntry]:
    """Six entries: five sections created, one changed.

    The log starts empty: a transactional test that ran before in this worker flushed the
    database, and Django's post-migrate signal then re-created the permissions, whose creation
    the audit log records (outside any test's transaction)."""
    sql("DELETE FROM {t}")
    for n in range(5):
        Section.objects.create(slug=f"section-{n}", name_en=f"Section {n}", kind="national")
    section = Section.objects.get(slug="section-0")
    section.country = "DE"
    section.save()
    return list(AuditEntry.objects.order_by("seq"))


def test_an_untouched_chain_verifies(chain: list[AuditEntry]) -> None:
    """Sequence numbers run from 1 without a gap, each entry links to the one before."""
    assert [e.seq for e in chain] == [1, 2, 3, 4, 5, 6]
    assert all(chain[i].prev_hash == chain[i - 1].hash for i in range(1, 6))
    assert "intact: 6 entries" in run("verify")


def _modify(chain: list[AuditEntry]) -> None:
    sql("UPDATE {t} SET actor = %s WHERE seq = 3", ["user:1:somebody-else"])


def _modify_time(chain: list[AuditEntry]) -> None:
    sql("UPDATE {t} SET action = %s WHERE seq = 3", ["delete"])


def _delete(chain: list[AuditEntry]) -> None:
    sql("DELETE FROM {t} WHERE seq = 3")


def _reorder(chain: list[AuditEntry]) -> None:
    # Swap entries 3 and 4 through a free number: the unique index forbids a direct swap.
    sql("UPDATE {t} SET seq = 100 WHERE seq = 3")
    sql("UPDATE {t} SET seq = 3 WHERE seq = 4")
    sql("UPDATE {t} SET seq = 4 WHERE seq = 100")


def _insert(chain: list[AuditEntry]) -> None:
    """A forged entry slipped in after entry 2 that is consistent in itself: it links to entry 2
    and carries its own correct hash. The entries after it are renumbered to make room."""
    for seq in range(6, 2, -1):
        sql("UPDATE {t} SET seq = %s WHERE seq = %s", [seq + 1, seq])
    forged = {
        "seq": 3,
        "prev_hash": chain[1].hash,
        "timestamp": timezone.now(),
        "actor": "system:shell",
        "action": "delete",
        "model": "documentation.Person",
        "object_pk": "1",
        "fields": [],
        "values": {},
    }
    row = [*forged.values(), entry_hash(**forged)]  # type: ignore[arg-type]
    sql(
        "INSERT INTO {t} (seq, prev_hash, {ts}, actor, action, model, object_pk, fields, "
        "{values}, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [json.dumps(v) if isinstance(v, list | dict) else v for v in row],
    )


@pytest.mark.parametrize(
    ("tamper", "first_bad", "problem"),
    [
        (_modify, 3, "entry 3 was modified"),
        (_modify_time, 3, "entry 3 was modified"),
        (_delete, 3, "entry 3 is missing"),
        (_reorder, 3, "entry 3 does not link"),
        (_insert, 4, "entry 4 does not link"),
    ],
    ids=["modified-actor", "modified-action", "deleted", "reordered", "inserted"],
)
def test_tampering_is_found_and_the_first_bad_entry_named(
    chain: list[AuditEntry],
    tamper: Callable[[list[AuditEntry]], None],
    first_bad: int,
    problem: str,
) -> None:
    """Each kind of tampering with the table, done in raw SQL, fails verification."""
    tamper(chain)
    result = verify_chain()
    assert result.first_bad_seq == first_bad
    assert problem in result.problem
    with pytest.raises(CommandError, match=f"First bad entry: {first_bad}"):
        run("verify")


def test_an_entry_appended_without_the_chain_is_found(chain: list[AuditEntry]) -> None:
    """An entry added at the end with a made-up hash does not verify."""
    AuditEntry.objects.create(
        seq=7,
        prev_hash=chain[-1].hash,
        timestamp=timezone.now(),
        actor="anonymous",
        action="create",
        model="core.Section",
        object_pk="99",
        hash="f" * 64,
    )
    assert verify_chain().first_bad_seq == 7


@pytest.fixture
def signing_keys(tmp_path: Path) -> Path:
    run("keygen", "--out", str(tmp_path / "keys"))
    return tmp_path / "keys"


def test_keygen_writes_a_private_key_only_its_owner_can_read(signing_keys: Path) -> None:
    """The private key is 0600 from its creation; keygen never overwrites a key."""
    private = signing_keys / "audit-signing.key"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert (signing_keys / "audit-signing.pub").exists()
    with pytest.raises(CommandError, match="refusing to overwrite"):
        run("keygen", "--out", str(signing_keys))


def _checkpoint(signing_keys: Path, path: Path) -> Path:
    run("checkpoint", "--key", str(signing_keys / "audit-signing.key"), "--out", str(path))
    return path


def _verify_against(checkpoint: Path, public_key: Path) -> str:
    return run("verify", "--checkpoint", str(checkpoint), "--public-key", str(public_key))


def test_a_checkpoint_detects_truncation(
    chain: list[AuditEntry], signing_keys: Path, tmp_path: Path
) -> None:
    """Cutting the newest entries leaves a chain that verifies by itself, but not against the
    checkpoint signed before the cut."""
    checkpoint = _checkpoint(signing_keys, tmp_path / "checkpoint.json")
    body = json.loads(checkpoint.read_text())
    assert (body["seq"], body["head_hash"]) == (6, chain[-1].hash)
    public = signing_keys / "audit-signing.pub"
    assert "entry 6 matches the checkpoint" in _verify_against(checkpoint, public)

    Section.objects.create(slug="later", name_en="Later", kind="national")
    assert "entry 6 matches" in _verify_against(checkpoint, public)

    sql("DELETE FROM {t} WHERE seq >= 5")
    assert verify_chain().ok
    with pytest.raises(
        CommandError,
        match=r"truncated: the checkpoint .* covers entry 6, but the log now ends at entry 4",
    ):
        _verify_against(checkpoint, public)


def rewrite_entry_2_and_recompute(first_hash: str) -> None:
    """What a root attacker does: entry 2 rewritten, every hash after it recomputed, so that the
    chain verifies by itself."""
    prev = first_hash
    for entry in AuditEntry.objects.order_by("seq")[1:]:
        if entry.seq == 2:
            entry.actor = "user:1:innocent"
        entry.prev_hash = prev
        entry.hash = hash_of(entry)
        sql(
            "UPDATE {t} SET actor = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            [entry.actor, entry.prev_hash, entry.hash, entry.seq],
        )
        prev = entry.hash


def test_a_checkpoint_detects_a_recomputed_chain(
    chain: list[AuditEntry], signing_keys: Path, tmp_path: Path
) -> None:
    """Someone with the database rewrites entry 2 and recomputes every hash after it: the chain
    verifies by itself, but its head no longer matches the checkpoint."""
    checkpoint = _checkpoint(signing_keys, tmp_path / "checkpoint.json")
    rewrite_entry_2_and_recompute(chain[0].hash)
    assert verify_chain().ok
    with pytest.raises(CommandError, match="rewritten: entry 6 differs"):
        _verify_against(checkpoint, signing_keys / "audit-signing.pub")


def test_a_forged_checkpoint_or_another_key_is_refused(
    chain: list[AuditEntry], signing_keys: Path, tmp_path: Path
) -> None:
    """A checkpoint whose content was edited, or checked with another public key, fails."""
    checkpoint = _checkpoint(signing_keys, tmp_path / "checkpoint.json")
    body = json.loads(checkpoint.read_text())
    body["seq"] = 3
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(body))
    with pytest.raises(CommandError, match="signature is not valid"):
        _verify_against(forged, signing_keys / "audit-signing.pub")
    run("keygen", "--out", str(tmp_path / "other"))
    with pytest.raises(CommandError, match="signature is not valid"):
        _verify_against(checkpoint, tmp_path / "other" / "audit-signing.pub")
    with pytest.raises(CommandError, match="another kind of key"):
        _verify_against(checkpoint, signing_keys / "audit-signing.key")


def test_no_checkpoint_is_signed_for_a_broken_chain(
    chain: list[AuditEntry], signing_keys: Path, tmp_path: Path
) -> None:
    """Signing a tampered chain would launder it; the command refuses and says why."""
    _delete(chain)
    with pytest.raises(CommandError, match="Refusing to sign a broken chain: entry 3 is missing"):
        _checkpoint(signing_keys, tmp_path / "checkpoint.json")
    assert not (tmp_path / "checkpoint.json").exists()


def test_the_command_line_exits_non_zero_on_a_tampered_log(tmp_path: Path) -> None:
    """Through the real CLI on a database file: the change made from `solidarity shell` is
    attributed to it, and after a byte of the log is changed `audit verify` exits 1."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["SOLIDARITY_DATA_DIR"] = str(tmp_path)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "solidarity", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert cli("migrate", "-v0").returncode == 0
    code = (
        "from solidarity.core.models import Section; "
        "Section.objects.create(slug='a', name_en='A', kind='home')"
    )
    assert cli("shell", "-c", code).returncode == 0
    ok = cli("audit", "verify")
    assert ok.returncode == 0 and "intact: 1 entries" in ok.stdout
    database = sqlite3.connect(tmp_path / "solidarity.sqlite3")
    with database:
        (actor,) = database.execute("SELECT actor FROM audit_auditentry WHERE seq = 1").fetchone()
        assert actor == "system:shell"
        database.execute("UPDATE audit_auditentry SET object_pk = '2' WHERE seq = 1")
    database.close()
    bad = cli("audit", "verify")
    assert bad.returncode == 1
    assert "First bad entry: 1" in bad.stderr


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises all writers")
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_gapless_chain() -> None:
    """Four threads writing at once on PostgreSQL: every entry gets its own sequence number, and
    the chain verifies."""
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(10):
                with transaction.atomic():
                    Section.objects.create(slug=f"t{n}-{i}", name_en=f"T{n}.{i}", kind="national")
        except BaseException as error:  # reported to the main thread below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # Not "seq 1 to 40": rows committed by another test's threads (outside its transaction,
    # so never rolled back) may be in the table already; what matters is no gap, no double.
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    created = Section.objects.filter(slug__regex=r"^t[0-3]-[0-9]$").values_list("pk", flat=True)
    logged = AuditEntry.objects.filter(
        action="create", model="core.Section", object_pk__in=[str(pk) for pk in created]
    )
    assert len(created) == 40 and logged.count() == 40
    assert verify_chain().ok
