"""The two-recipient rule for sealed data (threat model D4, solidarity/safety/resilience.py).

A sealed value written in the back office that fewer than SOLIDARITY_SEALED_MIN_RECIPIENTS
coordinators can open (or, where required, no recovery key covers) is saved with a warning
that says what to do, or refused with SOLIDARITY_SEALED_ENFORCE; `check --deploy` lists the
sections holding such values (accounts.W010). No message names a value."""

from __future__ import annotations

import base64
import html
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import constants
from django.core.checks import CheckMessage, run_checks
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from nacl.public import PrivateKey
from pytest_django.fixtures import Settings

from solidarity.core.models import Section
from solidarity.documentation.models import Person
from solidarity.documentation.models import Testimony as SealedTestimony
from solidarity.safety.keys import read_sealed
from solidarity.safety.models import Role, SealedKey, SectionRecoveryKey
from solidarity.safety.resilience import sealed_resilience
from tests.conftest import verified_login
from tests.test_safety_recovery_keys import confirmed_by
from tests.test_safety_recovery_keys import recovery_set as register_recovery
from tests.test_safety_sealed import _recently_authenticated, coordinator, opened

WHEREABOUTS = "CNRY-WHEREABOUTS Flat 7, Abay street 12, Almaty"
ACCOUNT = "CNRY-ACCOUNT They kept me standing for two days"


@pytest.fixture(autouse=True)
def fast_kdf(settings: Settings) -> None:
    settings.SOLIDARITY_KDF = "interactive"


@pytest.fixture
def other_section(db: None) -> Section:
    return Section.objects.create(slug="abroad", name_en="Section abroad", kind="national")


def register_recovery_key(section: Section, by: User) -> None:
    public = PrivateKey.generate().public_key
    SectionRecoveryKey.objects.create(
        section=section,
        public_key=base64.b64encode(bytes(public)).decode(),
        fingerprint="f" * 32,
        created_by=by,
    )


def sealed_url(obj: Person | SealedTestimony, field: str) -> str:
    model = obj._meta.model_name
    return reverse("safety:sealed", args=["documentation", model, obj.pk, field])


def unlocked_client(client: Client, user: User, target: str) -> Client:
    verified_login(client, user)
    _recently_authenticated(client)
    unlock = f"{reverse('safety:unlock')}?next={target}"
    assert client.post(unlock, {"password": f"{user.username} long passphrase"}).status_code == 302
    return client


def write(
    client: Client, obj: Person | SealedTestimony, field: str, value: str
) -> tuple[int, str, list[tuple[int, str]]]:
    """Post a value on the sealed page and follow to the admin page: status, page, messages."""
    response = client.post(sealed_url(obj, field), {"value": value}, follow=True)
    shown = [(message.level, str(message)) for message in response.context["messages"]]
    return response.status_code, html.unescape(response.content.decode()), shown


def warnings(shown: list[tuple[int, str]]) -> list[str]:
    return [text for level, text in shown if level == constants.WARNING]


def test_a_value_one_coordinator_can_open_is_saved_with_a_warning(
    client: Client, section: Section
) -> None:
    """One coordinator with a key: the value is saved, and the admin page that follows warns
    that one coordinator can open it, that there is no recovery key, and what to do."""
    alia = coordinator("alia", section)
    person = Person.objects.create(section=section, slug="p", given_name="A", family_name="B")
    unlocked_client(client, alia, sealed_url(person, "whereabouts"))

    status, page, shown = write(client, person, "whereabouts", WHEREABOUTS)

    assert status == 200
    fresh = Person.objects.get(pk=person.pk)
    assert read_sealed(alia, fresh, "whereabouts", opened(alia)) == WHEREABOUTS
    (warning,) = warnings(shown)
    assert "1 coordinator of this section can open" in warning
    assert "no recovery key" in warning
    assert "at least 2 coordinators" in warning
    assert "solidarity keys grant" in warning and "solidarity keys recovery-set" in warning
    assert warning in page  # rendered on the admin page, not only queued
    assert "CNRY" not in warning and "Abay" not in warning


