"""Authenticator apps move from django-otp's TOTPDevice (secret in plain hex) to AppDevice,
whose secret is encrypted with the keyring (solidarity.accounts.models.AppDevice).

Each device is copied with its secret, counters and state, so authenticator apps keep working
without a new enrolment; the plaintext rows are then deleted. Going back copies them the other
way, decrypted, which needs the keyring too. A session verified with an old device asks for a
code again, as its device id changed.
"""

import uuid

import django.db.models.deletion
import django_otp.plugins.otp_totp.models
from django.conf import settings
from django.db import migrations, models

import solidarity.safety.fields

COPIED = [
    "user_id",
    "name",
    "confirmed",
    "throttling_failure_timestamp",
    "throttling_failure_count",
    "created_at",
    "last_used_at",
    "step",
    "t0",
    "digits",
    "tolerance",
    "drift",
    "last_t",
]


def encrypt_devices(apps, schema_editor):
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    AppDevice = apps.get_model("accounts", "AppDevice")
    for old in TOTPDevice.objects.order_by("pk"):
        # The field encrypts on save, bound to the new row's nonce.
        AppDevice.objects.create(key=old.key, **{name: getattr(old, name) for name in COPIED})
    TOTPDevice.objects.all().delete()


def decrypt_devices(apps, schema_editor):
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    AppDevice = apps.get_model("accounts", "AppDevice")
    for device in AppDevice.objects.order_by("pk"):
        # Reading the field decrypts it (the historical model has the real field).
        plain = {name: getattr(device, name) for name in COPIED}
        TOTPDevice.objects.create(key=device.key, **plain)
    AppDevice.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_hash_backup_codes"),
        ("otp_totp", "0003_add_timestamps"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AppDevice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "name",
                    models.CharField(
                        help_text="The human-readable name of this device.", max_length=64
                    ),
                ),
                (
                    "confirmed",
                    models.BooleanField(default=True, help_text="Is this device ready for use?"),
                ),
                (
                    "throttling_failure_timestamp",
                    models.DateTimeField(
                        blank=True,
                        default=None,
                        help_text=(
                            "A timestamp of the last failed verification attempt. Null if last "
                            "attempt succeeded."
                        ),
                        null=True,
                    ),
                ),
                (
                    "throttling_failure_count",
                    models.PositiveIntegerField(
                        default=0, help_text="Number of successive failed attempts."
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        auto_now_add=True,
                        help_text=(
                            "The date and time when this device was initially created in the "
                            "system."
                        ),
                        null=True,
                    ),
                ),
                (
                    "last_used_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="The most recent date and time this device was used.",
                        null=True,
                    ),
                ),
                (
                    "key",
                    solidarity.safety.fields.EncryptedTextField(
                        default=django_otp.plugins.otp_totp.models.default_key,
                        verbose_name="secret key",
                    ),
                ),
                (
                    "step",
                    models.PositiveSmallIntegerField(
                        default=30, verbose_name="time step (seconds)"
                    ),
                ),
                (
                    "t0",
                    models.BigIntegerField(default=0, verbose_name="start of counting (Unix time)"),
                ),
                (
                    "digits",
                    models.PositiveSmallIntegerField(
                        choices=[(6, 6), (8, 8)], default=6, verbose_name="digits"
                    ),
                ),
                (
                    "tolerance",
                    models.PositiveSmallIntegerField(
                        default=1, verbose_name="tolerance (time steps)"
                    ),
                ),
                ("drift", models.SmallIntegerField(default=0, verbose_name="drift (time steps)")),
                (
                    "last_t",
                    models.BigIntegerField(default=-1, verbose_name="last time step used"),
                ),
                (
                    "row_nonce",
                    models.UUIDField(default=uuid.uuid4, editable=False, verbose_name="row identity"),
                ),
                (
                    "user",
                    models.ForeignKey(
                        help_text="The user that this device belongs to.",
                        on_delete=django.db.models.deletion.CASCADE,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "authenticator app",
                "verbose_name_plural": "authenticator apps",
                "abstract": False,
            },
        ),
        migrations.RunPython(encrypt_devices, decrypt_devices),
    ]
