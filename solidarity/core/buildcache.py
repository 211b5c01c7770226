"""A cache that lives for one static build (`solidarity mirror`) and nowhere else.

The mirror renders thousands of pages from one state of the database, and many of them ask the
public data layers the same question (the newspaper's languages, the timeline form's places and
people). While a build is active, functions decorated with `@build_cached` answer each distinct
question once; outside a build (every request of the live site) the decorator does nothing, so
the site never serves data older than the request.

Results are kept per active language: some values carry translated labels. The cache holds
public values only (what the decorated public-data functions return), in the building process.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from django.utils import translation

P = ParamSpec("P")
R = TypeVar("R")

_cache: ContextVar[dict[Hashable, Any] | None] = ContextVar("solidarity_build_cache", default=None)


@contextmanager
def active() -> Iterator[None]:
    """Cache `@build_cached` functions until the block ends (nested blocks share the cache)."""
    if _cache.get() is not None:
        yield
        return
    token = _cache.set({})
    try:
        yield
    finally:
        _cache.reset(token)


def is_active() -> bool:
    return _cache.get() is not None


def _key(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Hashable:
    # Made hundreds of thousands of times in a build: no sorting when there is nothing to sort.
    named = tuple(sorted(kwargs.items())) if kwargs else ()
    return (func.__module__, func.__qualname__, translation.get_language(), args, named)


def build_cached(func: Callable[P, R]) -> Callable[P, R]:
    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        cache = _cache.get()
        if cache is None:
            return func(*args, **kwargs)
        key = _key(func, args, kwargs)
        try:
            result: R = cache[key]
        except KeyError:
            result = cache[key] = func(*args, **kwargs)
        return result

    return wrapper


def put(func: Callable[..., Any], args: tuple[Any, ...], value: object) -> None:
    """Store what `func(*args)` returns, computed in bulk (no-op outside a build)."""
    cache = _cache.get()
    if cache is not None:
        cache[_key(func, args, {})] = value


def lookup(func: Callable[..., Any], args: tuple[Any, ...]) -> tuple[bool, object]:
    """(True, what was stored for `func(*args)`) if the build has it, else (False, None)."""
    cache = _cache.get()
    if cache is None:
        return False, None
    key = _key(func, args, {})
    if key not in cache:
        return False, None
    found: object = cache[key]
    return True, found


def table(func: Callable[..., Any]) -> dict[Hashable, Any] | None:
    """What the build stored for `func` in the active language, as one dict by key (None
    outside a build). A list of many items reads the active language once instead of once
    per item: reading it (through asgiref's Local) cost more than finding an item."""
    cache = _cache.get()
    if cache is None:
        return None
    key = (func.__module__, func.__qualname__, translation.get_language(), "table")
    found: dict[Hashable, Any] = cache.setdefault(key, {})
    return found
