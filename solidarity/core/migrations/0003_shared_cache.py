"""The table of the shared cache (solidarity/core/cache.py), on every database.

Made by `createcachetable`'s own code, so that `migrate` alone, the test suite's database and
`.ci/run` all have it, with exactly Django's columns and indexes. Only the table: no model in
the project's state, since the rows belong to the cache backend, not to the admin or the audit
log. Created on SQLite too, where the cache stays in memory unless SOLIDARITY_CACHE=database
asks for the table.
"""

from django.core.management.commands.createcachetable import Command
from django.db import migrations

TABLE = "solidarity_cache"


def create(apps, schema_editor):
    command = Command()
    command.verbosity = 0  # set by the command line otherwise
    # Skips a table that exists already (made by hand with `createcachetable`).
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_verbose_names"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
