"""Security headers on every kind of response — pages, static files, redirects, 404, 500 with
DEBUG off, the CSRF failure page, the back office — and no request from any page to another
origin. The admin is also loaded in Chromium to list any Content-Security-Policy violation."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from playwright.sync_api import ConsoleMessage, sync_playwright
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from solidarity import urls as project_urls
from solidarity.core.models import Section
from solidarity.documentation.seed import SEED_CASE, load_case
from tests.conftest import staff_client as staff_client
from tests.test_accounts_login import add_authenticator, code_for, make_staff

REQUIRED_CSP = [
    "default-src 'self'",
    "img-src 'self' data:",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
]

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("an unexpected failure")


def nonce_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f'<script nonce="{request.csp_nonce}">/* allowed */</script>')  # type: ignore[attr-defined]


def inline_style_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<!doctype html><style>body { color: red }</style><p>canary</p>")


class _Urls:
    urlpatterns = [
        path("boom/", boom),
        path("nonce/", nonce_page),
        path("inline-style/", inline_style_page),
        *project_urls.urlpatterns,
    ]


def assert_safe_headers(response: Response, what: str) -> None:
    csp = response.get("Content-Security-Policy", "")
    policy = {part.split()[0]: part.strip() for part in csp.split(";") if part.strip()}
    for directive in REQUIRED_CSP:
        assert policy.get(directive.split()[0]) == directive, f"{what}: {csp!r}"
    for directive in ("script-src", "style-src"):
        assert re.fullmatch(rf"{directive} 'self'( 'nonce-[^']+')?", policy[directive]), what
    assert "unsafe" not in csp, f"{what}: {csp!r}"
    expected = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    for header, value in expected.items():
        assert response.get(header) == value, f"{what}: {header} is {response.get(header)!r}"
    assert "camera=()" in response.get("Permissions-Policy", ""), what


def test_headers_on_every_kind_of_response(
    db: None, settings: Settings, staff_client: Client
) -> None:
    """Public page, redirect, 404, 500 with DEBUG off, CSRF failure, login pages, admin pages
    and a static file all carry the same headers."""
    settings.ROOT_URLCONF = _Urls
    settings.DEBUG = False
    section = Section.objects.create(slug="home", name_en="Home", kind="home")
    anonymous = Client(raise_request_exception=False)
    csrf_checked = Client(enforce_csrf_checks=True)
    responses = {
        "public page": anonymous.get("/", follow=True),
        "redirect": anonymous.get("/"),
        "404": anonymous.get("/en/people/nobody-at-all/"),
        "404 outside any app": anonymous.get("/no/such/page/"),
        "500": anonymous.get("/boom/"),
        "CSRF failure": csrf_checked.post("/accounts/login/", {"username": "x"}),
        "admin login redirect": anonymous.get("/admin/login/"),
        "login page": anonymous.get("/accounts/login/"),
        "static file": anonymous.get("/static/admin/css/base.css"),
        "admin index": staff_client.get("/admin/"),
        "admin change page": staff_client.get(f"/admin/core/section/{section.pk}/change/"),
        "admin 404": staff_client.get("/admin/core/section/999999/change/", follow=True),
    }
    assert responses["404"].status_code == 404
    assert responses["500"].status_code == 500
    assert responses["CSRF failure"].status_code == 403
    assert responses["static file"].status_code == 200
    assert responses["admin index"].status_code == 200
    for what, response in responses.items():
        assert_safe_headers(response, what)


def test_a_nonce_is_fresh_per_response_and_named_in_the_policy(
    db: None, settings: Settings
) -> None:
    """A page that uses the nonce gets it in its policy; the next response gets another."""
    settings.ROOT_URLCONF = _Urls
    first, second = Client().get("/nonce/"), Client().get("/nonce/")
    nonces = []
    for response in (first, second):
        nonce = re.search(rb'nonce="([^"]+)"', response.content)
        assert nonce
        nonces.append(nonce.group(1).decode())
        policy = response["Content-Security-Policy"]
        assert f"script-src 'self' 'nonce-{nonces[-1]}'" in policy
    assert nonces[0] != nonces[1]


def test_back_office_pages_are_not_cached(db: None, staff_client: Client) -> None:
    """Authenticated pages and the login pages say no-store; public pages may be cached."""
    assert "no-store" in staff_client.get("/admin/")["Cache-Control"]
    assert "no-store" in Client().get("/accounts/login/")["Cache-Control"]
    public = Client().get("/", follow=True)
    assert "no-store" not in public.get("Cache-Control", "")


def test_hsts_and_secure_cookies_under_https(tmp_path: Path) -> None:
    """With SOLIDARITY_HTTPS the production settings send HSTS for a year with subdomains and
    preload, and redirect plain HTTP to HTTPS."""
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "c = Client(HTTP_HOST='solidarity.example.org')\n"
        "print(c.get('/accounts/login/', secure=True)['Strict-Transport-Security'])\n"
        "print(c.get('/accounts/login/')['Location'])\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "solidarity.settings",
        "SOLIDARITY_HTTPS": "true",
        "SOLIDARITY_DATA_DIR": str(tmp_path),
        "SOLIDARITY_SECRET_KEY": "x" * 60,
        "SOLIDARITY_ALLOWED_HOSTS": "solidarity.example.org",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    hsts, redirect = result.stdout.splitlines()
    assert hsts == "max-age=31536000; includeSubDomains; preload"
    assert redirect == "https://solidarity.example.org/accounts/login/"


# -- No third-party origin ---------------------------------------------------------------------


class _Resources(HTMLParser):
    """Every address a browser would fetch or submit to from a page, and its links."""

    FETCHED = {"src", "srcset", "poster", "data", "formaction", "background"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fetched: list[str] = []
        self.links: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        for name in self.FETCHED & attr.keys():
            self.fetched += [part.strip().split(" ")[0] for part in attr[name].split(",")]
        if tag == "link" and "href" in attr:
            self.fetched.append(attr["href"])
        if tag == "form":
            self.fetched.append(attr.get("action", ""))
        if tag == "a" and "href" in attr:
            self.links.append(attr["href"])
        if tag == "meta" and attr.get("http-equiv", "").lower() == "refresh":
            self.fetched.append(attr.get("content", "").partition("url=")[2])
        self.fetched += _css_urls(attr.get("style", ""))
        self._in_style = tag == "style"

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.fetched += _css_urls(data)

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False


def _css_urls(css: str) -> list[str]:
    found = re.findall(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)", css)
    found += re.findall(r"@import\s+['\"]([^'\"]+)['\"]", css)
    return [url for url in found if not url.startswith("data:")]


def _foreign(url: str, page: str) -> bool:
    target = urlsplit(urljoin(page, url))
    return target.scheme not in {"http", "https", ""} or target.netloc not in {"", "testserver"}


def test_no_page_makes_a_request_to_another_origin(db: None, staff_client: Client) -> None:
    """Crawling the public site (with the seed case), the login pages and the back office:
    every script, style sheet, image, font, form target and CSS url() is on our own origin.
    Plain links to cited sources are allowed: following one is the reader's choice."""
    load_case(SEED_CASE)
    anonymous = Client()
    start = anonymous.get("/", follow=True).redirect_chain[-1][0]
    queue = [start, "/accounts/login/", "/en/events/", "/en/people/", "/en/sources/"]
    seen: set[str] = set()
    stylesheets: set[str] = set()
    problems: list[str] = []
    while queue and len(seen) < 60:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = anonymous.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        parser = _Resources()
        parser.feed(response.content.decode())
        problems += [f"{url}: {u}" for u in parser.fetched if u and _foreign(u, url)]
        stylesheets |= {urljoin(url, u) for u in parser.fetched if u.endswith(".css")}
        for link in parser.links:
            target = urlsplit(urljoin(url, link))
            if target.netloc in {"", "testserver"} and target.path.startswith("/en/"):
                queue.append(target.path)
    for url in ["/admin/", "/admin/core/section/add/", "/admin/auth/user/"]:
        response = staff_client.get(url)
        parser = _Resources()
        parser.feed(response.content.decode())
        problems += [f"{url}: {u}" for u in parser.fetched if u and _foreign(u, url)]
        stylesheets |= {urljoin(url, u) for u in parser.fetched if u.endswith(".css")}
    for sheet in stylesheets:
        css = b"".join(anonymous.get(sheet).streaming_content).decode()  # type: ignore[attr-defined]
        problems += [f"{sheet}: {u}" for u in _css_urls(css) if _foreign(u, sheet)]

    assert len(seen) > 10, "the crawl found too few pages to mean anything"
    assert stylesheets
    assert problems == []


