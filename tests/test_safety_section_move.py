"""A record holding sealed values changes section only resealed for the new one
(solidarity/safety/section_move.py, through the common admin base; the CSV import refuses).

Otherwise the old section's coordinators and recovery key would go on opening the whereabouts
and testimony of a record that is no longer theirs, and the new section's could not. Real
crypto throughout (Argon2id at its interactive cost), through the real back office."""

from __future__ import annotations

import html

import pytest
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.test import Client
from nacl.public import PrivateKey
from pytest_django.fixtures import Settings

from solidarity.api import importers
from solidarity.core.models import Section
from solidarity.documentation.models import Person, Source
from solidarity.documentation.models import Testimony as SealedTestimony
from solidarity.safety.crypto import b64e
from solidarity.safety.keys import NotARecipient, RecipientsChanged, read_sealed, write_sealed
from solidarity.safety.models import RecoveryWrappedKey, Role, SealedKey, SectionRecoveryKey
from solidarity.safety.recovery import recover
from tests.conftest import verified_login
from tests.test_admin import change_url, cite, read_form
from tests.test_safety_resilience import unlocked_client
from tests.test_safety_sealed import WHEREABOUTS, coordinator, hidden_person, opened

UNLOCK_FIRST = (
    "This record holds sealed data. To move it to another section, unlock your key first (it "
    "must be resealed for the new section's coordinators)."
)
WITNESS = "Gulnara S., cell-mate in SIZO-1"
ACCOUNT = "They kept me standing for two days"


@pytest.fixture(autouse=True)
def fast_kdf(settings: Settings) -> None:
    settings.SOLIDARITY_KDF = "interactive"


@pytest.fixture
def abroad(db: None) -> Section:
    return Section.objects.create(slug="abroad", name_en="Section abroad", kind="national")


@pytest.fixture
def source(section: Section) -> Source:
    return Source.objects.create(section=section, slug="a-report", title="A report")


def recovery_key(section: Section, by: User) -> PrivateKey:
    """A recovery key registered for `section`; its private half, as the custodians hold it."""
    private = PrivateKey.generate()
    public = bytes(private.public_key)
    SectionRecoveryKey.objects.create(
        section=section,
        public_key=b64e(public),
        fingerprint=public.hex()[:32],
        created_by=by,
    )
    return private


def wrapped_for(obj: Person | SealedTestimony) -> set[tuple[str, str]]:
    """(username, field) of every wrapped key of the record."""
    content_type = ContentType.objects.get_for_model(obj)
    return set(
        SealedKey.objects.filter(content_type=content_type, object_id=obj.pk).values_list(
            "user__username", "field_name"
        )
    )


def recovery_of(obj: Person | SealedTestimony) -> set[tuple[str, str]]:
    """(section slug of the recovery key, field) of every recovery-wrapped key of the record."""
    content_type = ContentType.objects.get_for_model(obj)
    return set(
        RecoveryWrappedKey.objects.filter(content_type=content_type, object_id=obj.pk).values_list(
            "recovery_key__section__slug", "field_name"
        )
    )


def move(client: Client, obj: Person | SealedTestimony, section: Section) -> tuple[int, str]:
    """Post the record's admin form unchanged but for its section: status and page."""
    url = change_url(obj)
    data = read_form(client, url)
    data["section"] = str(section.pk)
    response = client.post(url, data)
    return response.status_code, html.unescape(response.content.decode())


