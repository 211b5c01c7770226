"""Every change to a Solidarity model is logged with who, what and when — and never the value of a
field that is not public — in the transaction of the change; sealed reads are logged too."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from solidarity.accounts.models import HashedSession
from solidarity.audit.middleware import AuditActorMiddleware
from solidarity.audit.models import AuditEntry
from solidarity.audit.services import record_change, record_sealed_read
from solidarity.audit.signals import NOT_AUDITED, is_audited
from solidarity.core.models import Section
from solidarity.documentation.models import Organisation, PaceCriterion, Person, Recognition
from tests.conftest import ensure_pace_criteria, verified_login

CANARY_NOTES = "CANARY-internal-notes-7f3a"
CANARY_YEAR = 1917


def entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.order_by("seq"))


def last() -> AuditEntry:
    return AuditEntry.objects.order_by("-seq")[0]


@pytest.fixture
def person(section: Section) -> Person:
    return Person.objects.create(
        section=section,
        slug="natalya-sokolova",
        given_name="Natalya",
        family_name="Sokolova",
        birth_year=CANARY_YEAR,
        internal_notes=CANARY_NOTES,
        is_public=True,
    )


def test_a_creation_is_logged_with_field_names_and_only_public_values(person: Person) -> None:
    """The entry names every field set, carries the public ones' values, and holds no trace of
    internal values (notes, birth year)."""
    entry = last()
    assert (entry.action, entry.model, entry.object_pk) == (
        "create",
        "documentation.Person",
        str(person.pk),
    )
    assert {"given_name", "family_name", "internal_notes", "birth_year", "section"} <= set(
        entry.fields
    )
    assert entry.values["given_name"] == "Natalya"
    assert entry.values["family_name"] == "Sokolova"
    assert "internal_notes" not in entry.values
    assert "birth_year" not in entry.values
    assert "section" not in entry.values
    dump = json.dumps([[e.fields, e.values, e.actor, e.model] for e in entries()])
    assert CANARY_NOTES not in dump
    assert str(CANARY_YEAR) not in dump


def test_an_unpublished_record_logs_names_but_no_values(section: Section) -> None:
    """A public-class field is public only once its record is: the name of a person whose
    family asked for silence never enters the log, nor does a name form, which has no flag of
    its own."""
    hidden = Person.objects.create(
        section=section, slug="hidden", given_name="CANARY-given", family_name="CANARY-family"
    )
    hidden.names.create(name="CANARY-name-form", language="ru", script="cyrl")
    created = [e for e in entries() if e.action == "create"]
    assert {"given_name", "family_name"} <= set(created[-2].fields)
    assert [e.values for e in created[-2:]] == [{}, {}]
    assert "CANARY" not in json.dumps([e.values for e in entries()])
    hidden.is_public = True
    hidden.save()
    assert last().fields == ["is_public", "updated_at"]
    assert last().values == {}


def test_an_update_names_only_the_fields_that_changed(person: Person) -> None:
    """Changing internal notes logs their name and no value; changing a public name logs both;
    saving without a change logs nothing."""
    before = AuditEntry.objects.count()
    person.internal_notes = "CANARY-second-note"
    person.save()
    entry = last()
    assert entry.action == "update"
    assert "internal_notes" in entry.fields
    assert "given_name" not in entry.fields
    assert entry.values == {}

    person.family_name = "Sokolova-Atabayeva"
    person.save()
    entry = last()
    assert "family_name" in entry.fields
    assert entry.values == {"family_name": "Sokolova-Atabayeva"}
    person.save()
    assert AuditEntry.objects.count() == before + 2
    assert "CANARY-second-note" not in json.dumps([e.values for e in entries()])


def test_a_deletion_is_logged_for_the_object_and_its_cascade(person: Person) -> None:
    """Deleting a person logs the deletion of the person and of the name forms that go with it."""
    name = person.names.create(name="Наталья Соколова", language="ru", script="cyrl")
    pk = person.pk
    person.delete()
    deleted = {(e.model, e.object_pk) for e in entries() if e.action == "delete"}
    assert ("documentation.Person", str(pk)) in deleted
    assert ("documentation.PersonName", str(name.pk)) in deleted


def test_many_to_many_changes_are_logged_from_either_side(section: Section, person: Person) -> None:
    """Adding, removing and clearing criteria on a recognition are logged with the ids (the
    field is public); the same change made from the criterion's side is logged too."""
    ensure_pace_criteria()  # a transactional test before this one may have flushed them
    organisation = Organisation.objects.create(
        section=section, slug="hrw", name_en="Human Rights Watch", kind="political"
    )
    recognition = Recognition.objects.create(
        section=section, person=person, recognised_by=organisation, is_public=True
    )
    first, second = PaceCriterion.objects.order_by("pk")[:2]
    recognition.criteria.add(first, second)
    entry = last()
    assert (entry.action, entry.model, entry.fields) == (
        "m2m_add",
        "documentation.Recognition",
        ["criteria"],
    )
    assert entry.values == {"criteria": sorted([first.pk, second.pk], key=str)}
    recognition.criteria.remove(first)
    assert (last().action, last().values) == ("m2m_remove", {"criteria": [first.pk]})
    recognition.criteria.clear()
    assert last().action == "m2m_clear"
    first.recognition_set.add(recognition)
    entry = last()
    assert (entry.action, entry.model, entry.object_pk) == (
        "m2m_add",
        "documentation.PaceCriterion",
        str(first.pk),
    )
    assert entry.fields == ["recognition_set"]


