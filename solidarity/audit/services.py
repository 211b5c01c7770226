"""Appending to the audit chain, verifying it, and signed checkpoints against truncation.

Every entry is written in the transaction of the change it records, so a change that rolls
back takes its entry with it. Appends are serialised: on PostgreSQL by a transaction-scoped
advisory lock, on SQLite by the write lock that every transaction takes at BEGIN (settings use
IMMEDIATE transactions). Sequence numbers are therefore gapless and in commit order.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connection, models, transaction
from django.utils import timezone
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from solidarity.core.classification import CLASSIFICATION, FieldClass

from .context import actor_for_user, current_actor
from .models import AuditEntry

GENESIS = "0" * 64
CHECKPOINT_FORMAT = "solidarity-audit-checkpoint/1"
# Any constant will do; it only has to differ from other advisory locks taken on the database.
_PG_LOCK_ID = 0x534F4C4944415544  # "SOLIDAUD"


def canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _timestamp_text(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def entry_hash(
    *,
    seq: int,
    prev_hash: str,
    timestamp: dt.datetime,
    actor: str,
    action: str,
    model: str,
    object_pk: str,
    fields: Sequence[str],
    values: dict[str, Any],
) -> str:
    payload = {
        "seq": seq,
        "prev_hash": prev_hash,
        "timestamp": _timestamp_text(timestamp),
        "actor": actor,
        "action": action,
        "model": model,
        "pk": object_pk,
        "fields": list(fields),
        "values": values,
    }
    return hashlib.sha256(canonical(payload)).hexdigest()


def hash_of(entry: AuditEntry) -> str:
    return entry_hash(
        seq=entry.seq,
        prev_hash=entry.prev_hash,
        timestamp=entry.timestamp,
        actor=entry.actor,
        action=entry.action,
        model=entry.model,
        object_pk=entry.object_pk,
        fields=entry.fields,
        values=entry.values,
    )


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_ID])


def append(
    action: str,
    model: str,
    object_pk: object,
    fields: Iterable[str] = (),
    values: dict[str, Any] | None = None,
    actor: str | None = None,
) -> AuditEntry:
    """Add one entry at the head of the chain, in the caller's transaction if there is one."""
    with transaction.atomic(savepoint=False):
        _lock_chain()
        head = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS)
        entry = AuditEntry(
            seq=seq,
            prev_hash=prev_hash,
            timestamp=timezone.now(),
            actor=actor if actor is not None else current_actor(),
            action=action,
            model=model,
            object_pk=str(object_pk),
            fields=sorted(set(fields)),
            values=values or {},
        )
        entry.hash = hash_of(entry)
        entry.save(force_insert=True)
        return entry


