"""Bulk writes (`QuerySet.update`, `bulk_create`, `bulk_update`) leave one audit entry per row,
names only, in the transaction of the change — whoever calls them, in whichever app."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import transaction
from pytest_django.fixtures import Settings

from solidarity.accounts.models import LoginFailure
from solidarity.audit.models import AuditEntry
from solidarity.audit.services import verify_chain
from solidarity.core.models import Section
from solidarity.documentation.models import Citation, Person, PersonName, Source
from solidarity.safety.keys import setup_user_key
from solidarity.safety.models import Role
from solidarity.search.merge import merge_people


def entries_since(seq: int, **filters: object) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(seq__gt=seq, **filters).order_by("seq"))


def head() -> int:
    return AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


@pytest.fixture
def people(section: Section) -> list[Person]:
    return [
        Person.objects.create(section=section, slug=f"p{n}", given_name="A", family_name=f"B{n}")
        for n in range(3)
    ]


def test_an_update_of_a_queryset_names_every_row_and_field(people: list[Person]) -> None:
    """One "update" entry per row changed, with the field's name and never its value; rows
    the queryset did not select get none."""
    start = head()
    changed = Person.objects.filter(family_name__in=["B0", "B1"]).update(
        internal_notes="CANARY-bulk-note"
    )
    assert changed == 2
    found = entries_since(start)
    assert [(e.action, e.model, e.fields) for e in found] == [
        ("update", "documentation.Person", ["internal_notes"])
    ] * 2
    assert {e.object_pk for e in found} == {str(people[0].pk), str(people[1].pk)}
    assert "CANARY" not in json.dumps([e.values for e in found])
    assert Person.objects.filter(internal_notes="CANARY-bulk-note").count() == 2
    assert verify_chain().ok


def test_a_rolled_back_update_takes_its_entries_with_it(people: list[Person]) -> None:
    """The entries are written in the transaction of the change."""
    start = head()
    with pytest.raises(RuntimeError), transaction.atomic():
        Person.objects.update(internal_notes="never kept")
        assert len(entries_since(start)) == 3
        raise RuntimeError("roll back")
    assert entries_since(start) == []
    assert not Person.objects.filter(internal_notes="never kept").exists()


def test_bulk_create_and_bulk_update_are_recorded(people: list[Person]) -> None:
    """Created rows get "create" entries naming their fields; bulk-updated ones "update"."""
    start = head()
    forms = PersonName.objects.bulk_create(
        [PersonName(person=p, name=f"Name {p.pk}", script="Latn", kind="variant") for p in people]
    )
    created = entries_since(start)
    assert {(e.action, e.object_pk) for e in created} == {("create", str(f.pk)) for f in forms}
    assert "name" in created[0].fields and "person" in created[0].fields

    start = head()
    for form in forms:
        form.name = form.name.upper()
    PersonName.objects.bulk_update(forms, ["name"])
    updated = entries_since(start)
    assert [(e.action, e.fields) for e in updated] == [("update", ["name"])] * 3


def test_derived_and_ephemeral_rows_are_not_recorded(db: None) -> None:
    """Throttle counters are not anyone's change: an unauthenticated flood of failed logins
    must not grow the permanent chain."""
    start = head()
    LoginFailure.objects.bulk_create([LoginFailure(scope="ip", key="k" * 64)])
    LoginFailure.objects.update(key="x" * 64)
    assert entries_since(start) == []


def test_a_merge_of_people_records_the_citations_and_rows_it_moves(
    section: Section, people: list[Person]
) -> None:
    """A real bulk path of another app (search): merging two people moves the removed one's
    citations with `QuerySet.update`, and each moved citation is in the log."""
    source = Source.objects.create(section=section, slug="s", title="Source")
    citation = Citation.objects.create(
        content_type=ContentType.objects.get_for_model(Person),
        object_id=people[1].pk,
        source=source,
        reliability="reliable",
    )
    start = head()
    merge_people(people[0], people[1], reason="the same person")
    moved = entries_since(start, model="documentation.Citation", action="update")
    assert [(e.object_pk, e.fields) for e in moved] == [(str(citation.pk), ["object_id"])]
    assert verify_chain().ok


def test_sealing_and_a_password_reset_record_their_key_rows(
    section: Section, settings: Settings
) -> None:
    """Wrapped data keys are bulk-created when a value is sealed, and a password reset marks the
    user's key with an update: both are in the log."""
    settings.SOLIDARITY_KDF = "interactive"
    user = User.objects.create_user("alia", password="alia long passphrase", is_staff=True)
    Role.objects.create(user=user, section=section, role="coordinator")
    setup_user_key(user, "alia long passphrase")
    start = head()
    Person.objects.create(
        section=section, slug="hidden", given_name="A", family_name="B", whereabouts="a flat"
    )
    assert entries_since(start, model="safety.SealedKey", action="create")
    start = head()
    user.set_password("someone else's new passphrase")
    user.save()
    [marked] = entries_since(start, model="safety.UserKey")
    assert marked.fields == ["needs_rewrap"]


def test_key_rotation_names_its_changes(section: Section) -> None:
    """`rotate-keys` updates ciphertexts in bulk, recorded as "rotate_keys" for each row."""
    person = Person.objects.create(
        section=section, slug="c", given_name="A", family_name="B", contact="+7 701 000 0000"
    )
    start = head()
    call_command("rotate-keys", verbosity=0)
    [rotated] = entries_since(start, model="documentation.Person")
    assert (rotated.action, rotated.object_pk, rotated.fields) == (
        "rotate_keys",
        str(person.pk),
        ["contact"],
    )
    assert rotated.actor == "system:rotate-keys"
