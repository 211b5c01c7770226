"""An authenticator code is accepted only in its own 30-second step (ASVS 6.5.5): not in the
step before (a code seen over a shoulder or relayed late) nor the step after, and existing
devices are moved to the same rule by a migration. The clock is fixed through django-otp's
own `time` so that no test depends on where in a step it runs."""

from __future__ import annotations

from importlib import import_module
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp import models as otp_totp_models
from pytest_django import Settings

from solidarity.accounts.factors import pending_app_device, verify_code
from solidarity.accounts.models import AppDevice
from solidarity.accounts.views import BAD_CODE
from tests.test_accounts_login import add_authenticator, errors, make_staff, password_step

migration = import_module("solidarity.accounts.migrations.0009_totp_current_step_only")

STEP_START = 1_800_000_000  # a multiple of 30: the first second of a step


@pytest.fixture(autouse=True)
def _no_back_off(settings: Settings) -> None:
    """django-otp makes a device wait a second after a wrong code; these tests follow a wrong
    code with a right one at once."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """The time django-otp verifies at; tests set `clock.now`."""
    fake = SimpleNamespace(now=float(STEP_START))
    monkeypatch.setattr(otp_totp_models, "time", SimpleNamespace(time=lambda: fake.now))
    return fake


def code_at(device: AppDevice, moment: float) -> str:
    """The code the device's app shows at `moment` (by the device's own t0 and step)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, drift=0)
    totp.time = moment
    return f"{totp.token():06d}"


def fresh(device: AppDevice) -> AppDevice:
    found: AppDevice = AppDevice.objects.get(pk=device.pk)
    return found


def test_a_new_device_accepts_its_current_step_only(db: None) -> None:
    """The device that enrolment creates carries tolerance 0 and no drift."""
    device = pending_app_device(make_staff(), None)
    assert (fresh(device).tolerance, fresh(device).drift) == (0, 0)


def test_the_code_of_the_previous_step_is_refused(db: None, clock: SimpleNamespace) -> None:
    """A second into a new step, the code shown a moment ago no longer works; the new one does."""
    device = add_authenticator(make_staff())
    clock.now = STEP_START + 1
    previous = code_at(device, STEP_START - 1)
    current = code_at(device, STEP_START)
    assert previous != current

    assert not fresh(device).verify_token(previous)
    assert fresh(device).verify_token(current)


def test_the_code_of_the_next_step_is_refused(db: None, clock: SimpleNamespace) -> None:
    """A code the app will show only in 30 seconds (a clock running ahead) is refused too."""
    device = add_authenticator(make_staff())
    clock.now = STEP_START + 29
    assert not fresh(device).verify_token(code_at(device, STEP_START + 30))


def test_a_code_lives_thirty_seconds_at_most(db: None, clock: SimpleNamespace) -> None:
    """The same code: accepted in the last second of its step, refused in the first second of
    the next one."""
    first = add_authenticator(make_staff("anna"))
    second = add_authenticator(make_staff("boris"))
    clock.now = STEP_START + 29.9
    assert fresh(first).verify_token(code_at(first, STEP_START))
    clock.now = STEP_START + 30
    assert not fresh(second).verify_token(code_at(second, STEP_START))
    assert fresh(second).verify_token(code_at(second, STEP_START + 30))


def test_a_late_code_does_not_complete_the_login(db: None, clock: SimpleNamespace) -> None:
    """Through the login pages: the previous step's code is refused with the usual message and
    leaves the session unverified; the current code then logs in."""
    device = add_authenticator(make_staff())
    client = Client()
    password_step(client, "anna")
    clock.now = STEP_START + 2

    late = client.post("/accounts/verify/", {"code": code_at(device, STEP_START - 5)})
    assert late.status_code == 200
    assert str(BAD_CODE) in errors(late)[0]
    assert client.get("/admin/").status_code == 302

    done = client.post("/accounts/verify/", {"code": code_at(device, STEP_START + 2)})
    assert done.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_learnt_drift_no_longer_widens_the_window(db: None, clock: SimpleNamespace) -> None:
    """django-otp learns a drift only from an off-step match; with tolerance 0 there is none,
    and a late code does not shift the accepted step."""
    user = make_staff()
    device = add_authenticator(user)
    clock.now = STEP_START + 1
    assert verify_code(user, code_at(device, STEP_START - 1)) is None
    assert fresh(device).drift == 0
    assert verify_code(user, code_at(device, STEP_START)) == device
    assert fresh(device).drift == 0


def test_the_migration_moves_existing_devices_to_the_current_step(
    db: None, clock: SimpleNamespace
) -> None:
    """Devices made under django-otp's default (one step either way, a drift learnt from a
    late code) accept only their current step afterwards, with the drift gone, so the code the
    app shows now works and the previous one does not."""
    user = make_staff()
    device = add_authenticator(user)
    AppDevice.objects.filter(pk=device.pk).update(tolerance=1, drift=-1)
    clock.now = STEP_START + 1
    # Before: the previous step's code is accepted (it is the learnt drift's own step).
    assert fresh(device).verify_token(code_at(device, STEP_START - 1))
    AppDevice.objects.filter(pk=device.pk).update(last_t=-1)

    migration.current_step_only(apps, None)

    assert (fresh(device).tolerance, fresh(device).drift) == (0, 0)
    assert not fresh(device).verify_token(code_at(device, STEP_START - 1))
    assert fresh(device).verify_token(code_at(device, STEP_START))
    migration.one_step_either_way(apps, None)
    assert fresh(device).tolerance == 1
