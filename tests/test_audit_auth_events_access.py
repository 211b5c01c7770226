"""A staff user who asks for another section's record gets the same 404 as for a missing one,
and the audit chain records who asked for which row (ASVS 16.3.2): once per request, even when
the view's transaction rolls back."""

from __future__ import annotations

import contextlib

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotFound
from django.test import Client, RequestFactory
from django.urls import reverse

from solidarity.audit.middleware import AuditActorMiddleware
from solidarity.audit.models import AuditEntry
from solidarity.core.models import Section
from solidarity.documentation.models import Person
from solidarity.safety.access import get_for_user
from solidarity.safety.models import Role
from tests.conftest import verified_login


def refusals() -> list[tuple[str, str, str, dict[str, str]]]:
    return [
        (e.actor, e.model, e.object_pk, e.values)
        for e in AuditEntry.objects.filter(action="access_refused").order_by("seq")
    ]


def person_in(slug: str) -> Person:
    section = Section.objects.create(slug=slug, name_en=slug, kind="national")
    return Person.objects.create(section=section, slug=f"{slug}-p", given_name="Aigul")


def coordinator_of(person: Person) -> User:
    user = User.objects.create_user("insider", is_staff=True)
    Role.objects.create(user=user, section=person.section, role="coordinator")
    return user


def actor(user: User) -> str:
    return f"user:{user.pk}:{user.username}"


def test_another_sections_record_in_the_back_office_is_logged_once(
    db: None, client: Client
) -> None:
    own, other = person_in("own"), person_in("other")
    insider = coordinator_of(own)
    verified_login(client, insider)

    url = reverse("admin:documentation_person_change", args=[other.pk])
    assert client.get(url).status_code == 404
    assert (
        client.get(reverse("admin:documentation_person_change", args=[own.pk])).status_code == 200
    )
    assert (
        client.get(reverse("admin:documentation_person_change", args=[999999])).status_code == 404
    )
    assert client.get(reverse("admin:documentation_person_change", args=["x"])).status_code == 404

    # Only the row that exists elsewhere: a missing or malformed id reaches nothing.
    assert refusals() == [(actor(insider), "documentation.Person", str(other.pk), {"perm": "view"})]


def test_get_for_user_logs_the_refusal_with_the_permission_asked(db: None) -> None:
    own, other = person_in("own"), person_in("other")
    insider = coordinator_of(own)

    assert get_for_user(Person, insider, own.pk, "change") == own
    with pytest.raises(Http404):
        get_for_user(Person, insider, other.pk, "delete")
    with pytest.raises(Http404):
        get_for_user(Person, insider, "not a number", "view")

    assert refusals() == [
        (actor(insider), "documentation.Person", str(other.pk), {"perm": "delete"})
    ]


@pytest.mark.django_db
def test_a_refusal_inside_a_rolled_back_transaction_is_kept_once_per_request() -> None:
    """A view that asks twice within a transaction that the 404 rolls back still leaves one
    entry: the middleware writes it after the response, outside the rolled-back block."""
    own, other = person_in("own"), person_in("other")
    insider = coordinator_of(own)

    def view(request: HttpRequest) -> HttpResponse:
        try:
            with transaction.atomic():
                for _ in range(2):
                    with contextlib.suppress(Http404):
                        get_for_user(Person, request.user, other.pk, "view")
                raise PermissionDenied  # anything that rolls the view's work back
        except PermissionDenied:
            return HttpResponseNotFound()

    request = RequestFactory().get("/anything/")
    request.user = insider
    response = AuditActorMiddleware(view)(request)

    assert response.status_code == 404
    assert refusals() == [(actor(insider), "documentation.Person", str(other.pk), {"perm": "view"})]


def test_a_permission_denied_in_the_back_office_is_logged_by_view_name(
    db: None, client: Client
) -> None:
    """A read-only user who opens the add page gets 403; the entry names the view, not the
    path, and the user."""
    own = person_in("own")
    reader = User.objects.create_user("reader", is_staff=True)
    Role.objects.create(user=reader, section=own.section, role="read_only")
    verified_login(client, reader)

    assert client.get(reverse("admin:documentation_person_add")).status_code == 403
    assert (
        client.post(reverse("admin:documentation_person_delete", args=[own.pk])).status_code == 403
    )

    denied = [
        (e.actor, e.object_pk, e.values)
        for e in AuditEntry.objects.filter(action="permission_denied").order_by("seq")
    ]
    assert denied == [
        (actor(reader), "", {"view": "GET admin:documentation_person_add"}),
        (actor(reader), str(own.pk), {"view": "POST admin:documentation_person_delete"}),
    ]


# -- Reads of personal data ---------------------------------------------------------------------


def test_opening_a_record_with_contacts_logs_a_personal_read_once(db: None, client: Client) -> None:
    """A researcher shown a person's contact leaves one `personal_read` per page (field names,
    never the value); a read-only user, to whom the field is not shown, leaves none."""
    own = person_in("own")
    own.contact = "+7 700 555 0199"
    own.save()
    researcher = User.objects.create_user("researcher", is_staff=True)
    Role.objects.create(user=researcher, section=own.section, role="researcher")
    reader = User.objects.create_user("reader", is_staff=True)
    Role.objects.create(user=reader, section=own.section, role="read_only")
    url = reverse("admin:documentation_person_change", args=[own.pk])

    verified_login(client, reader)
    assert client.get(url).status_code == 200
    assert not AuditEntry.objects.filter(action="personal_read").exists()
    client.logout()
    verified_login(client, researcher)
    for _ in range(2):
        assert client.get(url).status_code == 200

    reads = [
        (e.actor, e.model, e.object_pk, e.fields, e.values)
        for e in AuditEntry.objects.filter(action="personal_read").order_by("seq")
    ]
    assert reads == [(actor(researcher), "documentation.Person", str(own.pk), ["contact"], {})] * 2
    assert not AuditEntry.objects.filter(values__icontains="555 0199").exists()
