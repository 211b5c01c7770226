"""Bulk writes recorded like saves: `QuerySet.update`, `bulk_create` and `bulk_update`.

Django sends no signal for these, so a change made with one of them left no entry unless its
caller remembered to record it — and an insider's or a rooted server's change that leaves no
entry is exactly what the log is for (threat model M11). Instead of asking every caller in every
app, `update` and `bulk_create` are wrapped once (`bulk_update` runs through `update`), as
`context.py` wraps management commands: on a model the log covers, the rows concerned are
named, the statement and one entry per row run in one transaction, and the entries are written
like those of the signal handlers (deferred into a group commit's batch when there is one).
Names of fields only, never values.

`QuerySet.update` is rewritten as: read the primary keys of the rows the queryset selects,
then update those of them that it still selects. Every row changed has an entry; the update
behaves as if it ran at the moment the keys were read (on SQLite nothing can come between, the
transaction holds the write lock from its start).

`QuerySet.delete()` needs nothing here: with the log's `post_delete` handler connected, Django
deletes row by row and sends the signal for each. `_raw_delete` (the search index) is not a
public API and stays unrecorded on purpose.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import models, transaction
from django.db.models.query import QuerySet

from . import batch, services
from .context import is_suspended
from .signals import is_audited

# Rows that are derived or ephemeral, not anybody's decision: recording them would bury the
# changes that matter. The search index is rebuilt from the (recorded) records it indexes;
# login failures are throttle counters kept for 15 minutes, and an unauthenticated flood of
# them must not be able to grow the permanent chain.
NOT_RECORDED = {"search.NameKey", "accounts.LoginFailure"}
# Fields that are bookkeeping of the system itself: an update of only these is not a change.
BOOKKEEPING_FIELDS = {"api.ApiToken": {"last_used"}}
# SQLite limits the parameters of one statement; updates go in chunks of this many rows.
CHUNK = 500

_action: ContextVar[str | None] = ContextVar("audit_bulk_action", default=None)


@contextmanager
def named(action: str) -> Iterator[None]:
    """Record the bulk writes inside under `action` ("rotate_keys") instead of the generic
    "update" or "create", so that the log says why rows changed."""
    token = _action.set(action)
    try:
        yield
    finally:
        _action.reset(token)


def _recorded(model: type[models.Model], field_names: Iterable[str] = ()) -> bool:
    if is_suspended() or not is_audited(model):
        return False
    label = services.model_label(model)
    if label in NOT_RECORDED:
        return False
    names = set(field_names)
    return not names or not names <= BOOKKEEPING_FIELDS.get(label, set())


def _field_names(model: type[models.Model], names: Iterable[str]) -> list[str]:
    # Callers may pass an attname ("person_id"); the log names fields ("person").
    return sorted({model._meta.get_field(name).name for name in names})


def record(
    model: type[models.Model], pks: Iterable[object], fields: list[str], action: str
) -> None:
    """One entry per row, in the caller's transaction (or the group commit's batch)."""
    action = _action.get() or action
    label = services.model_label(model)
    for pk in pks:
        if pk is None:
            continue
        if not batch.defer(action, label, pk, fields):
            services.append(action, label, pk, fields)


_installed = False


def install() -> None:
    """Wrap the bulk methods of every QuerySet (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    original_update = QuerySet.update
    original_bulk_create = QuerySet.bulk_create

    def update(self: QuerySet[Any], **kwargs: Any) -> int:
        model = self.model
        if self.query.is_sliced or self.query.combinator or not _recorded(model, kwargs):
            return original_update(self, **kwargs)
        with transaction.atomic(using=self.db, savepoint=False):
            pks = list(self.values_list("pk", flat=True))
            count = 0
            for start in range(0, len(pks), CHUNK):
                chunk = self.filter(pk__in=pks[start : start + CHUNK])
                count += original_update(chunk, **kwargs)
            record(model, pks, _field_names(model, kwargs), "update")
        return count

    def bulk_create(self: QuerySet[Any], objs: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
        model = self.model
        if not _recorded(model):
            return original_bulk_create(self, objs, *args, **kwargs)
        with transaction.atomic(using=self.db, savepoint=False):
            created = original_bulk_create(self, objs, *args, **kwargs)
            fields = [f.name for f in model._meta.concrete_fields if not f.primary_key]
            record(model, [obj.pk for obj in created], sorted(fields), "create")
        return created

    QuerySet.update = update  # type: ignore[method-assign]
    QuerySet.bulk_create = bulk_create  # type: ignore[method-assign]
