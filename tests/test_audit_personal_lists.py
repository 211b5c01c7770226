"""A page of rows whose personal fields are shown (a back-office change list, an API collection)
leaves one `personal_list` entry naming the model, the fields and the page's ids, never a
value; a single record shown by the API, a `personal_read` (ASVS 16.3.2 at L3). Which fields
are personal comes from the classification alone."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework.request import Request

from solidarity.api import osdi
from solidarity.api.models import ApiToken
from solidarity.audit.columns import column_reads
from solidarity.audit.models import AuditEntry
from solidarity.audit.services import model_label, verify_chain
from solidarity.campaigns import tags
from solidarity.campaigns.models import Rsvp, Signature, Supporter, Tagging
from solidarity.core.classification import CLASSIFICATION, FieldClass
from solidarity.core.models import Section
from solidarity.safety.fields import ROW_NONCE
from solidarity.safety.models import Role
from tests.conftest import verified_login
from tests.test_api_support import (
    CampaignWorld,
    api,
    attend,
    make_campaign_world,
    organiser_token,
    sign,
)

PLANTED_NAME = "Zhannat Plantedova"
PLANTED_EMAIL = "zhannat.planted@example.org"
PLANTED_COUNTRY = "Plantedistan"


@pytest.fixture
def world(section: Section) -> CampaignWorld:
    return make_campaign_world(section)


@pytest.fixture
def signers(world: CampaignWorld) -> list[Signature]:
    """Three signatures: one with a planted name, e-mail and comment to look for in the log."""
    planted = sign(world, PLANTED_EMAIL, PLANTED_NAME, comment="Planted comment")
    supporter = supporter_of(planted)
    supporter.country = PLANTED_COUNTRY
    supporter.save()
    return [planted, sign(world, "b@example.org", "Berik B"), sign(world, "c@example.org")]


def supporter_of(signature: Signature) -> Supporter:
    assert signature.supporter is not None  # None only once erased
    return signature.supporter


def staff(username: str, section: Section, role: str) -> User:
    user = User.objects.create_user(username, is_staff=True)
    Role.objects.create(user=user, section=section, role=role)
    return user


def entries(action: str, after: int = 0) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action, seq__gt=after).order_by("seq"))


def head() -> int:
    return AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def assert_no_value_of(entry: AuditEntry, *values: str) -> None:
    text = json.dumps(
        [entry.actor, entry.model, entry.object_pk, entry.fields, entry.values], ensure_ascii=False
    )
    for value in values:
        assert value not in text


def actor(user: User) -> str:
    return f"user:{user.pk}:{user.username}"


# -- The back office's change lists ------------------------------------------------------------


def test_opening_the_supporters_list_logs_one_entry_with_the_ids_and_no_value(
    db: None, client: Client, section: Section, signers: list[Signature]
) -> None:
    """Each view of the list is one entry: the columns classed personal (name, country), the
    ids of the page's rows in the page's order, the view's name; the names shown are not in it."""
    coordinator = staff("coordinator", section, "coordinator")
    verified_login(client, coordinator)
    url = reverse("admin:campaigns_supporter_changelist")
    start = head()

    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 200
        assert PLANTED_NAME in response.content.decode()

    page = [str(row.pk) for row in response.context["cl"].result_list]
    assert sorted(page) == sorted(str(s.supporter_id) for s in signers)
    logged = entries("personal_list", start)
    assert [(e.actor, e.model, e.object_pk, e.fields, e.values) for e in logged] == [
        (
            actor(coordinator),
            "campaigns.Supporter",
            "",
            ["country", "name"],
            {"ids": page, "view": "admin:campaigns_supporter_changelist"},
        )
    ] * 2
    for entry in logged:
        assert_no_value_of(entry, PLANTED_NAME, PLANTED_COUNTRY, PLANTED_EMAIL)
    # One entry per page, not one per row, and no record-by-record read besides; in the chain.
    assert entries("personal_read", start) == []
    assert verify_chain().ok


