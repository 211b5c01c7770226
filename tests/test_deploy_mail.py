"""`check --deploy` refuses mail that is not sent but kept (accounts.E020): the demo's files in
the data directory, the console, memory. They hold supporters' addresses, names and links in
plaintext, outside the encrypted database; SOLIDARITY_EMAIL_HOST is the way out. Mail dropped
by the dummy backend, which reports it as sent, is refused too."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.checks import Tags
from django.core.checks.registry import registry
from pytest_django import Settings

from solidarity.accounts.checks import check_mail_delivered
from tests.test_deploy_checks import check, production_env


def ours() -> set[str]:
    return {str(m.id) for m in check_mail_delivered()}


def test_the_check_runs_with_deploy_only() -> None:
    """The demo and a developer's laptop write mail to files; production may not."""
    assert check_mail_delivered in registry.get_checks(include_deployment_checks=True)
    assert check_mail_delivered not in registry.get_checks(include_deployment_checks=False)
    assert Tags.security in check_mail_delivered.tags


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.mail.backends.filebased.EmailBackend",
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.locmem.EmailBackend",
    ],
)
def test_mail_kept_instead_of_sent_is_refused(settings: Settings, backend: str) -> None:
    settings.EMAIL_BACKEND = backend
    [message] = check_mail_delivered()
    assert message.id == "accounts.E020" and message.is_serious()
    assert message.hint is not None and "SOLIDARITY_EMAIL_HOST" in message.hint


def test_mail_dropped_by_the_dummy_backend_is_refused(settings: Settings) -> None:
    """Django's dummy backend keeps nothing but sends nothing, and tells the caller every mail
    went: confirmation links and urgent-action updates would vanish while the tasks report
    success."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    [message] = check_mail_delivered()
    assert message.id == "accounts.E020" and message.is_serious()
    assert "dropped" in message.msg and "never arrive" in message.msg
    assert message.hint is not None and "SOLIDARITY_EMAIL_HOST" in message.hint


@pytest.mark.parametrize(
    "backend",
    ["solidarity.safety.mail.EmailBackend", "django.core.mail.backends.smtp.EmailBackend"],
)
def test_mail_sent_by_smtp_is_accepted(settings: Settings, backend: str) -> None:
    settings.EMAIL_BACKEND = backend
    assert ours() == set()


def test_without_a_mail_host_the_deploy_check_fails(tmp_path: Path) -> None:
    """From the environment, as in production: no SOLIDARITY_EMAIL_HOST means mail files in the
    data directory, and `check --deploy` refuses, naming the file path and the setting."""
    env = production_env(tmp_path)
    del env["SOLIDARITY_EMAIL_HOST"]
    result = check(env)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "accounts.E020" in output
    assert str(tmp_path / "mail") in output and "SOLIDARITY_EMAIL_HOST" in output

    passed = check(production_env(tmp_path, SOLIDARITY_EMAIL_HOST="localhost"))
    assert passed.returncode == 0, passed.stdout + passed.stderr