def test_no_warning_once_two_coordinators_hold_keys(client: Client, section: Section) -> None:
    """Two coordinators with a key meet the rule (a recovery key is optional by default); a
    researcher, a coordinator without a key or one of another section does not count."""
    alia = coordinator("alia", section)
    coordinator("researcher", section, role="researcher")
    coordinator("keyless", section, key=False)
    foreign = Section.objects.create(slug="far", name_en="Far", kind="national")
    coordinator("foreign", foreign)
    testimony = SealedTestimony.objects.create(section=section, reference="T-1")
    unlocked_client(client, alia, sealed_url(testimony, "account"))
    assert sealed_resilience(section) == (1, False, False)
    _status, _page, shown = write(client, testimony, "account", ACCOUNT)
    assert len(warnings(shown)) == 1

    coordinator("bolat", section)
    assert sealed_resilience(section) == (2, False, True)
    _status, page, shown = write(client, testimony, "account", ACCOUNT)
    assert warnings(shown) == [] and "can open its sealed values" not in page
    assert [text for _level, text in shown] == ["The sealed value was saved."]


def test_erasing_a_value_is_never_warned_about_or_refused(
    client: Client, section: Section, settings: Settings
) -> None:
    """An empty value erases: nothing is left to lose, so even under enforcement it goes."""
    settings.SOLIDARITY_SEALED_ENFORCE = True
    alia = coordinator("alia", section)
    person = Person.objects.create(
        section=section, slug="p", given_name="A", family_name="B", whereabouts=WHEREABOUTS
    )
    unlocked_client(client, alia, sealed_url(person, "whereabouts"))
    _status, _page, shown = write(client, person, "whereabouts", "")
    assert warnings(shown) == [] and Person.objects.get(pk=person.pk).whereabouts == ""


def test_a_required_recovery_key_is_warned_about_until_registered(
    client: Client, section: Section, settings: Settings
) -> None:
    """With SOLIDARITY_SEALED_REQUIRE_RECOVERY, two coordinators are not enough without the
    section's recovery key; the warning asks for the key only, and ends once it exists."""
    settings.SOLIDARITY_SEALED_REQUIRE_RECOVERY = True
    alia = coordinator("alia", section)
    coordinator("bolat", section)
    testimony = SealedTestimony.objects.create(section=section, reference="T-1")
    unlocked_client(client, alia, sealed_url(testimony, "witness"))

    _status, _page, shown = write(client, testimony, "witness", "CNRY-WITNESS Gulnara S.")
    (warning,) = warnings(shown)
    assert "2 coordinators of this section can open" in warning and "no recovery key" in warning
    assert "solidarity keys recovery-set" in warning and "keys grant" not in warning
    assert "CNRY" not in warning

    register_recovery_key(section, alia)
    assert sealed_resilience(section) == (2, True, True)
    _status, _page, shown = write(client, testimony, "witness", "CNRY-WITNESS Gulnara S.")
    assert warnings(shown) == []


def test_enforcement_refuses_the_save_and_stores_nothing(
    client: Client, section: Section, settings: Settings
) -> None:
    """With SOLIDARITY_SEALED_ENFORCE, a value that falls short is refused with a form error
    on the sealed page: no ciphertext, no wrapped key, the typed value not shown back in the
    error. With a second coordinator the same value is saved."""
    settings.SOLIDARITY_SEALED_ENFORCE = True
    alia = coordinator("alia", section)
    register_recovery_key(section, alia)
    testimony = SealedTestimony.objects.create(section=section, reference="T-1")
    unlocked_client(client, alia, sealed_url(testimony, "account"))

    response = client.post(sealed_url(testimony, "account"), {"value": ACCOUNT})

    assert response.status_code == 200
    errors = response.context["form"].errors["value"]
    assert len(errors) == 1 and errors[0].startswith("Not saved.")
    assert "1 coordinator of this section can open" in errors[0]
    assert "has a recovery key" in errors[0] and "recovery-set" not in errors[0]
    assert "CNRY" not in errors[0]
    assert errors[0] in html.unescape(response.content.decode())
    assert SealedTestimony.objects.get(pk=testimony.pk).account == ""
    assert not SealedKey.objects.filter(object_id=testimony.pk, field_name="account").exists()

    coordinator("bolat", section)
    _status, _page, shown = write(client, testimony, "account", ACCOUNT)
    assert warnings(shown) == []
    fresh = SealedTestimony.objects.get(pk=testimony.pk)
    assert read_sealed(alia, fresh, "account", opened(alia)) == ACCOUNT


