"""Audit entries of one group commit, appended to the chain together at its end.

A group commit (solidarity/campaigns/groupcommit.py) runs the writes of many concurrent
requests in one transaction. Appending each of their entries on its own reads the head of the
chain and inserts one row per entry, which cost as much CPU as the signature itself. Inside
`collecting()` the signal handlers hand their entries here instead, with the actor and time of
the change; `flush()` then reads the head once and inserts them all, in the order the changes
were made, in the same transaction, so they still commit or roll back with the changes: no
entry is dropped, and none is written for a change that did not happen.

A write whose savepoint rolls back must take its entries with it, as it would if they had
been appended at once. Each entry therefore registers a marker with `transaction.on_commit`,
which Django forgets when the savepoint it was registered in rolls back; `flush()` keeps only
the entries whose marker is still registered.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from . import services
from .context import current_actor
from .models import AuditEntry


class _Marker:
    """A do-nothing on-commit callback whose presence says the change was not rolled back."""

    def __call__(self) -> None:
        return None


@dataclass
class Pending:
    action: str
    model: str
    object_pk: str
    fields: list[str]
    values: dict[str, Any]
    actor: str
    timestamp: Any
    marker: _Marker = field(default_factory=_Marker)


_collector: ContextVar[list[Pending] | None] = ContextVar("audit_batch", default=None)


@contextmanager
def collecting(pending: list[Pending] | None = None) -> Iterator[list[Pending]]:
    """Within this block (in this context), signal handlers defer their entries to the list."""
    pending = [] if pending is None else pending
    token = _collector.set(pending)
    try:
        yield pending
    finally:
        _collector.reset(token)


def defer(
    action: str,
    model: str,
    object_pk: object,
    fields: Iterable[str] = (),
    values: dict[str, Any] | None = None,
) -> bool:
    """Keep an entry for the batch being collected; False (nothing kept) outside one."""
    pending = _collector.get()
    if pending is None or not connection.in_atomic_block:
        return False
    entry = Pending(
        action=action,
        model=model,
        object_pk=str(object_pk),
        fields=sorted(set(fields)),
        values=values or {},
        actor=current_actor(),
        timestamp=timezone.now(),
    )
    transaction.on_commit(entry.marker)
    pending.append(entry)
    return True


def flush(pending: list[Pending]) -> list[AuditEntry]:
    """Append the entries of changes not rolled back, in order, in the current transaction."""
    # Django keeps (savepoint ids, callback, robust) for each; it drops a rolled-back one's.
    registered = {id(registration[1]) for registration in connection.run_on_commit}
    kept = [p for p in pending if id(p.marker) in registered]
    pending.clear()
    if not kept:
        return []
    with transaction.atomic(savepoint=False):
        services._lock_chain()  # the same lock as every append
        head = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev_hash = (head[0] + 1, head[1]) if head else (1, services.GENESIS)
        entries = []
        for item in kept:
            entry = AuditEntry(
                seq=seq,
                prev_hash=prev_hash,
                timestamp=item.timestamp,
                actor=item.actor,
                action=item.action,
                model=item.model,
                object_pk=item.object_pk,
                fields=item.fields,
                values=item.values,
            )
            entry.hash = services.hash_of(entry)
            entries.append(entry)
            seq, prev_hash = seq + 1, entry.hash
        return AuditEntry.objects.bulk_create(entries)