def test_a_page_without_personal_columns_logs_nothing(
    db: None, client: Client, section: Section, signers: list[Signature]
) -> None:
    """The petitions and signatures lists show no personal column; an editor, who may not read
    personal data, is shown the supporters list without names and countries: nothing logged."""
    coordinator = staff("coordinator", section, "coordinator")
    editor = staff("editor", section, "editor")
    start = head()

    verified_login(client, coordinator)
    for name in ("petition", "signature", "rsvp", "campaign"):
        assert client.get(reverse(f"admin:campaigns_{name}_changelist")).status_code == 200
    client.logout()
    verified_login(client, editor)
    response = client.get(reverse("admin:campaigns_supporter_changelist"))
    assert response.status_code == 200
    assert PLANTED_NAME not in response.content.decode()

    assert entries("personal_list", start) == []


def test_a_newly_classified_column_is_logged_without_any_other_change(
    db: None, client: Client, section: Section, world: CampaignWorld, monkeypatch: Any
) -> None:
    """Classing a column personal in classification.py is all it takes for its list to log."""
    coordinator = staff("coordinator", section, "coordinator")
    verified_login(client, coordinator)
    url = reverse("admin:campaigns_action_changelist")
    assert client.get(url).status_code == 200
    assert entries("personal_list") == []

    reclassed = {**CLASSIFICATION["campaigns.Action"], "participants": FieldClass.SEALED}
    monkeypatch.setitem(CLASSIFICATION, "campaigns.Action", reclassed)
    start = head()
    assert client.get(url).status_code == 200

    assert [(e.model, e.fields, e.values["ids"]) for e in entries("personal_list", start)] == [
        ("campaigns.Action", ["participants"], [str(world.protest.pk)])
    ]


def _model_columns(model: type[models.Model], list_display: Any) -> list[str]:
    def is_field(name: object) -> bool:
        if not isinstance(name, str) or "__" in name:
            return False
        try:
            model._meta.get_field(name)
        except FieldDoesNotExist:
            return False
        return True

    return [name for name in list_display if is_field(name)]


def _personal_reads(model: type[models.Model], model_admin: Any, list_display: Any) -> list[str]:
    """The paths the columns read that are classed personal: a field column's own, a computed
    column's declared with `@reads`."""
    found = []
    for name in list_display:
        for path in column_reads(model, name, model_admin) or ():
            *relations, last = path.split("__")
            owner: Any = model
            for relation in relations:
                owner = owner._meta.get_field(relation).related_model
            if CLASSIFICATION.get(model_label(owner), {}).get(last) == FieldClass.PERSONAL:
                found.append(path)
    return found


def test_every_change_list_logs_whatever_columns_are_classed_personal(
    db: None,
    client: Client,
    section: Section,
    world: CampaignWorld,
    signers: list[Signature],
    monkeypatch: Any,
) -> None:
    """Every registered ModelAdmin, whatever its app or base class, is covered: with every
    column of every change list classed personal, each list that shows rows logs exactly the
    columns it showed and its page's ids, and one without rows logs nothing."""
    attend(world, PLANTED_EMAIL)
    superuser = User.objects.create_superuser("root", "root@example.org", "a long passphrase")
    Role.objects.create(user=superuser, section=section, role="coordinator")
    verified_login(client, superuser)
    registry = admin.site._registry  # the one list of every registered admin
    for model, model_admin in registry.items():
        columns = _model_columns(model, model_admin.list_display)
        label = model_label(model)
        everything_personal = dict.fromkeys(columns, FieldClass.PERSONAL)
        monkeypatch.setitem(
            CLASSIFICATION, label, {**CLASSIFICATION.get(label, {}), **everything_personal}
        )

    logged_models = set()
    for model in registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        start = head()
        response = client.get(url)
        assert response.status_code == 200, url
        change_list = response.context["cl"]
        shown = _model_columns(model, change_list.list_display)
        # A computed column counts with the fields it declares, patched personal on their model.
        shown += _personal_reads(model, change_list.model_admin, change_list.list_display)
        ids = [str(row.pk) for row in change_list.result_list]
        logged = [(e.model, e.fields, e.values) for e in entries("personal_list", start)]
        if shown and ids:
            view = f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
            expected = {"ids": ids, "view": view}
            assert logged == [(model_label(model), sorted(set(shown)), expected)], url
            logged_models.add(model_label(model))
        else:
            assert logged == [], url

    # Lists of several apps and base classes had rows: the check above was not vacuous.
    assert {
        "campaigns.Supporter",
        "campaigns.Signature",
        "campaigns.Rsvp",
        "core.Section",
        "auth.User",
        "safety.Role",
        "audit.AuditEntry",
    } <= logged_models


