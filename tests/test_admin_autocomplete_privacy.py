"""The admin's autocomplete widgets post the typed name (ASVS 14.2.1, threat model M19): the
server answers a POST as Django's AutocompleteJsonView would, within the user's sections and
behind the CSRF token, and refuses a term sent in the URL; in Chromium, typing a name into a
picker shows the person and no request URL carries the name."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import ConsoleMessage, Request, sync_playwright
from pytest_django.live_server_helper import LiveServer

from solidarity.core.models import Section
from solidarity.documentation.models import Person
from solidarity.search.private_autocomplete import PostedAutocompleteJsonView
from tests.conftest import verified_login
from tests.test_admin import page
from tests.test_admin_search_privacy import NAME, people  # noqa: F401 (a fixture)
from tests.test_browser import CHROMIUM_ARGS
from tests.test_search_admin import (  # noqa: F401 (fixtures)
    coordinator,
    other_section,
    user_with_role,
)
from tests.test_search_index import make_person

AUTOCOMPLETE = "/admin/autocomplete/"
# The person picker of a membership (MembershipAdmin.autocomplete_fields).
PICKER = {"app_label": "documentation", "model_name": "membership", "field_name": "person"}
FOUND = [f"Асхат {NAME}", f"Ерлан {NAME}"]


def _texts(response: object) -> list[str]:
    return sorted(result["text"] for result in response.json()["results"])  # type: ignore[attr-defined]


def _names_in(body: str) -> bool:
    return NAME in body or "Айгуль" in body or quote(NAME) in body


def test_the_view_is_ours() -> None:
    assert reverse("admin:autocomplete") == AUTOCOMPLETE


def test_a_posted_term_finds_the_person_in_djangos_shape(
    coordinator: Client,  # noqa: F811
    people: dict[str, Person],  # noqa: F811
) -> None:
    response = coordinator.post(AUTOCOMPLETE, {**PICKER, "term": NAME})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"results", "pagination"}
    assert body["pagination"] == {"more": False}
    assert all(set(result) == {"id", "text"} for result in body["results"])
    assert sorted(body["results"], key=lambda r: r["text"]) == [
        {"id": str(people["askhat"].pk), "text": FOUND[0]},
        {"id": str(people["erlan"].pk), "text": FOUND[1]},
    ]
    # The people admin's own search (the name index: Latin finds Cyrillic) is the one used.
    assert _texts(coordinator.post(AUTOCOMPLETE, {**PICKER, "term": "Kurmanov"})) == FOUND


def test_the_page_number_is_posted_too(
    coordinator: Client,  # noqa: F811
    people: dict[str, Person],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(PostedAutocompleteJsonView, "paginate_by", 1)
    first = coordinator.post(AUTOCOMPLETE, {**PICKER, "term": NAME}).json()
    second = coordinator.post(AUTOCOMPLETE, {**PICKER, "term": NAME, "page": "2"}).json()
    assert first["pagination"] == {"more": True} and second["pagination"] == {"more": False}
    assert sorted(r["text"] for r in first["results"] + second["results"]) == FOUND


def test_a_person_of_another_section_is_not_found(
    coordinator: Client,  # noqa: F811
    people: dict[str, Person],  # noqa: F811
    other_section: Section,  # noqa: F811
) -> None:
    elsewhere = make_person(other_section, "elsewhere", "Жандос", NAME)
    assert _texts(coordinator.post(AUTOCOMPLETE, {**PICKER, "term": NAME})) == FOUND
    for term in ("Жандос", "Zhandos"):
        found = coordinator.post(AUTOCOMPLETE, {**PICKER, "term": term}).json()["results"]
        assert str(elsewhere.pk) not in {result["id"] for result in found}, term
    # The same search by that section's own coordinator finds the person.
    theirs = Client()
    verified_login(theirs, user_with_role("theirs", other_section, "coordinator"))
    assert _texts(theirs.post(AUTOCOMPLETE, {**PICKER, "term": "Жандос"})) == [f"Жандос {NAME}"]


def test_djangos_checks_still_refuse(
    client: Client,
    section: Section,
    people: dict[str, Person],  # noqa: F811
    other_section: Section,  # noqa: F811
) -> None:
    """A field that is no relation or no field, an unknown model: 403, no names. A user whose
    role is in another section finds nobody."""
    verified_login(client, user_with_role("coordinator", section, "coordinator"))
    for bad in ({"field_name": "role"}, {"model_name": "nothing"}, {"field_name": ""}):
        response = client.post(AUTOCOMPLETE, {**PICKER, **bad, "term": NAME})
        assert response.status_code == 403, bad
        assert not _names_in(page(response))
    stranger = Client()
    verified_login(stranger, user_with_role("stranger", other_section, "coordinator"))
    assert _texts(stranger.post(AUTOCOMPLETE, {**PICKER, "term": NAME})) == []


def test_a_term_in_the_url_is_refused_without_names(
    coordinator: Client,  # noqa: F811
    people: dict[str, Person],  # noqa: F811
) -> None:
    response = coordinator.get(AUTOCOMPLETE, {**PICKER, "term": NAME})
    assert response.status_code == 400
    assert set(response.json()) == {"error"}
    assert not _names_in(page(response))
    # An empty term names nobody: the first page of choices may still be asked by GET.
    assert _texts(coordinator.get(AUTOCOMPLETE, {**PICKER, "term": ""})) == [
        "Айгуль Абаева",
        *FOUND,
    ]


def test_the_post_needs_the_csrf_token(section: Section, people: dict[str, Person]) -> None:  # noqa: F811
    client = Client(enforce_csrf_checks=True)
    verified_login(client, user_with_role("coordinator", section, "coordinator"))
    refused = client.post(AUTOCOMPLETE, {**PICKER, "term": NAME})
    assert refused.status_code == 403
    assert not _names_in(page(refused))
    # The token as the widgets' script reads it: from a form field of the page (the cookie is
    # HttpOnly), sent in the X-CSRFToken header.
    html = page(client.get(reverse("admin:documentation_membership_add")))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert token is not None
    response = client.post(
        AUTOCOMPLETE, {**PICKER, "term": NAME}, headers={"X-CSRFToken": token.group(1)}
    )
    assert response.status_code == 200
    assert _texts(response) == FOUND


def test_every_admin_page_loads_the_posting_script_deferred(
    coordinator: Client,  # noqa: F811
) -> None:
    """Deferred: it must run after the page's media and before the widgets are set up."""
    html = page(coordinator.get(reverse("admin:documentation_membership_add")))
    assert re.search(r'<script src="[^"]*/search/admin-autocomplete\.js" defer>', html)
    assert coordinator.get("/static/search/admin-autocomplete.js").status_code == 200


