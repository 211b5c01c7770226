"""Personal data encryption: ciphertext bound to its row, keys from a keyring file outside the
database, and key rotation that loses nothing, even when interrupted."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from nacl.utils import random
from pytest_django.fixtures import Settings as SettingsWrapper

from solidarity.core.models import Section
from solidarity.documentation.models import Person
from solidarity.safety import crypto
from solidarity.safety.crypto import DecryptionError, load_keyring, write_keyring
from solidarity.safety.rotation import keys_in_use


@pytest.fixture
def keyring_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A keyring of this test's own, as production provides one (SOLIDARITY_KEYRING_FILE)."""
    path = tmp_path / "keyring.json"
    write_keyring(path, "k-first", {"k-first": random(crypto.KEY_BYTES)}, random(32))
    monkeypatch.setenv("SOLIDARITY_KEYRING_FILE", str(path))
    return path


def raw_contact(person: Person) -> str:
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(Person._meta.db_table)
        cursor.execute(f"SELECT contact FROM {table} WHERE id = %s", [person.pk])  # noqa: S608
        return str(cursor.fetchone()[0])


def make_person(section: Section, slug: str, contact: str) -> Person:
    return Person.objects.create(
        section=section, slug=slug, given_name="Esenbek", family_name=slug, contact=contact
    )


def test_contact_is_stored_encrypted_and_read_back(section: Section, keyring_file: Path) -> None:
    """The column holds "p1:<key id>:…" ciphertext; the model gives the plaintext back."""
    person = make_person(section, "a", "+7 700 123 45 67, ask for Gulnara")
    stored = raw_contact(person)
    assert stored.startswith("p1:k-first:")
    assert "Gulnara" not in stored and "700" not in stored
    assert Person.objects.get(pk=person.pk).contact == "+7 700 123 45 67, ask for Gulnara"


def test_equal_contacts_give_different_ciphertexts(section: Section, keyring_file: Path) -> None:
    """A random nonce per value: nobody can tell from the database that two contacts match."""
    first, second = make_person(section, "a", "same"), make_person(section, "b", "same")
    assert raw_contact(first) != raw_contact(second)


def test_a_ciphertext_copied_to_another_row_does_not_decrypt(
    section: Section, keyring_file: Path
) -> None:
    """Associated data binds the value to its row: a swap in SQL yields an error, not a wrong
    person's contact."""
    victim = make_person(section, "victim", "secret number")
    other = make_person(section, "other", "other number")
    Person.objects.filter(pk=other.pk).update(contact=raw_contact(victim))
    with pytest.raises(DecryptionError):
        _ = Person.objects.get(pk=other.pk).contact
    assert Person.objects.get(pk=victim.pk).contact == "secret number"


def test_an_altered_ciphertext_is_refused(section: Section, keyring_file: Path) -> None:
    """Authenticated encryption: one changed character and decryption fails."""
    person = make_person(section, "a", "number")
    stored = raw_contact(person)
    middle = len(stored) - 20  # inside the ciphertext, clear of base64 padding bits
    flipped = stored[:middle] + ("A" if stored[middle] != "A" else "B") + stored[middle + 1 :]
    Person.objects.filter(pk=person.pk).update(contact=flipped)
    with pytest.raises(DecryptionError):
        _ = Person.objects.get(pk=person.pk).contact


def test_the_database_cannot_be_searched_on_encrypted_fields(section: Section) -> None:
    """A lookup on ciphertext would silently find nothing, so it is refused."""
    with pytest.raises(FieldError):
        list(Person.objects.filter(contact="x"))
    with pytest.raises(FieldError):
        list(Person.objects.filter(whereabouts__icontains="x"))


def test_without_the_right_keyring_nothing_decrypts(
    section: Section, keyring_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database alone is not enough: another keyring cannot read the values."""
    person = make_person(section, "a", "number")
    other = tmp_path / "other.json"
    write_keyring(other, "k-first", {"k-first": random(crypto.KEY_BYTES)}, random(32))
    monkeypatch.setenv("SOLIDARITY_KEYRING_FILE", str(other))
    with pytest.raises(DecryptionError):
        _ = Person.objects.get(pk=person.pk).contact


def test_a_missing_explicit_keyring_stops_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Production names its keyring; a missing one is an error, never a fresh keyring."""
    monkeypatch.setenv("SOLIDARITY_KEYRING_FILE", str(tmp_path / "absent.json"))
    with pytest.raises(ImproperlyConfigured, match="does not exist"):
        load_keyring()
    assert not (tmp_path / "absent.json").exists()


def test_the_demo_keyring_is_created_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: SettingsWrapper
) -> None:
    """Outside production the keyring is generated once into DATA_DIR, mode 0600."""
    monkeypatch.delenv("SOLIDARITY_KEYRING_FILE", raising=False)
    settings.DATA_DIR = tmp_path
    keyring = load_keyring()
    path = tmp_path / "keyring.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keyring().keys == keyring.keys
    document = json.loads(path.read_text())
    assert document["personal"]["current"] == keyring.current