# -- The API --------------------------------------------------------------------------------------


def personal_entries(after: int) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            action__in=["personal_list", "personal_read"], seq__gt=after
        ).order_by("seq")
    )


def test_an_api_list_of_people_logs_one_entry_with_the_pages_ids(
    db: None, section: Section, signers: list[Signature]
) -> None:
    """The people collection carries names, addresses and countries: one entry for the page,
    with the ids of the people on it, the view and the token; no value."""
    secret = organiser_token()
    token = ApiToken.objects.get()
    start = head()

    response = api(secret).get("/api/v2/people/?per_page=2")
    assert response.status_code == 200
    shown = [
        p["identifiers"][0].removeprefix("solidarity:")
        for p in response.json()["_embedded"]["osdi:people"]
    ]
    assert len(shown) == 2

    logged = personal_entries(start)
    assert [(e.actor, e.action, e.model, e.fields, e.values) for e in logged] == [
        (
            actor(token.user),
            "personal_list",
            "campaigns.Supporter",
            ["country", "email", "name"],
            {"ids": shown, "token": str(token.pk), "view": "api:people"},
        )
    ]
    assert_no_value_of(logged[0], PLANTED_NAME, PLANTED_EMAIL, PLANTED_COUNTRY)


def test_api_answers_with_personal_fields_log_their_rows(
    db: None, world: CampaignWorld, signers: list[Signature]
) -> None:
    """Signatures carry the comment and the signer, attendances and taggings the person: a
    collection logs its page, a single document its record."""
    secret = organiser_token()
    client = api(secret)
    rsvp = attend(world, "d@example.org")
    tag, _made = tags.create_tag(world.petition.section, "volunteers")
    tagging, _made = tags.tag_supporter(tag, supporter_of(signers[1]))
    petition, planted = world.petition.pk, signers[0]
    start = head()

    paths = [
        f"/api/v2/petitions/{petition}/signatures/",
        f"/api/v2/petitions/{petition}/signatures/{planted.pk}/",
        f"/api/v2/people/{planted.supporter_id}/",
        f"/api/v2/events/{world.protest.pk}/attendances/",
        f"/api/v2/tags/{tag.pk}/taggings/{tagging.pk}/",
    ]
    for path in paths:
        assert client.get(path).status_code == 200, path

    logged = [
        (e.action, e.model, e.object_pk, e.fields, e.values.get("ids"), e.values["view"])
        for e in personal_entries(start)
    ]
    signature_ids = [str(s.pk) for s in sorted(signers, key=lambda s: s.pk)]
    assert logged == [
        (
            "personal_list",
            "campaigns.Signature",
            "",
            ["comment", "supporter"],
            signature_ids,
            "api:petition_signatures",
        ),
        (
            "personal_read",
            "campaigns.Signature",
            str(planted.pk),
            ["comment", "supporter"],
            None,
            "api:signature",
        ),
        (
            "personal_read",
            "campaigns.Supporter",
            str(planted.supporter_id),
            ["country", "email", "name"],
            None,
            "api:person",
        ),
        (
            "personal_list",
            "campaigns.Rsvp",
            "",
            ["supporter"],
            [str(rsvp.pk)],
            "api:event_attendances",
        ),
        ("personal_read", "campaigns.Tagging", str(tagging.pk), ["supporter"], None, "api:tagging"),
    ]
    for entry in personal_entries(start):
        assert_no_value_of(entry, PLANTED_NAME, PLANTED_EMAIL, "Planted comment")


