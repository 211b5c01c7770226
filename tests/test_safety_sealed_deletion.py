"""A record's wrapped keys (SealedKey) go with the record: deleting a testimony or a person, one
by one, by queryset or in the back office, leaves no key naming it, in the same transaction,
and the audit log records each key's deletion beside the record's. Keys of other records stay.
Keys left behind before this was so are removed by a migration."""

from __future__ import annotations

import importlib
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from pytest_django.fixtures import Settings

from solidarity.audit.models import AuditEntry
from solidarity.core.models import Section
from solidarity.documentation.models import Person
from solidarity.documentation.models import Testimony as SealedTestimony
from solidarity.safety.models import SealedKey
from tests.conftest import verified_login
from tests.test_safety_sealed import coordinator, hidden_person

MIGRATION = "0003_drop_orphaned_sealed_keys"


@pytest.fixture(autouse=True)
def fast_kdf(settings: Settings) -> None:
    settings.SOLIDARITY_KDF = "interactive"


def _keys_of(obj: Person | SealedTestimony) -> set[int]:
    content_type = ContentType.objects.get_for_model(obj)
    return set(
        SealedKey.objects.filter(content_type=content_type, object_id=obj.pk).values_list(
            "pk", flat=True
        )
    )


def _testimony(section: Section, person: Person) -> SealedTestimony:
    return SealedTestimony.objects.create(
        section=section,
        reference="T-2012-03",
        person=person,
        witness="Gulnara S., cell-mate",
        account="They kept me standing for two days",
    )


def _last_seq() -> int:
    return AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def _deleted_since(seq: int, model: str) -> set[int]:
    entries = AuditEntry.objects.filter(seq__gt=seq, action="delete", model=model)
    return {int(pk) for pk in entries.values_list("object_pk", flat=True)}


def test_deleting_a_testimony_then_its_person_leaves_no_key_for_either(
    section: Section,
) -> None:
    """Two coordinators, so two keys per sealed value: the testimony's four go with it, then
    the person's two with the person; another person's keys stay. Each deleted key has its
    own "delete" entry, as the records do, and the chain verifies."""
    coordinator("alia", section)
    coordinator("bolat", section)
    person = hidden_person(section)
    other = hidden_person(section, "also-in-hiding")
    testimony = _testimony(section, person)
    testimony_keys, person_keys, other_keys = _keys_of(testimony), _keys_of(person), _keys_of(other)
    assert (len(testimony_keys), len(person_keys), len(other_keys)) == (4, 2, 2)
    before = _last_seq()

    testimony_pk = testimony.pk
    testimony.delete()
    assert not SealedKey.objects.filter(pk__in=testimony_keys).exists()
    assert _deleted_since(before, "documentation.Testimony") == {testimony_pk}
    assert _deleted_since(before, "safety.SealedKey") == testimony_keys

    person_pk = person.pk
    person.delete()
    assert set(SealedKey.objects.values_list("pk", flat=True)) == other_keys
    assert _deleted_since(before, "documentation.Person") == {person_pk}
    assert _deleted_since(before, "safety.SealedKey") == testimony_keys | person_keys
    call_command("audit", "verify", stdout=StringIO())


def test_a_queryset_delete_takes_the_keys_too(section: Section) -> None:
    coordinator("alia", section)
    hidden_person(section, "one")
    hidden_person(section, "two")
    assert SealedKey.objects.count() == 2
    Person.objects.filter(slug__in=["one", "two"]).delete()
    assert not SealedKey.objects.exists()


def test_a_delete_rolled_back_keeps_the_keys(section: Section) -> None:
    """The keys are deleted in the record's transaction: if it fails, both stay, and the
    sealed value can still be opened."""
    coordinator("alia", section)
    person = hidden_person(section)
    keys = _keys_of(person)

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        Person.objects.get(pk=person.pk).delete()
        assert not _keys_of(person)
        raise Abort
    assert Person.objects.filter(pk=person.pk).exists()
    assert _keys_of(person) == keys


def test_deleting_in_the_back_office_takes_the_keys(section: Section) -> None:
    """Through the admin's delete page, as a coordinator deletes a record."""
    alia = coordinator("alia", section)
    User.objects.filter(pk=alia.pk).update(is_superuser=True)
    client = verified_login(Client(), User.objects.get(pk=alia.pk))
    person = hidden_person(section)
    assert _keys_of(person)
    url = f"/admin/documentation/person/{person.pk}/delete/"
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not Person.objects.filter(pk=person.pk).exists()
    assert not SealedKey.objects.exists()


def test_the_migration_removes_keys_left_by_earlier_deletions(section: Section) -> None:
    """Keys whose record no longer exists go; keys of existing records stay."""
    alia = coordinator("alia", section)
    kept = hidden_person(section)
    content_type = ContentType.objects.get_for_model(Person)
    orphan = SealedKey.objects.create(
        content_type=content_type,
        object_id=kept.pk + 1000,
        field_name="whereabouts",
        user=alia,
        wrapped_key="left behind",
    )
    migration = importlib.import_module(f"solidarity.safety.migrations.{MIGRATION}")
    migration.drop_orphaned_keys(apps, None)
    assert not SealedKey.objects.filter(pk=orphan.pk).exists()
    assert _keys_of(kept) and SealedKey.objects.count() == 1
