"""The petition page, rendered once and shared by every reader for a few seconds.

Everyone who opens a petition sees the same page (per language and address) but for the CSRF
token in its form, and rendering it (the form's widgets, the public base template, six queries)
is most of what opening a petition costs. So the page is rendered with a placeholder where the
token goes, kept in this process's memory, and each response gets its own reader's token put in.
The form's timing stamp is put in per response the same way, by the view (human_timing.fill).

What the page shows changes when a signature is confirmed or erased, or when the petition,
its campaign or its target is edited. Changes made in this process empty the cache at once
(`forget_all`, connected to those models' signals in apps.py); changes made elsewhere (another
server process, a bulk update such as an erasure) show within `TTL` seconds.

Threats:
- A token shared between readers would let one reader forge requests for another: the
  placeholder is random per process, so no text a signer typed (a public name) can contain it,
  and it is replaced by `get_token(request)`, which masks the reader's own secret afresh.
- A CSP nonce reused across responses lets an attacker who can inject markup predict it and
  run script. A page whose rendering asked for the nonce is therefore never kept (the petition
  page has no inline script or style and does not ask for it).
"""

from __future__ import annotations

import copy
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils import translation

from . import public_data
from .models import Petition

# Seconds a page may lag behind a change made outside this process.
TTL = 5.0
# Pages are kept per petition, language and host (hosts are limited by ALLOWED_HOSTS); the
# bound keeps a crafted stream of addresses from growing the memory used.
MAX_PAGES = 256
CSRF_PLACEHOLDER = "csrf-" + secrets.token_hex(24)

_lock = threading.Lock()
_pages: dict[tuple[str, ...], tuple[float, int, str]] = {}
_petitions: dict[tuple[str, ...], tuple[float, int, Petition]] = {}
_generation = [0]


def forget_all() -> None:
    """Drop every kept page: call it (on commit) after a change the signals do not see."""
    with _lock:
        _generation[0] += 1
        _pages.clear()
        _petitions.clear()


def _key(request: HttpRequest) -> tuple[str, ...]:
    language = translation.get_language() or ""
    return (request.scheme or "", request.get_host(), request.path, language)


def page(request: HttpRequest, render: Callable[[str], str | None]) -> str | None:
    """The page for this request, with its own CSRF token; None when `render` finds none.

    `render(csrf_token)` renders the page with the given token; it is called with the
    placeholder when no fresh copy is kept.
    """
    key = _key(request)
    now = time.monotonic()
    with _lock:
        kept = _pages.get(key)
        generation = _generation[0]
    if kept is not None and kept[0] > now and kept[1] == generation:
        body = kept[2]
    else:
        rendered = render(CSRF_PLACEHOLDER)
        if rendered is None:
            return None
        body = rendered
        if not _asked_for_nonce(request):
            with _lock:
                if len(_pages) >= MAX_PAGES:
                    _pages.clear()
                if _generation[0] == generation:  # nothing changed while rendering
                    _pages[key] = (now + TTL, generation, body)
    return body.replace(CSRF_PLACEHOLDER, get_token(request))


def petition_for_signing(slug: str) -> Petition | None:
    """The public petition a signature is written to, read once per TTL instead of per POST.

    Kept and forgotten like the pages: a petition closed or unpublished here refuses at once,
    one closed in another process within TTL seconds (its page said "open" as long).
    """
    key = ("petition", slug)
    now = time.monotonic()
    with _lock:
        kept = _petitions.get(key)
        generation = _generation[0]
    if kept is not None and kept[0] > now and kept[1] == generation:
        # A copy each: a request must not change what another thread is reading.
        return copy.copy(kept[2])
    petition = public_data.public_petition(slug)
    if petition is not None:
        with _lock:
            if len(_petitions) >= MAX_PAGES:
                _petitions.clear()
            if _generation[0] == generation:
                _petitions[key] = (now + TTL, generation, copy.copy(petition))
    return petition


def _asked_for_nonce(request: HttpRequest) -> bool:
    # django-csp makes the nonce lazily; bool() is True once something has read it.
    return bool(getattr(request, "csp_nonce", None))


def _changed(sender: Any, **kwargs: Any) -> None:
    # Now, and again once committed: a page rendered in between from the old rows must not
    # be kept for TTL seconds.
    forget_all()
    transaction.on_commit(forget_all)


def _signature_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    # A new signature waits for its confirmation and changes no page; a confirmed or erased
    # one changes the count or the names.
    if instance.status == instance.Status.CONFIRMED or instance.erased:
        _changed(sender)


def connect() -> None:
    from django.db.models.signals import post_delete, post_save

    from .models import Campaign, Signature, Target

    for model in (Campaign, Petition, Target, Signature):
        uid = f"campaigns.page_cache.{model.__name__}"
        receiver = _signature_saved if model is Signature else _changed
        post_save.connect(receiver, sender=model, dispatch_uid=uid)
        post_delete.connect(_changed, sender=model, dispatch_uid=uid)
