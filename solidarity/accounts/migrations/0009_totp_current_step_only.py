"""Authenticator codes are accepted in their own 30-second step only (ASVS 6.5.5).

Existing devices had django-otp's tolerance of one step either way, and a drift learnt from
the last code that matched off-step (most often one typed as it changed, not a wrong clock).
Kept with tolerance 0, such a drift would shift the accepted step for good and refuse the
code the app shows now; both go to 0. Going back restores the tolerance; the drift is
re-learnt at the next logins.
"""

from django.db import migrations, models


def current_step_only(apps, schema_editor):
    AppDevice = apps.get_model("accounts", "AppDevice")
    AppDevice.objects.update(tolerance=0, drift=0)


def one_step_either_way(apps, schema_editor):
    AppDevice = apps.get_model("accounts", "AppDevice")
    AppDevice.objects.update(tolerance=1)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_password_to_replace"),
    ]

    operations = [
        migrations.AlterField(
            model_name="appdevice",
            name="tolerance",
            field=models.PositiveSmallIntegerField(
                default=0, verbose_name="tolerance (time steps)"
            ),
        ),
        migrations.RunPython(current_step_only, one_step_either_way),
    ]