def _w010() -> list[CheckMessage]:
    return [m for m in run_checks(include_deployment_checks=True) if m.id == "accounts.W010"]


def test_the_deploy_check_lists_the_sections_that_fall_short(
    section: Section, other_section: Section, tmp_path: Path
) -> None:
    """Only sections holding sealed values are listed, by slug, with how many of their values
    fall short; none once every value meets the rule."""
    assert _w010() == []
    alia = coordinator("alia", section)
    Person.objects.create(
        section=section, slug="p", given_name="A", family_name="B", whereabouts=WHEREABOUTS
    )
    coordinator("bolat", other_section)
    coordinator("dana", other_section)
    SealedTestimony.objects.create(section=other_section, reference="T-1", account=ACCOUNT)
    empty = Section.objects.create(slug="quiet", name_en="Quiet", kind="national")
    coordinator("erlan", empty)
    SealedTestimony.objects.create(section=empty, reference="T-2")  # nothing sealed in it

    (warning,) = _w010()
    assert not warning.is_serious()
    assert "home: 1 open to fewer than 2 coordinators (of 1 sealed value(s))" in warning.msg
    assert "recovery copy" not in warning.msg  # a recovery key is not required by default
    assert "abroad" not in warning.msg and "quiet" not in warning.msg
    assert "solidarity keys grant" in str(warning.hint)
    assert "solidarity keys recovery-set" in str(warning.hint)
    assert "CNRY" not in warning.msg + str(warning.hint)

    # A coordinator who leaves lowers the count of values already stored.
    Role.objects.filter(user__username="dana").delete()
    (warning,) = _w010()
    assert "abroad: 1 open to fewer than 2 coordinators (of 1 sealed value(s)); home" in (
        warning.msg
    )

    # Newcomers count once granted the values, not before.
    newcomers = (("dana-again", other_section, "bolat"), ("farida", section, "alia"))
    for name, target, granter in newcomers:
        newcomer = coordinator(name, target)
        assert len(_w010()) == 1
        grant(tmp_path, granter, newcomer.username, target)
    register_recovery_key(section, alia)
    assert _w010() == []


def test_the_deploy_check_follows_the_settings(section: Section, settings: Settings) -> None:
    """A required recovery key lists a section whose values have enough recipients but no
    recovery copy; a minimum of one coordinator lists nothing."""
    coordinator("alia", section)
    coordinator("bolat", section)
    Person.objects.create(
        section=section, slug="p", given_name="A", family_name="B", whereabouts=WHEREABOUTS
    )
    assert _w010() == []
    settings.SOLIDARITY_SEALED_REQUIRE_RECOVERY = True
    (warning,) = _w010()
    assert "home: 1 without a recovery copy (of 1 sealed value(s))" in warning.msg
    assert "fewer than 2 coordinators (of" not in warning.msg
    settings.SOLIDARITY_SEALED_REQUIRE_RECOVERY = False
    settings.SOLIDARITY_SEALED_MIN_RECIPIENTS = 3
    assert "home: 1 open to fewer than 3 coordinators" in _w010()[0].msg
    settings.SOLIDARITY_SEALED_MIN_RECIPIENTS = 1
    Role.objects.filter(user__username="bolat").delete()
    assert _w010() == []


