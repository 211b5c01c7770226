"""The back office on host names of its own (ASVS 3.5.4, threat model D11;
solidarity/accounts/hosts.py): with SOLIDARITY_BACKOFFICE_HOSTS set, /admin/, /accounts/ and
/api/ answer only there, exactly as a missing page elsewhere, and the public site answers only
on the other hosts; with it empty (the demo), everything answers on every allowed host."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from django.core.checks import Tags, run_checks
from django.test import Client, RequestFactory
from django_tasks_db.models import DBTaskResult
from pytest_django import Settings

from solidarity.accounts.hosts import public_base_url, urlconf_without
from solidarity.core.models import Section
from solidarity.urls import urlpatterns
from tests.test_accounts_login import add_authenticator, log_in, make_staff
from tests.test_api_support import (
    make_campaign_world,
    organiser_token,
    token_for,
    user_with_scopes,
)

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

PUBLIC = "solidarity.example.org"
OFFICE = "office.example.org"
MISSING = "/no-such-page/"
# Each part of the back office, some without their trailing slash (APPEND_SLASH must not
# redirect them either); a POST to the login form is tested on its own below.
BACK_OFFICE = [
    "/admin/",
    "/admin",
    "/admin/login/",
    "/admin/safety/key/",
    "/admin/import/",
    "/admin/find/",
    "/admin/source-files/1/",
    "/accounts/login/",
    "/accounts/login",
    "/accounts/welcome/",
    "/api/v2/",
    "/api/v2/people/",
    "/api/schema/",
]
# The public site, its open exports of public records (no token) among them.
PUBLIC_PAGES = [
    "/",
    "/en/",
    "/en/people/",
    "/people/",
    "/ru/newspaper/",
    "/en/search/?q=x",
    "/api/popolo/all.json",
    "/api/export/people.csv",
]


@pytest.fixture
def split(settings: Settings) -> None:
    settings.ALLOWED_HOSTS = [PUBLIC, OFFICE]
    settings.SOLIDARITY_BACKOFFICE_HOSTS = [OFFICE]


def on(host: str, *, token: str = "", csrf: bool = False) -> Client:
    headers = {"OSDI-API-Token": token} if token else None
    return Client(enforce_csrf_checks=csrf, headers=headers, HTTP_HOST=host)


def headers(response: Response) -> dict[str, str]:
    # The CSP nonce differs per response by design; everything else must match.
    return {k: re.sub(r"'nonce-[^']*'", "'nonce'", v) for k, v in response.headers.items()}


def assert_like_a_missing_page(response: Response, missing: Response) -> None:
    assert response.status_code == missing.status_code == 404
    assert response.content == missing.content
    assert headers(response) == headers(missing)


@pytest.mark.parametrize("path", BACK_OFFICE)
def test_the_back_office_on_the_public_host_is_a_missing_page(
    db: None, split: None, path: str
) -> None:
    """Same status, body and headers as an address that never existed: no redirect to the
    login page or to a slash, no word of another host."""
    client = on(PUBLIC)
    response = client.get(path)
    assert_like_a_missing_page(response, client.get(MISSING))
    assert OFFICE not in response.content.decode()


def test_a_post_to_the_login_form_on_the_public_host_is_a_missing_page(
    db: None, split: None
) -> None:
    make_staff()
    client = on(PUBLIC)
    form = {"username": "anna", "password": "correct horse battery staple"}
    response = client.post("/accounts/login/", form)
    assert_like_a_missing_page(response, client.post(MISSING, form))
    assert "_auth_user_id" not in client.session


def test_an_api_token_gets_nothing_on_the_public_host(db: None, split: None) -> None:
    secret = token_for(user_with_scopes("reader", "people:read"), "people:read")
    public = on(PUBLIC, token=secret)
    assert_like_a_missing_page(public.get("/api/v2/people/"), public.get(MISSING))
    office = on(OFFICE, token=secret)
    response = office.get("/api/v2/people/")
    assert response.status_code == 200
    assert "osdi:people" in response.json()["_embedded"]


def test_staff_log_in_with_a_second_factor_on_the_back_office_host(db: None, split: None) -> None:
    """Both steps of the login, then the back office; and the session cookie is host-only (no
    Domain), so the browser never sends it to the public host — where, sent anyway, it still
    opens nothing."""
    user = make_staff()
    device = add_authenticator(user)
    office = on(OFFICE)
    assert office.get("/admin/", follow=True).redirect_chain[-1][0].startswith("/accounts/login/")
    log_in(office, user, device)
    response = office.get("/admin/")
    assert response.status_code == 200
    assert "Log out" in response.content.decode()
    assert office.cookies["sessionid"]["domain"] == ""
    public = on(PUBLIC)
    public.cookies = office.cookies
    assert_like_a_missing_page(public.get("/admin/"), public.get(MISSING))


def test_the_login_form_passes_csrf_on_the_back_office_host(db: None, split: None) -> None:
    """Django checks the Origin against the request's own host: the back-office host needs
    no CSRF_TRUSTED_ORIGINS entry."""
    add_authenticator(make_staff())
    office = on(OFFICE, csrf=True)
    page = office.get("/accounts/login/")
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert match is not None
    response = office.post(
        "/accounts/login/",
        {"username": "anna", "password": "correct horse battery staple", "next": "/admin/"},
        HTTP_X_CSRFTOKEN=match.group(1),
        HTTP_ORIGIN=f"http://{OFFICE}",
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/verify/")


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_the_public_site_is_not_served_on_the_back_office_host(
    db: None, split: None, section: object, path: str
) -> None:
    """Its pages would carry the back-office host in their absolute links; "/" shows nothing
    that ties the host to the public site."""
    office = on(OFFICE)
    assert_like_a_missing_page(office.get(path), office.get(MISSING))
    assert on(PUBLIC).get(path, follow=True).status_code == 200


def test_links_the_back_office_sends_out_name_the_public_host(
    db: None, split: None, section: Section
) -> None:
    """A signature recorded through the API (on the back-office host) is mailed a confirmation
    link, and the petition's document names its public page: both on the public host, where
    they work, and neither carrying the back-office host out into mailboxes or other sites."""
    world = make_campaign_world(section)
    office = on(OFFICE, token=organiser_token())
    signing = {
        "person": {
            "given_name": "Anna",
            "family_name": "Berg",
            "email_addresses": [{"address": "anna@example.org"}],
            "postal_addresses": [{"country": "Germany"}],
        },
        "solidarity:consent": {"processing": True},
    }
    response = office.post(
        f"/api/v2/petitions/{world.petition.pk}/signatures/",
        signing,
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    (task,) = DBTaskResult.objects.all()
    assert task.args_kwargs["args"][1] == f"http://{PUBLIC}"
    document = office.get(f"/api/v2/petitions/{world.petition.pk}/").json()
    assert document["browser_url"] == f"http://{PUBLIC}/en/petitions/{world.petition.slug}/"
    assert on(PUBLIC).get(document["browser_url"]).status_code == 200


def test_the_public_address_is_https_in_production(settings: Settings) -> None:
    """An .onion back office may be plain http; the public site's links are https."""
    settings.ALLOWED_HOSTS = [f".{PUBLIC}", OFFICE]
    settings.SOLIDARITY_BACKOFFICE_HOSTS = [OFFICE]
    settings.HTTPS = True
    assert public_base_url(RequestFactory().get("/", HTTP_HOST=OFFICE)) == f"https://{PUBLIC}"
    own = RequestFactory().get("/", HTTP_HOST=f"www.{PUBLIC}")
    assert public_base_url(own) == f"http://www.{PUBLIC}"
    settings.SOLIDARITY_BACKOFFICE_HOSTS = []
    assert public_base_url(RequestFactory().get("/", HTTP_HOST=OFFICE)) == f"http://{OFFICE}"


