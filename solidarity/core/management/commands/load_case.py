"""`solidarity load_case PATH`: load a case file of the seed case's shape."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from solidarity.documentation.seed import SEED_CASE, SeedError, load_case


class Command(BaseCommand):
    help = (
        "Load a case file (YAML in the shape of "
        f"{SEED_CASE.relative_to(SEED_CASE.parents[3])}) in one transaction. A file with an "
        "error changes nothing; loading a file again updates the same records."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("path", type=Path, help="the YAML file to load")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        try:
            report = load_case(path)
        except SeedError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Loaded {path}: {report.summary()}.")
        if options["verbosity"] >= 2:
            for line in report.lines():
                self.stdout.write(f"  {line}")
