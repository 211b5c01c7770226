"""The retention purge as a background task that re-enqueues itself.

No scheduler daemon: the database worker that sends e-mail (`solidarity db_worker`, started by
`solidarity serve`) runs `purge_expired`, which queues its next run SOLIDARITY_PURGE_INTERVAL
later (`run_after`). `ensure_scheduled` starts the chain, and mends it if it was broken (a
crash between two runs). At most one run waits in the queue: two servers starting at once may
both enqueue one, and each then deletes every waiting run but the first in a fixed order, so
both keep the same one.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from solidarity.audit.context import acting_as

from . import retention


@task()
def purge_expired() -> dict[str, int]:
    """Apply the retention rules, then queue the next run; return rows deleted per rule."""
    try:
        # Named, so that the audit log says the retention policy deleted these rows.
        with acting_as("system:retention"):
            results = retention.purge()
    finally:
        # Also after a failure: a rule that failed once must not end the purging for good.
        ensure_scheduled()
    return {result.rule.name: result.rows for result in results}


def _waiting() -> list[DBTaskResult]:  # type: ignore[type-arg]
    return list(
        DBTaskResult.objects.filter(
            task_path=purge_expired.module_path, status=TaskResultStatus.READY
        ).order_by("run_after", "id")
    )


def ensure_scheduled(now: dt.datetime | None = None) -> DBTaskResult:  # type: ignore[type-arg]
    """Make sure exactly one run of `purge_expired` waits in the queue; return it.

    A new run is due one interval after `now`: a server that restarts often must not purge
    at every start (nor run no purge at all because each start pushed the run further away,
    which is why a waiting run is kept as it is).
    """
    if not _waiting():
        due = (now or timezone.now()) + settings.SOLIDARITY_PURGE_INTERVAL
        purge_expired.using(run_after=due).enqueue()
    waiting = _waiting()
    with transaction.atomic():
        DBTaskResult.objects.filter(pk__in=[run.pk for run in waiting[1:]]).delete()
    return waiting[0]