def model_label(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.{model._meta.object_name}"


def public_names(model: type[models.Model]) -> set[str]:
    """Fields whose values may enter the log; an unclassed model or field is treated as secret."""
    classes = CLASSIFICATION.get(model_label(model), {})
    return {name for name, cls in classes.items() if cls is FieldClass.PUBLIC}


def record_sealed_read(user: Any, obj: models.Model, field: str) -> AuditEntry:
    """Log that `user` read the sealed `field` of `obj` (never the value read)."""
    return append(
        "sealed_read",
        model_label(type(obj)),
        obj.pk,
        [field],
        actor=actor_for_user(user),
    )


# -- Refused requests and personal reads, once per request -----------------------------------

# (action, actor, model, object id, field names, (value name, value) pairs): one entry as it
# will be logged. Hashable, so that a view asking twice for the same row logs it once; a value
# may be a tuple of strings (the ids of a page of rows), logged as a JSON list.
Pairs = tuple[tuple[str, str | tuple[str, ...]], ...]
Deferred = tuple[str, str, str, str, tuple[str, ...], Pairs]
# The entries of the request being handled, as dict keys (insertion-ordered, unique). None
# outside a request: then each is appended at once.
_deferred: ContextVar[dict[Deferred, None] | None] = ContextVar("audit_deferred", default=None)


def record_refusal(user: Any, model: type[models.Model], object_pk: object, perm: str) -> None:
    """Log that `user` asked for a row of another section and was told it does not exist.

    Threat: an insider probing other sections (threat model A4). The 404 hides the row from
    them; this entry lets the organisation see afterwards who looked for what. Inside a
    request the entry is written after the response (see `once_per_request`), outside the
    view's transaction: a 404 raised in an atomic block rolls that block back, and the entry
    must not go with it.
    """
    actor = actor_for_user(user)
    _defer(("access_refused", actor, model_label(model), str(object_pk), (), (("perm", perm),)))


def record_permission_denied(user: Any, view_name: str, object_pk: object, method: str) -> None:
    """Log a view's PermissionDenied (a 403: the user's role lacks the action) by the view's
    URL name, never its path, which may hold a slug of an unpublished record."""
    what = (("view", f"{method} {view_name}"),)
    _defer(("permission_denied", actor_for_user(user), "", str(object_pk)[:64], (), what))


def record_refused_request(
    action: str, user: Any, view_name: str, method: str, reason: str, *, once_per: str = ""
) -> None:
    """Log a request refused before any view ran: a bad API token ("api_token_refused") or a
    failed CSRF check ("csrf_refused"), by the view's URL name and a short reason code.

    Threat: someone trying stolen or guessed API tokens, or a page on another site trying to
    make a member's browser post to the back office (threat model A3, A4). Anyone can send
    such requests, so `once_per` (a key naming the client, e.g. a keyed hash of its network)
    limits them to one entry a minute per client, action and view: otherwise a script could
    grow the chain at will. Never the token, the cookie or the address itself.
    """
    if once_per and not cache.add(
        f"solidarity.audit.refused:{action}:{view_name}:{once_per}", 1, 60
    ):
        return
    what = (("method", method), ("reason", reason), ("view", view_name))
    _defer((action, actor_for_user(user), "", "", (), what))


def record_personal_read(user: Any, obj: models.Model, fields: Iterable[str], **where: str) -> None:
    """Log that `obj`'s personal `fields` were shown to `user` (names only, never values).

    Threat: an insider browsing the contacts of their own section (A4), which no refusal
    shows. Once per record and request, however often the page asks for its fields. `where`
    names the surface when it is not the back office's record page (the API's view and token).
    """
    names = tuple(sorted(set(fields)))
    if names:
        label = model_label(type(obj))
        what = tuple(sorted(where.items()))
        _defer(("personal_read", actor_for_user(user), label, str(obj.pk), names, what))


def _defer(entry: Deferred) -> None:
    pending = _deferred.get()
    if pending is None:
        _append_deferred(entry)
    else:
        pending[entry] = None


def record_personal_list(
    user: Any, model: type[models.Model], fields: Iterable[str], pks: Iterable[object], **where: str
) -> None:
    """Log that one page of `model` rows showed their personal `fields` to `user`: the field
    names and the ids of the rows on the page ("ids"), never a value; `where` names the page
    (the view's URL name, never its path or query, which may hold a searched address).

    Threat: an insider paging through their own section's supporters (A4), fifty names a
    page, which no `personal_read` of a single record shows. One entry per page and request,
    not one per row: a page costs one append whatever its length. A page without rows showed
    nobody and logs nothing. `personal_read` stays the action for a single record (its id in
    `object_pk`, where a query for one person's record looks); a page of rows has no single
    id, hence its own action.
    """
    names = tuple(sorted(set(fields)))
    ids = tuple(str(pk) for pk in pks)
    if names and ids:
        what: Pairs = (("ids", ids), *sorted(where.items()))
        _defer(("personal_list", actor_for_user(user), model_label(model), "", names, what))


def _append_deferred(entry: Deferred) -> None:
    action, actor, model, object_pk, fields, pairs = entry
    values = {name: list(value) if isinstance(value, tuple) else value for name, value in pairs}
    append(action, model, object_pk, fields, values=values, actor=actor)


@contextmanager
def once_per_request() -> Iterator[None]:
    """Collect the deferred entries of one request; append them, once each, when it is
    answered (outside the view's transaction)."""
    token = _deferred.set({})
    try:
        yield
    finally:
        pending = _deferred.get() or {}
        _deferred.reset(token)
        for entry in pending:
            _append_deferred(entry)


def record_change(
    model: type[models.Model], pks: Iterable[object], fields: Iterable[str], action: str = "update"
) -> list[AuditEntry]:
    """Log a change that bypasses model signals (`QuerySet.update`, `bulk_create`): names only.

    Call it in the same transaction as the bulk statement.
    """
    names = sorted(set(fields))
    return [append(action, model_label(model), pk, names) for pk in pks]


# -- Verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    entries: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


def verify_chain() -> VerifyResult:
    """Walk the chain in sequence order and report the first entry that does not fit.

    A modified entry no longer matches its hash; a deleted one leaves a gap in the sequence; an
    inserted or reordered one either breaks the sequence or its link to the previous hash.
    """
    expected_seq, prev_hash, count = 1, GENESIS, 0
    rows = AuditEntry.objects.order_by("seq").iterator(chunk_size=2000)
    for entry in rows:
        if entry.seq != expected_seq:
            problem = (
                f"entry {expected_seq} is missing (the next entry is {entry.seq})"
                if entry.seq > expected_seq
                else f"entry {entry.seq} appears out of order after entry {expected_seq - 1}"
            )
            return VerifyResult(count, expected_seq - 1, prev_hash, expected_seq, problem)
        if entry.prev_hash != prev_hash:
            problem = f"entry {entry.seq} does not link to the entry before it"
            return VerifyResult(count, expected_seq - 1, prev_hash, entry.seq, problem)
        if hash_of(entry) != entry.hash:
            problem = f"entry {entry.seq} was modified: its content no longer matches its hash"
            return VerifyResult(count, expected_seq - 1, prev_hash, entry.seq, problem)
        count += 1
        prev_hash = entry.hash
        expected_seq += 1
    return VerifyResult(count, expected_seq - 1, prev_hash)


# -- Checkpoints ------------------------------------------------------------------------------


class CheckpointError(Exception):
    pass


def make_checkpoint(signing_key: SigningKey) -> dict[str, Any]:
    """A signed statement of the chain's head, to be kept where the server cannot reach it."""
    result = verify_chain()
    if not result.ok:
        raise CheckpointError(
            f"Refusing to sign a broken chain: {result.problem}. Investigate before signing."
        )
    body = {
        "format": CHECKPOINT_FORMAT,
        "seq": result.head_seq,
        "head_hash": result.head_hash,
        "time": _timestamp_text(timezone.now()),
        "public_key": base64.b64encode(bytes(signing_key.verify_key)).decode(),
    }
    signature = signing_key.sign(canonical(body)).signature
    return {**body, "signature": base64.b64encode(signature).decode()}


def check_checkpoint(checkpoint: dict[str, Any], verify_key: VerifyKey) -> str:
    """Check the signature, then that the log still holds the checkpointed head unchanged.

    Returns a one-line description of the match; raises CheckpointError otherwise.
    """
    try:
        signature = base64.b64decode(checkpoint["signature"])
        body = {k: v for k, v in checkpoint.items() if k != "signature"}
        if body.get("format") != CHECKPOINT_FORMAT:
            raise CheckpointError(f"Not a checkpoint of format {CHECKPOINT_FORMAT}.")
        verify_key.verify(canonical(body), signature)
        seq, head_hash = int(body["seq"]), str(body["head_hash"])
    except BadSignatureError as error:
        raise CheckpointError(
            "The checkpoint's signature is not valid for this public key: the checkpoint was "
            "altered, or it was signed with another key."
        ) from error
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"The checkpoint file is malformed ({error}).") from error
    if seq == 0:
        return "the checkpoint was taken of an empty log"
    stored = _stored_hash(seq)
    if stored is None:
        raise CheckpointError(
            f"The log was truncated: the checkpoint of {body['time']} covers entry {seq}, "
            f"but the log now ends at entry {_last_seq()}."
        )
    if stored != head_hash:
        raise CheckpointError(
            f"The log was rewritten: entry {seq} differs from the one signed in the checkpoint "
            f"of {body['time']}."
        )
    return f"entry {seq} matches the checkpoint of {body['time']}"


