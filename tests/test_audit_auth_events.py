"""Logins, failures per step, throttling, logouts and re-authentications are in the audit chain
(ASVS 16.3.1, 16.3.3): with the factor used, without a password, code, address or the text of
an unknown username. Driven through the real login pages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from solidarity.accounts.auth_audit import username_hash
from solidarity.accounts.throttle import USERNAME_LIMIT
from solidarity.audit.models import AuditEntry
from solidarity.audit.services import verify_chain
from tests.test_accounts_login import (
    PASSWORD,
    add_authenticator,
    code_for,
    log_in,
    make_staff,
    password_step,
)
from tests.test_accounts_webauthn import (
    SoftKey,
    backup_code,
    post_assertion,
    verify_page,
    with_key,
)

AUTH_ACTIONS = (
    "login",
    "login_failed",
    "login_throttled",
    "logout",
    "reauth",
    "reauth_failed",
    "reauth_throttled",
)
ADDRESS = "198.51.100.23"


@pytest.fixture(autouse=True)
def _no_throttle_episode_left_over(db: None) -> Iterator[None]:
    """Which throttle episodes were logged is kept in the cache, which outlives a test (with
    PostgreSQL a table of the database: hence `db`, set up before and torn down after this)."""
    cache.clear()
    yield
    cache.clear()


def auth_entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action__in=AUTH_ACTIONS).order_by("seq"))


def summary(entry: AuditEntry) -> tuple[str, str, str, dict[str, Any]]:
    return (entry.action, entry.actor, entry.object_pk, entry.values)


def actor(user: User) -> str:
    return f"user:{user.pk}:{user.username}"


def assert_nothing_secret(*secrets: str) -> None:
    """No entry of the whole chain carries any of `secrets` (or the client's address)."""
    dump = json.dumps(
        [
            [e.actor, e.action, e.model, e.object_pk, e.fields, e.values]
            for e in AuditEntry.objects.all()
        ],
        ensure_ascii=False,
    )
    for secret in (*secrets, ADDRESS):
        assert secret not in dump


# -- Successful logins, by factor -------------------------------------------------------------


def test_a_login_with_an_authenticator_code_names_the_factor(db: None) -> None:
    anna = make_staff("anna")
    device = add_authenticator(anna)
    client = Client(REMOTE_ADDR=ADDRESS)
    assert password_step(client, "anna").status_code == 302
    # Made just before the request that carries it, so that it is the code checked below.
    code = code_for(device)
    assert client.post("/accounts/verify/", {"code": code, "next": "/admin/"}).status_code == 302

    [entry] = auth_entries()
    assert summary(entry) == (
        "login",
        actor(anna),
        str(anna.pk),
        {"factor": "totp", "step": "second_factor"},
    )
    assert entry.model == "auth.User"
    assert_nothing_secret(PASSWORD, code)


def test_a_login_with_a_backup_code_names_the_factor(db: None) -> None:
    anna = make_staff("anna")
    add_authenticator(anna)
    code = backup_code(anna)
    client = Client()
    password_step(client, "anna")

    response = client.post("/accounts/verify/", {"code": code, "next": "/admin/"})

    assert response.status_code == 302
    assert [summary(e) for e in auth_entries()] == [
        ("login", actor(anna), str(anna.pk), {"factor": "backup_code", "step": "second_factor"})
    ]
    assert_nothing_secret(PASSWORD, code)


def test_a_login_with_a_security_key_names_the_factor(db: None) -> None:
    anna = make_staff("anna")
    key = with_key(anna)
    client = Client()

    assert post_assertion(client, key.get(verify_page(client, "anna"))).status_code == 302

    assert [summary(e) for e in auth_entries()] == [
        ("login", actor(anna), str(anna.pk), {"factor": "security_key", "step": "second_factor"})
    ]


def test_a_first_login_that_sets_up_the_app_says_so(db: None) -> None:
    anna = make_staff("anna")
    client = Client()
    assert password_step(client, "anna")["Location"].startswith("/accounts/enrol/")
    page = client.get("/accounts/enrol/")
    device = page.context["device"]

    response = client.post("/accounts/enrol/", {"code": code_for(device), "next": "/admin/"})

    assert response.status_code == 200  # the page with the backup codes
    assert [summary(e) for e in auth_entries()] == [
        ("login", actor(anna), str(anna.pk), {"factor": "totp", "step": "enrol"})
    ]


# -- Failures, step by step -------------------------------------------------------------------


def test_a_wrong_password_names_the_account_but_not_the_password(db: None) -> None:
    anna = make_staff("anna")

    password_step(Client(REMOTE_ADDR=ADDRESS), "anna", "my secret guess")

    assert [summary(e) for e in auth_entries()] == [
        ("login_failed", "anonymous", str(anna.pk), {"step": "password"})
    ]
    assert_nothing_secret("my secret guess")


def test_an_unknown_username_is_kept_only_as_a_keyed_hash(db: None) -> None:
    """A mistyped name may be a password typed in the wrong field: its text never enters the
    log, but repeated guesses of one name share one hash (and differ from another name's)."""
    make_staff("anna")
    for typed in ("Hunter2-Password", " hunter2-password ", "somebody-else"):
        password_step(Client(), typed, "a wrong password")

    entries = auth_entries()
    assert [(e.action, e.actor, e.object_pk) for e in entries] == [
        ("login_failed", "anonymous", "")
    ] * 3
    hashes = [e.values["username_hash"] for e in entries]
    assert hashes[0] == hashes[1] == username_hash("hunter2-password") != hashes[2]
    assert all(e.values["step"] == "password" for e in entries)
    assert_nothing_secret("Hunter2", "hunter2", "somebody-else", "a wrong password")


def test_a_wrong_second_factor_says_which_kind_was_tried(db: None) -> None:
    anna = make_staff("anna")
    add_authenticator(anna)
    backup_code(anna)
    client = Client()
    password_step(client, "anna")

    client.post("/accounts/verify/", {"code": "000000", "next": "/admin/"})
    client.post("/accounts/verify/", {"code": "zzzz9999", "next": "/admin/"})

    assert [summary(e) for e in auth_entries()] == [
        ("login_failed", "anonymous", str(anna.pk), {"step": "second_factor", "factor": f})
        for f in ("totp", "backup_code")
    ]
    assert_nothing_secret("000000", "zzzz9999", PASSWORD)


def test_a_refused_security_key_is_logged(db: None) -> None:
    anna = make_staff("anna")
    key = with_key(anna)
    client = Client()
    options = verify_page(client, "anna")

    refused = post_assertion(client, key.get(options, origin="https://testserver.example"))

    assert refused.status_code == 200
    assert [summary(e) for e in auth_entries()] == [
        (
            "login_failed",
            "anonymous",
            str(anna.pk),
            {"step": "second_factor", "factor": "security_key"},
        )
    ]


def test_throttled_attempts_are_logged_and_the_throttle_still_holds(db: None) -> None:
    anna = make_staff("anna")
    add_authenticator(anna)
    for _ in range(USERNAME_LIMIT):
        assert password_step(Client(), "anna", "wrong").status_code == 200

    refused = password_step(Client(), "anna")  # the right password, but too late
    also_unknown = [password_step(Client(), "nobody", "wrong") for _ in range(USERNAME_LIMIT + 3)]

    assert refused.status_code == 429
    assert also_unknown[-1].status_code == 429
    actions = [summary(e) for e in auth_entries()]
    assert actions[: USERNAME_LIMIT + 1] == [
        ("login_failed", "anonymous", str(anna.pk), {"step": "password"})
    ] * USERNAME_LIMIT + [
        ("login_throttled", "anonymous", str(anna.pk), {"step": "password", "scope": "username"})
    ]
    assert actions[-1] == (
        "login_throttled",
        "anonymous",
        "",
        {"step": "password", "scope": "username", "username_hash": username_hash("nobody")},
    )
    # Hammering while throttled adds nothing after the first refusal of each username.
    assert [e.action for e in auth_entries()].count("login_throttled") == 2
    # The throttled attempt with the right password never reached the second step.
    assert not any(e.action == "login" for e in auth_entries())


def test_a_failed_attempt_costs_one_audit_insert(db: None) -> None:
    """Logging adds one row per attempt (and the chain's head read), nothing more."""
    make_staff("anna")
    with CaptureQueriesContext(connection) as queries:
        password_step(Client(), "anna", "wrong")
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    audit_inserts = [sql for sql in inserts if "audit_auditentry" in sql]
    assert len(audit_inserts) == 1
    assert len(inserts) == 2  # the throttle's counters (one statement) and the audit entry


@pytest.mark.django_db
def test_a_failed_login_keeps_its_entry() -> None:
    """A failed login is an answer, not an exception: its entry stays (no view transaction
    rolls it back: ATOMIC_REQUESTS is off), and the chain still verifies. (Not a transactional
    test: flushing the database, it took the data migrations' rows from tests run after it.)"""
    assert not any(db.get("ATOMIC_REQUESTS") for db in settings.DATABASES.values())
    anna = make_staff("anna")
    password_step(Client(), "anna", "wrong")
    assert [e.action for e in auth_entries()] == ["login_failed"]
    assert AuditEntry.objects.filter(object_pk=str(anna.pk), action="login_failed").exists()
    assert verify_chain().ok


# -- Logout and re-authentication --------------------------------------------------------------


def test_logout_is_logged(db: None) -> None:
    anna = make_staff("anna")
    device = add_authenticator(anna)
    client = Client()
    log_in(client, anna, device)

    client.post("/accounts/logout/")

    assert [e.action for e in auth_entries()] == ["login", "logout"]
    assert summary(auth_entries()[-1]) == ("logout", actor(anna), str(anna.pk), {})


def test_reauthentication_failures_and_success_are_logged(db: None) -> None:
    anna = make_staff("anna")
    device = add_authenticator(anna)
    client = Client()
    log_in(client, anna, device)

    client.post("/accounts/reauth/", {"password": "wrong", "code": code_for(device, 1)})
    client.post("/accounts/reauth/", {"password": PASSWORD, "code": "123456x"})
    done = client.post("/accounts/reauth/", {"password": PASSWORD, "code": code_for(device, 1)})

    assert done.status_code == 302
    assert [summary(e) for e in auth_entries()[1:]] == [
        (
            "reauth_failed",
            actor(anna),
            str(anna.pk),
            {"factor": "totp", "failed": ["password"]},
        ),
        (
            "reauth_failed",
            actor(anna),
            str(anna.pk),
            {"factor": "backup_code", "failed": ["second_factor"]},
        ),
        ("reauth", actor(anna), str(anna.pk), {"factor": "totp"}),
    ]
    assert_nothing_secret(PASSWORD, "123456x")


def test_a_throttled_reauthentication_is_logged(db: None) -> None:
    anna = make_staff("anna")
    device = add_authenticator(anna)
    client = Client()
    log_in(client, anna, device)
    for _ in range(USERNAME_LIMIT):
        client.post("/accounts/reauth/", {"password": "wrong", "code": "000000"})

    refused = client.post("/accounts/reauth/", {"password": PASSWORD, "code": code_for(device, 1)})
    again = client.post("/accounts/reauth/", {"password": PASSWORD, "code": code_for(device, 1)})

    assert refused.status_code == again.status_code == 429
    assert [e.action for e in auth_entries()].count("reauth_throttled") == 1
    assert summary(auth_entries()[-1]) == (
        "reauth_throttled",
        actor(anna),
        str(anna.pk),
        {"scope": "username"},
    )


def test_a_security_key_reauthentication_names_the_key(db: None) -> None:
    anna = make_staff("anna")
    key: SoftKey = with_key(anna)
    client = Client()
    post_assertion(client, key.get(verify_page(client, "anna")))
    options = client.get("/accounts/reauth/").context["webauthn_get"]

    done = client.post("/accounts/reauth/", {"password": PASSWORD, "assertion": key.get(options)})

    assert done.status_code == 302
    assert summary(auth_entries()[-1]) == (
        "reauth",
        actor(anna),
        str(anna.pk),
        {"factor": "security_key"},
    )
