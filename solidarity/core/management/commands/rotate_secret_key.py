"""`solidarity rotate_secret_key [--compromised]`: a new SECRET_KEY, the old one kept a while."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from solidarity.audit.services import append
from solidarity.core.credentials import ReadOnlyCredential
from solidarity.core.secret_key import CRYPTOPERIOD_DAYS, FALLBACK_DAYS, RotationError, rotate


class Command(BaseCommand):
    help = (
        "Write a new secret key to the key file (SOLIDARITY_SECRET_KEY_FILE) and keep the old "
        "one in the fallbacks file, so that sessions and links made under it keep working "
        f"after the restart. Remove it from there after {FALLBACK_DAYS} days."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--compromised",
            action="store_true",
            help=(
                "The old key may have been read by someone else: keep no old key. Everyone "
                "logs in again and links already sent stop working."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        key_file = settings.SOLIDARITY_SECRET_KEY_FILE
        fallbacks_file = settings.SOLIDARITY_SECRET_KEY_FALLBACKS_FILE
        if key_file is None:
            raise CommandError(
                "The secret key comes from the environment (SOLIDARITY_SECRET_KEY), which this "
                "command cannot change. Rotate it by hand: put the current key on the first "
                "line of a file only the server's user can read (chmod 600) and point "
                "SOLIDARITY_SECRET_KEY_FALLBACKS_FILE at it (skip this if the key leaked), set "
                "SOLIDARITY_SECRET_KEY to a new key (python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(50))'), and restart. Or move the key to a file "
                "(SOLIDARITY_SECRET_KEY_FILE) and let this command do it next time."
            )
        if fallbacks_file is None:  # set in settings beside the key file; never None here
            raise CommandError("SOLIDARITY_SECRET_KEY_FALLBACKS_FILE is not set.")
        compromised: bool = options["compromised"]
        try:
            done = rotate(Path(key_file), Path(fallbacks_file), compromised=compromised)
        except (RotationError, ReadOnlyCredential, OSError) as error:
            raise CommandError(str(error)) from None
        try:
            # In the chain like the keyring's rotation: when the key changed, and whether the
            # old one was kept (never any key).
            append(
                "secret_key_rotated",
                "settings",
                "SECRET_KEY",
                values={"old_keys_kept": done.kept, "compromised": compromised},
            )
        except DatabaseError as error:
            raise CommandError(
                f"The key was rotated, but the audit log could not record it: {error}"
            ) from None
        write = self.stdout.write
        write(f"New secret key written to {done.key_file} (mode 0600).")
        if done.remove_after is None:
            write(
                f"No old key kept: {done.fallbacks_file} is empty. After the restart everyone "
                "logs in again, invitation links must be made again, and unsubscribe links in "
                "mails already sent no longer work (each supporter's next mail has a new one)."
            )
        else:
            write(
                f"The old key is the first line of {done.fallbacks_file} ({done.kept} old "
                f"key{'s' if done.kept != 1 else ''} there): sessions, invitation links and "
                "unsubscribe links made under it keep working."
            )
        write("Next:")
        write(
            "  1. Restart every application server and the task worker: the key is read at "
            "start. With several servers, copy both files to each first. If the key file is "
            "filled at boot from elsewhere, store the new key there too, or the next boot "
            "brings the old one back."
        )
        write("  2. After the restart: solidarity rerender_articles (article HTML is stamped")
        write("     with the key; until then articles are converted again on every read).")
        if done.remove_after is not None:
            write(
                f"  3. On {done.remove_after:%Y-%m-%d} ({FALLBACK_DAYS} days), delete the old "
                f"key's line from {done.fallbacks_file} (the last, unless you rotated again "
                "since) and restart: until then it is as good as the new key for checking "
                "sessions and links."
            )
        write(
            f"Rotate again within {CRYPTOPERIOD_DAYS} days, and at once with --compromised if "
            "anyone else may have read the key."
        )
