"""`solidarity rotate-keys`: re-encrypt every personal value under a new keyring key."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from solidarity.core.credentials import ReadOnlyCredential
from solidarity.safety.crypto import DecryptionError, keyring_path
from solidarity.safety.rotation import keys_in_use, remove_retired, rotate


class Command(BaseCommand):
    help = (
        "Add a new key to the keyring and re-encrypt every personal value with it, in batches, "
        "each in its own transaction. Safe to interrupt: run again with --resume. Old keys stay "
        "in the keyring (backups taken before may need them) until --remove-retired."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--resume",
            action="store_true",
            help="Do not add a new key: finish re-encrypting under the current one.",
        )
        parser.add_argument("--batch-size", type=int, default=200)
        parser.add_argument(
            "--remove-retired",
            action="store_true",
            help=(
                "Only remove from the keyring the old keys that no value uses any more. Keep a "
                "copy of the old keyring with the backups made before the rotation."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity: int = options["verbosity"]
        try:
            if options["remove_retired"]:
                removed = remove_retired()
                if removed:
                    self.stdout.write(f"Removed from {keyring_path()}: {', '.join(removed)}.")
                else:
                    self.stdout.write("No retired key to remove.")
                return
            if options["batch_size"] < 1:
                raise CommandError("--batch-size must be at least 1.")
            report = rotate(
                resume=options["resume"],
                batch_size=options["batch_size"],
                progress=self.stdout.write if verbosity >= 2 else None,
            )
        except ReadOnlyCredential as error:  # nothing was changed
            raise CommandError(str(error)) from error
        except DecryptionError as error:
            raise CommandError(
                f"Stopped: {error} Every value is still readable; fix this one and run "
                "`solidarity rotate-keys --resume`."
            ) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.rotated} value(s) re-encrypted under key {report.key_id}; "
                f"{report.unchanged} empty or already current."
            )
        )
        for label, count in sorted(report.by_field.items()):
            self.stdout.write(f"  {label}: {count}")
        self.stdout.write(
            f"Keys in use now: {keys_in_use() or 'none'}. Remove the old ones with "
            "`solidarity rotate-keys --remove-retired` once no backup needs them."
        )
