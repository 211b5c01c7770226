"""The password policy (ASVS V6.2): length, the common list, no composition rule, our own names
refused, 16 characters for a password that protects a key for sealed data, and passwords taken
exactly as typed. Driven through the admin's password change (behind 2FA and a recent
re-authentication), the login page and Django's `validate_password`, which every form calls."""

from __future__ import annotations

import html
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from pytest_django import Settings

from solidarity.accounts.password_validation import SEALED_MIN_LENGTH
from solidarity.accounts.views import BAD_CREDENTIALS
from solidarity.core.management.commands.demo import ensure_admin
from solidarity.core.models import Section
from solidarity.documentation.models import Organisation
from solidarity.safety.keys import setup_user_key
from solidarity.safety.models import Role, UserKey
from tests.conftest import PRODUCTION_HASHERS, recently_authenticated, verified_login
from tests.test_accounts_login import PASSWORD, password_step

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

CHANGE = "/admin/password_change/"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_kdf(settings: Settings) -> None:
    """Argon2id at its interactive cost for the key pairs made here."""
    settings.SOLIDARITY_KDF = "interactive"


def staff(username: str = "anna") -> User:
    return User.objects.create_user(username, f"{username}@example.org", PASSWORD, is_staff=True)


def changing(user: User) -> Client:
    """A client on the password change form: logged in with two factors, just re-authenticated."""
    return recently_authenticated(verified_login(Client(), user))


def change(client: Client, new: str, old: str = PASSWORD) -> Response:
    return client.post(CHANGE, {"old_password": old, "new_password1": new, "new_password2": new})


def refusal_codes(response: Response) -> set[str]:
    """The codes of the errors the change form shows; the form is shown again, not saved."""
    assert response.status_code == 200, response.status_code
    form = response.context["form"]
    return {error.code or "" for errors in form.errors.as_data().values() for error in errors}


def page(response: Response) -> str:
    return html.unescape(response.content.decode())


def still_has(user: User, password: str) -> bool:
    user.refresh_from_db()
    return user.check_password(password)


def refused(password: str, user: User | None = None) -> set[str]:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return {e.code or "" for e in error.error_list}
    return set()


# -- 6.2.1 length, 6.2.4 common passwords, 6.2.5 no composition rule ---------------------------


def test_eleven_characters_are_refused_and_twelve_accepted() -> None:
    user = staff()
    client = changing(user)

    assert refusal_codes(change(client, "plum ravine")) == {"password_too_short"}
    assert still_has(user, PASSWORD)

    assert change(client, "plum ravine!").status_code == 302
    assert still_has(user, "plum ravine!")


def test_a_common_password_is_refused() -> None:
    """Twenty characters, but in Django's list of 20,000 common passwords."""
    user = staff()
    response = change(changing(user), "1234567890qwertyuiop")
    assert refusal_codes(response) == {"password_too_common"}
    assert still_has(user, PASSWORD)


def test_an_all_digit_password_is_accepted() -> None:
    """No composition rule: length and the common list judge a password, not its alphabet."""
    user = staff()
    assert change(changing(user), "739104628351").status_code == 302
    assert still_has(user, "739104628351")


# -- 6.2.3 the current password --------------------------------------------------------------


def test_the_change_needs_the_current_password() -> None:
    user = staff()
    client = changing(user)

    wrong = change(client, "a fresh long passphrase", old="not my password at all")
    assert refusal_codes(wrong) == {"password_incorrect"}
    missing = change(client, "a fresh long passphrase", old="")
    assert refusal_codes(missing) == {"required"}
    assert still_has(user, PASSWORD)


# -- 6.2.6 password inputs ---------------------------------------------------------------------


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.types: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "input" and values.get("name"):
            self.types[values["name"] or ""] = values.get("type") or "text"


def input_types(response: Response) -> dict[str, str]:
    parser = _Inputs()
    parser.feed(response.content.decode())
    return parser.types


def test_password_inputs_are_masked() -> None:
    """The login, re-authentication and change forms use type=password for every password."""
    login = input_types(Client().get(reverse("accounts:login")))
    assert login["password"] == "password"
    assert login["username"] == "text"

    client = verified_login(Client(), staff())
    assert input_types(client.get(reverse("accounts:reauth")))["password"] == "password"
    form = input_types(recently_authenticated(client).get(CHANGE))
    for name in ("old_password", "new_password1", "new_password2"):
        assert form[name] == "password", name


# -- 6.2.8 exactly as typed, 6.2.9 long passwords --------------------------------------------


def test_spaces_around_a_password_are_kept_and_required() -> None:
    user = staff()
    padded = "  two spaces either side  "
    assert change(changing(user), padded).status_code == 302

    for typed in (padded.strip(), padded.lstrip(), padded.rstrip(), padded + " "):
        response = password_step(Client(), user.username, typed)
        assert response.status_code == 200
        assert str(BAD_CREDENTIALS) in page(response)
    exact = password_step(Client(), user.username, padded)
    assert exact.status_code == 302
    assert exact["Location"].startswith("/accounts/verify/")


def test_a_128_character_password_is_set_and_logs_in(settings: Settings) -> None:
    """With the production hasher (Argon2id): nothing is cut off, so a change of the last
    character is a wrong password."""
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    user = staff()
    long_password = ("wind over the steppe at dawn, " * 5)[:127] + "Z"
    assert len(long_password) == 128
    assert change(changing(user), long_password).status_code == 302

    assert password_step(Client(), user.username, long_password).status_code == 302
    almost = long_password[:-1] + "Y"
    assert password_step(Client(), user.username, almost).status_code == 200


# -- 6.1.2, 6.2.11 context-specific words -------------------------------------------------------