def _stored_hash(seq: int) -> str | None:
    stored: str | None = AuditEntry.objects.filter(seq=seq).values_list("hash", flat=True).first()
    return stored


def _last_seq() -> int:
    last: int | None = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first()
    return last or 0


def check_head(seq: int, head_hash: str, result: VerifyResult) -> str:
    """Check a head (seq and hash) that left the server earlier, a witness's mail or a copy by
    hand (audit/tasks.py), against the log and its verification `result`.

    Unsigned, so it proves nothing by itself: its worth is that it was kept off the server
    before a rewrite. The log must still hold entry `seq` with exactly that hash, and the chain
    must verify up to it; a chain recomputed after a change below `seq` gives the entry another
    hash, and a cut gives none. Returns a one-line description; raises CheckpointError.
    """
    if seq == 0:
        return "the head of an empty log"
    if result.first_bad_seq is not None and result.first_bad_seq <= seq:
        raise CheckpointError(
            f"The history below the witnessed head {seq} was changed: {result.problem}."
        )
    stored = _stored_hash(seq)
    if stored is None:
        raise CheckpointError(
            f"The log was truncated: the witnessed head is entry {seq}, but the log now ends "
            f"at entry {_last_seq()}."
        )
    if stored != head_hash:
        raise CheckpointError(
            f"The log was rewritten: entry {seq} no longer has the witnessed hash "
            f"{head_hash[:12]}…; its history was changed and recomputed."
        )
    return f"entry {seq} has the witnessed hash"
