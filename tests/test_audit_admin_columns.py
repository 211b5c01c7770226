"""A change-list column computed by an admin method, a model property or a callable is audited
by the fields it declares with `@reads` (audit/columns.py), and the system check refuses one
that declares nothing (audit/checks.py): a column showing a supporter's address through a
method would otherwise leave no `personal_list` entry (threat model A4)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.sites import all_sites
from django.contrib.auth.models import User
from django.core.checks import CheckMessage, run_checks
from django.http import HttpRequest
from django.test import Client
from django.urls import URLPattern, URLResolver, path, reverse

import solidarity.urls
from solidarity.audit.columns import reads
from solidarity.audit.personal import personal_among
from solidarity.campaigns.admin import SupporterAdmin
from solidarity.campaigns.models import Signature, Supporter
from solidarity.core.classification import CLASSIFICATION, FieldClass
from solidarity.core.models import Section
from tests.conftest import verified_login
from tests.test_audit_personal_lists import (
    PLANTED_COUNTRY,
    PLANTED_EMAIL,
    PLANTED_NAME,
    actor,
    assert_no_value_of,
    entries,
    head,
    signers,  # noqa: F401  (fixture)
    staff,
    world,  # noqa: F401  (fixture, for signers)
)

AUDIT_IDS = {"audit.E001", "audit.E002", "audit.W001"}


def audit_messages(messages: list[CheckMessage], admin_class: type) -> list[tuple[str, str]]:
    return [(m.id or "", m.msg) for m in messages if m.id in AUDIT_IDS and m.obj is admin_class]


@pytest.fixture
def fresh_site() -> Iterator[admin.AdminSite]:
    """A site of the test's own, not the project's; gone from `all_sites` afterwards, so no
    other test's checks see its admins."""
    site = admin.AdminSite(name="columns")
    yield site
    all_sites.discard(site)


# -- The check -----------------------------------------------------------------------------------


def test_every_registered_admin_declares_its_computed_columns() -> None:
    """The project as it is passes: each method column of every admin of every site says what
    it reads (e.g. PersonAdmin.full_name reads the name fields)."""
    messages = run_checks()
    assert [(m.id, m.msg) for m in messages if m.id in AUDIT_IDS] == []


def country_code(obj: Supporter) -> str:  # a callable column that declares nothing
    return str(obj.country)[:2]


class UndeclaredSupporterAdmin(admin.ModelAdmin[Supporter]):
    list_display = (
        "language",
        "pk",
        "email_shown",
        country_code,
        "name_length",
        "nothing_read",
        "supporter_typo",
    )

    @admin.display(description="e-mail")
    def email_shown(self, obj: Supporter) -> str:
        return str(obj.email)

    @reads("name")
    @admin.display(description="name length")
    def name_length(self, obj: Supporter) -> int:
        return len(str(obj.name))

    @admin.display(description="nothing")
    @reads()
    def nothing_read(self, obj: Supporter) -> str:
        return "-"

    @reads("emial")
    def supporter_typo(self, obj: Supporter) -> str:
        return str(obj.email)

    def get_list_display(self, request: HttpRequest) -> Any:
        # Computed at run time: the check cannot tell which columns this adds.
        return [name for name in self.list_display if name != "pk"]


def test_an_undeclared_column_on_any_site_is_refused_by_the_check(
    fresh_site: admin.AdminSite,
) -> None:
    """On a site of its own, an admin method and a callable that declare nothing are errors
    naming the admin and the column; a declared path that is no field is an error; a
    `get_list_display` the check cannot read is a warning. `@reads` stacks with
    `@admin.display` in either order, and `@reads()` is a declaration."""
    fresh_site.register(Supporter, UndeclaredSupporterAdmin)

    found = audit_messages(run_checks(), UndeclaredSupporterAdmin)

    where = "UndeclaredSupporterAdmin (campaigns.Supporter, site 'columns')"
    assert sorted(found) == [
        (
            "audit.E001",
            f"{where}: list_display column 'country_code' is not a field and does not declare "
            "which fields it reads, so a personal or sealed value it shows would not be "
            "audited (personal_list).",
        ),
        (
            "audit.E001",
            f"{where}: list_display column 'email_shown' is not a field and does not declare "
            "which fields it reads, so a personal or sealed value it shows would not be "
            "audited (personal_list).",
        ),
        (
            "audit.E002",
            f"{where}: list_display column 'supporter_typo' declares it reads 'emial', which "
            "is not a field path of campaigns.Supporter.",
        ),
        (
            "audit.W001",
            f"{where} overrides get_list_display in a way the check cannot read: the columns "
            "it adds are not checked for a @reads declaration.",
        ),
    ]