def test_moving_with_an_unlocked_key_reseals_for_the_new_section(
    client: Client, section: Section, abroad: Section, source: Source
) -> None:
    """Moved by a coordinator of both sections with an unlocked key, the whereabouts are sealed
    again: the old section's coordinator and recovery key hold nothing of it any more, the new
    section's coordinator reads it and its recovery key recovers it."""
    alia = coordinator("alia", section)
    coordinator("homer", section)  # of the old section only
    home_recovery = recovery_key(section, alia)
    person = hidden_person(section)
    cite(person, source)
    bakyt = coordinator("bakyt", abroad)  # of the new section only
    Role.objects.create(user=alia, section=abroad, role="coordinator")
    abroad_recovery = recovery_key(abroad, alia)
    old_ciphertext = Person.objects.filter(pk=person.pk).values_list("whereabouts", flat=True)[0]
    assert wrapped_for(person) == {("alia", "whereabouts"), ("homer", "whereabouts")}
    assert recovery_of(person) == {("home", "whereabouts")}
    unlocked_client(client, alia, change_url(person))

    status, page = move(client, person, abroad)

    assert status == 302, page
    fresh = Person.objects.get(pk=person.pk)
    assert fresh.section_id == abroad.pk
    assert Person.objects.filter(pk=person.pk).values_list("whereabouts", flat=True)[0] != (
        old_ciphertext
    )
    assert wrapped_for(fresh) == {("alia", "whereabouts"), ("bakyt", "whereabouts")}
    assert read_sealed(bakyt, fresh, "whereabouts", opened(bakyt)) == WHEREABOUTS
    assert read_sealed(alia, fresh, "whereabouts", opened(alia)) == WHEREABOUTS
    homer = User.objects.get(username="homer")
    with pytest.raises(NotARecipient):
        read_sealed(homer, fresh, "whereabouts", opened(homer))
    assert recovery_of(fresh) == {("abroad", "whereabouts")}
    # The new section's custodians recover it; the old section's key covers nothing of it.
    newcomer = coordinator("newcomer", abroad)
    SealedKey.objects.filter(user=bakyt).delete()
    assert recover(abroad, abroad_recovery, newcomer).granted == 1
    assert read_sealed(newcomer, fresh, "whereabouts", opened(newcomer)) == WHEREABOUTS
    assert recover(section, home_recovery, coordinator("late", section)).granted == 0


def test_moving_without_unlocking_is_refused_and_nothing_changes(
    client: Client, section: Section, abroad: Section, source: Source
) -> None:
    """Locked, the save is refused with a form error that says what to do; the section, the
    ciphertext and every wrapped key stay as they were. The same for a coordinator whose
    unlocked key does not open the value."""
    alia = coordinator("alia", section)
    recovery_key(section, alia)
    person = hidden_person(section)
    cite(person, source)
    Role.objects.create(user=alia, section=abroad, role="coordinator")
    stored = Person.objects.filter(pk=person.pk).values_list("section", "whereabouts")[0]
    keys_before = wrapped_for(person), recovery_of(person)
    verified_login(client, alia)

    status, page = move(client, person, abroad)

    assert status == 200
    assert UNLOCK_FIRST in page
    assert Person.objects.filter(pk=person.pk).values_list("section", "whereabouts")[0] == stored
    assert (wrapped_for(person), recovery_of(person)) == keys_before

    # Unlocked, but the value was never sealed for this coordinator.
    late = coordinator("late", section)
    Role.objects.create(user=late, section=abroad, role="coordinator")
    other = Client()
    unlocked_client(other, late, change_url(person))
    status, page = move(other, person, abroad)
    assert status == 200 and "your key does not open" in page
    assert Person.objects.filter(pk=person.pk).values_list("section", "whereabouts")[0] == stored
    assert (wrapped_for(person), recovery_of(person)) == keys_before


def test_a_testimony_is_resealed_field_by_field(
    client: Client, section: Section, abroad: Section
) -> None:
    """Both sealed fields of a testimony are sealed again for the new section."""
    alia = coordinator("alia", section)
    coordinator("homer", section)
    testimony = SealedTestimony.objects.create(
        section=section, reference="T-2012-03", witness=WITNESS, account=ACCOUNT
    )
    Role.objects.create(user=alia, section=abroad, role="coordinator")
    bakyt = coordinator("bakyt", abroad)
    unlocked_client(client, alia, change_url(testimony))

    status, page = move(client, testimony, abroad)

    assert status == 302, page
    fresh = SealedTestimony.objects.get(pk=testimony.pk)
    assert fresh.section_id == abroad.pk
    assert {user for user, _field in wrapped_for(fresh)} == {"alia", "bakyt"}
    assert read_sealed(bakyt, fresh, "witness", opened(bakyt)) == WITNESS
    assert read_sealed(bakyt, fresh, "account", opened(bakyt)) == ACCOUNT
    assert recovery_of(fresh) == set()  # the new section has no recovery key


def test_a_record_without_sealed_values_moves_as_before(
    client: Client, section: Section, abroad: Section, source: Source
) -> None:
    """No sealed value, nothing to reseal: moved without any key unlocked."""
    alia = coordinator("alia", section, key=False)
    Role.objects.create(user=alia, section=abroad, role="coordinator")
    person = Person.objects.create(section=section, slug="open", given_name="A", family_name="B")
    cite(person, source)
    verified_login(client, alia)
    status, page = move(client, person, abroad)
    assert status == 302, page
    assert Person.objects.get(pk=person.pk).section_id == abroad.pk