# -- The deploy check counts who can open each stored value ------------------------------------


def password_file(tmp_path: Path, username: str) -> str:
    path = tmp_path / f"{username}.password"
    path.write_text(f"{username} long passphrase\n")
    return str(path)


def grant(tmp_path: Path, by: str, to: str, section: Section) -> None:
    call_command(
        "keys",
        "grant",
        "--by",
        by,
        "--to",
        to,
        "--section",
        section.slug,
        "--password-file",
        password_file(tmp_path, by),
        stdout=StringIO(),
    )


def test_a_coordinator_with_a_key_but_no_grant_is_no_recipient_of_stored_values(
    section: Section, tmp_path: Path
) -> None:
    """The reviewer's scenario: alia stores whereabouts alone; bolat becomes coordinator and
    sets up a key, but nobody grants him the value. Two coordinators have a key (the save-time
    count is met) yet only alia can open it: the deploy check lists it, and no longer once
    `keys grant` has wrapped it for bolat. Bolat's key for a value he was granted and a role
    he lost, or an account deactivated, do not count either."""
    alia = coordinator("alia", section)
    person = Person.objects.create(
        section=section, slug="p", given_name="A", family_name="B", whereabouts=WHEREABOUTS
    )
    bolat = coordinator("bolat", section)
    assert sealed_resilience(section) == (2, False, True)  # a value written now would be fine
    (warning,) = _w010()
    assert "home: 1 open to fewer than 2 coordinators (of 1 sealed value(s))" in warning.msg

    grant(tmp_path, "alia", "bolat", section)
    assert _w010() == []
    assert read_sealed(bolat, Person.objects.get(pk=person.pk), "whereabouts", opened(bolat)) == (
        WHEREABOUTS
    )

    User.objects.filter(pk=alia.pk).update(is_active=False)
    assert len(_w010()) == 1
    User.objects.filter(pk=alia.pk).update(is_active=True)
    assert _w010() == []
    # A wrapped key for someone whose role no longer reads sealed data opens nothing there.
    Role.objects.filter(user=bolat).update(role="researcher")
    assert len(_w010()) == 1


def test_a_value_recovery_set_left_unopened_counts_as_without_a_recovery_copy(
    section: Section, settings: Settings, tmp_path: Path
) -> None:
    """recovery-set wraps only the values its coordinator can open: the section has a recovery
    key, but a value stored before bolat joined has no copy for it. With a recovery key
    required, the deploy check lists that value until alia runs recovery-set too."""
    settings.SOLIDARITY_SEALED_REQUIRE_RECOVERY = True
    settings.SOLIDARITY_SEALED_MIN_RECIPIENTS = 1
    coordinator("alia", section)
    Person.objects.create(
        section=section, slug="old", given_name="A", family_name="B", whereabouts=WHEREABOUTS
    )
    coordinator("bolat", section)
    Person.objects.create(
        section=section, slug="new", given_name="C", family_name="D", whereabouts=WHEREABOUTS
    )
    offline = tmp_path / "offline"
    call_command("keys", "recovery-keygen", "--out", str(offline), stdout=StringIO())

    def recovery_set(by: str, second: str) -> str:
        users = {u.username: u for u in User.objects.filter(username__in=[by, second])}
        confirmation = confirmed_by(users[second], tmp_path)
        return register_recovery(
            section, offline / "recovery.pub", users[by], tmp_path, *confirmation
        )

    assert "1 sealed value(s) of the section were not sealed for bolat" in recovery_set(
        "bolat", "alia"
    )
    assert SectionRecoveryKey.objects.filter(section=section).exists()
    assert sealed_resilience(section).ok  # new writes are covered
    (warning,) = _w010()
    assert "home: 1 without a recovery copy (of 2 sealed value(s))" in warning.msg
    assert "open to fewer" not in warning.msg

    recovery_set("alia", "bolat")
    assert _w010() == []
