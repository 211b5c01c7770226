"""Backup codes long enough that a keyed hash is enough (ASVS 6.5.2): 24 characters of a
32-character alphabet, 120 bits, stored as 96 bits of a keyed hash; typed with spaces, dashes,
capitals or a look-alike letter they still work, once. Codes of the earlier, 8-character kind
keep working until used or replaced."""

from __future__ import annotations

import math
import re
from base64 import urlsafe_b64decode

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from pytest_django import Settings

from solidarity.accounts.factors import (
    BACKUP_CODE_ALPHABET,
    BACKUP_CODE_LENGTH,
    backup_code_digest,
    new_backup_codes,
    verify_code,
)
from solidarity.accounts.models import AppDevice
from solidarity.safety.crypto import blind_index
from tests.test_accounts_login import (
    PASSWORD,
    add_authenticator,
    code_for,
    make_staff,
    password_step,
    text,
)

SHOWN = re.compile(r"<li>([0-9a-z]{4}(?:-[0-9a-z]{4}){5})</li>")


@pytest.fixture(autouse=True)
def _no_back_off(settings: Settings) -> None:
    # django-otp's back-off after a refused code; the tests refuse reused codes on purpose.
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def backup_device(user: User) -> StaticDevice:
    device: StaticDevice = StaticDevice.objects.create(
        user=user, name="Backup codes", confirmed=True
    )
    return device


def test_new_codes_have_at_least_112_bits(db: None) -> None:
    """Each of the ten codes is 24 characters of 32 possible ones (2**120), read in groups of
    four, from an alphabet without the letters taken for digits (i, l, o) or u."""
    codes = new_backup_codes(make_staff())

    alphabet = set(BACKUP_CODE_ALPHABET)
    assert len(alphabet) == len(BACKUP_CODE_ALPHABET) == 32
    assert not alphabet & set("ilou")
    assert math.log2(len(alphabet) ** BACKUP_CODE_LENGTH) == 120 >= 112
    assert len(set(codes)) == 10
    for code in codes:
        groups = code.split("-")
        assert [len(group) for group in groups] == [4] * 6
        assert set("".join(groups)) <= alphabet


def test_a_new_code_is_stored_as_96_bits_of_a_keyed_hash(db: None) -> None:
    """The 16 characters django-otp's column holds are base64: 96 bits, not the 64 of 16 hex
    characters, so the hash is no shortcut to a code that matches."""
    user = make_staff()
    codes = new_backup_codes(user)
    device = StaticDevice.objects.get(user=user)
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(StaticToken._meta.db_table)
        cursor.execute(f"SELECT token FROM {table}")  # noqa: S608 - constant table name
        stored = sorted(row[0] for row in cursor.fetchall())

    assert stored == sorted(backup_code_digest(device, code) for code in codes)
    for token in stored:
        assert len(token) == 16 and token.isascii()
    key = blind_index(f"{device.pk}:{codes[0].replace('-', '')}", "backup-code")
    assert urlsafe_b64decode(backup_code_digest(device, codes[0])).hex() == key[:24]


def test_a_new_code_typed_any_way_works_once(db: None) -> None:
    """Spaces, dashes, capitals, or none of them: the same code, and accepted once only."""
    user = make_staff()
    codes = new_backup_codes(user)
    plain = codes[0].replace("-", "")

    for typed in (
        f"  {plain.upper()}  ",
        " - ".join(codes[1].upper().split("-")),
        codes[2].replace("-", " "),
    ):
        assert isinstance(verify_code(user, typed), StaticDevice), typed
    assert verify_code(user, plain) is None, "used already"
    assert verify_code(user, codes[1]) is None
    assert StaticToken.objects.filter(device__user=user).count() == 7


def test_letters_read_as_digits_are_taken_for_them(db: None) -> None:
    """A code holds 0 and 1 but never o, i or l: whoever copies O for 0, or l or I for 1, from
    their paper still gets in."""
    user = make_staff()
    device = backup_device(user)
    device.token_set.create(token=backup_code_digest(device, "0011-abcd-efgh-jkmn-pqrs-tvwx"))

    assert verify_code(user, "oOlI-ABCD-EFGH-JKMN-PQRS-TVWX") == device
    assert verify_code(user, "0011-abcd-efgh-jkmn-pqrs-tvwx") is None


def test_an_old_40_bit_code_still_works_once(db: None) -> None:
    """A code of the earlier kind, stored as 16 hex characters of its keyed hash (as migration
    0002 and the earlier version stored it), is accepted once and then gone."""
    user = make_staff()
    device = backup_device(user)
    stored = blind_index(f"{device.pk}:abcd2345", "backup-code")[:16]
    device.token_set.create(token=stored)
    assert backup_code_digest(device, "abcd2345") == stored

    assert verify_code(user, "ABCD 2345") == device
    assert verify_code(user, "abcd2345") is None
    assert not device.token_set.exists()


def test_new_codes_replace_the_old_ones(db: None) -> None:
    """Asking for new codes removes the old, short ones with the rest."""
    user = make_staff()
    device = backup_device(user)
    device.token_set.create(token=backup_code_digest(device, "abcd2345"))

    new_backup_codes(user)

    assert verify_code(user, "abcd2345") is None
    assert StaticToken.objects.filter(device__user=user).count() == 10


def test_the_login_page_takes_a_code_as_shown_and_with_spaces(db: None) -> None:
    """Through the login pages: a code copied with a space around each dash fits the field and
    logs in; an answer too long to be a code is refused by the field and uses up no code."""
    user = make_staff()
    add_authenticator(user)
    codes = new_backup_codes(user)
    spaced = " - ".join(codes[0].split("-"))
    assert len(spaced) > 32, "longer than the field allowed before"

    client = Client()
    password_step(client, "anna")
    response = client.post("/accounts/verify/", {"code": spaced, "next": "/admin/"})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200

    other = Client()
    password_step(other, "anna")
    refused = other.post("/accounts/verify/", {"code": codes[1] * 3})
    assert refused.status_code == 200
    assert "at most 64 characters" in text(refused)
    assert other.get("/admin/").status_code == 302
    assert StaticToken.objects.filter(device__user=user).count() == 9


def test_the_page_with_new_codes_shows_them_grouped_and_says_how_to_type_them(
    db: None,
) -> None:
    """After the app is confirmed: ten codes of six groups, and the note that dashes, spaces
    and capitals do not matter; the codes shown are the ones that work."""
    user = make_staff()
    client = Client()
    password_step(client, "anna")
    client.get("/accounts/enrol/")
    device = AppDevice.objects.get(user=user)

    page = client.post("/accounts/enrol/", {"code": code_for(device), "next": "/admin/"})

    html = page.content.decode()
    shown = SHOWN.findall(html)
    assert len(shown) == 10
    assert "dashes, spaces and capital letters do not matter" in html
    client.logout()
    password_step(client, "anna", PASSWORD)
    assert client.post("/accounts/verify/", {"code": shown[5].upper()}).status_code == 302
