"""`solidarity restore --from FILE --key PRIVKEY`: restore a backup into a fresh instance."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from solidarity.audit.backup import BackupError, restore_from_file
from solidarity.audit.keys import KeyFileError, read_backup_private


class Command(BaseCommand):
    help = (
        "Restore a backup made by `solidarity backup`: checks the whole file first, migrates, "
        "loads every row in one transaction and checks the content hashes, then restores the "
        "media. Refuses a database that already holds data unless --force."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--from", dest="source", type=Path, required=True, help="the backup file"
        )
        parser.add_argument("--key", type=Path, required=True, help="the backup private key")
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace the data of a database (and media directory) that is not empty",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            key = read_backup_private(options["key"])
            summary = restore_from_file(
                options["source"], key, force=options["force"], progress=self.stdout.write
            )
        except (BackupError, KeyFileError) as error:
            raise CommandError(f"{error}") from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored the backup of {summary.created}: {summary.rows} rows in "
                f"{summary.tables} tables (content hashes match), {summary.files} media files. "
                "Check the audit log with `solidarity audit verify`."
            )
        )
