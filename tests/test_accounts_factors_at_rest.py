"""Second factors at rest: backup codes are keyed hashes bound to their device, authenticator
secrets are encrypted with the keyring; the database holds nothing that would work as a second
factor for whoever copies it."""

from __future__ import annotations

import json
from base64 import b32encode
from importlib import import_module

from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.fixtures import Settings

from solidarity.accounts.factors import backup_code_digest, new_backup_codes, verify_code
from solidarity.accounts.models import AppDevice
from solidarity.audit.models import AuditEntry

migration = import_module("solidarity.accounts.migrations.0002_hash_backup_codes")
app_migration = import_module("solidarity.accounts.migrations.0003_app_device")


def staff(name: str) -> User:
    return User.objects.create_user(name, password=f"{name} long passphrase", is_staff=True)


def raw_tokens() -> str:
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(StaticToken._meta.db_table)
        cursor.execute(f"SELECT token FROM {table}")  # noqa: S608 - constant table name
        return " ".join(row[0] for row in cursor.fetchall())


def test_no_backup_code_is_stored_and_each_still_works_once(db: None, settings: Settings) -> None:
    """The table holds none of the ten codes; a code is accepted once, then refused."""
    settings.OTP_STATIC_THROTTLE_FACTOR = 0  # django-otp's back-off after the refused reuse
    anna = staff("anna")
    codes = new_backup_codes(anna)
    stored = raw_tokens()
    assert len(codes) == 10 and not [code for code in codes if code in stored]
    assert isinstance(verify_code(anna, codes[3]), StaticDevice)
    assert verify_code(anna, codes[3]) is None
    assert isinstance(verify_code(anna, codes[4].upper()), StaticDevice)


def test_a_stored_hash_is_no_code_here_or_on_another_account(db: None) -> None:
    """Typing a hash read from the database fails, and so does a hash moved to another
    account's backup device."""
    anna, boris = staff("anna"), staff("boris")
    new_backup_codes(anna)
    new_backup_codes(boris)
    stolen = StaticToken.objects.filter(device__user=anna).first()
    assert stolen is not None
    assert verify_code(anna, stolen.token) is None
    StaticToken.objects.create(device=StaticDevice.objects.get(user=boris), token=stolen.token)
    assert verify_code(boris, stolen.token) is None


def test_the_migration_hashes_codes_issued_before_it(db: None) -> None:
    """Codes stored in the clear by an earlier version are hashed in place and keep working;
    running the migration again changes nothing."""
    anna = staff("anna")
    device = StaticDevice.objects.create(user=anna, name="Backup codes", confirmed=True)
    StaticToken.objects.create(device=device, token="abcd2345")
    migration.hash_codes(apps, None)
    [token] = StaticToken.objects.filter(device=device)
    assert token.token == backup_code_digest(device, "abcd2345")
    migration.hash_codes(apps, None)
    assert StaticToken.objects.get(device=device).token == token.token
    assert verify_code(anna, "abcd2345") == device


# -- Authenticator apps ---------------------------------------------------------------------------


def raw_app_keys() -> str:
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(AppDevice._meta.db_table)
        cursor.execute(f"SELECT key FROM {table}")  # noqa: S608 - constant table name
        return " ".join(row[0] for row in cursor.fetchall())


def test_no_authenticator_secret_is_stored_in_plaintext(db: None) -> None:
    """Enrolment through the login pages leaves only ciphertext in the table (neither the hex
    secret nor its base32 form), nothing in django-otp's plaintext table, and the app's codes
    still open the back office."""
    from tests.test_accounts_login import code_for, make_staff, password_step

    user = make_staff()
    client = Client()
    password_step(client, "anna")
    client.get("/accounts/enrol/")
    device = AppDevice.objects.get(user=user)
    secret_hex = device.key
    secret_b32 = b32encode(bytes.fromhex(secret_hex)).decode()
    done = client.post("/accounts/enrol/", {"code": code_for(device), "next": "/admin/"})
    assert done.status_code == 200 and client.get("/admin/").status_code == 200
    stored = raw_app_keys()
    assert stored.startswith("p1:")
    assert secret_hex not in stored and secret_hex.upper() not in stored
    assert secret_b32 not in stored and secret_b32.rstrip("=") not in stored
    assert not TOTPDevice.objects.exists()
    assert AppDevice.objects.get(user=user).confirmed


def test_verifying_a_code_does_not_rewrite_the_secret(db: None) -> None:
    """A login saves the device (last time step, throttling) but the stored ciphertext of the
    unchanged secret stays the same, so the audit log does not record the key as changed."""
    from tests.test_accounts_login import add_authenticator, code_for, make_staff

    device = add_authenticator(make_staff())
    before = raw_app_keys()
    fresh = AppDevice.objects.get(pk=device.pk)  # as the login loads it
    assert fresh.verify_token(code_for(device))
    assert raw_app_keys() == before
    assert AppDevice.objects.get(pk=device.pk).last_t > -1


def test_the_migration_moves_plaintext_devices_and_keeps_them_working(db: None) -> None:
    """A device stored by django-otp in the clear is moved to an encrypted one with the same
    secret and counters; the plaintext row is gone; going back restores it."""
    from tests.test_accounts_login import code_for, make_staff

    user = make_staff()
    old = TOTPDevice.objects.create(user=user, name="Phone", confirmed=True, last_t=5)
    secret = old.key
    app_migration.encrypt_devices(apps, None)
    assert not TOTPDevice.objects.exists()
    moved = AppDevice.objects.get(user=user)
    assert (moved.name, moved.confirmed, moved.last_t, moved.key) == ("Phone", True, 5, secret)
    assert secret not in raw_app_keys()
    assert verify_code(user, code_for(moved)) == moved
    app_migration.decrypt_devices(apps, None)
    assert TOTPDevice.objects.get(user=user).key == secret
    assert not AppDevice.objects.exists()


def test_rotate_keys_re_encrypts_authenticator_secrets(db: None) -> None:
    """The secrets are personal-data ciphertexts: `rotate-keys` moves them to the new key."""
    from tests.test_accounts_login import add_authenticator, make_staff

    device = add_authenticator(make_staff())
    secret, before = device.key, raw_app_keys()
    call_command("rotate-keys", verbosity=0)
    after = raw_app_keys()
    assert after != before and after.split(":")[1] != before.split(":")[1]
    assert AppDevice.objects.get(pk=device.pk).key == secret


def test_django_otps_plaintext_device_has_no_admin_pages() -> None:
    """Nobody can create a device with a plaintext secret, or see one, in the back office."""
    assert not admin.site.is_registered(TOTPDevice)
    assert not admin.site.is_registered(AppDevice)


def test_replacing_backup_codes_is_in_the_audit_log_without_the_codes(db: None) -> None:
    """New codes and a used code leave entries naming rows and fields, never a code or hash."""
    anna = staff("anna")
    before = AuditEntry.objects.count()
    codes = new_backup_codes(anna)
    created = AuditEntry.objects.filter(model="otp_static.StaticToken", action="create")
    assert created.count() == 10
    assert verify_code(anna, codes[0]) is not None
    assert AuditEntry.objects.filter(model="otp_static.StaticToken", action="delete").exists()
    logged = json.dumps(list(AuditEntry.objects.filter(seq__gt=before).values("values")))
    hashes = StaticToken.objects.values_list("token", flat=True)
    assert not [c for c in [*codes, *hashes] if c in logged]
