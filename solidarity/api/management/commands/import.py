"""`solidarity import people|events|signatures FILE.csv [--dry-run] [--only-good]`."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from solidarity.api import importers


class Command(BaseCommand):
    help = (
        "Import people, events or signatures from a CSV file. Every bad row is reported (line, "
        "column, reason); nothing is imported unless every row is good, or --only-good is given."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("kind", choices=importers.KINDS)
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and report; write nothing."
        )
        parser.add_argument(
            "--only-good", action="store_true", help="Import the good rows, skip the bad ones."
        )
        parser.add_argument(
            "--base-url",
            default="",
            help="The public site's address, e.g. https://example.org, for the links in the "
            "confirmation e-mails that imported signatures get (needed for signatures).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        kind: str = options["kind"]
        path: Path = options["file"]
        base_url = str(options["base_url"]).rstrip("/")
        if kind == "signatures" and not options["dry_run"] and not base_url:
            raise CommandError(
                "Signatures are confirmed by e-mail: give --base-url with the public site's "
                "address, e.g. --base-url https://solidarity.example.org"
            )
        limit = importers.MAX_FILE_BYTES
        try:
            with path.open("rb") as file:
                # At most one byte over the limit is read, whatever the file is (a device or a
                # pipe has no size to ask for first).
                data = file.read(limit + 1)
        except FileNotFoundError:
            raise CommandError(f"No file {path}.") from None
        if len(data) > limit:
            raise CommandError(
                f"{path} is larger than {limit // (1024 * 1024)} MB, the most one import "
                "takes; split it."
            )
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CommandError(f"{path} is not UTF-8 text; save the CSV as UTF-8.") from None
        report = importers.run(
            kind,
            text,
            dry_run=options["dry_run"],
            only_good=options["only_good"],
            base_url=base_url,
        )
        for error in report.errors:
            self.stderr.write(f"{path}: {error}")
        self.stdout.write(report.summary())
        if report.errors and not options["only_good"]:
            raise CommandError(f"{len(report.bad_lines) or 1} bad row(s) in {path}.")
