"""Sessions move to `accounts.HashedSession`, which stores SHA-256(session key) instead of the
key (solidarity.accounts.session_store; threat model M9).

Django's `django_session` table held every key in plain: it is emptied here, not copied, so
that the keys sitting in it (and in any dump or backup taken before) open nothing any more.
Everyone logged in at the upgrade logs in again. Going back creates nothing: the old keys are
gone, and users log in again then too.
"""

from django.db import migrations, models


def empty_django_sessions(apps, schema_editor):
    # Through the ORM, one DELETE: on SQLite secure_delete (settings.py) zeroes the freed pages.
    apps.get_model("sessions", "Session").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_signed_in_sessions"),
        ("sessions", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="HashedSession",
            fields=[
                ("session_data", models.TextField(verbose_name="session data")),
                ("expire_date", models.DateTimeField(db_index=True, verbose_name="expire date")),
                (
                    "session_key",
                    models.CharField(
                        max_length=64, primary_key=True, serialize=False, verbose_name="session key"
                    ),
                ),
            ],
            options={
                "verbose_name": "session",
                "verbose_name_plural": "sessions",
                "abstract": False,
            },
        ),
        migrations.RunPython(empty_django_sessions, migrations.RunPython.noop),
    ]
