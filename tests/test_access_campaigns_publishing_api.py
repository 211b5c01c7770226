"""Who sees what in the campaigns and newspaper back offices and the OSDI API: a role, section
and view matrix generated from the policy, 404 for other sections (GET and POST), choices that
offer only the user's sections, no bypass for superusers, CSRF on state-changing admin URLs,
tokens that read only their user's sections, and a record-signature helper that answers the
same whether or not an address signed before."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import models
from django.test import Client
from django.urls import reverse

from solidarity.api import importers
from solidarity.campaigns import intake, services
from solidarity.campaigns.models import (
    Action,
    ActionKind,
    ActionSeries,
    Campaign,
    Demand,
    DemandKind,
    DemandState,
    ErasureLog,
    ExportLog,
    LetterReport,
    Outcome,
    Petition,
    Rsvp,
    Signature,
    SignatureIntake,
    Supporter,
    Tag,
    Tagging,
    Target,
    UrgentAction,
    UrgentActionUpdate,
    email_index,
)
from solidarity.campaigns.services import SupporterDetails
from solidarity.core.classification import FieldClass
from solidarity.core.models import Section
from solidarity.documentation.models import Person, Source
from solidarity.publishing.models import Article, Byline, Issue, Topic
from solidarity.safety import policy
from solidarity.safety.models import Role
from tests.conftest import recently_authenticated, verified_login
from tests.test_api_support import ALL_SCOPES, api, token_for, user_with_scopes

ROLES = [str(role) for role in policy.RoleName]
VIEWS = ["changelist", "change", "add", "delete"]
BASE = "http://testserver"


def _admin_models() -> list[type[models.Model]]:
    return sorted(
        (m for m in admin.site._registry if m._meta.app_label in {"campaigns", "publishing"}),
        key=lambda m: m._meta.label,
    )


ADMIN_MODELS = _admin_models()
# What a back-office page never allows, whatever the role: these rows are written by services
# only (a supporter's own submissions, e-mailed updates, recorded outcomes, logs).
NEVER: dict[type[models.Model], set[str]] = {
    Supporter: {"add", "delete"},
    Signature: {"add", "delete"},
    SignatureIntake: {"add", "delete"},
    LetterReport: {"add", "delete"},
    Rsvp: {"add", "delete"},
    ExportLog: {"add", "delete"},
    ErasureLog: {"add", "delete"},
    Outcome: {"delete"},
    UrgentActionUpdate: {"delete"},
}
# Change pages of these are read-only views (200 for anyone who may view).
READ_ONLY = {Supporter, Signature, LetterReport, Rsvp, ExportLog, ErasureLog, Outcome}
READ_ONLY |= {UrgentActionUpdate, SignatureIntake}
# No section at all: shared by the whole newspaper.
SHARED = {Topic, Byline}
# Bookkeeping of the whole system: no role reaches a row of it.
SYSTEM_ONLY = {ErasureLog}


def _signature(petition: Petition, email: str, name: str) -> Signature:
    services.sign_petition(
        petition,
        SupporterDetails(email=email, name=name, country="Sweden"),
        processing_consent=True,
        contact_consent=True,
        comment=f"comment of {name}",
        base_url=BASE,
    )
    return Signature.objects.filter(petition=petition).latest("pk")


def build_section(slug: str) -> tuple[Section, dict[type[models.Model], models.Model]]:
    """A section with one row of every campaigns and newspaper model in it."""
    section = Section.objects.create(slug=slug, name_en=f"Section {slug}", kind="national")
    common: dict[str, Any] = {"section": section, "is_public": True}
    person = Person.objects.create(
        section=section, slug=f"{slug}-person", given_name="Aigul", family_name=f"Member{slug}"
    )
    campaign = Campaign.objects.create(
        **common, slug=f"{slug}-campaign", title_en=f"Campaign {slug}", started="2011"
    )
    demand = Demand.objects.create(
        campaign=campaign, kind=DemandKind.RELEASE_PERSON, person=person, text_en=f"Free {slug}"
    )
    outcome = Outcome.objects.create(demand=demand, state=DemandState.DROPPED, note="internal")
    target = Target.objects.create(**common, kind=Target.Kind.EMBASSY, name=f"Embassy {slug}")
    petition = Petition.objects.create(
        **common,
        campaign=campaign,
        slug=f"{slug}-petition",
        title_en=f"Petition {slug}",
        text_en="Free them.",
        target=target,
    )
    signature = _signature(petition, f"signer-{slug}@example.org", f"Signer {slug}")
    services.confirm_signature(services.signature_token(signature))
    urgent_action = UrgentAction.objects.create(
        **common,
        campaign=campaign,
        number=f"UA {slug}",
        slug=f"{slug}-ua",
        issued_on=dt.date(2011, 9, 1),
        deadline=dt.date(2030, 12, 31),
        title_en=f"Urgent action {slug}",
    )
    update = UrgentActionUpdate.objects.create(
        urgent_action=urgent_action, date=dt.date(2012, 1, 1), text_en="Still held."
    )
    letters = services.report_letters(
        urgent_action,
        SupporterDetails(email=f"writer-{slug}@example.org", name=f"Writer {slug}"),
        letters=2,
        processing_consent=True,
    )
    series = ActionSeries.objects.create(
        **common, campaign=campaign, slug=f"{slug}-series", title_en=f"Series {slug}"
    )
    action = Action.objects.create(
        **common,
        campaign=campaign,
        series=series,
        kind=ActionKind.PROTEST,
        title_en=f"Protest {slug}",
        starts_at=dt.datetime(2030, 9, 15, 12, 0, tzinfo=dt.UTC),
    )
    rsvp = services.rsvp(
        action,
        SupporterDetails(email=f"walker-{slug}@example.org", name=f"Walker {slug}"),
        processing_consent=True,
    )
    export = ExportLog.objects.create(
        petition=petition, user=User.objects.get_or_create(username="exporter")[0], rows=1
    )
    erasure = ErasureLog.objects.create(
        user=export.user, supporters=0, signatures=0, letter_reports=0, rsvps=0
    )
    year = 2012 if slug == "own" else 2013
    issue = Issue.objects.create(section=section, slug=f"{slug}-issue", number=1, year=year)
    article = Article.objects.create(
        section=section,
        slug=f"{slug}-article",
        language="en",
        title=f"Article {slug}",
        body="Text",
        issue=issue,
    )
    topic, _ = Topic.objects.get_or_create(slug="repression", defaults={"name_en": "Repression"})
    byline, _ = Byline.objects.get_or_create(slug="editors", defaults={"name": "The editors"})
    supporter = signature.supporter
    assert supporter is not None
    intake.receive(
        petition,
        SupporterDetails(email=f"waiting-{slug}@example.org", name=f"Waiting {slug}"),
        processing_consent=True,
        base_url=BASE,
    )
    received = SignatureIntake.objects.filter(petition=petition).latest("pk")
    objects: dict[type[models.Model], models.Model] = {
        Person: person,
        Campaign: campaign,
        Demand: demand,
        Outcome: outcome,
        Target: target,
        Petition: petition,
        Signature: signature,
        SignatureIntake: received,
        Supporter: supporter,
        UrgentAction: urgent_action,
        UrgentActionUpdate: update,
        LetterReport: letters,
        ActionSeries: series,
        Action: action,
        Rsvp: rsvp,
        ExportLog: export,
        ErasureLog: erasure,
        Issue: issue,
        Article: article,
        Topic: topic,
        Byline: byline,
    }
    return section, objects


@dataclass
class World:
    own: Section
    other: Section
    objects: dict[str, dict[type[models.Model], models.Model]]

    def obj(self, where: str, model: type[models.Model]) -> Any:
        return self.objects[where][model]


@pytest.fixture
def world(db: None) -> World:
    own, own_objects = build_section("own")
    other, other_objects = build_section("other")
    return World(own, other, {"own": own_objects, "other": other_objects})


def user_with(role: str | None, *sections: Section, superuser: bool = False) -> User:
    name = f"{role or 'outsider'}-{'su' if superuser else 'staff'}"
    user = User.objects.create_user(name, is_staff=True, is_superuser=superuser)
    for section in sections:
        if role is not None:
            Role.objects.create(user=user, section=section, role=role)
    return user


def url_for(view: str, model: type[models.Model], obj: models.Model | None = None) -> str:
    opts = model._meta
    if view in {"changelist", "add"}:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}")
    assert obj is not None
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk])


def expected_status(role: str | None, where: str, view: str, model: type[models.Model]) -> int:
    """What the policy (and the services-only rule of the page) says the admin must answer."""
    kind = policy.kind_of(model)
    assert kind is not None

    def allows(action: policy.Action) -> bool:
        return role is not None and policy.allows(role, kind, action)

    if view == "changelist":
        return 200 if allows(policy.Action.VIEW) or allows(policy.Action.CHANGE) else 403
    if view == "add":
        return 200 if allows(policy.Action.ADD) and "add" not in NEVER.get(model, set()) else 403
    granted = role is not None and (where == "own" or model in SHARED)
    if not granted or model in SYSTEM_ONLY:
        return 404
    if view == "change":
        return 200 if allows(policy.Action.VIEW) or allows(policy.Action.CHANGE) else 403
    if "delete" in NEVER.get(model, set()):
        return 403
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
    """Each role in its own section gets what the policy grants on every campaigns and newspaper
    admin; another section's rows answer 404, and a user with no role is refused everything.

    One case per role, section and view; inside it every admin is checked and all mismatches
    are reported together."""
    verified_login(client, user_with(role, world.own))
    mismatches = []
    for model in ADMIN_MODELS:
        if where == "other" and model in SHARED:
            continue  # shared rows belong to no section
        url = url_for(view, model, world.obj(where, model))
        expected = expected_status(role, where, view, model)
        got = client.get(url).status_code
        if got != expected:
            mismatches.append(f"{model._meta.label}: {url} answered {got}, not {expected}")
    assert mismatches == []


@pytest.mark.parametrize("role", ROLES)
def test_posts_to_another_sections_rows_are_not_found(
    client: Client, world: World, role: str
) -> None:
    """Changing or deleting another section's row by POST answers 404 and changes nothing,
    for every role, even one allowed everything in its own section."""
    verified_login(client, user_with(role, world.own))
    mismatches = []
    for model in ADMIN_MODELS:
        if model in SHARED:
            continue
        obj = world.obj("other", model)
        for view in ("change", "delete"):
            got = client.post(url_for(view, model, obj), {"post": "yes"}).status_code
            if got != 404:
                mismatches.append(f"{model._meta.label} {view}: {got}")
        assert type(obj)._default_manager.filter(pk=obj.pk).exists(), model
    assert mismatches == []
    campaign = Campaign.objects.get(pk=world.obj("other", Campaign).pk)
    assert campaign.title_en == "Campaign other"


TARGET = {
    "kind": "embassy",
    "country": "GB",
    "salutation": "Dear Ambassador",
    "language": "en",
    "email": "embassy@example.org",
}


def test_a_coordinator_changes_and_deletes_in_the_own_section(client: Client, world: World) -> None:
    """The same POSTs succeed on the user's own rows: the 404s above are the section's doing."""
    verified_login(client, user_with("coordinator", world.own))
    target = world.obj("own", Target)
    response = client.post(
        url_for("change", Target, target),
        {**TARGET, "name": "Renamed embassy", "section": world.own.pk},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Target.objects.get(pk=target.pk).name == "Renamed embassy"
    issue = world.obj("own", Issue)
    assert client.post(url_for("delete", Issue, issue), {"post": "yes"}).status_code == 302
    assert not Issue.objects.filter(pk=issue.pk).exists()


def test_a_row_cannot_be_moved_or_filed_into_another_section(client: Client, world: World) -> None:
    """The section and parent choices of a form are the user's: another section's id is an
    invalid choice, on a change and on an add."""
    verified_login(client, user_with("coordinator", world.own))
    target = world.obj("own", Target)
    response = client.post(
        url_for("change", Target, target),
        {**TARGET, "name": "Moved", "section": world.other.pk},
    )
    assert "Select a valid choice" in response.content.decode()
    assert Target.objects.get(pk=target.pk).section == world.own
    response = client.post(
        url_for("add", Demand),
        {"campaign": world.obj("other", Campaign).pk, "kind": "other", "text_en": "Smuggled"},
    )
    assert "Select a valid choice" in response.content.decode()
    assert not Demand.objects.filter(text_en="Smuggled").exists()


def test_forms_offer_only_the_users_sections_and_rows(client: Client, world: World) -> None:
    """A section organiser (campaigns: everything; documentation: view) may file a campaign in
    their section; the petition form's pickers offer their campaigns and targets only."""
    verified_login(client, user_with("section_organiser", world.own))
    html = client.get(url_for("add", Campaign)).content.decode()
    assert f'<option value="{world.own.pk}"' in html
    assert f'<option value="{world.other.pk}"' not in html
    for field, model in (("campaign", Campaign), ("target", Target)):
        response = client.get(
            reverse("admin:autocomplete"),
            {"app_label": "campaigns", "model_name": "petition", "field_name": field},
        )
        ids = {int(result["id"]) for result in response.json()["results"]}
        assert ids == {world.obj("own", model).pk}, field


