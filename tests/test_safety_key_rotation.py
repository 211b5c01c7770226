"""Rotating a coordinator's key pair after their private key and password may both have leaked:
afterwards the old private key opens nothing in the database, reads go on with the new one, and
`--reseal` gives the values new data keys."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models.signals import post_delete
from django.test import Client
from django.urls import reverse
from nacl.public import PrivateKey
from pytest_django.fixtures import Settings

from solidarity.audit.models import AuditEntry
from solidarity.audit.services import verify_chain
from solidarity.core.models import Section
from solidarity.documentation.models import Person
from solidarity.documentation.models import Testimony as SealedTestimony
from solidarity.safety.crypto import DecryptionError, b64d, b64e, unseal, unwrap_data_key
from solidarity.safety.fields import Sealed, row_aad
from solidarity.safety.key_rotation import (
    ACTION,
    RESEAL_ACTION,
    reseal_for,
    rotate_user_key,
)
from solidarity.safety.keys import (
    KeyRefused,
    RecipientsChanged,
    read_sealed,
    setup_user_key,
    unlock_cookie_name,
    unlock_private_key,
    write_sealed,
)
from solidarity.safety.models import Role, SealedKey, UserKey
from tests.conftest import recently_authenticated, verified_login

WHEREABOUTS = "Flat 7, Abay street 12, Almaty; knock twice"
WITNESS = "Gulnara S., cousin of the detainee"
ACCOUNT = "They kept him standing for two days in the basement of the DVD."


@pytest.fixture(autouse=True)
def fast_kdf(settings: Settings) -> None:
    """Argon2id at its interactive cost: the tests open keys many times."""
    settings.SOLIDARITY_KDF = "interactive"


def password_of(user: User) -> str:
    return f"{user.username} long passphrase"


def coordinator(name: str, section: Section) -> User:
    user = User.objects.create_user(name, password=f"{name} long passphrase", is_staff=True)
    Role.objects.create(user=user, section=section, role="coordinator")
    setup_user_key(user, f"{name} long passphrase")
    return user


def opened(user: User) -> PrivateKey:
    return unlock_private_key(user, password_of(user))


def sealed_records(section: Section) -> tuple[Person, SealedTestimony]:
    person = Person.objects.create(
        section=section,
        slug="in-hiding",
        given_name="Ainur",
        family_name="K",
        whereabouts=WHEREABOUTS,
    )
    testimony = SealedTestimony.objects.create(
        section=section,
        reference="T-2012-03",
        person=person,
        given_on="2012-03",
        witness=WITNESS,
        account=ACCOUNT,
    )
    return Person.objects.get(pk=person.pk), SealedTestimony.objects.get(pk=testimony.pk)


def wrapped_keys(user: User) -> dict[int, str]:
    return dict(SealedKey.objects.filter(user=user).values_list("pk", "wrapped_key"))


def key_row(user: User) -> tuple[str, str, str, int, int]:
    key = UserKey.objects.get(user=user)
    return key.public_key, key.encrypted_private_key, key.salt, key.opslimit, key.memlimit


def assert_only_new_key_opens(user: User, old: PrivateKey, new: PrivateKey) -> None:
    """The property rotation exists for: nothing left in the database opens with `old`."""
    rows = list(SealedKey.objects.filter(user=user))
    assert rows
    for row in rows:
        with pytest.raises(DecryptionError):
            unwrap_data_key(b64d(row.wrapped_key), old)
        unwrap_data_key(b64d(row.wrapped_key), new)


def test_after_a_rotation_the_old_private_key_opens_nothing_left(section: Section) -> None:
    """Every data key wrapped for the old key is wrapped for the new one; reads go on with the
    new key, values written afterwards are sealed for it only, other coordinators' keys are
    untouched, and the new private key is protected like one set up now."""
    alia, bolat = coordinator("alia", section), coordinator("bolat", section)
    person, testimony = sealed_records(section)
    old, bolat_before = opened(alia), wrapped_keys(bolat)
    public_before = UserKey.objects.get(user=alia).public_key

    result, new = rotate_user_key(alia, password_of(alia))

    assert result.rewrapped == 3 == SealedKey.objects.filter(user=alia).count()
    key = UserKey.objects.get(user=alia)
    assert key.public_key != public_before and key.public_key == b64e(bytes(new.public_key))
    assert (key.opslimit, key.memlimit) == (
        UserKey.objects.get(user=bolat).opslimit,
        UserKey.objects.get(user=bolat).memlimit,
    )
    assert bytes(opened(alia)) == bytes(new)
    assert_only_new_key_opens(alia, old, new)
    assert read_sealed(alia, person, "whereabouts", new) == WHEREABOUTS
    assert read_sealed(alia, testimony, "account", opened(alia)) == ACCOUNT
    with pytest.raises(DecryptionError):
        read_sealed(alia, person, "whereabouts", old)
    assert wrapped_keys(bolat) == bolat_before

    later = Person.objects.create(
        section=section, slug="later", given_name="B", family_name="C", whereabouts="Bishkek"
    )
    assert_only_new_key_opens(alia, old, new)
    assert read_sealed(alia, Person.objects.get(pk=later.pk), "whereabouts", new) == "Bishkek"


def test_a_wrong_password_is_refused_and_changes_nothing(section: Section) -> None:
    alia = coordinator("alia", section)
    sealed_records(section)
    before, keys_before = key_row(alia), wrapped_keys(alia)
    entries = AuditEntry.objects.count()
    with pytest.raises(KeyRefused, match="does not open your key"):
        rotate_user_key(alia, "not the passphrase at all")
    assert key_row(alia) == before and wrapped_keys(alia) == keys_before
    assert AuditEntry.objects.count() == entries


def test_without_a_key_there_is_nothing_to_rotate(section: Section) -> None:
    user = User.objects.create_user("dana", password="dana long passphrase", is_staff=True)
    with pytest.raises(KeyRefused, match="no key yet"):
        rotate_user_key(user, "dana long passphrase")


def test_after_a_password_reset_the_previous_password_is_asked_once(section: Section) -> None:
    """A reset leaves the key under the previous password (`needs_rewrap`): the rotation opens
    it with that one and protects the new key under the current login password."""
    alia = coordinator("alia", section)
    person, _testimony = sealed_records(section)
    old = opened(alia)
    alia.set_password("a brand new passphrase")
    alia.save()
    assert UserKey.objects.get(user=alia).needs_rewrap
    with pytest.raises(KeyRefused, match="enter the previous one"):
        rotate_user_key(alia, "a brand new passphrase")
    with pytest.raises(KeyRefused, match="not your current password"):
        rotate_user_key(alia, "alia long passphrase", "alia long passphrase")
    with pytest.raises(KeyRefused, match="previous password does not open"):
        rotate_user_key(alia, "a brand new passphrase", "a wrong old one")
    _result, new = rotate_user_key(alia, "a brand new passphrase", "alia long passphrase")
    assert not UserKey.objects.get(user=alia).needs_rewrap
    assert_only_new_key_opens(alia, old, new)
    key = unlock_private_key(alia, "a brand new passphrase")
    assert read_sealed(alia, person, "whereabouts", key) == WHEREABOUTS


def test_a_sealed_save_that_a_rotation_overtakes_is_refused_whole(section: Section) -> None:
    """The race: a sealed save reads its recipients' public keys (the field's pre_save), a
    rotation of one of them commits, then the save stores data keys wrapped for the old key,
    open to the leaked private key with nothing left to re-wrap them.

    On a real database no other connection's rotation can commit there any more: the keys are
    read locked inside the save's transaction (on SQLite, under the write lock held from its
    start). So the rotation runs from a signal of the save itself (the deletion of the value's
    old wrapped keys, between the read and the insert), inside its transaction, the one place
    it still can: the check before the insert sees the key changed and the save is refused and
    rolled back whole. Saved again once the rotation is done, the value is sealed for the new
    key only."""
    alia, bolat = coordinator("alia", section), coordinator("bolat", section)
    person, _testimony = sealed_records(section)
    old = opened(alia)
    stored_before = person.whereabouts
    overtaking: list[PrivateKey] = []

    def rotate_meanwhile(sender: type[SealedKey], instance: SealedKey, **kwargs: object) -> None:
        if not overtaking:
            overtaking.append(rotate_user_key(alia, password_of(alia))[1])

    post_delete.connect(rotate_meanwhile, sender=SealedKey, dispatch_uid="test.rotate_meanwhile")
    try:
        with pytest.raises(RecipientsChanged, match="key changed while saving; save again"):
            write_sealed(person, "whereabouts", "A safe flat in Bishkek")
    finally:
        post_delete.disconnect(sender=SealedKey, dispatch_uid="test.rotate_meanwhile")

    assert overtaking, "the rotation ran between reading the keys and storing them"
    assert person.whereabouts == stored_before  # the object keeps what it had, too
    fresh = Person.objects.get(pk=person.pk)
    assert fresh.whereabouts == stored_before
    # Every wrapped key of every user opens with that user's current key, and none with the
    # key pair the rolled-back rotation made.
    for user in (alia, bolat):
        for row in SealedKey.objects.filter(user=user):
            unwrap_data_key(b64d(row.wrapped_key), opened(user))
            with pytest.raises(DecryptionError):
                unwrap_data_key(b64d(row.wrapped_key), overtaking[0])
    assert read_sealed(alia, fresh, "whereabouts", old) == WHEREABOUTS

    _result, new = rotate_user_key(alia, password_of(alia))
    write_sealed(fresh, "whereabouts", "A safe flat in Bishkek")
    assert_only_new_key_opens(alia, old, new)
    fresh = Person.objects.get(pk=person.pk)
    assert read_sealed(alia, fresh, "whereabouts", new) == "A safe flat in Bishkek"
    assert read_sealed(bolat, fresh, "whereabouts", opened(bolat)) == "A safe flat in Bishkek"


def test_the_audit_log_records_the_rotation_without_key_material(section: Section) -> None:
    alia = coordinator("alia", section)
    sealed_records(section)
    before = key_row(alia)
    old_wrapped = wrapped_keys(alia)
    last = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    _result, new = rotate_user_key(alia, password_of(alia))

    entries = list(AuditEntry.objects.filter(seq__gt=last).order_by("seq"))
    summary = [e for e in entries if e.action == ACTION and e.model == "auth.User"]
    assert len(summary) == 1 and summary[0].object_pk == str(alia.pk)
    assert summary[0].values == {"wrapped_keys": 3}
    rows = {(e.model, e.object_pk) for e in entries if e.action == ACTION}
    assert ("safety.UserKey", str(UserKey.objects.get(user=alia).pk)) in rows
    assert {pk for model, pk in rows if model == "safety.SealedKey"} == {
        str(pk) for pk in old_wrapped
    }
    text = json.dumps([(e.fields, e.values) for e in entries])
    secrets = [*before[:3], *key_row(alia)[:3], *old_wrapped.values(), *wrapped_keys(alia).values()]
    secrets += [b64e(bytes(new)), b64e(bytes(new.public_key))]
    assert not [secret for secret in secrets if secret in text]
    assert verify_chain().ok


def test_reseal_gives_every_value_a_new_data_key(section: Section) -> None:
    """After `reseal_for`, the data keys of a copy taken before open none of the values now in
    the database; every recipient still reads them, and each read and write is recorded."""
    alia, bolat = coordinator("alia", section), coordinator("bolat", section)
    person, testimony = sealed_records(section)
    old = opened(alia)
    old_data_keys = {
        (row.object_id, row.field_name): unwrap_data_key(b64d(row.wrapped_key), old)
        for row in SealedKey.objects.filter(user=alia)
    }
    old_ciphertexts = {
        "whereabouts": person.whereabouts,
        "witness": testimony.witness,
        "account": testimony.account,
    }
    _result, new = rotate_user_key(alia, password_of(alia))
    last = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    assert reseal_for(alia, new) == 3
    entries = AuditEntry.objects.filter(seq__gt=last)
    assert entries.filter(action="sealed_read").count() == 3
    assert entries.get(action=RESEAL_ACTION).values == {"values": 3}

    person = Person.objects.get(pk=person.pk)
    testimony = SealedTestimony.objects.get(pk=testimony.pk)
    for obj, field in ((person, "whereabouts"), (testimony, "witness"), (testimony, "account")):
        stored = obj.__dict__[field]
        assert isinstance(stored, Sealed) and stored != old_ciphertexts[field]
        with pytest.raises(DecryptionError):
            unseal(stored.ciphertext, row_aad(obj, field), old_data_keys[(obj.pk, field)])
    assert read_sealed(bolat, person, "whereabouts", opened(bolat)) == WHEREABOUTS
    assert read_sealed(bolat, testimony, "witness", opened(bolat)) == WITNESS
    assert read_sealed(alia, testimony, "account", new) == ACCOUNT
    assert verify_chain().ok


def test_keys_rotate_command(section: Section, tmp_path: Path) -> None:
    """`solidarity keys rotate USERNAME --password-file F [--reseal]`; a wrong password is
    refused with nothing changed."""
    alia = coordinator("alia", section)
    person, _testimony = sealed_records(section)
    old = opened(alia)
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase at all\n")
    before = key_row(alia)
    with pytest.raises(CommandError, match="does not open your key"):
        call_command("keys", "rotate", "alia", "--password-file", str(wrong))
    assert key_row(alia) == before

    right = tmp_path / "password"
    right.write_text("alia long passphrase\n")
    out = StringIO()
    call_command("keys", "rotate", "alia", "--password-file", str(right), stdout=out)
    assert "3 wrapped key(s) re-wrapped" in out.getvalue()
    assert "--reseal" in out.getvalue()
    new = opened(alia)
    assert_only_new_key_opens(alia, old, new)
    entry = AuditEntry.objects.get(action=ACTION, model="auth.User")
    assert entry.actor == "system:keys"

    ciphertext = Person.objects.get(pk=person.pk).whereabouts
    out = StringIO()
    call_command("keys", "rotate", "alia", "--password-file", str(right), "--reseal", stdout=out)
    assert "3 sealed value(s) resealed" in out.getvalue()
    person = Person.objects.get(pk=person.pk)
    assert person.whereabouts != ciphertext
    assert_only_new_key_opens(alia, new, opened(alia))
    assert read_sealed(alia, person, "whereabouts", opened(alia)) == WHEREABOUTS


# -- The back office ----------------------------------------------------------------------------


def sealed_url(person: Person) -> str:
    return reverse("safety:sealed", args=["documentation", "person", person.pk, "whereabouts"])


def unlocked_client(user: User) -> Client:
    client = Client()
    verified_login(client, user)
    recently_authenticated(client)
    response = client.post(reverse("safety:unlock"), {"password": password_of(user)})
    assert response.status_code == 302
    return client


def test_rotating_on_my_key_page_locks_every_session(section: Section) -> None:
    """The form asks for the password again after a fresh re-authentication; afterwards this
    session and the user's other sessions are locked (their unlocked copies held the old key),
    stay logged in, and unlocking again reads with the new key."""
    alia = coordinator("alia", section)
    person, _testimony = sealed_records(section)
    old = opened(alia)
    here, elsewhere = unlocked_client(alia), unlocked_client(alia)
    for client in (here, elsewhere):
        assert WHEREABOUTS in client.get(sealed_url(person)).content.decode()

    page = here.get(reverse("safety:key")).content.decode()
    assert reverse("safety:rotate_key") in page
    form = here.get(reverse("safety:rotate_key")).content.decode()
    assert "A copy of the database taken before keeps the old wrapped keys" in form

    before = key_row(alia)
    refused = here.post(reverse("safety:rotate_key"), {"password": "not the passphrase at all"})
    assert "does not open your key" in refused.content.decode()
    assert key_row(alia) == before

    response = here.post(reverse("safety:rotate_key"), {"password": password_of(alia)})
    assert response.status_code == 302 and response["Location"] == reverse("safety:key")
    assert response.cookies[unlock_cookie_name()].value == ""
    assert_only_new_key_opens(alia, old, opened(alia))
    for client in (here, elsewhere):
        locked = client.get(sealed_url(person))
        assert locked.status_code == 302 and reverse("safety:unlock") in locked["Location"]
        assert client.get(reverse("safety:key")).status_code == 200  # still logged in

    here.post(reverse("safety:unlock"), {"password": password_of(alia)})
    assert WHEREABOUTS in here.get(sealed_url(person)).content.decode()


def test_the_page_reseals_on_request(section: Section) -> None:
    alia = coordinator("alia", section)
    person, _testimony = sealed_records(section)
    client = Client()
    verified_login(client, alia)
    recently_authenticated(client)
    response = client.post(
        reverse("safety:rotate_key"), {"password": password_of(alia), "reseal": "on"}, follow=True
    )
    assert "3 sealed values were resealed" in response.content.decode()
    assert Person.objects.get(pk=person.pk).whereabouts != person.whereabouts


def test_the_page_needs_a_fresh_reauthentication(section: Section) -> None:
    """Without the password and second factor again, the page sends to re-authentication and
    a POST changes nothing."""
    alia = coordinator("alia", section)
    sealed_records(section)
    client = Client()
    verified_login(client, alia)
    before = key_row(alia)
    response = client.post(reverse("safety:rotate_key"), {"password": password_of(alia)})
    assert response.status_code == 302 and reverse("accounts:reauth") in response["Location"]
    assert key_row(alia) == before