def test_the_import_refuses_to_move_a_person_with_sealed_values(
    section: Section, abroad: Section
) -> None:
    """A CSV row that would change the section of a person holding whereabouts is refused with
    a row error (no key is unlocked there); a person without sealed values moves."""
    coordinator("alia", section)
    coordinator("bakyt", abroad)
    person = hidden_person(section)
    plain = Person.objects.create(section=section, slug="plain", given_name="A", family_name="B")
    text = (
        "slug,given_name,family_name,section\n"
        f"{person.slug},Ainur,K,abroad\n"
        f"{plain.slug},A,B,abroad\n"
    )
    report = importers.run("people", text, dry_run=False, only_good=True)
    assert [str(e) for e in report.errors] == [
        "line 2, column section: this person's record holds sealed data, so it cannot be moved "
        "to another section by import: move it in the back office, with your key unlocked"
    ]
    assert Person.objects.get(pk=person.pk).section_id == section.pk
    assert {user for user, _field in wrapped_for(person)} == {"alia"}
    assert Person.objects.get(pk=plain.pk).section_id == abroad.pk
    # The same section, or other columns changed, is no move: accepted.
    same = f"slug,given_name,family_name,section\n{person.slug},Ainur,Renamed,home\n"
    assert importers.run("people", same, dry_run=False, only_good=False).errors == []
    assert Person.objects.get(pk=person.pk).family_name == "Renamed"


def test_a_sealed_write_through_a_copy_loaded_before_a_move_is_refused(
    client: Client, section: Section, abroad: Section, source: Source
) -> None:
    """alia (coordinator of the old section only) loaded the record; bolat then moved it with
    his unlocked key; alia's write through her copy would seal the value for the old section
    (alia, bolat, the old recovery key) and delete the new coordinator's key while the row
    stays in the new section. It is refused, and the move's sealing stands."""
    alia = coordinator("alia", section)
    bolat = coordinator("bolat", section)
    Role.objects.create(user=bolat, section=abroad, role="coordinator")
    recovery_key(section, alia)
    recovery_key(abroad, bolat)
    bakyt = coordinator("bakyt", abroad)
    person = hidden_person(section)
    cite(person, source)
    stale = Person.objects.get(pk=person.pk)  # alia's copy, as her page loaded it
    unlocked_client(client, bolat, change_url(person))
    status, page = move(client, person, abroad)
    assert status == 302, page
    moved = Person.objects.filter(pk=person.pk).values_list("section", "whereabouts")[0]
    keys = wrapped_for(person), recovery_of(person)
    assert keys == (
        {("bolat", "whereabouts"), ("bakyt", "whereabouts")},
        {("abroad", "whereabouts")},
    )

    with pytest.raises(RecipientsChanged, match="save again"):
        write_sealed(stale, "whereabouts", "Moved on: Shymkent")

    assert Person.objects.filter(pk=person.pk).values_list("section", "whereabouts")[0] == moved
    assert (wrapped_for(person), recovery_of(person)) == keys
    fresh = Person.objects.get(pk=person.pk)
    assert read_sealed(bakyt, fresh, "whereabouts", opened(bakyt)) == WHEREABOUTS
    # Through a copy loaded now, the value is sealed for the new section.
    write_sealed(fresh, "whereabouts", "Moved on: Shymkent")
    assert wrapped_for(person) == {("bolat", "whereabouts"), ("bakyt", "whereabouts")}
    assert read_sealed(bakyt, fresh, "whereabouts", opened(bakyt)) == "Moved on: Shymkent"


def test_an_import_row_checked_before_a_move_does_not_move_the_record_back(
    client: Client, section: Section, abroad: Section, source: Source
) -> None:
    """The import checks every row before it writes any. A row naming the old section, checked
    before bolat moved the record, would write it back there with its values sealed for the
    new one: refused as a row error when it is written, and the move stands."""
    coordinator("alia", section)
    bolat = coordinator("bolat", section)
    Role.objects.create(user=bolat, section=abroad, role="coordinator")
    bakyt = coordinator("bakyt", abroad)
    person = hidden_person(section)
    cite(person, source)
    row = {"slug": person.slug, "given_name": "Ainur", "family_name": "K", "section": "home"}
    plan = importers.check_person(row)
    unlocked_client(client, bolat, change_url(person))
    assert move(client, person, abroad)[0] == 302

    with pytest.raises(ValidationError, match="cannot be moved to another section by import"):
        importers.apply_person(plan)

    fresh = Person.objects.get(pk=person.pk)
    assert fresh.section_id == abroad.pk
    assert read_sealed(bakyt, fresh, "whereabouts", opened(bakyt)) == WHEREABOUTS
