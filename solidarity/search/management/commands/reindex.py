"""`solidarity reindex`: rebuild the name index, e.g. after the key rules changed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from solidarity.search import services
from solidarity.search.names import KEYS_VERSION


class Command(BaseCommand):
    help = (
        "Rebuild the search index of names (people, organisations, places, events). Needed "
        "after an upgrade that changes the key rules, or after loading data with loaddata."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        stale = services.stale_rows()
        if stale:
            self.stdout.write(f"{stale} index rows were built by other key rules.")
        last: dict[str, int] = {}

        def progress(target: str, done: int, total: int) -> None:
            # One line per tenth of each model, and the last: enough to see it move.
            step = max(1, total // 10)
            if done == total or done // step != last.get(target, -1):
                last[target] = done // step
                self.stdout.write(f"  {target}: {done}/{total} records")

        counts = services.reindex(progress)
        summary = ", ".join(f"{rows} for {target}s" for target, rows in counts.items())
        self.stdout.write(
            self.style.SUCCESS(f"Index rebuilt with key rules version {KEYS_VERSION}: {summary}.")
        )
