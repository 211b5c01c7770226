"""Passwords known from data breaches are refused (ASVS 6.2.12; accounts/password_validation.py
`BreachedPasswordValidator`), looked up in Have I Been Pwned's file ordered by hash on this host,
never online. The files here are made like it: `HASH:COUNT` (or a bare hash) a line, sorted by
hash, LF or CRLF. A file that is set but unusable refuses every password (fail closed), and
`check --deploy` warns without the file (accounts.W006) and refuses an unusable one (E021)."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.checks import Tags
from django.core.checks.registry import registry
from django.core.exceptions import ValidationError
from django.test import Client
from pytest_django import Settings

from solidarity.accounts.checks import check_breached_passwords
from solidarity.accounts.password_validation import SAMPLE_BYTES, BreachedPasswordValidator
from tests.conftest import verified_login
from tests.test_accounts_invitations import add_member, choose
from tests.test_accounts_login import PASSWORD, make_staff, text
from tests.test_accounts_password_policy import change, changing, refusal_codes, still_has
from tests.test_deploy_checks import check, production_env

pytestmark = pytest.mark.django_db

VALIDATOR = "solidarity.accounts.password_validation.BreachedPasswordValidator"
# Long enough, not common, none of our names: only the breach list can refuse them.
BREACHED = "plum ravine harbour lantern"
SEEN_THREE_TIMES = "amber meadow copper violin"
BARE = "walnut glacier pepper signal"
UNLISTED = "quiet orchard behind the old mill"

Counts = dict[str, int | None]
LISTED: Counts = {BREACHED: 52, SEEN_THREE_TIMES: 3, BARE: None}


def sha1_hex(password: str) -> str:
    return hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()


def write_list(
    path: Path,
    counts: Counts,
    *,
    filler: int = 600,
    newline: str = "\n",
    final_newline: bool = True,
) -> list[str]:
    """The file at `path`, sorted by hash, with `filler` other passwords around `counts`; the
    passwords in the order of its lines."""
    entries: dict[str, tuple[str, int | None]] = {sha1_hex(p): (p, c) for p, c in counts.items()}
    for number in range(filler):
        password = f"filler password {number}"
        entries.setdefault(sha1_hex(password), (password, number % 40 + 1))
    order = sorted(entries)
    lines = [d if entries[d][1] is None else f"{d}:{entries[d][1]}" for d in order]
    path.write_bytes((newline.join(lines) + (newline if final_newline else "")).encode())
    return [entries[digest][0] for digest in order]


@pytest.fixture
def use_list(settings: Settings) -> Callable[..., None]:
    """Points the setting at a file and registers the validator, as settings.py does when
    SOLIDARITY_BREACHED_PASSWORDS is in the environment."""
    base = list(settings.AUTH_PASSWORD_VALIDATORS)

    def use(path: Path | str, **options: Any) -> None:
        settings.SOLIDARITY_BREACHED_PASSWORDS = str(path)
        settings.AUTH_PASSWORD_VALIDATORS = [*base, {"NAME": VALIDATOR, "OPTIONS": options}]

    return use


def refused(password: str, user: User | None = None) -> set[str]:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return {e.code or "" for e in error.error_list}
    return set()


# -- Through the forms members use -------------------------------------------------------------


def test_a_breached_password_is_refused_by_the_password_change(
    tmp_path: Path, use_list: Callable[..., None]
) -> None:
    """The back office's password change (2FA and a fresh re-authentication): a listed password
    is refused with the breach message and nothing changes; an unlisted one is set."""
    write_list(tmp_path / "pwned.txt", LISTED)
    use_list(tmp_path / "pwned.txt")
    user = User.objects.create_user("anna", "anna@example.org", PASSWORD, is_staff=True)
    client = changing(user)

    form_page = client.get("/admin/password_change/")
    assert "cannot be one that appears in known data breaches" in text(form_page)
    response = change(client, BREACHED)
    assert refusal_codes(response) == {"password_breached"}
    assert "This password appears in known data breaches" in text(response)
    assert BREACHED not in text(response) and sha1_hex(BREACHED) not in text(response)
    assert still_has(user, PASSWORD)

    assert change(client, UNLISTED).status_code == 302
    assert still_has(user, UNLISTED)


def test_a_new_member_cannot_choose_a_breached_password(
    tmp_path: Path, use_list: Callable[..., None]
) -> None:
    """The invitation link's page, where a new member sets their own first password."""
    write_list(tmp_path / "pwned.txt", LISTED)
    use_list(tmp_path / "pwned.txt")
    member, link, _ = add_member(verified_login(Client(), make_staff("boss")))

    response = choose(link, BARE)
    assert response.status_code == 200
    assert "This password appears in known data breaches" in text(response)
    member.refresh_from_db()
    assert not member.has_usable_password()

    assert choose(link, UNLISTED).status_code == 302
    member.refresh_from_db()
    assert member.check_password(UNLISTED)


