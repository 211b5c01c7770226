"""`solidarity purge [--dry-run]`: delete what the retention policy says has expired."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from solidarity.core import retention, tasks


class Command(BaseCommand):
    help = (
        "Delete rows kept longer than SOLIDARITY_RETENTION allows: unconfirmed signatures, "
        "supporters left with no submission, expired sessions, old login failures, finished "
        "task results, received signatures that could not be recorded, and mails written to "
        "files. The background worker does this every SOLIDARITY_PURGE_INTERVAL."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be deleted; change nothing"
        )
        parser.add_argument(
            "--vacuum",
            action="store_true",
            help="then, on SQLite, rewrite the database file and empty its write-ahead log, so "
            "that nothing deleted is left on disk (blocks writers while it runs)",
        )
        parser.add_argument(
            "--schedule",
            action="store_true",
            help="also queue the periodic purge for the background worker, if it is not queued "
            "(`solidarity serve` does this itself)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run: bool = options["dry_run"]
        started = time.monotonic()
        verb = "would delete" if dry_run else "deleted"

        def report(result: retention.Purged) -> None:
            period = retention.period(result.rule.name)
            self.stdout.write(
                f"{result.rule.description} (older than {period}): {verb} {result.rows}"
            )

        results = retention.purge(dry_run=dry_run, report=report)
        total = sum(result.rows for result in results)
        seconds = time.monotonic() - started
        summary = (
            f"Dry run: would delete {total} rows ({seconds:.1f} s)."
            if dry_run
            else f"Deleted {total} rows in {seconds:.1f} s."
        )
        self.stdout.write(self.style.SUCCESS(summary))
        if options["vacuum"] and not dry_run:
            done = retention.vacuum()
            self.stdout.write(
                "Database file rewritten (VACUUM)." if done else "No SQLite: no VACUUM."
            )
        if options["schedule"] and not dry_run:
            waiting = tasks.ensure_scheduled()
            self.stdout.write(f"Next background purge: {waiting.run_after:%Y-%m-%d %H:%M} UTC.")
