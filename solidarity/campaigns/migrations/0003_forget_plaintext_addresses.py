"""After 0002 encrypted the addresses, make SQLite forget the plaintext it overwrote.

SQLite leaves replaced row contents in free space of its pages and in old frames of the
write-ahead log until they happen to be reused, so a disk image taken later (threat model A1)
could still show the addresses 0002 encrypted. VACUUM rewrites the file from live rows only, and
the TRUNCATE checkpoint empties the log. Only when there were supporters: a fresh database has
nothing to forget. (PostgreSQL keeps dead tuples until its own VACUUM; see docs/threat-model.md
on LUKS for disks.) It cannot run inside a transaction, hence atomic = False; it changes no data,
so being interrupted is harmless.
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
        ("campaigns", "0002_supporter_email_encrypted"),
    ]

    operations = [
        migrations.RunPython(vacuum, migrations.RunPython.noop, atomic=False),
    ]
