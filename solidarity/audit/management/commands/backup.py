"""`solidarity backup --to FILE | --into DIR [--keep N] --recipient PUBKEY`: an encrypted copy of
database and media, as one file or as the newest of a series kept in a directory."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from solidarity.audit.backup import BackupError, BackupSummary, backup_into, backup_to_file
from solidarity.audit.keys import KeyFileError, read_backup_public


class Command(BaseCommand):
    help = (
        "Write a consistent backup of the whole database and the media directory into one "
        "file encrypted to an offline public key (made with `solidarity backup-keygen`). This "
        "server cannot read the backup back; only the holder of the private key can restore it. "
        "With --into DIR the file is DIR/solidarity-YYYYMMDDTHHMMSSZ.backup (UTC), and the "
        "oldest files so named in DIR beyond the newest --keep are deleted afterwards."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--to", type=Path, help="the backup file to create")
        target.add_argument(
            "--into",
            type=Path,
            help="an existing directory, outside the data, holding a series of backups",
        )
        parser.add_argument(
            "--keep",
            type=int,
            help="with --into: how many backups of the series to keep, the new one included "
            "(default SOLIDARITY_BACKUP_KEEP, 14)",
        )
        parser.add_argument(
            "--recipient", type=Path, required=True, help="the backup public key file (.pub)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        keep = options["keep"]
        if options["to"] is not None and keep is not None:
            raise CommandError(
                "--keep goes with --into only: a backup made with --to is yours to keep."
            )
        try:
            recipient = read_backup_public(options["recipient"])
            if options["to"] is not None:
                summary = backup_to_file(options["to"], recipient)
                self._written(options["to"], summary)
                return
            if keep is None:
                keep = settings.SOLIDARITY_BACKUP_KEEP
            series = backup_into(options["into"], recipient, keep)
        except (BackupError, KeyFileError) as error:
            raise CommandError(str(error)) from error
        self._written(series.path, series.summary)
        if series.deleted:
            self.stdout.write(f"Deleted {len(series.deleted)} older backups (kept {keep}):")
            for name in series.deleted:
                self.stdout.write(f"  {name}")
        else:
            self.stdout.write(f"No older backup deleted (keeping {keep}).")

    def _written(self, path: Path, summary: BackupSummary) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {path}: {summary.rows} rows in {summary.tables} "
                f"tables, {summary.files} media files ({summary.file_bytes} bytes), encrypted "
                f"to the key {summary.recipient}."
            )
        )