def test_the_language_switch_works_on_both_hosts(db: None, split: None) -> None:
    for host in (PUBLIC, OFFICE):
        response = on(host).post(
            "/i18n/setlang/", {"language": "ru", "next": "/"}, HTTP_ORIGIN=f"http://{host}"
        )
        assert response.status_code == 302, host
        assert response.cookies["django_language"].value == "ru"


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_without_the_setting_everything_answers_on_every_host(
    db: None, section: object, settings: Settings, host: str
) -> None:
    """The demo: no back-office host, public site and back office side by side."""
    assert settings.SOLIDARITY_BACKOFFICE_HOSTS == []
    client = on(host)
    assert client.get("/en/").status_code == 200
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/api/v2/people/").status_code == 401
    assert client.get("/admin/")["Location"] == "/admin/login/?next=/admin/"
    secret = token_for(user_with_scopes("reader", "people:read"), "people:read")
    assert on(host, token=secret).get("/api/v2/people/").status_code == 200


def _ours() -> set[str]:
    messages = run_checks(tags=[Tags.security], include_deployment_checks=True)
    ours = {"accounts.W004", "accounts.W005", "accounts.E018", "accounts.E019"}
    return {m.id for m in messages if m.id in ours}


def test_the_deploy_checks(db: None, settings: Settings) -> None:
    """Under HTTPS, no back-office host: a warning; the demo (no HTTPS): silent. A back-office
    host that ALLOWED_HOSTS would refuse, or no host left for the public site: an error."""
    settings.HTTPS = True
    settings.SOLIDARITY_BACKOFFICE_HOSTS = []
    assert _ours() == {"accounts.W004"}
    settings.HTTPS = False
    assert _ours() == set()
    settings.ALLOWED_HOSTS = [PUBLIC, OFFICE]
    settings.SOLIDARITY_BACKOFFICE_HOSTS = [OFFICE]
    settings.HTTPS = True
    assert _ours() == set()
    settings.SOLIDARITY_BACKOFFICE_HOSTS = [OFFICE, "abcdefghijklmnop.onion"]
    assert _ours() == {"accounts.E018"}
    settings.ALLOWED_HOSTS = [PUBLIC, OFFICE, ".onion"]
    assert _ours() == set()
    settings.ALLOWED_HOSTS = [OFFICE, PUBLIC, ".onion"]
    assert _ours() == {"accounts.W005"}  # the mirror is built for the first host
    settings.ALLOWED_HOSTS = [OFFICE, "abcdefghijklmnop.onion"]
    assert _ours() == {"accounts.E019"}  # no host left for the public site


def test_each_side_is_built_once_without_the_other() -> None:
    """One URLconf per hidden side, reused: Django keeps a resolver for each URLconf."""
    public_only = urlconf_without("back office", "solidarity.urls")
    assert urlconf_without("back office", "solidarity.urls") is public_only
    routes = [str(p.pattern) for p in public_only.urlpatterns]
    assert "i18n/setlang/" in routes
    assert not [r for r in routes if r.startswith(("admin/", "accounts/"))]
    (api,) = [p for p in public_only.urlpatterns if str(p.pattern) == "api/"]
    assert {str(p.pattern).split("/")[0] for p in api.url_patterns} == {"popolo", "export"}
    office_only = urlconf_without("public", "solidarity.urls")
    # The language switch on both sides, and /api/ split between them.
    assert len(office_only.urlpatterns) + len(public_only.urlpatterns) == len(urlpatterns) + 2