def test_a_missing_file_fails_closed_in_the_form(
    tmp_path: Path, use_list: Callable[..., None], caplog: pytest.LogCaptureFixture
) -> None:
    """The setting names a file that is not there: even an unlisted password is refused, with a
    message that says the check could not be done, and a warning without the password."""
    use_list(tmp_path / "not-there.txt")
    user = User.objects.create_user("anna", "anna@example.org", PASSWORD, is_staff=True)

    with caplog.at_level(logging.WARNING, logger="solidarity.accounts.password_validation"):
        response = change(changing(user), UNLISTED)

    assert refusal_codes(response) == {"password_breach_check_failed"}
    assert "could not be checked against the passwords known from data breaches" in text(response)
    assert still_has(user, PASSWORD)
    assert "not-there.txt" in caplog.text
    assert UNLISTED not in caplog.text and sha1_hex(UNLISTED) not in caplog.text
    assert sha1_hex(UNLISTED).lower() not in caplog.text


# -- The search --------------------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
@pytest.mark.parametrize("final_newline", [True, False], ids=["ended", "unended"])
def test_every_line_is_found_first_and_last_included(
    tmp_path: Path, use_list: Callable[..., None], newline: str, final_newline: bool
) -> None:
    """Each of several hundred lines, the first and the last among them, is found, whatever the
    line ends and whether the last line has one; passwords not in the file are not."""
    path = tmp_path / "pwned.txt"
    order = write_list(path, LISTED, newline=newline, final_newline=final_newline)
    use_list(path)
    assert len(order) == 603

    assert refused(order[0]) == {"password_breached"}
    assert refused(order[-1]) == {"password_breached"}
    validator = BreachedPasswordValidator()
    for password in order:
        with pytest.raises(ValidationError):
            validator.validate(password)
    for password in (UNLISTED, "filler password 600", "another long unlisted passphrase"):
        assert refused(password) == set()


def test_a_file_of_one_line(tmp_path: Path, use_list: Callable[..., None]) -> None:
    path = tmp_path / "pwned.txt"
    write_list(path, {BREACHED: 1}, filler=0)
    use_list(path)
    assert refused(BREACHED) == {"password_breached"}
    assert refused(UNLISTED) == set()


def test_min_count_is_respected_and_a_bare_hash_always_counts(
    tmp_path: Path, use_list: Callable[..., None]
) -> None:
    """A password seen 3 times passes a threshold of 4 and not one of 3; a bare hash (a subset
    made without counts) is refused whatever the threshold."""
    path = tmp_path / "pwned.txt"
    write_list(path, LISTED)

    use_list(path, min_count=3)
    assert refused(SEEN_THREE_TIMES) == {"password_breached"}
    use_list(path, min_count=4)
    assert refused(SEEN_THREE_TIMES) == set()
    assert refused(BREACHED) == {"password_breached"}  # 52 times
    use_list(path, min_count=1000)
    assert refused(BREACHED) == set()
    assert refused(BARE) == {"password_breached"}


