"""Section recovery keys: an offline X25519 key per section to which every sealed value of the
section is also wrapped, so that a section whose coordinators are all gone can be granted to a
new one (`solidarity keys recovery-keygen | recovery-set | recover`, safety/recovery.py).

Real crypto throughout (Argon2id at its interactive cost), through the command line."""

from __future__ import annotations

import base64
import stat
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models.signals import post_delete
from django.test import Client
from django.urls import reverse
from nacl.public import PrivateKey
from pytest_django.fixtures import Settings

from solidarity.audit.keys import read_recovery_private
from solidarity.audit.models import AuditEntry
from solidarity.core.models import Section
from solidarity.documentation.models import Person
from solidarity.documentation.models import Testimony as SealedTestimony
from solidarity.safety.crypto import b64d, unseal, unwrap_data_key
from solidarity.safety.fields import SealingError, row_aad
from solidarity.safety.keys import NotARecipient, RecipientsChanged, read_sealed, write_sealed
from solidarity.safety.models import (
    RecoveryWrappedKey,
    Role,
    SealedKey,
    SectionRecoveryKey,
    UserKey,
)
from solidarity.safety.recovery import set_recovery_key
from tests.conftest import verified_login
from tests.test_safety_sealed import WHEREABOUTS, coordinator, hidden_person, opened

WITNESS = "Gulnara S., cell-mate in SIZO-1"
ACCOUNT = "They kept me standing for two days"


@pytest.fixture(autouse=True)
def fast_kdf(settings: Settings) -> None:
    """Argon2id at its interactive cost: the tests open keys many times."""
    settings.SOLIDARITY_KDF = "interactive"


def keygen(out: Path) -> str:
    stdout = StringIO()
    call_command("keys", "recovery-keygen", "--out", str(out), stdout=stdout)
    return stdout.getvalue()


def password_file(tmp_path: Path, user: User) -> str:
    path = tmp_path / f"{user.username}.password"
    path.write_text(f"{user.username} long passphrase\n")
    return str(path)


def recovery_set(section: Section, public: Path, by: User, tmp_path: Path, *extra: str) -> str:
    stdout = StringIO()
    call_command(
        "keys",
        "recovery-set",
        "--section",
        section.slug,
        "--public",
        str(public),
        "--by",
        by.username,
        "--password-file",
        password_file(tmp_path, by),
        *extra,
        stdout=stdout,
    )
    return stdout.getvalue()


def confirmed_by(second: User, tmp_path: Path) -> tuple[str, ...]:
    """The arguments by which a second coordinator confirms, with their password."""
    return ("--second", second.username, "--second-password-file", password_file(tmp_path, second))


def recovery_remove(section: Section, by: User, tmp_path: Path, *extra: str) -> str:
    stdout = StringIO()
    call_command(
        "keys",
        "recovery-remove",
        "--section",
        section.slug,
        "--by",
        by.username,
        "--password-file",
        password_file(tmp_path, by),
        *extra,
        stdout=stdout,
    )
    return stdout.getvalue()


def recover(section: Section, key: Path, grantee: str) -> str:
    stdout = StringIO()
    call_command(
        "keys",
        "recover",
        "--section",
        section.slug,
        "--key",
        str(key),
        "--grant",
        grantee,
        stdout=stdout,
    )
    return stdout.getvalue()


def sealed_testimony(section: Section) -> SealedTestimony:
    return SealedTestimony.objects.create(
        section=section, reference="T-2012-03", witness=WITNESS, account=ACCOUNT
    )


def recovery_wrapped(obj: Person | SealedTestimony) -> set[str]:
    content_type = ContentType.objects.get_for_model(obj)
    return set(
        RecoveryWrappedKey.objects.filter(content_type=content_type, object_id=obj.pk).values_list(
            "field_name", flat=True
        )
    )


def every_column_of_every_table() -> str:
    """The whole database as a dump would see it, as one text."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                parts += [
                    bytes(v).decode("latin-1") if isinstance(v, bytes | memoryview) else str(v)
                    for v in row
                ]
    return "\n".join(parts)


@pytest.fixture
def offline(tmp_path: Path) -> Path:
    """A recovery key pair made "offline": outside the server's data directory."""
    out = tmp_path / "offline"
    keygen(out)
    return out


