"""`solidarity backup-keygen --out DIR`: the offline key pair that backups are encrypted to."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from solidarity.audit.keys import KeyFileError, write_backup_pair


class Command(BaseCommand):
    help = (
        "Create the backup key pair: backup.key (private, 0600) and backup.pub. Run it on an "
        "offline machine; copy only backup.pub to the server."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--out", type=Path, required=True, help="directory for the two keys")

    def handle(self, *args: Any, **options: Any) -> None:
        out: Path = options["out"]
        private, public = out / "backup.key", out / "backup.pub"
        try:
            fp = write_backup_pair(private, public)
        except KeyFileError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Private key: {private} (readable only by you). Keep it offline, in two places; "
            "without it no backup can be restored, and with it anyone can read every backup.\n"
            f"Public key:  {public} (fingerprint {fp}). Copy this one to the server and pass it "
            "to `solidarity backup --recipient`."
        )
