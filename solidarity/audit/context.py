"""Who is acting: the signed-in user of a request, or the management command being run.

The actor travels in a context variable, so the signal handlers that write audit entries can
name it without every caller passing it down. A request is resolved lazily: most public pages
write nothing, and reading `request.user` costs a session lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any

from django.core.management.base import BaseCommand

UNATTRIBUTED = "system"

_actor: ContextVar[str | Callable[[], str] | None] = ContextVar("audit_actor", default=None)
_suspended: ContextVar[bool] = ContextVar("audit_suspended", default=False)


def actor_for_user(user: Any) -> str:
    """How a user is named in the log: id and username, so a renamed account stays traceable."""
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous"
    return f"user:{user.pk}:{user.get_username()}"


def current_actor() -> str:
    actor = _actor.get()
    if actor is None:
        return UNATTRIBUTED
    return actor() if callable(actor) else actor


def has_actor() -> bool:
    return _actor.get() is not None


@contextmanager
def acting_as(actor: str | Callable[[], str]) -> Iterator[None]:
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def is_suspended() -> bool:
    return _suspended.get()


@contextmanager
def suspended() -> Iterator[None]:
    """Record nothing inside: only for a restore, which reloads rows (audit entries included)
    exactly as they were, and must not add entries that the backup did not have."""
    token = _suspended.set(True)
    try:
        yield
    finally:
        _suspended.reset(token)


_patched = False


def attribute_management_commands() -> None:
    """Run every management command as "system:<command>", so a change made from the command
    line (or through `call_command`) is attributed to the command that made it.

    Django has no hook around a command's execution, so `BaseCommand.execute` is wrapped once.
    A command started by another command (`demo` runs `migrate`) keeps the outer name: that is
    the one a person typed.
    """
    global _patched
    if _patched:
        return
    _patched = True
    original = BaseCommand.execute

    @wraps(original)
    def execute(self: BaseCommand, *args: Any, **options: Any) -> str | None:
        if has_actor():
            return original(self, *args, **options)
        name = type(self).__module__.rsplit(".", 1)[-1]
        with acting_as(f"system:{name}"):
            return original(self, *args, **options)

    BaseCommand.execute = execute  # type: ignore[method-assign]
