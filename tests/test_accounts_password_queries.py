"""Whether a user holds a key for sealed data (asked by SealedKeyLengthValidator and
ContextWordsValidator) is one query, however the user came to hold it, with the same verdicts
as before; nothing is remembered between two checks."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_django import Settings

from solidarity.accounts.password_validation import SEALED_MIN_LENGTH, holds_sealed_key
from solidarity.core.models import Section
from solidarity.safety.keys import setup_user_key
from solidarity.safety.models import Role
from tests.test_accounts_login import PASSWORD

pytestmark = pytest.mark.django_db

# Shorter than 16 characters, so that both validators need the answer.
SHORT = "plum ravine 42"


@pytest.fixture(autouse=True)
def fast_kdf(settings: Settings) -> None:
    settings.SOLIDARITY_KDF = "interactive"


def staff(username: str) -> User:
    return User.objects.create_user(username, f"{username}@example.org", PASSWORD, is_staff=True)


def codes(error: ValidationError | None) -> set[str]:
    return set() if error is None else {e.code or "" for e in error.error_list}


def checked(password: str, user: User) -> tuple[set[str], int, int]:
    """The refusal codes of validate_password, its queries, and those about sealed keys."""
    error = None
    with CaptureQueriesContext(connection) as queries:
        try:
            validate_password(password, user)
        except ValidationError as refused:
            error = refused
    sealed = [q for q in queries if "safety_userkey" in q["sql"] or "safety_role" in q["sql"]]
    return codes(error), len(queries), len(sealed)


def test_a_key_holder_is_one_query_per_question(section: Section) -> None:
    holder = staff("alia")
    setup_user_key(holder, PASSWORD)

    with CaptureQueriesContext(connection) as queries:
        assert holds_sealed_key(holder)
    assert len(queries) == 1
    # Both validators ask (the password is under 16 characters): once each.
    assert checked(SHORT, holder)[::2] == ({"password_too_short_for_sealed_key"}, 2)


def test_a_role_reading_sealed_data_counts_without_a_key(section: Section) -> None:
    user = staff("bolat")
    Role.objects.create(user=user, section=section, role="researcher")  # reads no sealed data
    assert checked(SHORT, user)[::2] == (set(), 2)
    # Long passwords: only ContextWordsValidator asks.
    assert checked(SHORT + " and a pear", user)[::2] == (set(), 1)

    Role.objects.filter(user=user).update(role="coordinator")
    with CaptureQueriesContext(connection) as queries:
        assert holds_sealed_key(user)
    assert len(queries) == 1


def test_nothing_is_remembered_between_two_checks(section: Section) -> None:
    """A role that reads sealed data, given between two checks of the same user instance,
    counts at the second."""
    user = staff("dana")
    assert checked(SHORT, user)[0] == set()

    Role.objects.create(user=user, section=section, role="coordinator")

    assert checked(SHORT, user)[0] == {"password_too_short_for_sealed_key"}
    assert len(SHORT) < SEALED_MIN_LENGTH