def test_production_without_a_keyring_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: SettingsWrapper
) -> None:
    """Under HTTPS (production) a keyring is never made up."""
    monkeypatch.delenv("SOLIDARITY_KEYRING_FILE", raising=False)
    settings.DATA_DIR = tmp_path
    settings.HTTPS = True
    with pytest.raises(ImproperlyConfigured, match="SOLIDARITY_KEYRING_FILE"):
        load_keyring()


# -- Rotation ----------------------------------------------------------------------------------


def _people(section: Section, count: int) -> dict[int, str]:
    contacts = {}
    for n in range(count):
        person = make_person(section, f"p{n}", f"contact number {n}" if n % 4 else "")
        contacts[person.pk] = person.contact
    return contacts


def _read_all(*, skip: int = 0) -> dict[int, str]:
    return {p.pk: p.contact for p in Person.objects.exclude(pk=skip)}


def test_rotation_changes_every_key_and_no_value(section: Section, keyring_file: Path) -> None:
    """After `rotate-keys` every value is under the new key and reads the same; the old key
    can then be removed and everything still reads."""
    contacts = _people(section, 23)
    call_command("rotate-keys", batch_size=5, verbosity=0)
    keyring = load_keyring()
    assert keyring.current != "k-first" and set(keyring.keys) == {"k-first", keyring.current}
    assert keys_in_use() == {keyring.current: sum(1 for c in contacts.values() if c)}
    assert _read_all() == contacts
    call_command("rotate-keys", remove_retired=True, verbosity=0)
    assert set(load_keyring().keys) == {keyring.current}
    assert _read_all() == contacts


def test_old_keys_stay_while_any_value_uses_them(section: Section, keyring_file: Path) -> None:
    """Removing a key still in use is refused, so no value is ever orphaned."""
    _people(section, 3)
    crypto.add_current_key()
    with pytest.raises(CommandError, match="still used"):
        call_command("rotate-keys", remove_retired=True, verbosity=0)
    assert "k-first" in load_keyring().keys


def test_an_interrupted_rotation_leaves_everything_readable(
    section: Section, keyring_file: Path
) -> None:
    """A failure half-way (here a damaged value) stops the rotation: the batches before it are
    rotated, the rest still use the old key, every good value reads the same, and `--resume`
    finishes the job."""
    contacts = _people(section, 20)
    pks = sorted(pk for pk, contact in contacts.items() if contact)
    damaged = pks[8]
    Person.objects.filter(pk=damaged).update(contact="p1:k-first:not-a-ciphertext")
    with pytest.raises(CommandError, match=f"Person {damaged}"):
        call_command("rotate-keys", batch_size=3, verbosity=0)
    new_key = load_keyring().current
    in_use = keys_in_use()
    assert in_use[new_key] > 0 and in_use["k-first"] > 0
    good = {pk: c for pk, c in contacts.items() if pk != damaged}
    assert _read_all(skip=damaged) == good

    person = Person.objects.get(pk=damaged)
    person.contact = "re-entered number"
    person.save()
    call_command("rotate-keys", resume=True, batch_size=3, verbosity=0)
    assert set(keys_in_use()) == {new_key}
    assert _read_all() == {**good, damaged: "re-entered number"}


def test_the_blind_index_is_keyed_and_separated_by_purpose(keyring_file: Path) -> None:
    """Equal values match within one purpose, not across purposes, and a different keyring
    (an adversary with only the database) cannot recompute them."""
    first = crypto.blind_index("signer@example.org", "supporter-email")
    assert first == crypto.blind_index("signer@example.org", "supporter-email")
    assert first != crypto.blind_index("signer@example.org", "rsvp-email")
    assert "signer" not in first and len(first) == 64
    write_keyring(keyring_file, "k-other", {"k-other": random(crypto.KEY_BYTES)}, random(32))
    assert crypto.blind_index("signer@example.org", "supporter-email") != first


def test_threads_creating_the_keyring_together_end_with_one(
    tmp_path: Path, settings: SettingsWrapper
) -> None:
    # A fresh server's threads all need the keyring on their first request; each used to write
    # the same draft file name, and the loser's rename found it gone and crashed the request.
    import threading

    settings.DATA_DIR = tmp_path
    start = threading.Barrier(8)
    found: list[bytes] = []
    errors: list[BaseException] = []

    def first_use() -> None:
        start.wait()
        try:
            found.append(load_keyring().server_secret)
        except BaseException as error:  # collected, asserted below
            errors.append(error)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(found) == 8 and len(set(found)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["keyring.json"]
