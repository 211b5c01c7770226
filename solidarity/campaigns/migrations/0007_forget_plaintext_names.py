"""After 0006 encrypted names, countries and comments, make SQLite forget the plaintext.

As in 0003: replaced row contents linger in free pages and old WAL frames until reused, so
VACUUM rewrites the file from live rows and a TRUNCATE checkpoint empties the log. Only when
there were supporters; it cannot run inside a transaction and changes no data.
"""

from django.db import migrations


def vacuum(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite" or connection.settings_dict["NAME"] in ("", ":memory:"):
        return
    if not apps.get_model("campaigns", "Supporter").objects.exists():
        return
    with connection.cursor() as cursor:
        cursor.execute("VACUUM")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("campaigns", "0006_supporter_names_encrypted"),
    ]

    operations = [
        migrations.RunPython(vacuum, migrations.RunPython.noop, atomic=False),
    ]