# -- In Chromium --------------------------------------------------------------------------------


@pytest.mark.browser
def test_typing_a_name_into_a_picker_in_chromium(
    live_server: LiveServer, transactional_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A coordinator types a family name into the person picker of a new membership: the
    people appear, the search went out as a POST, and no request URL carries the name."""
    # Playwright's sync API runs an event loop in this thread; the ORM is only used before it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    section = Section.objects.create(slug="home", name_en="Home organisation", kind="home")
    for slug, given in (("erlan", "Ерлан"), ("askhat", "Асхат")):
        make_person(section, slug, given, NAME)
    make_person(section, "other", "Айгуль", "Абаева")
    # The login itself is tested in Chromium elsewhere (test_security_headers.py); here the
    # browser gets the cookie of a session that has passed both steps.
    client = verified_login(Client(), user_with_role("coordinator", section, "coordinator"))
    session = client.cookies[settings.SESSION_COOKIE_NAME].value

    sent: list[tuple[str, str, str]] = []
    violations: list[str] = []

    def record(request: Request) -> None:
        sent.append((request.method, request.url, request.post_data or ""))

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = browser.new_context(locale="en-GB")
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
            )
            tab = context.new_page()
            tab.on("request", record)
            tab.on("console", on_console)
            tab.goto(f"{live_server.url}{reverse('admin:documentation_membership_add')}")
            tab.locator("#id_person + .select2 .select2-selection").click()
            # Opening the picker asks for the first page (no term); the typed name is asked
            # once select2's delay has passed.
            with tab.expect_response(
                lambda r: (
                    urlsplit(r.url).path == AUTOCOMPLETE and "term=" in (r.request.post_data or "")
                )
            ) as answer:
                tab.locator(".select2-search__field").press_sequentially(NAME)
            assert answer.value.status == 200
            tab.get_by_text("Айгуль Абаева").wait_for(state="detached")
            options = tab.locator(".select2-results__option")
            assert sorted(options.all_inner_texts()) == FOUND
            tab.locator(".select2-results__option", has_text=f"Ерлан {NAME}").click()
            assert tab.locator("#select2-id_person-container").inner_text() == f"Ерлан {NAME}"
        finally:
            browser.close()

    forms = (NAME, quote(NAME), quote_plus(NAME))
    assert [url for _m, url, _b in sent if any(form in url for form in forms)] == []
    assert [url for _m, url, _b in sent if "term=" in url] == []
    asked = [(m, body) for m, url, body in sent if urlsplit(url).path == AUTOCOMPLETE]
    assert asked and {m for m, _body in asked} == {"POST"}, asked
    assert any(parse_qs(body).get("term") == [NAME] for _m, body in asked), asked
    assert violations == []
