"""The back office's searches keep the searched name out of every URL (ASVS 14.2.1, threat
model M19): the box posts, the list answers with a session token, and no link of the result
page, nor the redirect after a save, carries the name."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from solidarity.accounts.models import HashedSession
from solidarity.core.models import Section
from solidarity.documentation.models import Citation, Person, Source
from solidarity.search.private_search import MAX_KEPT, SESSION_KEY, PrivateSearch, recall
from tests.test_admin import page, read_form
from tests.test_search_admin import coordinator  # noqa: F401 (a fixture)
from tests.test_search_index import make_person

CHANGELIST = "/admin/documentation/person/"
NAME = "Курманов"
ADDRESSES = re.compile(r'(?:href|action)="([^"]*)"')


@pytest.fixture
def people(section: Section) -> dict[str, Person]:
    return {
        "erlan": make_person(section, "erlan", "Ерлан", NAME),
        "askhat": make_person(section, "askhat", "Асхат", NAME),
        "other": make_person(section, "other", "Айгуль", "Абаева"),
    }


def _leaks(html: str, text: str) -> list[str]:
    """The links and form targets of `html` that carry `text` (as typed or URL-encoded) or a
    `q` parameter, even inside `_changelist_filters`."""
    forms = {text, quote(text), quote_plus(text), quote(quote(text)), quote(quote_plus(text))}
    return [
        url
        for url in ADDRESSES.findall(html)
        if any(form in url for form in forms) or re.search(r"(?:[?&;]|%26|%3F)q(?:=|%3D)", url)
    ]


def _search(client: Client, text: str, url: str = CHANGELIST) -> str:
    response = client.post(url, {"q": text})
    assert response.status_code == 303
    location: str = response["Location"]
    assert text not in location and quote(text) not in location and quote_plus(text) not in location
    return location


def _names(client: Client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200
    return sorted(str(p) for p in response.context["cl"].result_list)


def test_every_back_office_list_searches_privately() -> None:
    """Mixed in by the site itself: no registered admin lists with a name in its URL."""
    assert admin.site._registry
    for model_admin in admin.site._registry.values():
        assert isinstance(model_admin, PrivateSearch), type(model_admin)


def test_the_search_box_posts_with_the_csrf_token(
    coordinator: Client,  # noqa: F811
    people: dict[str, Person],
) -> None:
    html = page(coordinator.get(CHANGELIST))
    form = re.search(r'<form id="changelist-search"[^>]*>.*?</form>', html, re.S)
    assert form is not None
    assert 'method="post"' in form.group(0)
    assert 'name="csrfmiddlewaretoken"' in form.group(0)
    # Nor in the browser's form history, which keeps what text fields sent, whatever the method.
    assert re.search(r'<input[^>]*id="searchbar"[^>]*autocomplete="off"', form.group(0))


def test_the_kept_search_is_encrypted_in_the_session_table(
    coordinator: Client,  # noqa: F811
    people: dict[str, Person],
) -> None:
    """The session row is only signed, and goes into the database file and every backup: the
    kept text is there only as ciphertext, and still finds the person."""
    location = _search(coordinator, NAME)
    assert _names(coordinator, location) == sorted(str(people[k]) for k in ("askhat", "erlan"))
    store = coordinator.session.__class__
    for row in HashedSession.objects.all():
        payload = str(store().decode(row.session_data))
        assert NAME not in payload and SESSION_KEY in payload


def test_a_posted_search_answers_with_a_token_and_finds_the_person(
    coordinator: Client,  # noqa: F811
    people: dict[str, Person],
) -> None:
    location = _search(coordinator, NAME)
    assert urlsplit(location).path == CHANGELIST
    assert set(parse_qs(urlsplit(location).query)) == {"_s"}
    response = coordinator.get(location)
    assert response.status_code == 200
    assert sorted(str(p) for p in response.context["cl"].result_list) == [
        f"Асхат {NAME}",
        f"Ерлан {NAME}",
    ]
    html = page(response)
    assert response.context["cl"].query == NAME
    assert f'value="{NAME}" id="searchbar"' in html
    assert "2 results (" in html and "3 total" in html
    assert _leaks(html, NAME) == []
    # A change page's link carries the token back to the list, never the name.
    change = reverse("admin:documentation_person_change", args=[people["erlan"].pk])
    assert re.search(re.escape(change) + r"\?_changelist_filters=_s%3D", html)


def test_pages_and_sorting_keep_the_search(
    coordinator: Client,  # noqa: F811
    people: dict[str, Person],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(admin.site._registry[Person], "list_per_page", 1)
    location = _search(coordinator, NAME)
    token = parse_qs(urlsplit(location).query)["_s"][0]
    html = page(coordinator.get(location))
    links = [url.replace("&amp;", "&") for url in ADDRESSES.findall(html)]
    page_two = next(url for url in links if "p=2" in url.split("?")[-1].split("&"))
    sort = next(url for url in links if re.search(r"[?&]o=", url))
    for url in (page_two, sort):
        assert parse_qs(urlsplit(url).query)["_s"] == [token]
        assert _leaks(url, NAME) == []
    second = coordinator.get(CHANGELIST + page_two)
    assert second.context["cl"].result_count == 2
    assert second.context["cl"].query == NAME
    assert all(str(p).endswith(NAME) for p in second.context["cl"].result_list)
    sorted_list = coordinator.get(CHANGELIST + sort).context["cl"]
    assert (sorted_list.result_count, sorted_list.query) == (2, NAME)


def test_a_search_keeps_the_filters_and_goes_back_to_the_first_page(
    coordinator: Client,  # noqa: F811
    people: dict[str, Person],
) -> None:
    location = _search(coordinator, NAME, CHANGELIST + "?is_public__exact=1&p=2&o=1")
    params = parse_qs(urlsplit(location).query)
    assert set(params) == {"_s", "is_public__exact", "o"}
    assert params["is_public__exact"] == ["1"]
    # An empty box clears the search, nothing else.
    cleared = coordinator.post(location, {"q": "  "})
    assert cleared.status_code == 303
    assert set(parse_qs(urlsplit(cleared["Location"]).query)) == {"is_public__exact", "o"}


def test_a_get_with_the_name_is_sent_to_a_url_without_it(
    coordinator: Client,  # noqa: F811
    people: dict[str, Person],
) -> None:
    response = coordinator.get(CHANGELIST, {"q": NAME, "is_public__exact": "1"})
    assert response.status_code == 303
    location = response["Location"]
    assert NAME not in location and quote(NAME) not in location and quote_plus(NAME) not in location
    assert set(parse_qs(urlsplit(location).query)) == {"_s", "is_public__exact"}
    assert _names(coordinator, location) == [f"Асхат {NAME}", f"Ерлан {NAME}"]


def test_an_unknown_token_shows_the_whole_list_with_a_message(
    coordinator: Client,  # noqa: F811
    people: dict[str, Person],
) -> None:
    response = coordinator.get(CHANGELIST, {"_s": "not-a-search", "is_public__exact": "1"})
    assert response.status_code == 303
    assert parse_qs(urlsplit(response["Location"]).query) == {"is_public__exact": ["1"]}
    shown = coordinator.get(response["Location"])
    assert len(shown.context["cl"].result_list) == 3
    assert "That search has expired" in page(shown)


def test_the_session_keeps_only_the_latest_searches(
    coordinator: Client,  # noqa: F811
    people: dict[str, Person],
) -> None:
    first = _search(coordinator, "Name 0")
    for n in range(1, MAX_KEPT + 5):
        _search(coordinator, f"Name {n}")
    kept = coordinator.session[SESSION_KEY]
    assert len(kept) == MAX_KEPT
    texts = [recall(coordinator.session, token) for token in kept]
    assert sorted(texts) == sorted(f"Name {n}" for n in range(5, MAX_KEPT + 5))  # type: ignore[type-var]
    expired = coordinator.get(first)
    assert expired.status_code == 303 and "_s=" not in expired["Location"]
    # The same text again is the same token, not one more entry.
    assert _search(coordinator, f"Name {MAX_KEPT + 4}") == _search(
        coordinator, f"Name {MAX_KEPT + 4}"
    )
    assert len(coordinator.session[SESSION_KEY]) == MAX_KEPT


def test_saving_a_found_person_returns_to_the_searched_list(
    coordinator: Client,  # noqa: F811
    people: dict[str, Person],
    public_source: Source,
) -> None:
    # A person is saved with a source cited (documentation's rule), as in the back office.
    Citation.objects.create(
        content_type=ContentType.objects.get_for_model(Person),
        object_id=people["erlan"].pk,
        source=public_source,
    )
    location = _search(coordinator, NAME)
    token = parse_qs(urlsplit(location).query)["_s"][0]
    change = reverse("admin:documentation_person_change", args=[people["erlan"].pk])
    url = f"{change}?_changelist_filters=_s%3D{token}"
    response = coordinator.post(url, read_form(coordinator, url))
    assert response.status_code == 302
    assert response["Location"] == f"{CHANGELIST}?_s={token}"
    assert _names(coordinator, response["Location"]) == [f"Асхат {NAME}", f"Ерлан {NAME}"]


def test_an_action_post_is_not_taken_for_a_search(
    coordinator: Client,  # noqa: F811
    people: dict[str, Person],
) -> None:
    """The list's action form posts to the same URL; it must still act, not search."""
    location = _search(coordinator, NAME)
    response = coordinator.post(
        location,
        {"action": "delete_selected", "index": "0", "_selected_action": [people["erlan"].pk]},
    )
    assert response.status_code == 200
    assert "Are you sure" in page(response)


def test_the_site_wide_search_keeps_the_name_out_of_its_url(
    coordinator: Client,  # noqa: F811
    people: dict[str, Person],
) -> None:
    find = reverse("search_admin:search")
    form = re.search(
        r"<form[^>]*role=\"search\"[^>]*>.*?</form>", page(coordinator.get(find)), re.S
    )
    assert form is not None and 'method="post"' in form.group(0)
    assert 'name="csrfmiddlewaretoken"' in form.group(0)
    location = _search(coordinator, NAME, find)
    response = coordinator.get(location)
    assert sorted(str(r["object"]) for r in response.context["rows"]) == [
        f"Асхат {NAME}",
        f"Ерлан {NAME}",
    ]
    assert _leaks(page(response), NAME) == []
    bookmark = coordinator.get(find, {"q": NAME})
    assert bookmark.status_code == 303 and quote(NAME) not in bookmark["Location"]
    assert "_s=" in bookmark["Location"]
    expired = coordinator.get(find, {"_s": "gone"}, follow=True)
    assert expired.context["query"] == ""
    assert "That search has expired" in page(expired)
