"""`solidarity keyring init | export --to FILE --recipient PUB | import --from FILE --key KEY`:
the production keyring's creation and its copy encrypted to the offline backup key."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from solidarity.audit.keys import KeyFileError, read_backup_private, read_backup_public
from solidarity.safety.keyring_copy import (
    KeyringCopyError,
    export_keyring,
    import_keyring,
    init_keyring,
)


class Command(BaseCommand):
    help = (
        "Create the keyring that encrypts personal data (at SOLIDARITY_KEYRING_FILE), write a "
        "copy of it encrypted to the offline backup key, or write such a copy back. Backups "
        "leave the keyring out: without a copy, a lost server leaves them unreadable."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser(
            "init", help="Create the keyring at SOLIDARITY_KEYRING_FILE (mode 0600), once."
        )
        export = sub.add_parser(
            "export", help="Write the keyring, encrypted to the backup public key, to a new file."
        )
        export.add_argument("--to", type=Path, required=True, help="the copy to create")
        export.add_argument(
            "--recipient", type=Path, required=True, help="the backup public key file (.pub)"
        )
        restore = sub.add_parser(
            "import",
            help="Write the keyring from a copy, opened with the offline backup private key.",
        )
        restore.add_argument(
            "--from",
            dest="source",
            metavar="FILE",
            type=Path,
            required=True,
            help="the copy to read",
        )
        restore.add_argument(
            "--key", type=Path, required=True, help="the backup private key file (backup.key)"
        )
        restore.add_argument(
            "--replace",
            action="store_true",
            help="replace an existing keyring; refused unless the copy holds all its keys",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except (KeyringCopyError, KeyFileError) as error:
            raise CommandError(str(error)) from error

    def _init(self, options: dict[str, Any]) -> None:
        keyring = init_keyring()
        self.stdout.write(
            self.style.SUCCESS(
                f"Keyring created at {keyring.path} (mode 0600), current key {keyring.current}."
            )
        )
        self.stdout.write(
            "Backups do not contain it. Make an encrypted copy now, and again after every "
            "`solidarity rotate-keys`:\n"
            "  solidarity keyring export --to FILE --recipient backup.pub\n"
            "and keep it off this server, apart from the backups."
        )

    def _export(self, options: dict[str, Any]) -> None:
        recipient = read_backup_public(options["recipient"])
        done = export_keyring(options["to"], recipient)
        self.stdout.write(
            self.style.SUCCESS(
                f"Keyring copy written to {done.path} (mode 0600): keys "
                f"{', '.join(done.key_ids)} (current {done.current}) and the server secret, "
                f"encrypted to the key {done.recipient}."
            )
        )
        self.stdout.write(
            "Keep it off this server, apart from the backups: with the backup private key it "
            "opens every backup made under these keys."
        )

    def _import(self, options: dict[str, Any]) -> None:
        key = read_backup_private(options["key"])
        done = import_keyring(options["source"], key, replace=options["replace"])
        verb = "replaced" if done.replaced else "written"
        self.stdout.write(
            self.style.SUCCESS(
                f"Keyring {verb} at {done.path} (mode 0600): keys {', '.join(done.key_ids)}, "
                f"current {done.current}."
            )
        )
        check = done.check
        if not check.tried:
            self.stdout.write(
                "The database holds no encrypted value yet, so the keyring could not be tried "
                "against it. Restore the backup now (`solidarity restore`)."
            )
        elif check.failed:
            self.stdout.write(
                self.style.WARNING(
                    f"It opened {check.opened} of {check.tried} stored values tried; not: "
                    f"{', '.join(check.failed)}. Those are under a key this copy lacks (a copy "
                    "older than a `rotate-keys`?): look for a newer copy."
                )
            )
        else:
            self.stdout.write(f"It opens the database's values ({check.tried} tried).")
