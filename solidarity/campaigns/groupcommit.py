"""Group commit for SQLite: the writes of concurrent requests share one transaction and one flush.

With synchronous=FULL every SQLite commit waits for the disk (6-12 ms here), and SQLite has one
writer at a time, so signing is capped near 100 signatures/s however many threads serve it;
worse, threads queueing for the lock sleep in SQLite's busy handler (steps growing to 100 ms).
PostgreSQL groups concurrent commits into one flush by itself; this does the same for SQLite
within one server process: whoever holds the write lock runs every write that is waiting, each
in its own savepoint, commits once, and then wakes their callers. No caller returns before its
write is committed, so a "thank you" still means the signature is on disk.

A write that fails rolls back its own savepoint only, and its caller gets the exception; if the
commit itself fails, every caller in the batch gets that error (none was acknowledged). Each
write runs in a copy of its caller's context, so context variables such as the audit log's actor
are the caller's even when another thread commits for it. The audit entries of a batch's writes
are chained together just before the commit (solidarity/audit/batch.py): one read of the
chain's head and one insert for the batch instead of two statements per entry. Work that a
batch needs once, however many writes asked for it (queueing the task that records received
signatures), is registered with `once` and run just before the commit.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db import connection, transaction

from solidarity.audit import batch as audit_batch

T = TypeVar("T")

# Enough to fill a disk flush; bounded so that one leader does not work for everyone forever.
MAX_BATCH = 64


class _Write(Generic[T]):
    def __init__(self, function: Callable[[], T]) -> None:
        self.function = function
        # The leader runs this write in its own thread: it must still see its caller's context
        # variables (who is acting, for the audit log), not the leader's.
        self.context = contextvars.copy_context()
        self.result: T | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()


# The leader's per-batch registry of `once` work; thread-local, because the writes run in
# copies of their callers' contexts but always in the leader's thread.
_batch = threading.local()

_queue_lock = threading.Lock()
_waiting: list[_Write[Any]] = []
_writer = threading.Lock()


def write(function: Callable[[], T]) -> T:
    """Run `function` (database writes) in a transaction, committed before this returns."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        # PostgreSQL groups commits itself; inside a caller's transaction (tests, scripts)
        # there is no commit of ours to share.
        with transaction.atomic():
            return function()
    job: _Write[T] = _Write(function)
    with _queue_lock:
        _waiting.append(job)
    while not job.done.is_set():
        with _writer:
            if job.done.is_set():
                break
            with _queue_lock:
                batch = _waiting[:MAX_BATCH]
                del _waiting[:MAX_BATCH]
            _run(batch)
    if job.error is not None:
        raise job.error
    return job.result  # type: ignore[return-value]


def once(key: str, function: Callable[[], object]) -> None:
    """Run `function` once in the transaction of the current batch, whoever else asks for `key`.

    Outside a batch (PostgreSQL, or inside a caller's transaction) it runs at once.
    """
    hooks: dict[str, Callable[[], object]] | None = getattr(_batch, "hooks", None)
    if hooks is None:
        function()
    else:
        hooks.setdefault(key, function)


def _collected(function: Callable[[], T], pending: list[audit_batch.Pending]) -> T:
    with audit_batch.collecting(pending):
        return function()


def _run(batch: list[_Write[Any]]) -> None:
    pending: list[audit_batch.Pending] = []
    hooks: dict[str, Callable[[], object]] = {}
    try:
        with transaction.atomic():
            _batch.hooks = hooks
            try:
                for job in batch:
                    try:
                        with transaction.atomic():
                            job.result = job.context.run(_collected, job.function, pending)
                    except Exception as error:  # handed to its own caller, re-raised there
                        job.error = error
            finally:
                _batch.hooks = None
            # A hook that fails fails the whole batch: no caller is told "committed".
            for hook in hooks.values():
                hook()
            # The batch's audit entries, chained in one go before the one commit.
            audit_batch.flush(pending)
    except BaseException as error:
        for job in batch:
            job.result = None
            job.error = error
        raise
    finally:
        for job in batch:
            job.done.set()