def test_a_line_with_a_count_of_zero_is_not_a_breach(
    tmp_path: Path, use_list: Callable[..., None]
) -> None:
    """Padding lines of the range API carry a count of 0: nobody used that password."""
    path = tmp_path / "pwned.txt"
    write_list(path, {BREACHED: 0})
    use_list(path)
    assert refused(BREACHED) == set()


def test_without_the_setting_nothing_is_checked(tmp_path: Path, settings: Settings) -> None:
    """Unset, the validator does nothing (and settings.py does not register it)."""
    settings.SOLIDARITY_BREACHED_PASSWORDS = None
    validator = BreachedPasswordValidator()
    validator.validate(BREACHED)
    assert validator.get_help_text() == ""
    assert all(v["NAME"] != VALIDATOR for v in settings.AUTH_PASSWORD_VALIDATORS)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"8846F7EAEE8FB117AD06BDD830B7586C:3\n",  # the NTLM file: 32 digits
        b"password123\nletmein\n",
        b"ZZ" * 20 + b":1\n",
        b"A" * 4096,  # no end of line anywhere
    ],
    ids=["empty", "ntlm", "plaintext", "not-hex", "no-lines"],
)
def test_a_file_in_another_format_fails_closed(
    tmp_path: Path,
    use_list: Callable[..., None],
    caplog: pytest.LogCaptureFixture,
    content: bytes,
) -> None:
    path = tmp_path / "pwned.txt"
    path.write_bytes(content)
    use_list(path)
    with caplog.at_level(logging.WARNING, logger="solidarity.accounts.password_validation"):
        assert refused(UNLISTED) == {"password_breach_check_failed"}
    assert "cannot be used" in caplog.text
    assert UNLISTED not in caplog.text and sha1_hex(UNLISTED) not in caplog.text


def test_a_directory_fails_closed(tmp_path: Path, use_list: Callable[..., None]) -> None:
    use_list(tmp_path)
    assert refused(UNLISTED) == {"password_breach_check_failed"}


def test_only_a_few_hundred_bytes_are_read_per_lookup(
    tmp_path: Path, use_list: Callable[..., None]
) -> None:
    """A file of 100,000 lines (4.5 MB) is searched, not read: the kernel's count of bytes this
    process read (/proc/self/io, rchar) grows by a few kilobytes per password."""
    io = Path("/proc/self/io")
    if not os.access(io, os.R_OK):
        pytest.skip("no /proc/self/io on this system")

    def bytes_read() -> int:
        fields = dict(line.split(": ") for line in io.read_text().splitlines())
        return int(fields["rchar"])

    path = tmp_path / "pwned.txt"
    order = write_list(path, LISTED, filler=100_000)
    use_list(path)
    assert path.stat().st_size > 4_000_000
    validator = BreachedPasswordValidator()
    with pytest.raises(ValidationError):  # translations and modules loaded once
        validator.validate(order[1])

    def is_refused(password: str) -> bool:
        try:
            validator.validate(password)
        except ValidationError:
            return True
        return False

    for password, listed in ((UNLISTED, False), (order[50_000], True), (order[-1], True)):
        before = bytes_read()
        assert is_refused(password) == listed
        assert bytes_read() - before < 16 * 1024


def test_settings_register_the_validator_from_the_environment(tmp_path: Path) -> None:
    """SOLIDARITY_BREACHED_PASSWORDS in the environment adds the validator to the list that
    every password form uses; without it the list is as before."""
    path = tmp_path / "pwned.txt"
    write_list(path, LISTED, filler=10)
    code = (
        "from django.contrib.auth.password_validation import get_default_password_validators as v;"
        "print([type(x).__name__ for x in v()])"
    )
    env = production_env(tmp_path / "data", SOLIDARITY_BREACHED_PASSWORDS=str(path))
    command = [sys.executable, "-m", "solidarity", "shell", "-c", code]
    with_list = subprocess.run(command, env=env, capture_output=True, text=True)
    assert "BreachedPasswordValidator" in with_list.stdout, with_list.stderr
    del env["SOLIDARITY_BREACHED_PASSWORDS"]
    without = subprocess.run(command, env=env, capture_output=True, text=True)
    assert "ContextWordsValidator" in without.stdout, without.stderr
    assert "BreachedPasswordValidator" not in without.stdout


