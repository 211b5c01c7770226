"""`solidarity backup --to FILE --recipient PUBKEY`: an encrypted copy of database and media."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from solidarity.audit.backup import BackupError, backup_to_file
from solidarity.audit.keys import KeyFileError, read_backup_public


class Command(BaseCommand):
    help = (
        "Write a consistent backup of the whole database and the media directory into one "
        "file encrypted to an offline public key (made with `solidarity backup-keygen`). This "
        "server cannot read the backup back; only the holder of the private key can restore it."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--to", type=Path, required=True, help="the backup file to create")
        parser.add_argument(
            "--recipient", type=Path, required=True, help="the backup public key file (.pub)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            recipient = read_backup_public(options["recipient"])
            summary = backup_to_file(options["to"], recipient)
        except (BackupError, KeyFileError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {options['to']}: {summary.rows} rows in {summary.tables} "
                f"tables, {summary.files} media files ({summary.file_bytes} bytes), encrypted "
                f"to the key {summary.recipient}."
            )
        )