def test_a_change_that_rolls_back_leaves_no_entry(section: Section) -> None:
    """The entry is written in the change's transaction and disappears with it."""
    before = AuditEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        Section.objects.create(slug="doomed", name_en="Doomed", kind="national")
        assert AuditEntry.objects.count() == before + 1
        raise RuntimeError("abort")
    assert AuditEntry.objects.count() == before
    assert not Section.objects.filter(slug="doomed").exists()


def test_a_sealed_read_is_logged_without_the_value(person: Person) -> None:
    """record_sealed_read names the reader, the record and the field, nothing else."""
    reader = User.objects.create_user("coordinator", password="a long test passphrase")
    entry = record_sealed_read(reader, person, "whereabouts")
    assert entry.actor == f"user:{reader.pk}:coordinator"
    assert (entry.action, entry.model, entry.object_pk) == (
        "sealed_read",
        "documentation.Person",
        str(person.pk),
    )
    assert (entry.fields, entry.values) == (["whereabouts"], {})


def test_bulk_changes_can_be_logged_explicitly(section: Section) -> None:
    """QuerySet.update bypasses signals; record_change logs it by name, one entry per row."""
    Section.objects.filter(pk=section.pk).update(country="KZ")
    logged = record_change(Section, [section.pk], ["country"])
    assert [(e.action, e.model, e.object_pk, e.fields) for e in logged] == [
        ("update", "core.Section", str(section.pk), ["country"])
    ]


def test_commands_are_the_actor_of_their_changes(db: None) -> None:
    """A change made through a management command is attributed to "system:<command>"."""
    call_command(
        "shell",
        command="from solidarity.core.models import Section; "
        "Section.objects.create(slug='cli', name_en='From the CLI', kind='national')",
        stdout=StringIO(),
    )
    assert (last().actor, last().model) == ("system:shell", "core.Section")


def test_the_signed_in_user_is_the_actor_of_a_request(db: None) -> None:
    """The middleware names the request's user; an anonymous request is logged as anonymous."""
    user = User.objects.create_user("researcher", password="a long test passphrase")

    def view(request: HttpRequest) -> HttpResponse:
        Section.objects.create(slug=f"s{AuditEntry.objects.count()}", name_en="S", kind="national")
        return HttpResponse("ok")

    request = RequestFactory().post("/")
    request.user = user
    AuditActorMiddleware(view)(request)
    assert last().actor == f"user:{user.pk}:researcher"
    anonymous = RequestFactory().post("/")
    AuditActorMiddleware(view)(anonymous)
    assert last().actor == "anonymous"


