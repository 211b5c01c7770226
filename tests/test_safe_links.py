"""Stored, typed-in addresses (a source's URL, an organisation's website) become links on the
public site, in its JSON-LD and in the Popolo export only through core.links.safe_link:
http, https and mailto; anything else is shown as text without a link. The back office
refuses such an address when it is saved, with a message that says why.

ASVS 1.2.2. Threat: a `javascript:` address in an href runs in a reader's browser on our
origin."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from solidarity.api.exports import POPOLO_KINDS
from solidarity.core.links import MESSAGE, WEB_PAGE_MESSAGE, safe_link
from solidarity.core.models import Section
from solidarity.documentation.models import Citation, Organisation, Source
from solidarity.safety.models import Role

from .conftest import verified_login
from .test_admin import change_url, read_form
from .test_public_boundary import LinkParser, body_of

SAFE_SCHEMES = {"http", "https", "mailto"}

# (stored value, what safe_link must give)
GOOD = [
    ("https://example.org/a?b=c#d", "https://example.org/a?b=c#d"),
    ("http://example.org", "http://example.org"),
    ("HTTPS://Example.org/", "HTTPS://Example.org/"),
    ("  https://example.org/  ", "https://example.org/"),
    ("\thttps://example.org/\n", "https://example.org/"),
    ("mailto:press@example.org", "mailto:press@example.org"),
    ("MailTo:press@example.org?subject=Hi", "MailTo:press@example.org?subject=Hi"),
    ("socialismkz.info", "https://socialismkz.info"),
    ("example.org/about/us", "https://example.org/about/us"),
    ("https://пример.рф/страница", "https://пример.рф/страница"),
]
HOSTILE = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "  javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "\x01javascript:alert(1)",
    "\x00https://example.org",
    "javascript://example.org/%0Aalert(1)",
    "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
    "DATA:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "file:///etc/passwd",
    "ftp://example.org/file",
    "//evil.example/x",
    "/\\evil.example",
    "\\\\evil.example",
    "https:evil.example",
    "https://",
    "http:///evil.example",
    "https://example.org/\u2028alert(1)",
    "https://example.org/\u200b",
    'https://example.org/"onmouseover="alert(1)',
    "https://example.org/<script>",
    "https://exa mple.org",
    "mailto:",
    "mailto:javascript:alert(1)",
    "example.org:javascript",
    "",
    "   ",
]


@pytest.mark.parametrize(("value", "expected"), GOOD)
def test_a_plain_web_or_mail_address_is_linked(value: str, expected: str) -> None:
    assert safe_link(value) == expected


@pytest.mark.parametrize("value", HOSTILE)
def test_any_other_address_is_not_linked(value: str) -> None:
    assert safe_link(value) == ""


# -- The public surfaces ----------------------------------------------------------------------

# Stored with .update(), past the model's validators, as an old dump or a direct SQL write
# would. Each is a different way of smuggling a script in.
STORED = [
    "javascript:alert(1)",
    " JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "\x01javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/x",
]


class World:
    """A public organisation citing a public source, both with a hostile stored address."""

    def __init__(self, section: Section, address: str) -> None:
        self.source = Source.objects.create(
            section=section,
            is_public=True,
            slug="hostile-source",
            title="A source with a hostile address",
            url="https://example.org/safe",
        )
        self.organisation = Organisation.objects.create(
            section=section,
            is_public=True,
            slug="hostile-organisation",
            name_en="An organisation with a hostile website",
            kind="political",
            website="example.org",
        )
        Citation.objects.create(
            content_type=ContentType.objects.get_for_model(Organisation),
            object_id=self.organisation.pk,
            source=self.source,
        )
        Source.objects.filter(pk=self.source.pk).update(url=address)
        Organisation.objects.filter(pk=self.organisation.pk).update(website=address)


def _addresses_in_html(url: str, html: str) -> Iterator[str]:
    parser = LinkParser()
    parser.feed(html)
    for found in [*parser.links, *parser.resources]:
        yield urljoin("http://testserver" + url, found)
    for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S):
        yield from _addresses_in_json(json.loads(block))


def _addresses_in_json(value: Any) -> Iterator[str]:
    """Every value under a key that holds an address, at any depth (JSON-LD and Popolo)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in {"url", "sameAs", "@id", "image", "logo"} and isinstance(item, str):
                yield item
            else:
                yield from _addresses_in_json(item)
    elif isinstance(value, list):
        for item in value:
            yield from _addresses_in_json(item)


def _addresses_in_atom(xml: str) -> Iterator[str]:
    yield from re.findall(r'href="([^"]*)"', xml)


def _scheme(address: str) -> str:
    # urlsplit reads an address as a browser does: leading control characters and spaces, and
    # tabs and newlines anywhere, are dropped; the scheme is case-insensitive.
    return urlsplit(address).scheme.lower()


