"""Backend connections cross the network only encrypted and verified (ASVS 12.3.1): the deploy
checks refuse SMTP without TLS to another host and PostgreSQL to another host without
sslmode=verify-full. And no path answers TRACE, CONNECT or an unknown method (ASVS 13.4.4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.checks import Tags
from django.core.checks.registry import registry
from django.test import Client
from pytest_django import Settings

from solidarity.accounts.checks import check_database_tls, check_smtp_tls
from solidarity.core.models import Section
from solidarity.settings import _databases
from tests.test_deploy_checks import check, production_env

OVERRIDES_DATABASES = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
SMTP = "solidarity.safety.mail.EmailBackend"


def ours() -> set[str]:
    messages = [*check_smtp_tls(), *check_database_tls()]
    return {str(m.id) for m in messages}


def test_both_checks_run_with_deploy_only() -> None:
    """A developer's laptop may mail and query in clear; `check --deploy` may not."""
    deploy = registry.get_checks(include_deployment_checks=True)
    every_time = registry.get_checks(include_deployment_checks=False)
    for function in (check_smtp_tls, check_database_tls):
        assert function in deploy and function not in every_time
        assert Tags.security in function.tags


# -- SMTP ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", [SMTP, "django.core.mail.backends.smtp.EmailBackend"])
def test_smtp_in_clear_to_another_host_is_refused(settings: Settings, backend: str) -> None:
    """Our SMTP backend or Django's, to a mail server elsewhere, without TLS: an error."""
    settings.EMAIL_BACKEND = backend
    settings.EMAIL_HOST = "mail.example.org"
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    assert ours() == {"accounts.E015"}


@pytest.mark.parametrize("setting", ["EMAIL_USE_TLS", "EMAIL_USE_SSL"])
def test_smtp_with_tls_is_accepted(settings: Settings, setting: str) -> None:
    """STARTTLS or TLS from the first byte: either will do."""
    settings.EMAIL_BACKEND = SMTP
    settings.EMAIL_HOST = "mail.example.org"
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    setattr(settings, setting, True)
    assert ours() == set()


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.0.0.2", "::1", "[::1]"])
def test_smtp_to_a_relay_on_this_host_needs_no_tls(settings: Settings, host: str) -> None:
    """Mail handed to a server on the loopback interface never crosses the network."""
    settings.EMAIL_BACKEND = SMTP
    settings.EMAIL_HOST = host
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    assert ours() == set()


@pytest.mark.parametrize("host", ["127.0.0.1.example.org", "10.0.0.5", "localhost.example.org"])
def test_names_that_only_look_local_are_not(settings: Settings, host: str) -> None:
    settings.EMAIL_BACKEND = SMTP
    settings.EMAIL_HOST = host
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    assert ours() == {"accounts.E015"}