def test_list_filters_name_only_the_users_rows(client: Client, world: World) -> None:
    """A filter by campaign lists the campaigns of the user's rows, not every section's."""
    verified_login(client, user_with("read_only", world.own))
    html = client.get(url_for("changelist", Petition)).content.decode()
    assert "Campaign own" in html
    assert "Campaign other" not in html
    html = client.get(url_for("changelist", Article)).content.decode()
    assert "Article own" in html and "Article other" not in html
    assert "No. 1 (2013)" not in html  # the other section's issue


def test_newspaper_forms_offer_only_the_users_articles_and_people(
    client: Client, world: World
) -> None:
    """An editor cannot link another section's article as a translation or tag its people."""
    verified_login(client, user_with("editor", world.own))
    page = client.get(url_for("change", Article, world.obj("own", Article))).content.decode()
    assert "Article other" not in page
    response = client.post(
        url_for("add", Article),
        {
            "title": "Smuggled",
            "slug": "smuggled",
            "language": "ru",
            "body": "x",
            "section": world.own.pk,
            "translation_of": world.obj("other", Article).pk,
            "people": [world.obj("other", Person).pk],
            "images-TOTAL_FORMS": "0",
            "images-INITIAL_FORMS": "0",
            "campaign_links-TOTAL_FORMS": "0",
            "campaign_links-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert response.content.decode().count("Select a valid choice") >= 2
    assert not Article.objects.filter(slug="smuggled").exists()


def test_a_superuser_without_a_role_reads_no_campaign_or_newspaper_data(
    client: Client, world: World
) -> None:
    """Administrators run the system; without a role they see no section's campaigns."""
    verified_login(client, user_with(None, superuser=True))
    for model in ADMIN_MODELS:
        obj = world.obj("own", model)
        assert client.get(url_for("changelist", model, obj)).status_code == 403, model
        if model not in SHARED:
            assert client.get(url_for("change", model, obj)).status_code == 404, model
    index = client.get(reverse("admin:index")).content.decode()
    assert "/admin/campaigns/supporter/" not in index
    assert "/admin/publishing/article/" not in index


def test_the_dashboard_of_another_sections_campaign_is_not_found(
    client: Client, world: World
) -> None:
    """Another section's campaign and person answer 404; the own campaign's dashboard leaves
    out the rows another section holds under it (a petition, a protest in the timeline)."""
    campaign = world.obj("own", Campaign)
    common: dict[str, Any] = {"section": world.other, "campaign": campaign}
    Petition.objects.create(**common, slug="hidden", title_en="Hidden petition", text_en=".")
    Action.objects.create(
        **common,
        kind=ActionKind.PROTEST,
        title_en="Hidden protest",
        starts_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
    )
    verified_login(client, user_with("read_only", world.own))
    own = reverse("admin:campaigns_campaign_dashboard", args=[campaign.pk])
    other = reverse("admin:campaigns_campaign_dashboard", args=[world.obj("other", Campaign).pk])
    person = world.obj("own", Person).pk
    html = client.get(f"{own}?person={person}").content.decode()
    assert "Petition own" in html and "Protest own" in html
    assert "Hidden petition" not in html and "Hidden protest" not in html
    assert client.get(other).status_code == 404
    stranger = world.obj("other", Person).pk
    assert client.get(f"{own}?person={stranger}").status_code == 404


def test_only_someone_deleting_in_every_section_erases_an_address(
    client: Client, world: World
) -> None:
    """Erasure wipes an address everywhere: an organiser of one section may not (they would
    learn whether the address signed elsewhere, and destroy it); one of both sections may."""
    url = reverse("admin:campaigns_supporter_erase")
    organiser = user_with("section_organiser", world.own, superuser=True)
    verified_login(client, organiser)
    response = client.post(url, {"email": "signer-other@example.org", "confirm": "on"})
    assert response.status_code == 403
    assert Supporter.objects.filter(pk=world.obj("other", Supporter).pk).exists()
    Role.objects.create(user=organiser, section=world.other, role="section_organiser")
    assert (
        client.post(url, {"email": "signer-other@example.org", "confirm": "on"}).status_code == 302
    )
    assert not Supporter.objects.filter(pk=world.obj("other", Supporter).pk).exists()


def _export(client: Client, petition: Petition) -> Any:
    return client.post(
        url_for("changelist", Petition),
        # Past the confirmation page (tests/test_campaigns_export_notice.py).
        {"action": "export_signatures", "_selected_action": [petition.pk], "confirm": "yes"},
    )


def test_signatures_are_exported_only_from_the_own_section_by_roles_reading_them(
    client: Client, world: World
) -> None:
    """A coordinator exports their petition's signatures; another section's petition cannot be
    selected; a read-only role (no personal data) cannot export at all."""
    coordinator = user_with("coordinator", world.own, superuser=True)
    recently_authenticated(verified_login(client, coordinator))
    response = _export(client, world.obj("own", Petition))
    assert response["Content-Type"].startswith("text/csv")
    assert "Signer own" in response.content.decode()
    response = _export(client, world.obj("other", Petition))
    assert not response.get("Content-Type", "").startswith("text/csv")
    assert ExportLog.objects.filter(user=coordinator).count() == 1
    client.logout()
    reader = user_with("read_only", world.own, superuser=True)
    recently_authenticated(verified_login(client, reader))
    response = _export(client, world.obj("own", Petition))
    assert not response.get("Content-Type", "").startswith("text/csv")
    assert not ExportLog.objects.filter(user=reader).exists()


def test_every_state_changing_admin_url_refuses_a_post_without_csrf_token(world: World) -> None:
    """Add, change and delete pages, the erasure page and the export action answer 403 to a
    POST without a CSRF token."""
    client = Client(enforce_csrf_checks=True)
    verified_login(client, user_with("coordinator", world.own, world.other, superuser=True))
    urls = [reverse("admin:campaigns_supporter_erase"), url_for("changelist", Petition)]
    for model in ADMIN_MODELS:
        obj = world.obj("own", model)
        urls += [url_for(view, model, obj) for view in ("add", "change", "delete")]
    for url in urls:
        response = client.post(url, {"email": "signer-own@example.org", "confirm": "on"})
        assert response.status_code == 403, url
    assert Supporter.objects.filter(pk=world.obj("own", Supporter).pk).exists()


# -- The API -------------------------------------------------------------------------------------


def _token(role: str, *sections: Section) -> Client:
    user = user_with_scopes(f"api-{role}", *ALL_SCOPES)
    for section in sections:
        Role.objects.create(user=user, section=section, role=role)
    return api(token_for(user, *ALL_SCOPES))


def _api_urls(world: World, where: str) -> dict[str, str]:
    petition, action = world.obj(where, Petition), world.obj(where, Action)
    signature, rsvp = world.obj(where, Signature), world.obj(where, Rsvp)
    supporter = world.obj(where, Supporter)
    return {
        "person": f"/api/v2/people/{supporter.pk}/",
        "person signatures": f"/api/v2/people/{supporter.pk}/signatures/",
        "person attendances": f"/api/v2/people/{rsvp.supporter_id}/attendances/",
        "petition": f"/api/v2/petitions/{petition.pk}/",
        "petition signatures": f"/api/v2/petitions/{petition.pk}/signatures/",
        "signature": f"/api/v2/petitions/{petition.pk}/signatures/{signature.pk}/",
        "event": f"/api/v2/events/{action.pk}/",
        "event attendances": f"/api/v2/events/{action.pk}/attendances/",
        "attendance": f"/api/v2/events/{action.pk}/attendances/{rsvp.pk}/",
    }


PERSONAL_ENDPOINTS = {"person", "person signatures", "person attendances", "signature"}
PERSONAL_ENDPOINTS.add("attendance")


@pytest.mark.parametrize("role", ROLES)
def test_a_token_reads_its_users_sections_only(world: World, role: str) -> None:
    """Every endpoint answers for the own section's rows (those holding personal data only for
    roles that read it) and 404 for the other section's, exactly like a missing id."""
    client = _token(role, world.own)
    reads_personal = policy.reads(role, FieldClass.PERSONAL)
    mismatches = []
    for where in ("own", "other"):
        for name, url in _api_urls(world, where).items():
            visible = where == "own" and (reads_personal or name not in PERSONAL_ENDPOINTS)
            got = client.get(url).status_code
            if got != (200 if visible else 404):
                mismatches.append(f"{where} {name}: {url} answered {got}")
    assert mismatches == []


@pytest.mark.parametrize("role", ROLES)
def test_api_lists_hold_only_the_users_sections(world: World, role: str) -> None:
    """Lists hold the own section's rows; people, signatures and attendances only for roles
    that read personal data; never another section's."""
    client = _token(role, world.own)
    reads_personal = policy.reads(role, FieldClass.PERSONAL)

    def titles(path: str, name: str, key: str) -> set[str]:
        data = client.get(path).json()
        return {str(item[key]) for item in data["_embedded"][name]}

    assert titles("/api/v2/petitions/", "osdi:petitions", "title") == {"Petition own"}
    assert titles("/api/v2/events/", "osdi:events", "title") == {"Protest own"}
    people = titles("/api/v2/people/", "osdi:people", "solidarity:name")
    assert people == ({"Signer own", "Walker own", "Writer own"} if reads_personal else set())
    petition = world.obj("own", Petition)
    comments = titles(f"/api/v2/petitions/{petition.pk}/signatures/", "osdi:signatures", "comments")
    assert comments == ({"comment of Signer own"} if reads_personal else set())


def test_a_person_shows_only_what_the_users_sections_hold(world: World) -> None:
    """An address that signed in both sections is, to an organiser of one, only what it
    submitted there: that section's name and signatures."""
    _signature(world.obj("other", Petition), "signer-own@example.org", "Other name")
    client = _token("section_organiser", world.own)
    supporter = world.obj("own", Supporter)
    person = client.get(f"/api/v2/people/{supporter.pk}/").json()
    assert person["solidarity:name"] == "Signer own"
    data = client.get(f"/api/v2/people/{supporter.pk}/signatures/").json()
    assert [s["comments"] for s in data["_embedded"]["osdi:signatures"]] == [
        "comment of Signer own"
    ]


def _record(client: Client, petition: Petition, email: str) -> Any:
    body = {
        "person": {
            "given_name": "Anna",
            "family_name": "Berg",
            "email_addresses": [{"address": email}],
            "postal_addresses": [{"country": "Germany"}],
        },
        "solidarity:consent": {"processing": True},
    }
    return client.post(
        f"/api/v2/petitions/{petition.pk}/signatures/", body, content_type="application/json"
    )


def test_the_record_signature_helper_answers_alike_for_new_and_earlier_signers(
    world: World,
) -> None:
    """A new address, one pending confirmation and one confirmed long ago get the same answer,
    word for word: the helper does not tell whether an address signed."""
    client = _token("section_organiser", world.own)
    petition = world.obj("own", Petition)
    new = _record(client, petition, "new@example.org")
    pending = _record(client, petition, "new@example.org")
    confirmed = _record(client, petition, "signer-own@example.org")
    answers = {(r.status_code, r.content) for r in (new, pending, confirmed)}
    assert len(answers) == 1
    assert new.status_code == 202
    assert Signature.objects.filter(petition=petition).count() == 2


def test_the_record_signature_helper_refuses_other_sections_and_readers(world: World) -> None:
    """Recording into another section's petition is not found; a role that may not add
    campaigns data is not found either; nothing is recorded."""
    organiser = _token("section_organiser", world.own)
    assert _record(organiser, world.obj("other", Petition), "x@example.org").status_code == 404
    reader = _token("read_only", world.own)
    assert _record(reader, world.obj("own", Petition), "y@example.org").status_code == 404
    tried = [email_index("x@example.org"), email_index("y@example.org")]
    assert not Signature.objects.filter(email_index__in=tried).exists()


# -- Imports -------------------------------------------------------------------------------------


def _import(kind: str, text: str, user: User) -> list[str]:
    report = importers.run(kind, text, dry_run=True, only_good=False, base_url=BASE, user=user)
    return [str(error) for error in report.errors]


def test_an_import_writes_only_into_the_users_sections(world: World) -> None:
    """A coordinator of one section cannot import people into another, overwrite another
    section's person by its slug, cite another section's sources, or sign into another
    section's petition; each refusal reads as for a missing section, source or petition."""
    user = user_with("coordinator", world.own)
    people = "slug,given_name,family_name,section\n"
    assert _import("people", people + "new-one,Ainur,Kurmanov,own\n", user) == []
    errors = _import("people", people + "new-two,Ainur,Kurmanov,other\n", user)
    assert errors == ["line 2, column section: no section 'other'"]
    # Another section's slug is not "taken" for them: their new person gets a random ending
    # and the other's is left alone (tests/test_slug_oracle.py).
    assert _import("people", people + "other-person,Aigul,Memberother,own\n", user) == []
    source = Source.objects.create(section=world.other, slug="other-source", title="Theirs")
    events = "slug,type,title_en,date,sources,section\n"
    errors = _import("events", events + f"an-event,detention,Arrest,2012,{source.slug},own\n", user)
    assert errors == ["line 2, column sources: no source 'other-source'"]
    signatures = "petition,name,email,country,processing_consent\n"
    row = "{},Anna Berg,anna@example.org,Sweden,true\n"
    assert _import("signatures", signatures + row.format("own-petition"), user) == []
    errors = _import("signatures", signatures + row.format("other-petition"), user)
    assert errors == ["line 2, column petition: no petition 'other-petition'"]
    missing = _import("signatures", signatures + row.format("missing"), user)
    assert missing == ["line 2, column petition: no petition 'missing'"]


# -- OSDI tags -----------------------------------------------------------------------------------


def _person_link(supporter_id: int) -> dict[str, Any]:
    return {"_links": {"osdi:person": {"href": f"{BASE}/api/v2/people/{supporter_id}/"}}}


def test_tags_are_made_once_per_section_and_read_only_there(world: World) -> None:
    """A tag is made in the token user's section (again: the same tag); another section's tag
    and its taggings answer 404; a section one has no role in reads as a missing one."""
    client = _token("section_organiser", world.own)
    made = client.post("/api/v2/tags/", {"name": "  volunteer "}, content_type="application/json")
    assert made.status_code == 201, made.content
    tag = made.json()
    assert (tag["name"], tag["solidarity:section"]) == ("volunteer", "own")
    again = client.post("/api/v2/tags/", {"name": "volunteer"}, content_type="application/json")
    assert (again.status_code, again.json()["identifiers"]) == (200, tag["identifiers"])
    secret = Tag.objects.create(section=world.other, name="informer")
    listed = client.get("/api/v2/tags/").json()["_embedded"]["osdi:tags"]
    assert [t["name"] for t in listed] == ["volunteer"]
    for path in (f"/api/v2/tags/{secret.pk}/", f"/api/v2/tags/{secret.pk}/taggings/"):
        assert client.get(path).status_code == 404
    other_person = _person_link(world.obj("other", Supporter).pk)
    response = client.post(
        f"/api/v2/tags/{secret.pk}/taggings/", other_person, content_type="application/json"
    )
    assert response.status_code == 404
    refusals = [
        client.post(
            "/api/v2/tags/",
            {"name": "x", "solidarity:section": slug},
            content_type="application/json",
        ).json()["error"]
        for slug in ("other", "nowhere")
    ]
    assert refusals[0].replace("other", "nowhere") == refusals[1]
    assert not Tag.objects.filter(name="x").exists()


def test_a_tag_goes_only_on_people_of_its_section(world: World) -> None:
    """Tagging the own section's supporter works once; another section's supporter is refused
    in the same words as an id that does not exist; who carries a tag is personal data."""
    client = _token("section_organiser", world.own)
    tag = Tag.objects.create(section=world.own, name="volunteer")
    url = f"/api/v2/tags/{tag.pk}/taggings/"
    own = world.obj("own", Supporter)
    first = client.post(url, _person_link(own.pk), content_type="application/json")
    assert first.status_code == 201, first.content
    assert first.json()["action_network:person_id"] == str(own.pk)
    again = client.post(url, _person_link(own.pk), content_type="application/json")
    assert (again.status_code, again.json()["identifiers"]) == (200, first.json()["identifiers"])
    errors = [
        client.post(url, _person_link(pk), content_type="application/json").json()["error"]
        for pk in (world.obj("other", Supporter).pk, 999999)
    ]
    assert errors[0] == errors[1]
    assert Tagging.objects.count() == 1
    tagging = Tagging.objects.get()
    assert client.get(f"{url}{tagging.pk}/").status_code == 200
    reader = _token("read_only", world.own)
    assert reader.get(f"/api/v2/tags/{tag.pk}/").status_code == 200
    assert reader.get(url).json()["total_records"] == 0
    assert reader.get(f"{url}{tagging.pk}/").status_code == 404
    refused = reader.post("/api/v2/tags/", {"name": "mine"}, content_type="application/json")
    assert refused.status_code == 403
    assert (
        reader.post(url, _person_link(own.pk), content_type="application/json").status_code == 404
    )


def test_the_entry_point_links_the_tags(client: Client, db: None) -> None:
    """Clients find the tags from the entry point, as in Action Network."""
    assert client.get("/api/v2/").json()["_links"]["osdi:tags"]["href"].endswith("/api/v2/tags/")