def test_public_pages_and_the_apis_public_answers_log_no_personal_read(
    db: None, client: Client, world: CampaignWorld, signers: list[Signature]
) -> None:
    """Petitions, events, the entry point, the Popolo export and the public site carry no
    personal field: they add no personal_read or personal_list."""
    token_client = api(organiser_token())
    start = head()

    for path in ("/api/v2/", "/api/v2/petitions/", "/api/v2/events/", "/api/popolo/all.json"):
        assert token_client.get(path).status_code == 200, path
        assert client.get(path).status_code in (200, 401), path
    public = reverse("campaigns:petition", args=[world.petition.slug])
    assert client.get(public).status_code == 200
    assert client.get("/").status_code in (200, 302)

    assert personal_entries(start) == []


# -- What the API documents show, against osdi.SHOWN ---------------------------------------------


def _changed(value: Any, field: models.Field[Any, Any]) -> Any:
    if isinstance(field, models.ForeignKey):
        related: Any = field.related_model
        other = related._default_manager.exclude(pk=value).first()
        return other.pk if other is not None else (value or 0) + 1000
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1000
    if isinstance(value, dt.datetime):
        return value + dt.timedelta(days=3)
    if value is None and isinstance(field, models.DateTimeField):
        return dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    if isinstance(value, uuid.UUID):
        return uuid.uuid4()
    return f"{value}-changed"


def _document(request: Request, row: models.Model) -> str:
    def represent(row: Any) -> osdi.JSON:
        if isinstance(row, Supporter):
            return osdi.person(request, row, subscribed=False)
        if isinstance(row, Signature):
            return osdi.signature(request, row)
        if isinstance(row, Rsvp):
            return osdi.attendance(request, row)
        assert isinstance(row, Tagging)
        return osdi.tagging(request, row)

    try:
        return json.dumps(represent(row), sort_keys=True, default=str)
    except Exception as error:  # e.g. a related row that no longer exists was read: carried
        return f"failed: {type(error).__name__}"


def test_shown_names_every_field_the_api_documents_carry(
    db: None, world: CampaignWorld, signers: list[Signature]
) -> None:
    """Changing a field that osdi.SHOWN leaves out changes no document: so the fields logged
    (the personal ones of SHOWN) are all the personal fields an answer carries."""
    rsvp = attend(world, "e@example.org")
    tag, _made = tags.create_tag(world.petition.section, "helpers")
    tagging, _made = tags.tag_supporter(tag, supporter_of(signers[0]))
    request = Request(RequestFactory().get("/api/v2/"))
    rows: list[models.Model] = [supporter_of(signers[0]), signers[0], rsvp, tagging]
    assert {type(row) for row in rows} == set(osdi.SHOWN)

    for row in rows:
        model = type(row)
        fresh = model._default_manager.get(pk=row.pk)
        before = _document(request, fresh)
        carried = []
        for field in model._meta.concrete_fields:
            if field.name == ROW_NONCE:
                continue  # what the ciphertexts are bound to: changed, nothing decrypts
            changed = model._default_manager.get(pk=row.pk)
            setattr(changed, field.attname, _changed(getattr(changed, field.attname), field))
            if _document(request, changed) != before:
                carried.append(field.name)
        assert set(carried) <= set(osdi.SHOWN[model]), model
        assert "supporter" in carried or model is Supporter