def test_keygen_writes_a_private_key_only_its_owner_reads(tmp_path: Path) -> None:
    """recovery.key is 0600 and recovery.pub is public; the output says to move the private key
    off the machine; an existing key is never overwritten."""
    out = tmp_path / "offline"
    said = keygen(out)
    assert stat.S_IMODE((out / "recovery.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "recovery.pub").stat().st_mode) == 0o644
    assert "Move it off this machine" in said and "never be on the server" in said
    assert read_recovery_private(out / "recovery.key")
    with pytest.raises(CommandError, match="refusing to overwrite"):
        keygen(out)


def test_recovery_set_wraps_existing_values_and_new_ones_are_wrapped_at_write(
    section: Section, offline: Path, tmp_path: Path
) -> None:
    """Values stored before the key are wrapped to it by recovery-set; values written or
    rewritten after it are wrapped to it by the field itself, and emptied ones lose it."""
    alia = coordinator("alia", section)
    person, account = hidden_person(section), sealed_testimony(section)
    assert not RecoveryWrappedKey.objects.exists()
    said = recovery_set(section, offline / "recovery.pub", alia, tmp_path)
    assert "3 sealed value(s) wrapped to it" in said and "NOT" not in said
    key = SectionRecoveryKey.objects.get(section=section)
    assert key.created_by == alia and len(key.fingerprint) == 32
    assert recovery_wrapped(person) == {"whereabouts"}
    assert recovery_wrapped(account) == {"witness", "account"}

    later = hidden_person(section, "later")
    assert recovery_wrapped(later) == {"whereabouts"}
    before = RecoveryWrappedKey.objects.get(object_id=later.pk, field_name="whereabouts")
    later.whereabouts = "moved to a safe flat"
    later.save()
    after = RecoveryWrappedKey.objects.get(object_id=later.pk, field_name="whereabouts")
    assert after.pk != before.pk and after.wrapped_key != before.wrapped_key
    later.whereabouts = ""
    later.save()
    assert recovery_wrapped(later) == set()
    # Running it again with the same key wraps nothing twice.
    assert "0 sealed value(s) wrapped to it, 3 already were" in recovery_set(
        section, offline / "recovery.pub", alia, tmp_path
    )


def test_a_section_whose_coordinators_are_all_gone_is_recovered(
    section: Section, offline: Path, tmp_path: Path
) -> None:
    """Every coordinator's key and role gone, `recover --grant` with the offline key lets a new
    coordinator read every value through read_sealed; nothing else did."""
    alia, bolat = coordinator("alia", section), coordinator("bolat", section)
    person = hidden_person(section)
    recovery_set(section, offline / "recovery.pub", alia, tmp_path, *confirmed_by(bolat, tmp_path))
    account = sealed_testimony(section)  # written after: wrapped at write
    for gone in (alia, bolat):
        Role.objects.get(user=gone).delete()
        UserKey.objects.filter(user=gone).delete()
    assert not SealedKey.objects.exists()

    newcomer = coordinator("newcomer", section)
    with pytest.raises(NotARecipient):
        read_sealed(newcomer, Person.objects.get(pk=person.pk), "whereabouts", opened(newcomer))
    said = recover(section, offline / "recovery.key", "newcomer")
    assert "3 sealed value(s) of section" in said and "granted to newcomer" in said
    key = opened(newcomer)
    assert read_sealed(newcomer, Person.objects.get(pk=person.pk), "whereabouts", key) == (
        WHEREABOUTS
    )
    stored = SealedTestimony.objects.get(pk=account.pk)
    assert read_sealed(newcomer, stored, "witness", key) == WITNESS
    assert read_sealed(newcomer, stored, "account", key) == ACCOUNT
    assert "0 sealed value(s)" in recover(section, offline / "recovery.key", "newcomer")


def test_a_private_key_that_is_not_the_sections_is_refused(
    section: Section, offline: Path, tmp_path: Path
) -> None:
    """Another recovery key, a public key in place of the private one and a backup key are all
    refused, and nobody is granted anything."""
    alia = coordinator("alia", section)
    hidden_person(section)
    recovery_set(section, offline / "recovery.pub", alia, tmp_path)
    coordinator("newcomer", section)
    other = tmp_path / "other"
    keygen(other)
    with pytest.raises(CommandError, match="does not match the recovery key"):
        recover(section, other / "recovery.key", "newcomer")
    with pytest.raises(CommandError, match="another kind of key"):
        recover(section, offline / "recovery.pub", "newcomer")
    call_command("backup-keygen", "--out", str(tmp_path / "backup"), stdout=StringIO())
    with pytest.raises(CommandError, match="another kind of key"):
        recover(section, tmp_path / "backup" / "backup.key", "newcomer")
    assert not SealedKey.objects.filter(user__username="newcomer").exists()


def test_recover_keeps_the_rules_of_a_grant(
    section: Section, offline: Path, tmp_path: Path
) -> None:
    """A user without a role, with a role that reads no sealed data, or without a key is
    refused; so is a section without a recovery key."""
    alia = coordinator("alia", section)
    hidden_person(section)
    with pytest.raises(CommandError, match="has no recovery key"):
        recover(section, offline / "recovery.key", "alia")
    recovery_set(section, offline / "recovery.pub", alia, tmp_path)
    User.objects.create_user("outsider", password="outsider long passphrase")
    coordinator("researcher", section, role="researcher")
    coordinator("keyless", section, key=False)
    with pytest.raises(CommandError, match="no role in this section"):
        recover(section, offline / "recovery.key", "outsider")
    with pytest.raises(CommandError, match="no role in this section"):
        recover(section, offline / "recovery.key", "researcher")
    with pytest.raises(CommandError, match="no key yet"):
        recover(section, offline / "recovery.key", "keyless")
    assert set(SealedKey.objects.values_list("user__username", flat=True)) == {"alia"}


def test_recovery_set_needs_a_coordinator_of_the_section_and_their_password(
    section: Section, offline: Path, tmp_path: Path
) -> None:
    alia = coordinator("alia", section)
    researcher = coordinator("researcher", section, role="researcher")
    hidden_person(section)
    with pytest.raises(CommandError, match="no role in section"):
        recovery_set(section, offline / "recovery.pub", researcher, tmp_path)
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase at all")
    with pytest.raises(CommandError, match="does not open your key"):
        call_command(
            "keys",
            "recovery-set",
            "--section",
            section.slug,
            "--public",
            str(offline / "recovery.pub"),
            "--by",
            alia.username,
            "--password-file",
            str(wrong),
        )
    with pytest.raises(CommandError, match="another kind of key"):
        recovery_set(section, offline / "recovery.key", alia, tmp_path)
    assert not SectionRecoveryKey.objects.exists()


def test_values_the_coordinator_cannot_open_are_counted_not_skipped(
    section: Section, offline: Path, tmp_path: Path
) -> None:
    """A coordinator who joined after a value was stored, and was not granted it, wraps only
    what they can open and is told how many they could not; another coordinator completes it."""
    alia = coordinator("alia", section)
    old = hidden_person(section, "old")
    bolat = coordinator("bolat", section)
    hidden_person(section, "new")
    said = recovery_set(
        section, offline / "recovery.pub", bolat, tmp_path, *confirmed_by(alia, tmp_path)
    )
    assert "1 sealed value(s) wrapped to it" in said
    assert "1 sealed value(s) of the section were not sealed for bolat" in said
    assert recovery_wrapped(old) == set()
    said = recovery_set(section, offline / "recovery.pub", alia, tmp_path)
    assert "1 sealed value(s) wrapped to it, 1 already were" in said and "NOT" not in said
    assert recovery_wrapped(old) == {"whereabouts"}


def test_replacing_the_recovery_key_rewraps_and_drops_the_old_one(
    section: Section, offline: Path, tmp_path: Path
) -> None:
    """recovery-set with a new key wraps every value to it and deletes the old key and its
    wrapped keys, so the old private key recovers nothing; it is refused while a value wrapped
    to the old key could not be re-wrapped, unless --drop-unopened."""
    alia = coordinator("alia", section)
    person = hidden_person(section)
    recovery_set(section, offline / "recovery.pub", alia, tmp_path)
    old_key = SectionRecoveryKey.objects.get()
    new = tmp_path / "new"
    keygen(new)

    old_proof = ("--old-key", str(offline / "recovery.key"))
    bolat = coordinator("bolat", section)  # not a recipient of the person's whereabouts
    with pytest.raises(CommandError, match="would make them unrecoverable"):
        recovery_set(section, new / "recovery.pub", bolat, tmp_path, *old_proof)
    assert SectionRecoveryKey.objects.get() == old_key

    said = recovery_set(section, new / "recovery.pub", alia, tmp_path, *old_proof)
    assert "replaced" in said and "1 sealed value(s) wrapped to it" in said
    assert not SectionRecoveryKey.objects.filter(pk=old_key.pk).exists()
    assert list(RecoveryWrappedKey.objects.values_list("recovery_key", flat=True)) == [
        SectionRecoveryKey.objects.get().pk
    ]
    Role.objects.get(user=alia).delete()
    with pytest.raises(CommandError, match="does not match"):
        recover(section, offline / "recovery.key", "bolat")
    recover(section, new / "recovery.key", "bolat")
    assert read_sealed(bolat, Person.objects.get(pk=person.pk), "whereabouts", opened(bolat)) == (
        WHEREABOUTS
    )

    # Alia's wrapped keys went with her role: back as coordinator, she opens nothing.
    third = tmp_path / "third"
    keygen(third)
    Role.objects.create(user=alia, section=section, role="coordinator")
    new_proof = ("--old-key", str(new / "recovery.key"))
    with pytest.raises(CommandError, match="1 sealed value"):
        recovery_set(section, third / "recovery.pub", alia, tmp_path, *new_proof)
    said = recovery_set(
        section, third / "recovery.pub", alia, tmp_path, "--drop-unopened", *new_proof
    )
    assert "replaced" in said and "0 sealed value(s) wrapped to it" in said
    assert "1 sealed value(s) of the section were not sealed for alia" in said
    assert not RecoveryWrappedKey.objects.exists()


def test_a_recovery_key_alone_is_no_recipient(section: Section, offline: Path) -> None:
    """With no coordinator holding a key, a value is still refused: the recovery key is a
    backup of access, not a reader on the server."""
    alia = coordinator("alia", section)
    SectionRecoveryKey.objects.create(
        section=section,
        public_key=base64.b64encode(
            bytes(read_recovery_private(offline / "recovery.key").public_key)
        ).decode(),
        fingerprint="f" * 32,
        created_by=alia,
    )
    UserKey.objects.filter(user=alia).delete()
    with pytest.raises(SealingError, match="No coordinator"), transaction.atomic():
        hidden_person(section)


def test_the_server_never_holds_the_recovery_private_key(
    section: Section, offline: Path, tmp_path: Path
) -> None:
    """After keygen, recovery-set and a recovery, no column of any table and no file in the
    data directory holds the private key, in base64 or raw; the model has no field for it."""
    alia = coordinator("alia", section)
    hidden_person(section)
    recovery_set(section, offline / "recovery.pub", alia, tmp_path)
    coordinator("newcomer", section)
    recover(section, offline / "recovery.key", "newcomer")
    private = bytes(read_recovery_private(offline / "recovery.key"))
    forms = [base64.b64encode(private).decode(), private.hex(), private.decode("latin-1")]
    dump = every_column_of_every_table()
    assert SectionRecoveryKey.objects.get().public_key in dump  # the scan sees the public half
    assert [form for form in forms if form in dump] == []
    names = {f.name for f in SectionRecoveryKey._meta.concrete_fields}
    assert names == {"id", "section", "public_key", "fingerprint", "created_at", "created_by"}
    data_dir = Path(django_settings.DATA_DIR)
    for path in data_dir.rglob("*") if data_dir.exists() else []:
        if path.is_file() and path.stat().st_size < 50_000_000:
            data = path.read_bytes()
            assert private not in data and forms[0].encode() not in data, path


def test_recovery_is_audited_without_values(
    section: Section, offline: Path, tmp_path: Path
) -> None:
    """Registering the key and recovering are logged with the section, fingerprint, grantee and
    counts; every wrapped key created is logged by name; no entry holds a value or a key."""
    alia = coordinator("alia", section)
    hidden_person(section)
    sealed_testimony(section)
    start = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    recovery_set(section, offline / "recovery.pub", alia, tmp_path)
    coordinator("newcomer", section)
    recover(section, offline / "recovery.key", "newcomer")
    entries = AuditEntry.objects.filter(seq__gt=start)
    key = SectionRecoveryKey.objects.get()
    (registered,) = entries.filter(action="recovery_key_set")
    assert registered.actor == "system:keys" and registered.object_pk == str(key.pk)
    assert registered.values["section"] == section.slug
    assert registered.values["fingerprint"] == key.fingerprint
    assert registered.values["wrapped"] == 3 and registered.values["unopened"] == 0
    assert entries.filter(action="recovery_wrap", model="safety.RecoveryWrappedKey").count() == 3
    (granted,) = entries.filter(action="recovery_grant", model="safety.SectionRecoveryKey")
    assert granted.values["granted"] == 3 and granted.values["to"].endswith(":newcomer")
    assert entries.filter(action="recovery_grant", model="safety.SealedKey").count() == 3
    private = base64.b64encode(bytes(read_recovery_private(offline / "recovery.key"))).decode()
    secrets = [WHEREABOUTS, WITNESS, ACCOUNT, private, key.public_key]
    secrets += list(RecoveryWrappedKey.objects.values_list("wrapped_key", flat=True))
    logged = " ".join(f"{e.fields} {e.values}" for e in entries)
    assert [secret for secret in secrets if secret in logged] == []


def test_deleting_a_record_deletes_its_recovery_wrapped_keys(
    section: Section, offline: Path, tmp_path: Path
) -> None:
    """Like its SealedKey rows: one by one or by queryset, keys of other records stay."""
    alia = coordinator("alia", section)
    person, kept = hidden_person(section), hidden_person(section, "kept")
    account = sealed_testimony(section)
    recovery_set(section, offline / "recovery.pub", alia, tmp_path)
    person.delete()
    SealedTestimony.objects.filter(pk=account.pk).delete()
    assert set(RecoveryWrappedKey.objects.values_list("object_id", flat=True)) == {kept.pk}


# -- Replacing a recovery key needs the current one -------------------------------------------


def _registered() -> tuple[str, str, int]:
    key = SectionRecoveryKey.objects.get()
    return key.public_key, key.fingerprint, key.pk


def test_replacing_the_recovery_key_without_the_old_one_is_refused(
    section: Section, offline: Path, tmp_path: Path
) -> None:
    """One coordinator's password and shell are not enough to swap in a key of their own: with
    no --old-key, even with --drop-unopened, the replacement is refused, says what it needs,
    and nothing changes (the key, its wrapped keys, the audit log)."""
    alia = coordinator("alia", section)
    person = hidden_person(section)
    recovery_set(section, offline / "recovery.pub", alia, tmp_path)
    before = _registered()
    wrapped = list(RecoveryWrappedKey.objects.values_list("pk", "wrapped_key"))
    entries = AuditEntry.objects.count()
    mine = tmp_path / "mine"
    keygen(mine)
    for extra in ((), ("--drop-unopened",)):
        with pytest.raises(CommandError, match="needs the current recovery private key") as error:
            recovery_set(section, mine / "recovery.pub", alia, tmp_path, *extra)
        assert before[1] in str(error.value) and "--old-key" in str(error.value)
        assert _registered() == before
        assert list(RecoveryWrappedKey.objects.values_list("pk", "wrapped_key")) == wrapped
    assert AuditEntry.objects.count() == entries
    # Re-running with the same key needs no proof: it only wraps what is missing.
    assert "0 sealed value(s) wrapped to it, 1 already were" in recovery_set(
        section, offline / "recovery.pub", alia, tmp_path
    )
    # The registered key still recovers, the other one does not.
    coordinator("bolat", section)
    with pytest.raises(CommandError, match="does not match"):
        recover(section, mine / "recovery.key", "bolat")
    recover(section, offline / "recovery.key", "bolat")
    bolat = User.objects.get(username="bolat")
    assert read_sealed(bolat, Person.objects.get(pk=person.pk), "whereabouts", opened(bolat)) == (
        WHEREABOUTS
    )


def test_replacing_the_recovery_key_with_a_wrong_old_key_is_refused(
    section: Section, offline: Path, tmp_path: Path
) -> None:
    """A private key that is not the registered one (its own new key, another section's, a key
    of another kind) is refused before anything changes."""
    alia = coordinator("alia", section)
    hidden_person(section)
    recovery_set(section, offline / "recovery.pub", alia, tmp_path)
    before = _registered()
    mine = tmp_path / "mine"
    keygen(mine)
    with pytest.raises(CommandError, match="not the current recovery key") as error:
        recovery_set(
            section, mine / "recovery.pub", alia, tmp_path, "--old-key", str(mine / "recovery.key")
        )
    assert before[1] in str(error.value)
    with pytest.raises(CommandError, match="another kind of key"):
        recovery_set(
            section,
            mine / "recovery.pub",
            alia,
            tmp_path,
            "--old-key",
            str(offline / "recovery.pub"),
        )
    assert _registered() == before
    assert RecoveryWrappedKey.objects.filter(recovery_key_id=before[2]).count() == 1


def test_replacing_the_recovery_key_with_the_old_one_works(
    section: Section, offline: Path, tmp_path: Path
) -> None:
    """With the current private key as proof, the new key is registered and the values are
    wrapped to it; the audit entry says it was a replacement."""
    alia = coordinator("alia", section)
    hidden_person(section)
    sealed_testimony(section)
    recovery_set(section, offline / "recovery.pub", alia, tmp_path)
    old_fingerprint = _registered()[1]
    new = tmp_path / "new"
    keygen(new)
    said = recovery_set(
        section, new / "recovery.pub", alia, tmp_path, "--old-key", str(offline / "recovery.key")
    )
    assert "replaced" in said and "3 sealed value(s) wrapped to it" in said
    key = SectionRecoveryKey.objects.get()
    assert key.fingerprint != old_fingerprint and key.fingerprint in said
    assert set(RecoveryWrappedKey.objects.values_list("recovery_key", flat=True)) == {key.pk}
    entry = AuditEntry.objects.filter(action="recovery_key_set").latest("seq")
    assert entry.values["replaced"] is True and entry.values["fingerprint"] == key.fingerprint


def test_my_key_page_shows_the_recovery_key_of_each_section_coordinated(
    client: Client, section: Section, offline: Path, tmp_path: Path
) -> None:
    """A coordinator sees, for each of their sections, the recovery key's fingerprint and date
    to compare with the printed copy, or that there is none; sections where they are not a
    coordinator are not listed."""
    alia = coordinator("alia", section)
    abroad = Section.objects.create(slug="abroad", name_en="Section abroad", kind="national")
    Role.objects.create(user=alia, section=abroad, role="coordinator")
    elsewhere = Section.objects.create(slug="elsewhere", name_en="Elsewhere", kind="national")
    Role.objects.create(user=alia, section=elsewhere, role="researcher")
    hidden_person(section)
    recovery_set(section, offline / "recovery.pub", alia, tmp_path)
    key = SectionRecoveryKey.objects.get()
    verified_login(client, alia)
    page = client.get(reverse("safety:key")).content.decode()
    assert "Recovery keys of your sections" in page
    rows = page.split('id="recovery-keys"')[1].split("</table>")[0].split("<tr>")
    (home,) = [row for row in rows if "Home organisation" in row]
    assert key.fingerprint in home and str(key.created_at.year) in home
    (other,) = [row for row in rows if "Section abroad" in row]
    assert "none" in other and key.fingerprint not in other
    assert "Elsewhere" not in page


def test_a_sealed_save_that_a_first_recovery_key_overtakes_is_refused_whole(
    section: Section,
) -> None:
    """The race: a sealed save reads that its section has no recovery key, the first one is
    registered and commits, then the value is stored without a recovery copy (recovery-set
    wraps only what was there before it). Run from a signal of the save itself, between
    reading the keys and storing the wrapped ones (another connection cannot commit there: the
    keys are read locked inside the save's transaction): the save is refused and rolled back
    whole; saved again, the value is wrapped to the recovery key."""
    alia = coordinator("alia", section)
    person = hidden_person(section)
    private = opened(alia)
    recovery_private = PrivateKey.generate()
    registered: list[object] = []

    def register_meanwhile(sender: type[SealedKey], instance: SealedKey, **kwargs: object) -> None:
        if not registered:
            registered.append(set_recovery_key(section, recovery_private.public_key, alia, private))

    post_delete.connect(register_meanwhile, sender=SealedKey, dispatch_uid="test.register")
    try:
        with pytest.raises(RecipientsChanged, match="key changed while saving; save again"):
            write_sealed(person, "whereabouts", "moved to a safe flat")
    finally:
        post_delete.disconnect(sender=SealedKey, dispatch_uid="test.register")
    assert registered and not SectionRecoveryKey.objects.exists()
    fresh = Person.objects.get(pk=person.pk)
    assert read_sealed(alia, fresh, "whereabouts", private) == WHEREABOUTS

    set_recovery_key(section, recovery_private.public_key, alia, private)
    write_sealed(fresh, "whereabouts", "moved to a safe flat")
    row = RecoveryWrappedKey.objects.get(object_id=person.pk, field_name="whereabouts")
    data_key = unwrap_data_key(b64d(row.wrapped_key), recovery_private)
    stored = Person.objects.get(pk=person.pk).__dict__["whereabouts"]
    aad = row_aad(fresh, "whereabouts")
    assert unseal(stored.ciphertext, aad, data_key) == "moved to a safe flat"


# -- A first registration with a second coordinator; removal by two ---------------------------


def test_the_first_registration_needs_a_second_coordinator_where_there_is_one(
    section: Section, offline: Path, tmp_path: Path
) -> None:
    """Threat: one coerced coordinator registering, before the custodians do, a key whose
    private half someone else holds. With two coordinators with keys, the first recovery-set
    is refused without --second, with the same person twice, with a second who has no key or
    reads no sealed data, or with a wrong password, and nothing is stored; with a second
    coordinator's password it is registered and the audit entry names both. A section with a
    single coordinator registers on one password, with a warning that nobody confirmed it."""
    alia, bolat = coordinator("alia", section), coordinator("bolat", section)
    keyless = coordinator("keyless", section, key=False)
    researcher = coordinator("researcher", section, role="researcher")
    hidden_person(section)
    public = offline / "recovery.pub"
    with pytest.raises(CommandError, match="needs a second coordinator to confirm"):
        recovery_set(section, public, alia, tmp_path)
    with pytest.raises(CommandError, match="must be different people"):
        recovery_set(section, public, alia, tmp_path, *confirmed_by(alia, tmp_path))
    with pytest.raises(CommandError, match="no key yet"):
        recovery_set(section, public, alia, tmp_path, *confirmed_by(keyless, tmp_path))
    with pytest.raises(CommandError, match="no role in section home that includes sealed"):
        recovery_set(section, public, alia, tmp_path, *confirmed_by(researcher, tmp_path))
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase at all")
    with pytest.raises(CommandError, match="does not open your key"):
        recovery_set(
            section,
            public,
            alia,
            tmp_path,
            "--second",
            "bolat",
            "--second-password-file",
            str(wrong),
        )
    assert not SectionRecoveryKey.objects.exists()
    assert not AuditEntry.objects.filter(action="recovery_key_set").exists()

    said = recovery_set(section, public, alia, tmp_path, *confirmed_by(bolat, tmp_path))
    assert "1 sealed value(s) wrapped to it" in said and "Nobody confirmed" not in said
    entry = AuditEntry.objects.get(action="recovery_key_set")
    assert entry.values["by"].endswith(":alia") and entry.values["second"].endswith(":bolat")

    alone = Section.objects.create(slug="alone", name_en="Alone", kind="national")
    dana = coordinator("dana", alone)
    hidden_person(alone, "elsewhere")
    said = recovery_set(alone, public, dana, tmp_path)
    assert "1 sealed value(s) wrapped to it" in said
    assert "Nobody confirmed this recovery key: dana is the only coordinator" in said
    assert SectionRecoveryKey.objects.get(section=alone).created_by == dana


def test_two_coordinators_remove_a_recovery_key_and_the_values_stay_readable(
    section: Section, offline: Path, tmp_path: Path
) -> None:
    """A key the coordinators do not trust is removed, with every data key wrapped to it, on
    two coordinators' passwords; the values stay open to the coordinators they are sealed for,
    the removed key recovers nothing, the removal is audited with names and counts, and the
    custodians' key can be registered afterwards."""
    alia, bolat = coordinator("alia", section), coordinator("bolat", section)
    person, account = hidden_person(section), sealed_testimony(section)
    recovery_set(section, offline / "recovery.pub", alia, tmp_path, *confirmed_by(bolat, tmp_path))
    key = SectionRecoveryKey.objects.get()
    assert RecoveryWrappedKey.objects.count() == 3

    said = recovery_remove(section, alia, tmp_path, *confirmed_by(bolat, tmp_path))
    assert "Recovery key of section home removed, with the 3 data key(s)" in said
    assert not SectionRecoveryKey.objects.exists() and not RecoveryWrappedKey.objects.exists()
    for user in (alia, bolat):
        private = opened(user)
        assert read_sealed(user, Person.objects.get(pk=person.pk), "whereabouts", private) == (
            WHEREABOUTS
        )
        stored = SealedTestimony.objects.get(pk=account.pk)
        assert read_sealed(user, stored, "account", private) == ACCOUNT
    coordinator("newcomer", section)
    with pytest.raises(CommandError, match="has no recovery key"):
        recover(section, offline / "recovery.key", "newcomer")

    (entry,) = AuditEntry.objects.filter(action="recovery_key_removed")
    assert entry.object_pk == str(key.pk)
    assert entry.values == {
        "section": "home",
        "fingerprint": key.fingerprint,
        "by": entry.values["by"],
        "second": entry.values["second"],
        "wrapped_keys_deleted": 3,
    }
    assert entry.values["by"].endswith(":alia") and entry.values["second"].endswith(":bolat")
    logged = f"{entry.fields} {entry.values}"
    assert [
        secret for secret in (WHEREABOUTS, ACCOUNT, WITNESS, key.public_key) if secret in logged
    ] == []

    # Written after the removal: no recovery copy. The custodians' key again, confirmed.
    later = hidden_person(section, "later")
    assert recovery_wrapped(later) == set()
    said = recovery_set(
        section, offline / "recovery.pub", bolat, tmp_path, *confirmed_by(alia, tmp_path)
    )
    assert "4 sealed value(s) wrapped to it" in said


def test_removing_a_recovery_key_on_one_password_is_refused(
    section: Section, offline: Path, tmp_path: Path
) -> None:
    """Without --second, with the same coordinator twice, with a wrong second password, or with
    a second who reads no sealed data, nothing is removed; nor in a section without a key."""
    alia, bolat = coordinator("alia", section), coordinator("bolat", section)
    researcher = coordinator("researcher", section, role="researcher")
    hidden_person(section)
    with pytest.raises(CommandError, match="has no recovery key"):
        recovery_remove(section, alia, tmp_path, *confirmed_by(bolat, tmp_path))
    recovery_set(section, offline / "recovery.pub", alia, tmp_path, *confirmed_by(bolat, tmp_path))
    before = _registered()
    wrapped = list(RecoveryWrappedKey.objects.values_list("pk", flat=True))

    with pytest.raises(CommandError, match="pass --second"):
        recovery_remove(section, alia, tmp_path)
    with pytest.raises(CommandError, match="must be different people"):
        recovery_remove(section, alia, tmp_path, *confirmed_by(alia, tmp_path))
    with pytest.raises(CommandError, match="no role in section home that includes sealed"):
        recovery_remove(section, alia, tmp_path, *confirmed_by(researcher, tmp_path))
    with pytest.raises(CommandError, match="no role in section home that includes sealed"):
        recovery_remove(section, researcher, tmp_path, *confirmed_by(alia, tmp_path))
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase at all")
    with pytest.raises(CommandError, match="does not open your key"):
        recovery_remove(
            section, alia, tmp_path, "--second", "bolat", "--second-password-file", str(wrong)
        )
    assert _registered() == before
    assert list(RecoveryWrappedKey.objects.values_list("pk", flat=True)) == wrapped
    assert not AuditEntry.objects.filter(action="recovery_key_removed").exists()