# -- The deploy check --------------------------------------------------------------------------


def ours() -> list[tuple[str, bool]]:
    return [(str(m.id), m.is_serious()) for m in check_breached_passwords()]


def test_the_check_runs_with_deploy_only() -> None:
    assert check_breached_passwords in registry.get_checks(include_deployment_checks=True)
    assert check_breached_passwords not in registry.get_checks(include_deployment_checks=False)
    assert Tags.security in check_breached_passwords.tags


def test_without_the_setting_the_deploy_check_warns(settings: Settings) -> None:
    settings.SOLIDARITY_BREACHED_PASSWORDS = None
    [message] = check_breached_passwords()
    assert (message.id, message.is_serious()) == ("accounts.W006", False)
    assert message.hint is not None
    assert "PwnedPasswordsDownloader" in message.hint
    assert "SOLIDARITY_BREACHED_PASSWORDS" in message.hint


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
@pytest.mark.parametrize("filler", [0, 600, 20_000], ids=["one-line", "small", "over-64k"])
def test_a_good_file_passes(tmp_path: Path, settings: Settings, newline: str, filler: int) -> None:
    path = tmp_path / "pwned.txt"
    write_list(path, {BREACHED: 2}, filler=filler, newline=newline)
    assert filler < 20_000 or path.stat().st_size > 2 * SAMPLE_BYTES
    settings.SOLIDARITY_BREACHED_PASSWORDS = str(path)
    assert ours() == []


def _problem(settings: Settings, path: Path) -> str:
    settings.SOLIDARITY_BREACHED_PASSWORDS = str(path)
    [message] = check_breached_passwords()
    assert (message.id, message.is_serious()) == ("accounts.E021", True)
    return str(message.msg)


def test_a_missing_or_unreadable_file_is_an_error(tmp_path: Path, settings: Settings) -> None:
    assert "cannot be read" in _problem(settings, tmp_path / "not-there.txt")
    assert "cannot be read" in _problem(settings, tmp_path)  # a directory


def test_a_file_in_another_format_is_an_error(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "pwned.txt"
    path.write_bytes(b"8846F7EAEE8FB117AD06BDD830B7586C:3\r\n")
    assert "first line" in _problem(settings, path)
    path.write_bytes(b"")
    assert "empty" in _problem(settings, path)


def test_a_file_ordered_by_prevalence_is_an_error(tmp_path: Path, settings: Settings) -> None:
    """The other file Have I Been Pwned offers: the same lines, most used first."""
    path = tmp_path / "pwned.txt"
    write_list(path, LISTED)
    lines = path.read_bytes().splitlines()
    lines.sort(key=lambda line: -int(line.split(b":")[1]) if b":" in line else 0)
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert "ascending order" in _problem(settings, path)


def test_disorder_or_a_bad_line_at_the_end_of_a_large_file_is_an_error(
    tmp_path: Path, settings: Settings
) -> None:
    """The end of the file is sampled as well as its start."""
    path = tmp_path / "pwned.txt"
    write_list(path, {}, filler=20_000)
    good = path.read_bytes()
    lines = good.splitlines()
    path.write_bytes(b"\n".join([*lines[:-2], lines[-1], lines[-2]]) + b"\n")
    assert "ascending order" in _problem(settings, path)
    path.write_bytes(good + b"not a hash\n")
    assert "is not 40 hexadecimal digits" in _problem(settings, path)


def test_the_production_settings_without_the_list_warn(tmp_path: Path) -> None:
    """Through the command line: `check --deploy` names the warning and the setting."""
    env = production_env(tmp_path)
    del env["SOLIDARITY_BREACHED_PASSWORDS"]
    result = check(env)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "accounts.W006" in output and "SOLIDARITY_BREACHED_PASSWORDS" in output
