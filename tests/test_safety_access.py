"""Who sees what in the back office: a role, section and view matrix generated from the policy,
404 for other sections, no bypass for superusers, and CSRF on every state-changing admin URL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.test import Client
from django.urls import reverse

from solidarity.core.models import Section
from solidarity.documentation.models import (
    Act,
    Citation,
    Detention,
    DetentionFacility,
    Event,
    Involvement,
    Membership,
    Organisation,
    OrganisationRelation,
    PaceCriterion,
    Participation,
    Person,
    PersonName,
    Place,
    Prosecution,
    Recognition,
    Source,
)
from solidarity.documentation.models import Testimony as SealedTestimony
from solidarity.safety import policy
from solidarity.safety.access import get_for_user, scoped, sections_for
from solidarity.safety.models import Role
from tests.conftest import recently_authenticated, verified_login

PASSWORD = "a long test passphrase"


def _documentation_admins() -> list[type[models.Model]]:
    return sorted(
        (m for m in admin.site._registry if m._meta.app_label == "documentation"),
        key=lambda m: m._meta.model_name or "",
    )


ADMIN_MODELS = _documentation_admins()
ROLES = [str(role) for role in policy.RoleName]
VIEWS = ["changelist", "change", "add", "delete"]


def _has_section(model: type[models.Model]) -> bool:
    return policy.kind_of(model) is policy.Kind.DOCUMENTATION


def build_section(slug: str) -> tuple[Section, dict[type[models.Model], models.Model]]:
    """A section with one record of every documentation model in it."""
    section = Section.objects.create(slug=slug, name_en=f"Section {slug}", kind="national")
    common: dict[str, Any] = {"section": section}
    source = Source.objects.create(**common, slug=f"{slug}-source", title=f"Source {slug}")
    place = Place.objects.create(**common, slug=f"{slug}-city", name_en=f"City {slug}", kind="city")
    facility = DetentionFacility.objects.create(
        **common, slug=f"{slug}-prison", name_en=f"Prison {slug}", place=place
    )
    org = Organisation.objects.create(
        **common, slug=f"{slug}-org", name_en=f"Party {slug}", kind="political"
    )
    other_org = Organisation.objects.create(
        **common, slug=f"{slug}-intl", name_en=f"International {slug}", kind="international"
    )
    relation = OrganisationRelation.objects.create(
        **common, organisation=org, kind="section_of", other=other_org
    )
    person = Person.objects.create(
        **common, slug=f"{slug}-person", given_name="Aigul", family_name=f"Member{slug}"
    )
    PersonName.objects.create(
        person=person, name=f"Айгуль {slug}", language="ru", script="Cyrl", kind="native"
    )
    membership = Membership.objects.create(**common, person=person, organisation=org, role="member")
    event = Event.objects.create(
        **common, slug=f"{slug}-event", type="detention", title_en=f"Arrest {slug}", date="2012"
    )
    act = Act.objects.create(event=event, type="detention", victim=person)
    Involvement.objects.create(act=act, perpetrator_description="police", degree="direct")
    Participation.objects.create(event=event, organisation=org, role="witness")
    Citation.objects.create(
        content_type=ContentType.objects.get_for_model(event), object_id=event.pk, source=source
    )
    objects: dict[type[models.Model], models.Model] = {
        Source: source,
        Place: place,
        DetentionFacility: facility,
        Organisation: org,
        OrganisationRelation: relation,
        Person: person,
        Membership: membership,
        Event: event,
        Act: act,
        Prosecution: Prosecution.objects.create(**common, person=person, charge="unrest"),
        Detention: Detention.objects.create(**common, person=person, facility=facility),
        Recognition: Recognition.objects.create(**common, person=person, recognised_by=org),
        PaceCriterion: PaceCriterion.objects.order_by("pk").first() or PaceCriterion(),
        SealedTestimony: SealedTestimony.objects.create(
            **common, reference=f"T-{slug}", person=person, event=event
        ),
    }
    return section, objects


@dataclass
class World:
    own: Section
    other: Section
    objects: dict[str, dict[type[models.Model], models.Model]]


@pytest.fixture
def world(db: None) -> World:
    own, own_objects = build_section("own")
    other, other_objects = build_section("other")
    return World(own, other, {"own": own_objects, "other": other_objects})


def user_with(
    role: str | None, section: Section | None, *, superuser: bool = False, password: bool = False
) -> User:
    name = f"{role or 'outsider'}-{'su' if superuser else 'staff'}"
    # No password unless a test types it: hashing one (Argon2) per test would dominate the run.
    user = User.objects.create_user(
        name, password=PASSWORD if password else None, is_staff=True, is_superuser=superuser
    )
    if role is not None and section is not None:
        Role.objects.create(user=user, section=section, role=role)
    return user


def url_for(view: str, model: type[models.Model], obj: models.Model) -> str:
    opts = model._meta
    if view in {"changelist", "add"}:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}")
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk])


def expected_status(role: str | None, where: str, view: str, model: type[models.Model]) -> int:
    """What the policy says the admin must answer."""
    kind = policy.kind_of(model)
    assert kind is not None
    granted = role is not None and (where == "own" or not _has_section(model))

    def allows(action: policy.Action) -> bool:
        return role is not None and policy.allows(role, kind, action)

    if view == "changelist":
        return 200 if allows(policy.Action.VIEW) else 403
    if view == "add":
        return 200 if allows(policy.Action.ADD) else 403
    if not granted:
        return 404
    if view == "change":
        return 200 if allows(policy.Action.VIEW) or allows(policy.Action.CHANGE) else 403
    return 200 if allows(policy.Action.DELETE) else 403


def _matrix() -> list[Any]:
    return [
        pytest.param(role, where, view, id=f"{role or 'outsider'}-{where}-{view}")
        for role in [*ROLES, None]
        for where in ("own", "other")
        for view in VIEWS
    ]


@pytest.mark.parametrize(("role", "where", "view"), _matrix())
def test_access_matrix(
    client: Client, world: World, role: str | None, where: str, view: str
) -> None:
    """Each role in its own section gets what the policy grants on every documentation admin;
    another section's records answer 404, and a user with no role is refused everything.

    One case per role, section and view; inside it, every documentation admin is checked and all
    mismatches are reported together."""
    verified_login(client, user_with(role, world.own))
    mismatches = []
    for model in ADMIN_MODELS:
        if where == "other" and not _has_section(model):
            continue  # shared reference data belongs to no section
        url = url_for(view, model, world.objects[where][model])
        expected = expected_status(role, where, view, model)
        got = client.get(url).status_code
        if got != expected:
            mismatches.append(f"{model._meta.model_name}: {url} answered {got}, not {expected}")
    assert mismatches == []


@pytest.mark.parametrize("role", ROLES)
def test_the_list_shows_only_the_own_section(client: Client, world: World, role: str) -> None:
    """Every changelist links to the records of the user's section and never to another's."""
    verified_login(client, user_with(role, world.own))
    for model in ADMIN_MODELS:
        own = world.objects["own"][model]
        html = client.get(url_for("changelist", model, own)).content.decode()
        assert url_for("change", model, own) in html, model
        if _has_section(model):
            assert url_for("change", model, world.objects["other"][model]) not in html, model


def test_a_superuser_without_a_role_reads_no_section_data(client: Client, world: World) -> None:
    """Administrators run the system; without a role they see no documentation at all."""
    verified_login(client, user_with(None, None, superuser=True))
    for model in ADMIN_MODELS:
        obj = world.objects["own"][model]
        assert client.get(url_for("changelist", model, obj)).status_code == 403
        if _has_section(model):
            assert client.get(url_for("change", model, obj)).status_code == 404
    index = client.get(reverse("admin:index")).content.decode()
    assert "/admin/documentation/person/" not in index


def test_a_superuser_with_a_role_sees_only_that_section(client: Client, world: World) -> None:
    """Being a superuser adds nothing to a role."""
    verified_login(client, user_with("read_only", world.own, superuser=True))
    assert client.get(url_for("change", Person, world.objects["own"][Person])).status_code == 200
    assert client.get(url_for("change", Person, world.objects["other"][Person])).status_code == 404
    assert client.get(url_for("add", Person, world.objects["own"][Person])).status_code == 403


def test_a_bad_or_missing_id_answers_404_like_another_sections(
    client: Client, world: World
) -> None:
    """Missing, malformed and foreign ids are indistinguishable."""
    verified_login(client, user_with("coordinator", world.own))
    for object_id in ("999999", "not-a-number"):
        url = reverse("admin:documentation_person_change", args=[object_id])
        assert client.get(url).status_code == 404


def test_the_section_choice_on_add_offers_only_the_users_sections(
    client: Client, world: World
) -> None:
    """A researcher adding a source can file it only in a section where they may add."""
    verified_login(client, user_with("researcher", world.own))
    html = client.get(reverse("admin:documentation_source_add")).content.decode()
    assert f'<option value="{world.own.pk}"' in html
    assert f'<option value="{world.other.pk}"' not in html


def test_a_record_cannot_be_posted_into_another_section(client: Client, world: World) -> None:
    """Choosing another section's id by hand is refused as an invalid choice."""
    verified_login(client, user_with("coordinator", world.own))
    response = client.post(
        reverse("admin:documentation_place_add"),
        {"name_en": "Aktau", "slug": "aktau", "kind": "city", "section": world.other.pk},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Place.objects.filter(slug="aktau").exists()


def test_autocomplete_offers_only_the_users_sections(client: Client, world: World) -> None:
    """The person picker of a membership finds people of the user's sections only."""
    verified_login(client, user_with("coordinator", world.own))
    response = client.post(
        reverse("admin:autocomplete"),
        {
            "app_label": "documentation",
            "model_name": "membership",
            "field_name": "person",
            "term": "Aigul",
        },
    )
    assert response.status_code == 200
    ids = {int(result["id"]) for result in response.json()["results"]}
    assert ids == {world.objects["own"][Person].pk}


def test_inlines_and_foreign_keys_of_a_record_follow_the_section(
    client: Client, world: World
) -> None:
    """An event's page offers only the user's sections' people and places."""
    verified_login(client, user_with("coordinator", world.own))
    event = world.objects["own"][Event]
    html = client.get(url_for("change", Event, event)).content.decode()
    assert "Arrest own" in html
    assert "Member-other" not in html and "Memberother" not in html
    assert "City other" not in html


def test_personal_fields_follow_the_role(client: Client, world: World) -> None:
    """A read-only user never sees the contact field; a researcher does."""
    person = world.objects["own"][Person]
    verified_login(client, user_with("read_only", world.own))
    assert 'name="contact"' not in client.get(url_for("change", Person, person)).content.decode()
    client.logout()
    verified_login(client, user_with("researcher", world.own))
    html = client.get(url_for("change", Person, person)).content.decode()
    assert 'name="contact"' in html


# -- The access functions themselves -----------------------------------------------------------


def test_scoped_follows_parents_for_rows_without_a_section(world: World) -> None:
    """Acts, involvements, participations, name forms and citations belong to their parent's
    section."""
    user = user_with("read_only", world.own)
    own_event = world.objects["own"][Event]
    assert {a.event_id for a in scoped(Act.objects.all(), user, "view")} == {own_event.pk}
    assert {i.act.event_id for i in scoped(Involvement.objects.all(), user, "view")} == {
        own_event.pk
    }
    assert {p.event_id for p in scoped(Participation.objects.all(), user, "view")} == {own_event.pk}
    assert {n.person.section_id for n in scoped(PersonName.objects.all(), user, "view")} == {
        world.own.pk
    }
    assert [c.object_id for c in scoped(Citation.objects.all(), user, "view")] == [own_event.pk]
    assert scoped(Act.objects.all(), user, "change").count() == 0


def test_get_for_user_answers_404_for_another_section(world: World) -> None:
    """Never 403: the other section's record is simply not found."""
    from django.http import Http404

    user = user_with("coordinator", world.own)
    own, other = world.objects["own"][Person], world.objects["other"][Person]
    assert get_for_user(Person, user, own.pk, "delete") == own
    with pytest.raises(Http404):
        get_for_user(Person, user, other.pk, "view")
    with pytest.raises(Http404):
        get_for_user(Person, user, "x", "view")


def test_sections_for_reads_the_policy(world: World) -> None:
    """An editor may change but not add in their section; an inactive user nowhere."""
    user = user_with("editor", world.own)
    assert sections_for(user, "change") == {world.own.pk}
    assert sections_for(user, "add") == set()
    user.is_active = False
    user.save()
    fresh = User.objects.get(pk=user.pk)
    assert sections_for(fresh, "view") == set()


# -- CSRF ---------------------------------------------------------------------------------------


def _state_changing_urls(world: World) -> list[str]:
    urls = []
    for model in ADMIN_MODELS:
        obj = world.objects["own"][model]
        urls += [url_for(view, model, obj) for view in ("add", "change", "delete")]
    person = world.objects["own"][Person]
    urls += [
        reverse("safety:key"),
        reverse("safety:unlock"),
        reverse("safety:lock"),
        reverse("safety:sealed", args=["documentation", "person", person.pk, "whereabouts"]),
        reverse("admin:logout"),
    ]
    return urls


def test_every_state_changing_admin_url_refuses_a_post_without_csrf_token(world: World) -> None:
    """Add, change and delete pages and the key pages answer 403 to a POST without a token."""
    client = Client(enforce_csrf_checks=True)
    verified_login(client, user_with("coordinator", world.own))
    for url in _state_changing_urls(world):
        response = client.post(url, {"password": PASSWORD, "value": "x"})
        assert response.status_code == 403, url
    assert Person.objects.filter(pk=world.objects["own"][Person].pk).exists()


# -- Granting roles ------------------------------------------------------------------------------


def test_only_administrators_grant_roles(client: Client, world: World) -> None:
    """A superuser grants a role in the back office; a coordinator cannot see or grant roles."""
    coordinator = user_with("coordinator", world.own)
    verified_login(client, coordinator)
    assert client.get(reverse("admin:safety_role_changelist")).status_code == 403
    client.logout()
    administrator = user_with(None, None, superuser=True)
    # Granting a role needs a recent password + code (tests/test_s3_reauth.py).
    recently_authenticated(verified_login(client, administrator))
    newcomer = User.objects.create_user("newcomer", is_staff=True)
    response = client.post(
        reverse("admin:safety_role_add"),
        {"user": newcomer.pk, "section": world.other.pk, "role": "read_only"},
    )
    assert response.status_code == 302
    assert Role.objects.get(user=newcomer).section == world.other
    assert client.get(url_for("change", Person, world.objects["other"][Person])).status_code == 404


def test_campaign_rows_follow_their_petitions_section(world: World) -> None:
    """Signatures belong to their petition's section; a supporter is visible only where they
    signed; the erasure log belongs to no section and no role sees it."""
    from solidarity.campaigns.models import Campaign, ErasureLog, Petition, Signature, Supporter

    signers = {}
    for where, section in (("own", world.own), ("other", world.other)):
        campaign = Campaign.objects.create(section=section, slug=f"c-{where}", title_en="Free")
        petition = Petition.objects.create(
            section=section, campaign=campaign, slug=f"p-{where}", title_en="Free", text_en="."
        )
        supporter = Supporter.objects.create(email=f"{where}@example.org", name=where)
        Signature.objects.create(
            petition=petition,
            supporter=supporter,
            email_index=where,
            token_hash=where,
            processing_consent=True,
        )
        signers[where] = supporter
    organiser = user_with("section_organiser", world.own)
    assert [s.petition.section_id for s in scoped(Signature.objects.all(), organiser, "view")] == [
        world.own.pk
    ]
    assert list(scoped(Supporter.objects.all(), organiser, "view")) == [signers["own"]]
    assert get_for_user(Supporter, organiser, signers["own"].pk, "change") == signers["own"]
    from django.http import Http404

    with pytest.raises(Http404):
        get_for_user(Supporter, organiser, signers["other"].pk, "view")
    ErasureLog.objects.create(user=organiser, supporters=1, signatures=1, letter_reports=0, rsvps=0)
    assert not scoped(ErasureLog.objects.all(), user_with("coordinator", world.own), "view")