# -- The admin under the policy, in a real browser ----------------------------------------------

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]


@pytest.mark.browser
def test_the_admin_works_in_chromium_under_the_policy(
    live_server: LiveServer,
    transactional_db: None,
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
) -> None:
    """Log in through both steps in Chromium, then open the admin index, lists and change
    pages: the browser reports no Content-Security-Policy violation and no request elsewhere.
    A page with an inline style is loaded first, to prove that violations are seen."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.ROOT_URLCONF = _Urls
    user = make_staff()
    device = add_authenticator(user)
    section = Section.objects.create(slug="home", name_en="Home", kind="home")
    pages = [
        "/admin/",
        "/admin/auth/user/",
        f"/admin/auth/user/{user.pk}/change/",
        "/admin/core/section/",
        f"/admin/core/section/{section.pk}/change/",
        "/admin/auth/group/add/",
    ]
    origin = urlsplit(live_server.url).netloc
    violations: list[str] = []
    requested: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page()

            def on_console(message: ConsoleMessage) -> None:
                if "Content Security Policy" in message.text:
                    violations.append(f"{page.url}: {message.text}")

            page.on("console", on_console)
            page.on("request", lambda request: requested.append(request.url))
            page.goto(f"{live_server.url}/inline-style/")
            page.wait_for_load_state("load")
            canary, violations[:] = list(violations), []
            page.goto(f"{live_server.url}/admin/")
            assert "/accounts/login/" in page.url
            page.fill("input[name=username]", "anna")
            page.fill("input[name=password]", "correct horse battery staple")
            with page.expect_navigation():
                page.click("input[type=submit]")
            # Made now, not before Chromium starts: a code is good in its own 30 s only.
            page.fill("input[name=code]", code_for(device))
            with page.expect_navigation():
                page.click("input[type=submit]")
            assert page.url.endswith("/admin/")
            for url in pages:
                response = page.goto(f"{live_server.url}{url}")
                assert response is not None and response.status == 200, url
                page.wait_for_load_state("load")
        finally:
            browser.close()

    assert len(canary) == 1 and "style-src" in canary[0], canary
    assert violations == []
    assert [url for url in requested if urlsplit(url).netloc != origin] == []