def test_mail_written_to_files_is_no_smtp(settings: Settings) -> None:
    """The demo's file backend sends nothing over the network, whatever EMAIL_HOST says."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_HOST = "mail.example.org"
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    assert ours() == set()


def test_the_deploy_check_reads_the_email_environment(tmp_path: Path) -> None:
    """From the environment, as in production: a mail host elsewhere without TLS fails
    `check --deploy`; SOLIDARITY_EMAIL_SSL (or _TLS) makes it pass."""
    clear = check(production_env(tmp_path, SOLIDARITY_EMAIL_HOST="mail.example.org"))
    assert clear.returncode != 0
    assert "accounts.E015" in clear.stdout + clear.stderr
    assert "SOLIDARITY_EMAIL_TLS=true" in clear.stdout + clear.stderr

    env = production_env(
        tmp_path, SOLIDARITY_EMAIL_HOST="mail.example.org", SOLIDARITY_EMAIL_SSL="true"
    )
    encrypted = check(env)
    assert encrypted.returncode == 0, encrypted.stdout + encrypted.stderr


# -- PostgreSQL ---------------------------------------------------------------------------------


def postgres(host: str = "db.example.org", **options: str) -> dict[str, Any]:
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "solidarity",
        "HOST": host,
        "OPTIONS": options,
    }


@pytest.fixture
def no_libpq_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PGHOST", "PGHOSTADDR", "PGSSLMODE"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_libpq_environment")
@pytest.mark.parametrize("mode", [None, "disable", "prefer", "require", "verify-ca"])
@OVERRIDES_DATABASES
def test_postgres_elsewhere_without_verify_full_is_refused(
    settings: Settings, mode: str | None
) -> None:
    """No TLS, TLS without a certificate check, or a check of the authority alone (any
    certificate it signed, for any name, would do): all refused."""
    options = {"sslmode": mode} if mode else {}
    settings.DATABASES = {**settings.DATABASES, "extra": postgres(**options)}
    assert ours() == {"accounts.E016"}


@pytest.mark.usefixtures("no_libpq_environment")
@OVERRIDES_DATABASES
def test_postgres_elsewhere_with_verify_full_is_accepted(settings: Settings) -> None:
    database = postgres(sslmode="verify-full", sslrootcert="/etc/solidarity/db-ca.pem")
    settings.DATABASES = {**settings.DATABASES, "extra": database}
    assert ours() == set()


@pytest.mark.usefixtures("no_libpq_environment")
@pytest.mark.parametrize(
    "host", ["", "/var/run/postgresql", "localhost", "127.0.0.1", "::1", "localhost,127.0.0.1"]
)
@OVERRIDES_DATABASES
def test_postgres_on_this_host_needs_no_tls(settings: Settings, host: str) -> None:
    """A Unix socket (no host, or a directory) or the loopback interface: not the network."""
    settings.DATABASES = {**settings.DATABASES, "extra": postgres(host)}
    assert ours() == set()


@pytest.mark.usefixtures("no_libpq_environment")
@OVERRIDES_DATABASES
def test_one_remote_host_among_several_is_refused(settings: Settings) -> None:
    settings.DATABASES = {**settings.DATABASES, "extra": postgres("127.0.0.1,db.example.org")}
    assert ours() == {"accounts.E016"}


@pytest.mark.usefixtures("no_libpq_environment")
@OVERRIDES_DATABASES
def test_a_tunnel_on_this_host_is_where_libpq_connects(settings: Settings) -> None:
    """With hostaddr, libpq connects there (a tunnel's local end) and uses the name only to
    check the certificate; a hostaddr elsewhere is the network again."""
    settings.DATABASES = {**settings.DATABASES, "extra": postgres(hostaddr="127.0.0.1")}
    assert ours() == set()
    settings.DATABASES = {
        **settings.DATABASES,
        "extra": postgres("localhost", hostaddr="192.0.2.7"),
    }
    assert ours() == {"accounts.E016"}


@pytest.mark.usefixtures("no_libpq_environment")
@OVERRIDES_DATABASES
def test_libpq_environment_is_read_as_libpq_reads_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PGSSLMODE counts when the URL names no sslmode (the URL's wins); PGHOST when it names
    no host."""
    monkeypatch.setenv("PGSSLMODE", "verify-full")
    settings.DATABASES = {**settings.DATABASES, "extra": postgres()}
    assert ours() == set()
    settings.DATABASES = {**settings.DATABASES, "extra": postgres(sslmode="require")}
    assert ours() == {"accounts.E016"}
    monkeypatch.delenv("PGSSLMODE")
    monkeypatch.setenv("PGHOST", "db.example.org")
    settings.DATABASES = {**settings.DATABASES, "extra": postgres("")}
    assert ours() == {"accounts.E016"}


@pytest.mark.usefixtures("no_libpq_environment")
@OVERRIDES_DATABASES
def test_the_check_reads_database_url_as_the_settings_parse_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hint's own DATABASE_URL passes; the same URL without its query does not."""
    base = "postgres://solidarity:secret@db.example.org:5432/solidarity"
    monkeypatch.setenv("DATABASE_URL", base)
    settings.DATABASES = {**settings.DATABASES, "extra": _databases()["default"]}
    assert ours() == {"accounts.E016"}

    monkeypatch.setenv("DATABASE_URL", f"{base}?sslmode=verify-full&sslrootcert=/etc/ca.pem")
    settings.DATABASES = {**settings.DATABASES, "extra": _databases()["default"]}
    assert ours() == set()


# -- HTTP methods -------------------------------------------------------------------------------

REFUSED = ["TRACE", "CONNECT", "TRACK", "PROPFIND", "FOO"]
PATHS = {
    "public page": "/en/",
    "language redirect": "/",
    "language switch (a function view)": "/i18n/setlang/",
    "404 in an app": "/en/people/nobody-at-all/",
    "404 outside any app": "/no/such/page/",
    "login page": "/accounts/login/",
    "admin": "/admin/",
    "admin change page": "/admin/core/section/1/change/",
    "API": "/api/v2/",
    "API schema": "/api/schema/",
    "static file": "/static/admin/css/base.css",
}


@pytest.mark.parametrize("method", REFUSED)
def test_no_path_answers_trace_connect_or_unknown_methods(
    db: None, staff_client: Client, method: str
) -> None:
    """For visitors and staff alike: 405, the methods we do serve in Allow, no body, and the
    usual security headers."""
    Section.objects.create(slug="home", name_en="Home", kind="home")
    for client in (Client(), staff_client):
        for what, path in PATHS.items():
            response = client.generic(method, path)
            assert response.status_code == 405, f"{method} {what}"
            assert response["Allow"] == "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
            assert response.content == b""
            assert response["X-Frame-Options"] == "DENY"
            assert response["X-Content-Type-Options"] == "nosniff"


def test_the_methods_we_serve_still_work(db: None, staff_client: Client) -> None:
    """The refusal is by method alone: pages, static files, the API and forms answer as before."""
    Section.objects.create(slug="home", name_en="Home", kind="home")
    anonymous = Client()
    assert anonymous.get("/en/").status_code == 200
    assert anonymous.head("/static/admin/css/base.css").status_code == 200
    assert anonymous.post("/accounts/login/", {"username": "x", "password": "y"}).status_code == 200
    # OPTIONS passes to the view, which answers with its own methods.
    assert anonymous.options("/accounts/login/")["Allow"] == "GET, POST"
    assert staff_client.get("/admin/").status_code == 200


def test_without_the_middleware_the_admin_answers_trace(
    settings: Settings, staff_client: Client
) -> None:
    """Why the refusal sits in middleware: the admin's views (and the language redirect) serve
    TRACE like GET, and the CSRF check, which counts TRACE as safe, lets it through."""
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "AllowedMethods" not in m]
    staff_client.handler.enforce_csrf_checks = True
    assert staff_client.generic("TRACE", "/admin/").status_code == 200
    assert Client().generic("TRACE", "/").status_code == 302