def test_a_change_in_the_back_office_is_logged_as_its_user(
    staff_client: Client, section: Section
) -> None:
    """Editing a section in the admin logs an update by the signed-in superuser."""
    response = staff_client.post(
        f"/admin/core/section/{section.pk}/change/",
        {
            "name_en": "Home organisation",
            "slug": "home",
            "kind": "home",
            "country": "KZ",
            "name_ru": "",
            "name_kk": "",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    staff = User.objects.get(username="staff")
    entry = last()
    assert (entry.actor, entry.action, entry.model) == (
        f"user:{staff.pk}:staff",
        "update",
        "core.Section",
    )
    assert (entry.fields, entry.values) == (["country"], {})


def test_every_solidarity_app_and_the_accounts_are_covered(db: None) -> None:
    """Models are found by module prefix: every model of a solidarity.* app except the audit
    log itself is logged, and so are user accounts; other third-party models are not."""
    ours = [m for m in apps.get_models() if m._meta.app_config.name.startswith("solidarity.")]
    assert {m._meta.app_label for m in ours} >= {"core", "documentation", "campaigns"}
    for model in ours:
        exempt = model is AuditEntry or model._meta.label in NOT_AUDITED
        assert is_audited(model) is not exempt, model
    # The exemptions are a queue whose rows become audited records, and the rows of logged-in
    # sessions and of the session store, whose logins, logouts and endings have entries of their
    # own (see NOT_AUDITED).
    exemptions = {"campaigns.SignatureIntake", "accounts.SignedInSession", "accounts.HashedSession"}
    assert exemptions == NOT_AUDITED
    assert is_audited(User)
    assert not is_audited(HashedSession)
    assert not is_audited(ContentType)


def test_a_grant_of_superuser_is_logged_by_name(db: None) -> None:
    """Making an account a superuser, or changing its password, is logged with the field names
    and no values (account fields are not classed public)."""
    user = User.objects.create_user("volunteer", password="a long test passphrase")
    user.is_superuser = True
    user.set_password("another long passphrase")
    user.save()
    entry = last()
    assert (entry.model, entry.object_pk, entry.action) == ("auth.User", str(user.pk), "update")
    assert set(entry.fields) == {"is_superuser", "password"}
    assert entry.values == {}
    group = Group.objects.create(name="coordinators")
    user.groups.add(group)
    assert (last().action, last().fields, last().values) == ("m2m_add", ["groups"], {})


def test_superusers_read_the_log_in_the_back_office_and_nobody_edits_it(
    staff_client: Client, section: Section
) -> None:
    """The list and the entries are readable by a superuser; adding, changing and deleting are
    refused; a staff member who is not a superuser does not see the log at all."""
    entry = last()
    listing = staff_client.get("/admin/audit/auditentry/")
    assert listing.status_code == 200
    assert b"core.Section" in listing.content
    assert staff_client.get("/admin/audit/auditentry/add/").status_code == 403
    detail = staff_client.get(f"/admin/audit/auditentry/{entry.pk}/change/")
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content
    assert (
        staff_client.post(f"/admin/audit/auditentry/{entry.pk}/change/", {"actor": "x"}).status_code
        == 403
    )
    assert (
        staff_client.post(
            f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert AuditEntry.objects.get(pk=entry.pk).actor == entry.actor

    clerk = User.objects.create_user("clerk", password="a long test passphrase", is_staff=True)
    clerk_client = verified_login(Client(), clerk)
    assert clerk_client.get("/admin/audit/auditentry/").status_code == 403