class LiteralColumnsAdmin(admin.ModelAdmin[Supporter]):
    list_display = ("language",)

    @admin.display(description="e-mail")
    def email_shown(self, obj: Supporter) -> str:
        return str(obj.email)

    def get_list_display(self, request: HttpRequest) -> Any:
        if request.GET.get("wide"):
            return (*super().get_list_display(request), "email_shown")
        return self.list_display


def test_a_column_added_by_get_list_display_is_checked_when_it_can_be_read(
    fresh_site: admin.AdminSite,
) -> None:
    """A column only `get_list_display` returns, as a literal, is checked as if declared in
    list_display (SupporterAdmin's columns for roles without personal data are read so)."""
    fresh_site.register(Supporter, LiteralColumnsAdmin)

    found = audit_messages(run_checks(), LiteralColumnsAdmin)

    assert [(message_id, "'email_shown'" in msg) for message_id, msg in found] == [
        ("audit.E001", True)
    ]


# -- The audit entry of a declared column ---------------------------------------------------------


def country_shown(obj: Supporter) -> str:
    return str(obj.country)


country_shown_declared = reads("country")(admin.display(description="country")(country_shown))


class ContactsSupporterAdmin(SupporterAdmin):
    """The project's supporter list, scoping and roles included, showing the address through a
    method and the country through a callable: columns that name no field."""

    list_display: Any = ("language", "email_shown", country_shown_declared, "created_at")

    @admin.display(description="e-mail")
    @reads("email")
    def email_shown(self, obj: Supporter) -> str:
        return str(obj.email)


class ColumnsURLs:
    def __init__(self, site: admin.AdminSite) -> None:
        self.urlpatterns: list[URLPattern | URLResolver] = [
            path("columns/", site.urls),
            *solidarity.urls.urlpatterns,
        ]


def test_a_declared_method_column_showing_addresses_is_audited_by_field(
    db: None,
    client: Client,
    section: Section,
    signers: list[Signature],  # noqa: F811
    fresh_site: admin.AdminSite,
    settings: Any,
) -> None:
    """Opening the list through the real middleware logs one `personal_list` entry naming the
    fields the columns read (email, country), not the method's name, with the page's ids and
    no value; the columns' classes come from the classification."""
    assert CLASSIFICATION["campaigns.Supporter"]["email"] == FieldClass.PERSONAL
    assert CLASSIFICATION["campaigns.Supporter"]["country"] == FieldClass.PERSONAL
    fresh_site.register(Supporter, ContactsSupporterAdmin)
    settings.ROOT_URLCONF = ColumnsURLs(fresh_site)
    coordinator: User = staff("coordinator", section, "coordinator")
    verified_login(client, coordinator)
    url = reverse("columns:campaigns_supporter_changelist")
    start = head()

    response = client.get(url)

    assert response.status_code == 200
    assert PLANTED_EMAIL in response.content.decode()  # the method column showed the address
    page = [str(row.pk) for row in response.context["cl"].result_list]
    assert len(page) == len(signers)
    logged = entries("personal_list", start)
    assert [(e.actor, e.model, e.fields, e.values) for e in logged] == [
        (
            actor(coordinator),
            "campaigns.Supporter",
            ["country", "email"],
            {"ids": page, "view": "columns:campaigns_supporter_changelist"},
        )
    ]
    assert_no_value_of(logged[0], PLANTED_EMAIL, PLANTED_NAME, PLANTED_COUNTRY)


def test_an_undeclared_column_counts_as_reading_every_personal_field(db: None) -> None:
    """Fail closed: a column that says nothing (added at run time, where the system check
    cannot see it) is logged as if it showed every personal and sealed field of the model."""

    def shown(obj: Supporter) -> str:
        return str(obj.email)

    personal = [
        name
        for name, cls in CLASSIFICATION["campaigns.Supporter"].items()
        if cls in (FieldClass.PERSONAL, FieldClass.SEALED)
    ]
    assert "email" in personal
    assert sorted(personal_among(Supporter, ["language", shown])) == sorted(personal)
    assert personal_among(Supporter, ["language", "created_at"]) == []