@pytest.mark.parametrize("address", STORED, ids=repr)
def test_a_hostile_stored_address_is_shown_but_never_linked(
    client: Client, section: Section, address: str
) -> None:
    """The organisation's page, the sources list, the JSON-LD, the feeds and the Popolo
    export hold no link whose scheme is other than http, https or mailto, nor any link to
    another host through "//"; the organisation's page shows the address as text."""
    world = World(section, address)
    org_url = reverse("public:organisation", kwargs={"slug": world.organisation.slug})
    html_pages = [org_url, reverse("public:source_list"), reverse("public:organisation_list")]
    links: list[tuple[str, str]] = []
    for url in html_pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = body_of(response).decode()
        links += [(url, found) for found in _addresses_in_html(url, html)]
    for url in [reverse("api:popolo_all"), *(reverse(f"api:popolo_{k}") for k in POPOLO_KINDS)]:
        response = client.get(url)
        assert response.status_code == 200, url
        links += [(url, found) for found in _addresses_in_json(response.json())]
    feeds = [reverse("publishing:events_feed"), reverse("publishing:language_feed", args=["en"])]
    for url in feeds:
        response = client.get(url)
        assert response.status_code == 200, url
        links += [(url, found) for found in _addresses_in_atom(body_of(response).decode())]

    assert links, "no link was read: the check is blind"
    for url, found in links:
        assert _scheme(found) in SAFE_SCHEMES, f"{url} links {found!r}"
        assert urlsplit(found).hostname in {"testserver", None}, f"{url} links {found!r}"

    page = body_of(client.get(org_url)).decode()
    assert "An organisation with a hostile website" in page
    assert str(escape(address.strip())) in page, "the address is no longer shown as text"
    sources = client.get(reverse("api:popolo_all")).json()["sources"]
    assert [s.get("url") for s in sources if s["id"] == world.source.slug] == [None]


def test_a_safe_stored_address_is_linked_everywhere(client: Client, section: Section) -> None:
    """The same pages link a plain address: the check above is not passing by showing none."""
    world = World(section, "https://example.org/page")
    org_url = reverse("public:organisation", kwargs={"slug": world.organisation.slug})
    html = body_of(client.get(org_url)).decode()
    found = list(_addresses_in_html(org_url, html))
    assert found.count("https://example.org/page") >= 3  # website, citation, JSON-LD sameAs
    popolo = client.get(reverse("api:popolo_all")).json()
    assert {"url": "https://example.org/page", "note": world.source.title} in (
        popolo["organizations"][0]["sources"]
    )
    assert popolo["sources"][0]["url"] == "https://example.org/page"


# -- The back office --------------------------------------------------------------------------


@pytest.fixture
def coordinator_browser(client: Client, django_user_model: type[User], section: Section) -> Client:
    user = django_user_model.objects.create_superuser(
        username="coordinator", email="coordinator@example.org", password="a long passphrase"
    )
    Role.objects.create(user=user, section=section, role="coordinator")
    return verified_login(client, user)


@pytest.mark.parametrize(
    "address",
    ["javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,x", "java\tscript:alert(1)"],
)
def test_the_back_office_refuses_a_hostile_address_with_a_message(
    coordinator_browser: Client, section: Section, address: str
) -> None:
    """Saving a source's URL or an organisation's website that would not be linked is
    refused on the field, saying which addresses are allowed; nothing is saved."""
    world = World(section, "https://example.org/page")
    cases = [
        (world.source, "url", str(WEB_PAGE_MESSAGE)),
        (world.organisation, "website", str(MESSAGE)),
    ]
    for record, field, message in cases:
        data = read_form(coordinator_browser, change_url(record))
        data[field] = address
        response = coordinator_browser.post(change_url(record), data)
        assert response.status_code == 200, f"{field}: {address!r} was accepted"
        errors = response.context["adminform"].form.errors
        assert errors.get(field) == [message], errors
        record.refresh_from_db()
        assert getattr(record, field) == "https://example.org/page"


def test_the_back_office_accepts_web_and_mail_addresses(
    coordinator_browser: Client, section: Section
) -> None:
    """A bare host name is taken as https; a website may be a mailto: address."""
    world = World(section, "https://example.org/page")
    cases = [
        (world.source, "url", "example.net/report", "https://example.net/report"),
        (world.organisation, "website", "socialismkz.info", "socialismkz.info"),
        (world.organisation, "website", "mailto:press@example.org", "mailto:press@example.org"),
    ]
    for record, field, typed, stored in cases:
        data = read_form(coordinator_browser, change_url(record))
        data[field] = typed
        response = coordinator_browser.post(change_url(record), data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        record.refresh_from_db()
        assert getattr(record, field) == stored


def test_ftp_is_refused_for_a_source(coordinator_browser: Client, section: Section) -> None:
    """Django's URL field allows ftp; a source's address must be a web page."""
    world = World(section, "https://example.org/page")
    data = read_form(coordinator_browser, change_url(world.source))
    data["url"] = "ftp://example.org/file"
    response = coordinator_browser.post(change_url(world.source), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["url"] == [str(WEB_PAGE_MESSAGE)]
