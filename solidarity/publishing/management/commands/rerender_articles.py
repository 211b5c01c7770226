"""`solidarity rerender_articles [--dry-run]`: make every article's stored HTML current again.

Run after an upgrade that changed the renderer (Python-Markdown, nh3, the allow-lists) or after
the secret key changed. Until then nothing unsafe is served, only slower: pages, feeds and the
mirror convert each article whose stored HTML is not current themselves.
"""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from solidarity.audit.bulk import named
from solidarity.publishing.models import Article
from solidarity.publishing.services import refresh_stored_html


class Command(BaseCommand):
    help = (
        "Re-render the stored HTML of every article whose copy was made by another renderer "
        "(after an upgrade of Markdown, nh3 or the allow-lists), from another body, or under "
        "another secret key. Until it runs, readers convert those articles themselves."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="count the stale articles; change nothing"
        )
        parser.add_argument(
            "-q", "--quiet", action="store_true", help="no progress, only the summary"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run: bool = options["dry_run"]
        total = Article.objects.count()
        started = time.monotonic()

        def progress(seen: int, stale: int) -> None:
            if not options["quiet"]:
                self.stderr.write(f"{seen}/{total} articles checked, {stale} stale")

        # The audit log names the rows rewritten under this command's name, not "update".
        with named("rerender_articles"):
            stale = refresh_stored_html(Article, dry_run=dry_run, progress=progress)
        seconds = time.monotonic() - started
        summary = (
            f"Dry run: {stale} of {total} articles would be re-rendered ({seconds:.1f} s)."
            if dry_run
            else f"Re-rendered {stale} of {total} articles in {seconds:.1f} s."
        )
        self.stdout.write(self.style.SUCCESS(summary))