def test_our_own_names_are_refused_without_echoing_the_password() -> None:
    user = staff()
    client = changing(user)
    password = "Solidarity-Kazakhstan-2012!"

    response = change(client, password)

    assert refusal_codes(response) == {"password_context_words"}
    assert "the organisation, its newspaper or its campaigns" in page(response)
    assert password not in page(response)
    assert "Solidarity" not in page(response).split("<form", 1)[1]
    assert still_has(user, PASSWORD)


@pytest.mark.parametrize(
    "password",
    [
        "solidarity2024solidarity",  # digits between the words go with them
        "S0l1d4r1ty-Qazaqstan",  # leetspeak, Kazakh Latin
        "Солидарность-Казахстан!",  # Cyrillic
        "СОЛИДАРНОСТЬ 2012 ЖАҢАӨЗЕН",  # Kazakh letters, upper case
        "Ынтымақтастық-Ынтымақ",  # the product's Kazakh name
        "Sotsialisticheskoe Soprotivlenie",  # Russian, transliterated
        "my zhanaozen campaign",  # only "my " is left
    ],
)
def test_fixed_words_in_any_script_are_refused(password: str) -> None:
    assert "password_context_words" in refused(password)


@pytest.mark.parametrize(
    "password",
    [
        "solidarity with the miners of the west",  # the words are only a part of it
        "correct horse battery staple",
        "739104628351",
    ],
)
def test_passwords_with_enough_besides_our_names_are_accepted(password: str) -> None:
    assert refused(password) == set()


def test_a_sections_name_is_refused_once_the_section_exists() -> None:
    user = staff()
    client = changing(user)
    latin, cyrillic = "Karaganda-Miners-2024", "карагандинские шахтёры!"
    assert refused(latin) == refused(cyrillic) == set()

    Section.objects.create(
        slug="karaganda",
        name_en="Karaganda miners",
        name_ru="Карагандинские шахтёры",
        kind=Section.Kind.NATIONAL,
    )

    response = change(client, latin)
    assert refusal_codes(response) == {"password_record_names"}
    assert "the name of a section or an organisation in our records" in page(response)
    assert refused(cyrillic) == {"password_record_names"}
    assert still_has(user, PASSWORD)


def test_only_public_organisations_names_are_refused(section: Section) -> None:
    """An unpublished organisation's name is not refused: a refusal would tell a user of one
    section that another section records that organisation (M4)."""
    organisation = Organisation.objects.create(
        section=section,
        slug="tengiz-drillers",
        name_en="Tengiz Drillers Brotherhood",
        abbreviation="TDB",
        kind="trade_union",
    )
    password = "TengizDrillersBrotherhood"
    assert refused(password) == set()

    organisation.is_public = True
    organisation.save()

    assert refused(password) == {"password_record_names"}


# -- 6.2.1 (M7) 16 characters for a key for sealed data ------------------------------------------


def test_a_key_holder_needs_sixteen_characters() -> None:
    user = staff()
    setup_user_key(user, PASSWORD)
    client = changing(user)
    fifteen = "plum ravine 42!"
    assert len(fifteen) == SEALED_MIN_LENGTH - 1

    response = change(client, fifteen)
    assert refusal_codes(response) == {"password_too_short_for_sealed_key"}
    assert "protects your key for sealed data" in page(response)
    assert still_has(user, PASSWORD)

    assert change(client, fifteen + "?").status_code == 302
    assert still_has(user, fifteen + "?")


def test_a_coordinator_without_a_key_yet_needs_sixteen_characters(section: Section) -> None:
    """A role that reads sealed data means the password will protect a key; other roles and
    other users keep the general minimum."""
    coordinator, researcher = staff("alia"), staff("bolat")
    Role.objects.create(user=coordinator, section=section, role="coordinator")
    Role.objects.create(user=researcher, section=section, role="researcher")
    fourteen = "plum ravine 42"

    assert refused(fourteen, coordinator) == {"password_too_short_for_sealed_key"}
    assert refused(fourteen, researcher) == set()
    assert refused(fourteen) == set()
    assert refused(fourteen + "!?", coordinator) == set()


def test_the_context_rule_keeps_sixteen_for_a_key_holder() -> None:
    """Twelve characters besides our names are enough for others, not for a key holder."""
    user, other = staff("alia"), staff("bolat")
    setup_user_key(user, PASSWORD)
    password = "Solidarity plum ravine 4"  # 14 characters besides "Solidarity "
    assert refused(password, other) == set()
    assert refused(password, user) == {"password_context_words"}


def test_no_key_is_set_up_under_a_short_password(section: Section) -> None:
    """Through the key page: a password shorter than 16 characters does not wrap a key."""
    user = User.objects.create_user("dana", password="plum ravine 42", is_staff=True)
    Role.objects.create(user=user, section=section, role="coordinator")
    client = verified_login(Client(), user)

    response = client.post(reverse("safety:key"), {"password": "plum ravine 42"})

    assert "must be at least 16 characters long" in page(response)
    assert not UserKey.objects.filter(user=user).exists()


# -- The passwords our own code and tests choose -------------------------------------------------


def test_the_demo_and_test_passwords_pass_the_validators(section: Section, tmp_path: Path) -> None:
    """The demo's generated password, also for the coordinator the demo makes of it, and the
    passphrases the tests give to the change and set-password forms."""
    password = ensure_admin(tmp_path / "demo-admin-password")
    assert password is not None
    admin = User.objects.get(username="admin")
    Role.objects.create(user=admin, section=section, role="coordinator")
    assert refused(password, admin) == set()

    user = staff()
    for chosen in (
        "a brand new long passphrase",
        "another long passphrase for anna",
        "a password the administrator chose",
        "correct horse battery staple",
        "a long test passphrase",
    ):
        assert refused(chosen, user) == set(), chosen
