"""Sealed data: whereabouts encrypted to the section's coordinators' public keys, readable only
by a recipient who unlocked their private key with their password."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models.signals import post_delete
from django.test import Client
from django.urls import reverse
from nacl.public import PrivateKey
from pytest_django.fixtures import Settings

from solidarity.accounts.models import HashedSession
from solidarity.api import importers
from solidarity.core.models import Section
from solidarity.documentation.models import Person
from solidarity.safety.crypto import DecryptionError
from solidarity.safety.fields import Sealed, SealingError
from solidarity.safety.key_rotation import rotate_user_key
from solidarity.safety.keys import (
    KeyRefused,
    NotARecipient,
    grant_sealed,
    read_sealed,
    setup_user_key,
    unlock_cookie_name,
    unlock_private_key,
    write_sealed,
)
from solidarity.safety.models import Role, SealedKey, UserKey
from tests.conftest import verified_login

WHEREABOUTS = "Flat 7, Abay street 12, Almaty; knock twice"


@pytest.fixture(autouse=True)
def fast_kdf(settings: Settings) -> None:
    """Argon2id at its interactive cost: the tests open keys dozens of times."""
    settings.SOLIDARITY_KDF = "interactive"


def coordinator(
    name: str, section: Section, *, key: bool = True, role: str = "coordinator"
) -> User:
    user = User.objects.create_user(name, password=f"{name} long passphrase", is_staff=True)
    Role.objects.create(user=user, section=section, role=role)
    if key:
        setup_user_key(user, f"{name} long passphrase")
    return user


def opened(user: User) -> PrivateKey:
    return unlock_private_key(user, f"{user.username} long passphrase")


def hidden_person(section: Section, slug: str = "in-hiding") -> Person:
    return Person.objects.create(
        section=section, slug=slug, given_name="Ainur", family_name="K", whereabouts=WHEREABOUTS
    )


def raw_whereabouts(person: Person) -> str:
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(Person._meta.db_table)
        cursor.execute(f"SELECT whereabouts FROM {table} WHERE id = %s", [person.pk])  # noqa: S608
        return str(cursor.fetchone()[0])


@pytest.fixture
def other_section(db: None) -> Section:
    return Section.objects.create(slug="abroad", name_en="Section abroad", kind="national")


def test_whereabouts_are_sealed_for_every_coordinator_with_a_key(section: Section) -> None:
    """Each coordinator gets the data key wrapped for them; nobody else does, and the row
    holds only ciphertext."""
    alia, bolat = coordinator("alia", section), coordinator("bolat", section)
    coordinator("nokey", section, key=False)
    coordinator("researcher", section, role="researcher")
    person = hidden_person(section)
    assert isinstance(person.whereabouts, Sealed) and str(person.whereabouts) == "sealed"
    assert WHEREABOUTS not in raw_whereabouts(person)
    assert set(SealedKey.objects.values_list("user__username", flat=True)) == {"alia", "bolat"}
    fresh = Person.objects.get(pk=person.pk)
    assert read_sealed(alia, fresh, "whereabouts", opened(alia)) == WHEREABOUTS
    assert read_sealed(bolat, fresh, "whereabouts", opened(bolat)) == WHEREABOUTS


def test_sealing_without_any_recipient_is_refused(section: Section) -> None:
    """A value nobody could ever read is not stored at all."""
    with pytest.raises(SealingError, match="No coordinator"), transaction.atomic():
        hidden_person(section)
    assert not Person.objects.exists()


def test_only_recipients_read_and_only_with_their_own_key(
    section: Section, other_section: Section
) -> None:
    """A researcher, a coordinator of another section and a wrong private key all fail."""
    alia, bolat = coordinator("alia", section), coordinator("bolat", section)
    researcher = coordinator("researcher", section, role="researcher")
    foreign = coordinator("foreign", other_section)
    person = Person.objects.get(pk=hidden_person(section).pk)
    with pytest.raises(NotARecipient):
        read_sealed(researcher, person, "whereabouts", PrivateKey.generate())
    with pytest.raises(NotARecipient):
        read_sealed(foreign, person, "whereabouts", opened(foreign))
    with pytest.raises(DecryptionError):
        read_sealed(alia, person, "whereabouts", opened(bolat))


def test_a_sealed_ciphertext_copied_to_another_row_does_not_open(section: Section) -> None:
    """The value is bound to its row: moved elsewhere, no recipient can open it."""
    alia = coordinator("alia", section)
    victim = hidden_person(section, "victim")
    other = Person.objects.create(
        section=section, slug="other", given_name="B", family_name="C", whereabouts="elsewhere"
    )
    Person.objects.filter(pk=other.pk).update(whereabouts=raw_whereabouts(victim))
    with pytest.raises(DecryptionError):
        read_sealed(alia, Person.objects.get(pk=other.pk), "whereabouts", opened(alia))


def test_the_private_key_opens_only_with_the_password(section: Section) -> None:
    """The stored private key is encrypted; a wrong password does not open it."""
    alia = coordinator("alia", section)
    key = UserKey.objects.get(user=alia)
    assert len(key.public_key) > 40 and key.encrypted_private_key != key.public_key
    with pytest.raises(KeyRefused):
        unlock_private_key(alia, "not the passphrase at all")


def test_keys_setup_command_reads_a_password_file(section: Section, tmp_path: Path) -> None:
    """`solidarity keys setup USERNAME --password-file F` creates the key pair; a wrong
    password or a second setup is refused with a clear message."""
    user = User.objects.create_user("dana", password="dana long passphrase", is_staff=True)
    wrong, right = tmp_path / "wrong", tmp_path / "right"
    wrong.write_text("not it\n")
    right.write_text("dana long passphrase\n")
    with pytest.raises(CommandError, match="not the user's password"):
        call_command("keys", "setup", "dana", password_file=str(wrong))
    call_command("keys", "setup", "dana", password_file=str(right))
    assert UserKey.objects.filter(user=user).exists()
    with pytest.raises(CommandError, match="already has a key"):
        call_command("keys", "setup", "dana", password_file=str(right))


def test_a_new_coordinator_is_granted_existing_records(section: Section, tmp_path: Path) -> None:
    """Records sealed before a coordinator joined are re-wrapped for them by one who can read
    them (`solidarity keys grant`); a newcomer cannot grant themselves anything."""
    alia = coordinator("alia", section)
    person = hidden_person(section)
    newcomer = coordinator("newcomer", section)
    assert not SealedKey.objects.filter(user=newcomer).exists()
    assert grant_sealed(newcomer, opened(newcomer), newcomer, section.pk) == 0
    password = tmp_path / "alia"
    password.write_text("alia long passphrase")
    call_command(
        "keys", "grant", by="alia", to="newcomer", section=section.slug, password_file=str(password)
    )
    fresh = Person.objects.get(pk=person.pk)
    assert read_sealed(newcomer, fresh, "whereabouts", opened(newcomer)) == WHEREABOUTS
    assert read_sealed(alia, fresh, "whereabouts", opened(alia)) == WHEREABOUTS


def test_losing_the_coordinator_role_drops_the_wrapped_keys(section: Section) -> None:
    """A coordinator who becomes a researcher keeps nothing sealed; later values skip them."""
    alia, bolat = coordinator("alia", section), coordinator("bolat", section)
    person = hidden_person(section)
    Role.objects.filter(user=bolat).update(role="researcher")
    Role.objects.get(user=bolat).save()
    assert not SealedKey.objects.filter(user=bolat).exists()
    person.whereabouts = "moved on"
    person.save()
    assert list(SealedKey.objects.values_list("user", flat=True)) == [alia.pk]


def test_a_password_change_keeps_the_key_openable(section: Section) -> None:
    """After a password reset the key opens once with the previous password, is re-protected
    under the new one, and from then on opens with the new one alone."""
    alia = coordinator("alia", section)
    hidden_person(section)
    alia.set_password("alia long passphrase")  # a re-hash with the same password changes nothing
    alia.save()
    assert not UserKey.objects.get(user=alia).needs_rewrap
    alia.set_password("a brand new passphrase")
    alia.save()
    assert UserKey.objects.get(user=alia).needs_rewrap
    with pytest.raises(KeyRefused, match="previous"):
        unlock_private_key(alia, "a brand new passphrase")
    with pytest.raises(KeyRefused):
        unlock_private_key(alia, "a brand new passphrase", "a wrong old one")
    unlock_private_key(alia, "a brand new passphrase", "alia long passphrase")
    assert not UserKey.objects.get(user=alia).needs_rewrap
    key = unlock_private_key(alia, "a brand new passphrase")
    person = Person.objects.get()
    assert read_sealed(alia, person, "whereabouts", key) == WHEREABOUTS


# -- The back office --------------------------------------------------------------------------


def _recently_authenticated(client: Client) -> None:
    """Stamp the re-authentication that the accounts app asks for before sealed reads."""
    try:
        sessions = importlib.import_module("solidarity.accounts.sessions")
    except ModuleNotFoundError:
        return
    session = client.session
    sessions.stamp_reauth(session)
    session.save()


def sealed_url(person: Person) -> str:
    return reverse("safety:sealed", args=["documentation", "person", person.pk, "whereabouts"])


def change_url(person: Person) -> str:
    return reverse("admin:documentation_person_change", args=[person.pk])


def _audit_entries() -> Any:
    try:
        audit = importlib.import_module("solidarity.audit.models")
    except ModuleNotFoundError:
        return None
    return audit.AuditEntry.objects.filter(action="sealed_read")


def test_reading_and_changing_whereabouts_in_the_back_office(
    client: Client, section: Section
) -> None:
    """Locked, the person page says "sealed — unlock to read"; after unlocking with the
    password the value shows, each read is recorded, and a new value is sealed again."""
    alia = coordinator("alia", section)
    person = hidden_person(section)
    verified_login(client, alia)
    page = client.get(change_url(person)).content.decode()
    assert "Whereabouts: sealed — unlock to read." in page and WHEREABOUTS not in page

    response = client.get(sealed_url(person))
    assert response.status_code == 302 and reverse("safety:unlock") in response["Location"]
    _recently_authenticated(client)
    unlock_url = f"{reverse('safety:unlock')}?next={sealed_url(person)}"
    refused = client.post(unlock_url, {"password": "wrong password entirely"})
    assert "does not open your key" in refused.content.decode()
    response = client.post(unlock_url, {"password": "alia long passphrase"})
    assert response.status_code == 302 and response["Location"] == sealed_url(person)
    cookie = response.cookies[unlock_cookie_name()]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"

    before = _audit_entries()
    count = before.count() if before is not None else 0
    page = client.get(sealed_url(person)).content.decode()
    assert WHEREABOUTS.replace("; ", "; ") in page
    if before is not None:
        assert _audit_entries().count() == count + 1
    assert WHEREABOUTS in client.get(change_url(person)).content.decode()

    response = client.post(sealed_url(person), {"value": "A safe flat in Bishkek"})
    assert response.status_code == 302
    assert "Bishkek" not in raw_whereabouts(person)
    fresh = Person.objects.get(pk=person.pk)
    assert read_sealed(alia, fresh, "whereabouts", opened(alia)) == "A safe flat in Bishkek"

    client.post(reverse("safety:lock"))
    assert client.get(sealed_url(person)).status_code == 302


def test_the_session_table_alone_does_not_hold_the_unlocked_key(
    client: Client, section: Section
) -> None:
    """The unlocked key is in the session only encrypted under the cookie's key: without the
    cookie, the same session is locked."""
    alia = coordinator("alia", section)
    person = hidden_person(section)
    verified_login(client, alia)
    _recently_authenticated(client)
    client.post(reverse("safety:unlock"), {"password": "alia long passphrase"})
    private = bytes(opened(alia))
    for session in HashedSession.objects.all():
        assert private not in session.session_data.encode()
        assert private.hex() not in session.session_data
    del client.cookies[unlock_cookie_name()]
    assert client.get(sealed_url(person)).status_code == 302


def test_others_get_404_on_the_sealed_page(
    client: Client, section: Section, other_section: Section
) -> None:
    """A researcher of the section and a coordinator of another section are told nothing."""
    coordinator("alia", section)
    person = hidden_person(section)
    for user in (
        coordinator("researcher", section, role="researcher"),
        coordinator("foreign", other_section),
    ):
        client.logout()
        verified_login(client, user)
        assert client.get(sealed_url(person)).status_code == 404
        assert "Whereabouts" not in client.get(change_url(person)).content.decode()


def test_the_list_and_search_never_show_or_search_whereabouts(
    client: Client, section: Section
) -> None:
    """Searching for a fragment of the whereabouts finds nobody, and the list never shows it."""
    alia = coordinator("alia", section)
    hidden_person(section)
    verified_login(client, alia)
    url = reverse("admin:documentation_person_changelist")
    listing = client.get(url).content.decode()
    assert "Ainur" in listing and "Abay" not in listing
    searched = client.get(url, {"q": "Abay"}, follow=True).content.decode()
    assert "0 people" in searched or "0 persons" in searched


def test_setting_up_a_key_in_the_back_office(client: Client, section: Section) -> None:
    """A coordinator without a key sets it up with their password on "My key"."""
    user = coordinator("dana", section, key=False)
    verified_login(client, user)
    page = client.get(reverse("safety:key")).content.decode()
    assert "You have no key for sealed data yet" in page
    response = client.post(reverse("safety:key"), {"password": "wrong"})
    assert "not the user" in response.content.decode()
    response = client.post(reverse("safety:key"), {"password": "dana long passphrase"})
    assert response.status_code == 302
    assert UserKey.objects.filter(user=user).exists()


@pytest.mark.django_db(transaction=True)
def test_a_sealed_value_is_never_saved_outside_a_transaction() -> None:
    """Django's save alone is not atomic: the row would be committed before its wrapped keys,
    and the keys read for them could change in between (a rotation). So the field refuses a
    sealed value saved outside `transaction.atomic()`, before anything is written."""
    section = Section.objects.create(slug="home", name_en="Home organisation", kind="home")
    alia = coordinator("alia", section)
    with pytest.raises(SealingError, match=r"only inside transaction\.atomic\(\)"):
        hidden_person(section)
    assert not Person.objects.exists() and not SealedKey.objects.exists()
    with transaction.atomic():
        person = hidden_person(section)
    assert read_sealed(alia, person, "whereabouts", opened(alia)) == WHEREABOUTS


def test_the_sealed_page_asks_to_save_again_when_a_key_changed_meanwhile(
    client: Client, section: Section
) -> None:
    """A coordinator's key pair replaced while a value is being saved (here from a signal of the
    save itself, between reading the keys and storing the wrapped ones): the page says so, the
    value stays as it was, and saving again works."""
    alia, bolat = coordinator("alia", section), coordinator("bolat", section)
    person = hidden_person(section)
    verified_login(client, alia)
    _recently_authenticated(client)
    client.post(reverse("safety:unlock"), {"password": "alia long passphrase"})
    rotated: list[object] = []

    def rotate_meanwhile(sender: type[SealedKey], instance: SealedKey, **kwargs: object) -> None:
        if not rotated:
            rotated.append(rotate_user_key(bolat, "bolat long passphrase"))

    post_delete.connect(rotate_meanwhile, sender=SealedKey, dispatch_uid="test.rotate_meanwhile")
    try:
        response = client.post(sealed_url(person), {"value": "A safe flat in Bishkek"})
    finally:
        post_delete.disconnect(sender=SealedKey, dispatch_uid="test.rotate_meanwhile")
    assert rotated and response.status_code == 200
    assert "key changed while saving; save again" in response.content.decode()
    fresh = Person.objects.get(pk=person.pk)
    assert read_sealed(bolat, fresh, "whereabouts", opened(bolat)) == WHEREABOUTS

    response = client.post(sealed_url(person), {"value": "A safe flat in Bishkek"})
    assert response.status_code == 302
    fresh = Person.objects.get(pk=person.pk)
    assert read_sealed(bolat, fresh, "whereabouts", opened(bolat)) == "A safe flat in Bishkek"


def test_an_out_of_date_copy_saved_whole_keeps_the_whereabouts(section: Section) -> None:
    """A copy loaded before a coordinator wrote the whereabouts, saved whole (another field
    changed), leaves the value and its wrapped keys as they are: it would otherwise write back
    "" (erasing the value and its keys) or the old ciphertext (which no wrapped key opens)."""
    alia, bolat = coordinator("alia", section), coordinator("bolat", section)
    empty = Person.objects.create(section=section, slug="empty", given_name="A", family_name="B")
    stale_empty = Person.objects.get(pk=empty.pk)
    hidden = hidden_person(section)
    stale_sealed = Person.objects.get(pk=hidden.pk)

    write_sealed(Person.objects.get(pk=empty.pk), "whereabouts", WHEREABOUTS)
    write_sealed(Person.objects.get(pk=hidden.pk), "whereabouts", "Moved on: Shymkent")
    ciphertexts = raw_whereabouts(empty), raw_whereabouts(hidden)
    keys = set(SealedKey.objects.values_list("object_id", "user_id", "wrapped_key"))

    for stale in (stale_empty, stale_sealed):
        stale.given_name = "Renamed"
        with transaction.atomic():
            stale.save()

    assert set(Person.objects.values_list("given_name", flat=True)) == {"Renamed"}
    assert (raw_whereabouts(empty), raw_whereabouts(hidden)) == ciphertexts
    assert set(SealedKey.objects.values_list("object_id", "user_id", "wrapped_key")) == keys
    for user in (alia, bolat):
        assert read_sealed(user, Person.objects.get(pk=empty.pk), "whereabouts", opened(user)) == (
            WHEREABOUTS
        )
        fresh = Person.objects.get(pk=hidden.pk)
        assert read_sealed(user, fresh, "whereabouts", opened(user)) == "Moved on: Shymkent"


def test_the_import_of_an_out_of_date_copy_keeps_the_whereabouts(section: Section) -> None:
    """The import checks every row (loading the records) before it writes any: whereabouts
    written by a coordinator in between survive the row's write."""
    alia = coordinator("alia", section)
    person = Person.objects.create(section=section, slug="late", given_name="A", family_name="B")
    row = {"slug": "late", "given_name": "Ainur", "family_name": "K", "section": section.slug}
    plan = importers.check_person(row)

    write_sealed(Person.objects.get(pk=person.pk), "whereabouts", WHEREABOUTS)
    with transaction.atomic():
        assert importers.apply_person(plan) == "updated"

    fresh = Person.objects.get(pk=person.pk)
    assert (fresh.given_name, fresh.family_name) == ("Ainur", "K")
    assert read_sealed(alia, fresh, "whereabouts", opened(alia)) == WHEREABOUTS
    assert list(SealedKey.objects.values_list("user", flat=True)) == [alia.pk]


def test_an_assigned_value_or_empty_string_is_still_written(section: Section) -> None:
    """Only a value as loaded is left alone: assigning one (or "" to clear it) on a loaded copy
    and saving it whole writes it, with its keys; a copy refreshed from the database is as
    loaded."""
    alia = coordinator("alia", section)
    person = Person.objects.get(pk=hidden_person(section).pk)
    person.whereabouts = "Moved on: Shymkent"
    with transaction.atomic():
        person.save()
    fresh = Person.objects.get(pk=person.pk)
    assert read_sealed(alia, fresh, "whereabouts", opened(alia)) == "Moved on: Shymkent"

    fresh.refresh_from_db()
    with transaction.atomic():
        fresh.save()
    assert read_sealed(alia, fresh, "whereabouts", opened(alia)) == "Moved on: Shymkent"

    fresh.whereabouts = ""
    with transaction.atomic():
        fresh.save()
    assert raw_whereabouts(fresh) == ""
    assert not SealedKey.objects.exists()
