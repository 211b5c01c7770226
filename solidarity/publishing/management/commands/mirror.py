"""`solidarity mirror DIR`: write or update the static copy of the public site."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from solidarity.publishing.mirror import MirrorError, build_mirror


class Command(BaseCommand):
    help = (
        "Write a self-contained static copy of the public site into DIR (relative links only, "
        "for any static host or a USB stick). A re-run rewrites only what changed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help="Where to write the mirror.")
        parser.add_argument(
            "-q", "--quiet", action="store_true", help="No progress counter on stderr."
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Processes rendering pages (default: one per CPU, at most 4; 1: none).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dest: Path = options["directory"]
        if dest.exists() and not dest.is_dir():
            raise CommandError(f"{dest} exists and is not a directory.")
        if dest.is_dir() and any(dest.iterdir()) and not (dest / ".mirror-manifest.json").exists():
            raise CommandError(
                f"{dest} is not empty and holds no mirror: choose an empty or new directory "
                "(the mirror deletes files that are no longer part of the site)."
            )
        workers: int | None = options["workers"]
        if workers is not None and workers < 1:
            raise CommandError("--workers must be 1 or more.")
        try:
            report = build_mirror(
                dest, progress=None if options["quiet"] else sys.stderr, workers=workers
            )
        except (MirrorError, OSError) as error:
            raise CommandError(str(error)) from error
        if not options["quiet"]:
            self.stdout.write(
                f"Mirror in {dest}: {report.files} files ({report.written} written, "
                f"{report.unchanged} unchanged, {report.deleted} deleted); "
                f"{report.rendered} pages rendered, {report.reused} unchanged; "
                f"{report.seconds:.1f} s."
            )
