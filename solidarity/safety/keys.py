"""Coordinators' key pairs, sealed reads and grants, and the short unlock window of a session.

A coordinator's private key is stored encrypted (see `UserKey`); it is opened with their
password, used, and kept for at most UNLOCK_SECONDS in the session, itself encrypted under a
random key that lives only in a separate HttpOnly cookie.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey
from nacl.secret import SecretBox
from nacl.utils import random

from solidarity.accounts.password_validation import sealed_key_too_short
from solidarity.core.classification import FieldClass
from solidarity.core.models import Section

from . import policy
from .access import section_of, section_path, sections_reading
from .crypto import (
    DecryptionError,
    KdfLimits,
    b64d,
    b64e,
    kdf_limits,
    new_salt,
    open_private_key,
    protect_private_key,
    unseal,
    unwrap_data_key,
    wrap_data_key,
)
from .fields import Sealed, SealedTextField, SealingError, row_aad
from .models import RecoveryWrappedKey, Role, SealedKey, SectionRecoveryKey, UserKey

M = TypeVar("M", bound=models.Model)

UNLOCK_SECONDS = 300  # the sealed window of the threat model (D8)
SESSION_KEY = "safety_unlocked"


class KeyRefused(Exception):
    """A key operation was refused; the message says why and what to do."""


class NotARecipient(KeyRefused):
    pass


# -- Recipients and wrapped keys ---------------------------------------------------------------


def section_recipient_keys(section_id: int) -> models.QuerySet[UserKey]:
    """The keys a sealed value of the section is wrapped to at write: those of its active users
    whose role reads sealed data (also counted by `resilience.sealed_resilience`)."""
    return UserKey.objects.filter(
        user__is_active=True,
        user__safety_roles__section_id=section_id,
        user__safety_roles__role__in=policy.roles_reading(FieldClass.SEALED),
    )


class RecipientsChanged(KeyRefused, SealingError):
    """The recipients of a sealed value changed between reading their keys and storing the
    value's wrapped keys; the whole save is rolled back."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or _("A coordinator's key changed while saving; save again."))


class RecordMoved(RecipientsChanged):
    """The record is no longer in the section its sealed value was being sealed for (moved by
    someone else meanwhile); the whole save is rolled back."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "This record was moved to another section while it was being saved, so nothing "
                "was saved. Open it again and, if you still may, save again."
            )
        )


# Lock order for sealed data. Every transaction that locks more than one of these takes them in
# this order, so that no two wait for each other (on PostgreSQL a deadlock aborts one of them;
# SQLite's IMMEDIATE transactions hold the whole database from their start):
#   1. sections (`core.Section` rows), by primary key;
#   2. the recipients' keys (`UserKey`), by user id;
#   3. the sections' recovery keys (`SectionRecoveryKey`);
#   4. the records holding sealed values (`select_for_update`, or the UPDATE of their save),
#      model by model as `sealed_fields()` lists them, by primary key;
#   5. their wrapped keys (`SealedKey`, `RecoveryWrappedKey`).
# A sealed save: 1-3 (`sealing_recipients`), 4 (its UPDATE), 5 (`replace_wrapped_keys`). A grant:
# 2, 4, 5 (`grant_sealed`). A recovery key: 1, 3, 4, 5 (`recovery.set_recovery_key`). A key
# rotation: 2, 5. A section move (`section_move.plan_move`), the sealed page and a reseal
# (`key_rotation.reseal_for`): 1-3 for the sections concerned (`lock_sections`), then the
# record (`lock_for_sealing`). Since a record's section is locked before the record, it is read
# unlocked first and checked again once the record is locked.


def stored_sections(model: type[models.Model], ids: Iterable[Any]) -> dict[Any, int | None]:
    """Primary key -> the section each record is in as stored now (not as a copy of it says)."""
    rows = model._base_manager.filter(pk__in=list(ids))
    path = section_path(model)
    if path is None:
        return {obj.pk: section_of(obj) for obj in rows}
    return dict(rows.values_list("pk", path))


def lock_sections(section_ids: Iterable[int | None]) -> None:
    """Lock 1-3 of the lock order for these sections: their rows, their recipients' keys and
    their recovery keys. Call inside the transaction that then locks and writes the records."""
    ids = sorted({section_id for section_id in section_ids if section_id is not None})
    if not ids:
        return
    list(Section.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
    keys = {
        pk
        for section_id in ids
        for pk in section_recipient_keys(section_id).values_list("pk", flat=True)
    }
    list(
        UserKey.objects.select_for_update()
        .filter(pk__in=keys)
        .order_by("user_id")
        .values_list("pk")
    )
    list(
        SectionRecoveryKey.objects.select_for_update()
        .filter(section_id__in=ids)
        .order_by("section_id")
        .values_list("pk")
    )


def lock_for_sealing(model: type[M], pk: Any, *, also: Iterable[int | None] = ()) -> M:
    """The record `pk` of `model` as stored now, locked (where the database can) after its
    section and that section's keys, as the lock order requires; `also` adds sections to lock
    with its own (a move's new section). A copy loaded earlier may be out of date: a sealed
    value written through it would be sealed for the section it was in then.

    Raises `RecordMoved` if the record changed section between reading its section and locking
    it (the section it is in now is not locked, and may not be without breaking the order).
    """
    section = stored_sections(model, [pk]).get(pk)
    lock_sections([section, *also])
    record = model._base_manager.select_for_update().get(pk=pk)
    if section_of(record) != section:
        raise RecordMoved
    return record


# (user id, public key as stored) of each recipient; (recovery key id, public key) of the
# section's recovery key, if it has one.
Recipients = tuple[list[tuple[int, str]], tuple[int, str] | None]


def sealing_recipients(instance: models.Model) -> Recipients:
    """The public keys a new sealed value of the record is wrapped to: every active user who may
    read sealed data of the record's section and has a key, and the section's recovery key.

    Only the recovery key's public key is on the server: wrapping to it lets the holder of the
    offline private key grant the value later (`recovery.py`), and lets nobody on the server
    read it. Read inside the transaction that stores the value, with the rows locked (where the
    database can; SQLite's IMMEDIATE transactions hold the write lock from their start), so that
    a key rotation (`key_rotation.py`) or a first recovery key cannot commit in between; in the
    lock order above (section, keys, recovery key, then the record by the save's UPDATE).
    """
    section = section_of(instance)
    if section is None:
        return [], None
    # The section's row too: a recovery key not registered yet has no row to lock, so a first
    # `recovery-set` must take this one to wait for the saves under way (PostgreSQL).
    list(Section.objects.select_for_update().filter(pk=section).values_list("pk", flat=True))
    # Only the key rows are locked, not the users and roles joined to find them.
    users = (
        section_recipient_keys(section)
        .select_for_update(of=("self",))
        .order_by("user_id")
        .values_list("user_id", "public_key")
    )
    recovery = (
        SectionRecoveryKey.objects.select_for_update()
        .filter(section_id=section)
        .values_list("pk", "public_key")
        .first()
    )
    return list(users), recovery


def _check_recipients(
    instance: models.Model,
    wrapped: list[tuple[int, str, bytes]],
    recovery: tuple[int, str, bytes] | None,
) -> None:
    """Refuse to store wrapped keys made for keys that are no longer the recipients' own.

    Threat: a coordinator rotates a key pair that may have leaked (`key_rotation.py`) while a
    value is being saved; a data key wrapped for the old public key after the rotation's commit
    would stay open to the leaked private key, and nothing would wrap it again. The keys are
    read locked before sealing (`sealing_recipients`) and read locked again here, just before
    the insert, in the same transaction: any change means the save is rolled back whole.
    """
    if not transaction.get_connection().in_atomic_block:
        raise SealingError("sealed values are stored only inside transaction.atomic()")
    # Threat: an out-of-date copy of the record. Its recipients were read for the section it
    # said, and the row may since have moved to another (`section_move`): the value would then
    # be sealed for the old section's coordinators and recovery key, and the new section's
    # wrapped keys deleted. The row is locked by the UPDATE just made, so what it holds now is
    # what this transaction commits.
    if stored_sections(type(instance), [instance.pk]).get(instance.pk) != section_of(instance):
        raise RecordMoved
    used = (
        [(user_id, public) for user_id, public, _key in wrapped],
        None if recovery is None else (recovery[0], recovery[1]),
    )
    if sealing_recipients(instance) != used:
        raise RecipientsChanged


def replace_wrapped_keys(
    instance: models.Model,
    field: str,
    wrapped: list[tuple[int, str, bytes]],
    recovery: tuple[int, str, bytes] | None = None,
) -> None:
    """The value was rewritten (or emptied): its old wrapped keys go, the new ones come.

    `wrapped` holds (user id, public key wrapped for, wrapped key), `recovery` the same for the
    section's recovery key (`SealedTextField.pre_save`).
    """
    content_type = ContentType.objects.get_for_model(instance)
    SealedKey.objects.filter(
        content_type=content_type, object_id=instance.pk, field_name=field
    ).delete()
    RecoveryWrappedKey.objects.filter(
        content_type=content_type, object_id=instance.pk, field_name=field
    ).delete()
    if wrapped or recovery is not None:
        _check_recipients(instance, wrapped, recovery)
    if recovery is not None:
        recovery_key_id, _public, key = recovery
        RecoveryWrappedKey.objects.create(
            content_type=content_type,
            object_id=instance.pk,
            field_name=field,
            recovery_key_id=recovery_key_id,
            wrapped_key=b64e(key),
        )
    SealedKey.objects.bulk_create(
        SealedKey(
            content_type=content_type,
            object_id=instance.pk,
            field_name=field,
            user_id=user_id,
            wrapped_key=b64e(key),
        )
        for user_id, _public, key in wrapped
    )


def delete_wrapped_keys(instance: models.Model) -> int:
    """Remove every wrapped key of a record's sealed values: the record is being deleted."""
    content_type = ContentType.objects.get_for_model(instance)
    deleted, _per_model = SealedKey.objects.filter(
        content_type=content_type, object_id=instance.pk
    ).delete()
    recovered, _per_model = RecoveryWrappedKey.objects.filter(
        content_type=content_type, object_id=instance.pk
    ).delete()
    return deleted + recovered


def sealed_fields() -> list[tuple[type[models.Model], str]]:
    """Every (model, field name) that holds sealed values."""
    return [
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, SealedTextField)
    ]


# -- User keys ---------------------------------------------------------------------------------


def user_key(user: Any) -> UserKey | None:
    return UserKey.objects.filter(user=user).first()


def has_key(user: Any) -> bool:
    return UserKey.objects.filter(user=user).exists()


def setup_user_key(user: Any, password: str) -> UserKey:
    """Create the user's key pair, protected by their (verified) login password."""
    if not user.check_password(password):
        raise KeyRefused(_("This is not the user's password."))
    # The key is only as strong as the password it is wrapped under (threat model M7).
    too_short = sealed_key_too_short(password)
    if too_short:
        raise KeyRefused(too_short)
    if has_key(user):
        raise KeyRefused(_("%(user)s already has a key.") % {"user": user})
    private_key = PrivateKey.generate()
    salt, limits = new_salt(), kdf_limits()
    return UserKey.objects.create(
        user=user,
        public_key=b64e(bytes(private_key.public_key)),
        encrypted_private_key=protect_private_key(private_key, password, salt, limits),
        salt=b64e(salt),
        opslimit=limits.opslimit,
        memlimit=limits.memlimit,
    )


def _limits(key: UserKey) -> KdfLimits:
    return KdfLimits(key.opslimit, key.memlimit)


def unlock_private_key(user: Any, password: str, previous_password: str = "") -> PrivateKey:
    """Open the user's private key with their password.

    If the login password was reset since the key was protected (`needs_rewrap`), the key is
    opened with the previous password and re-protected under the current one, which must be the
    user's login password.
    """
    key = UserKey.objects.filter(user=user).first()
    if key is None:
        raise KeyRefused(_("You have no key yet: set up your key first."))
    if key.needs_rewrap:
        if not previous_password:
            raise KeyRefused(
                _("Your password was changed since your key was set up: enter the previous one.")
            )
        if not user.check_password(password):
            raise KeyRefused(_("This is not your current password."))
        try:
            private_key = open_private_key(
                key.encrypted_private_key, previous_password, b64d(key.salt), _limits(key)
            )
        except DecryptionError:
            raise KeyRefused(_("The previous password does not open your key.")) from None
        rewrap_private_key(key, private_key, password)
        return private_key
    try:
        return open_private_key(key.encrypted_private_key, password, b64d(key.salt), _limits(key))
    except DecryptionError:
        raise KeyRefused(_("This password does not open your key.")) from None


def rewrap_private_key(key: UserKey, private_key: PrivateKey, new_password: str) -> None:
    salt, limits = new_salt(), kdf_limits()
    key.encrypted_private_key = protect_private_key(private_key, new_password, salt, limits)
    key.salt = b64e(salt)
    key.opslimit, key.memlimit = limits.opslimit, limits.memlimit
    key.needs_rewrap = False
    key.save()


def password_changed(user: Any, new_password: str) -> None:
    """Called whenever a user's password is set: keep their key openable.

    If the key still opens with the new password (a re-hash, or the same password), nothing
    changes. Otherwise the old password is not known here, so the key is marked: the next
    unlock asks for the previous password once and re-protects the key under the new one. A
    reset by an administrator therefore never grants access to sealed data by itself.
    """
    key = UserKey.objects.filter(user=user).first()
    if key is None or key.needs_rewrap:
        return
    try:
        open_private_key(key.encrypted_private_key, new_password, b64d(key.salt), _limits(key))
    except DecryptionError:
        UserKey.objects.filter(pk=key.pk).update(needs_rewrap=True)


# -- Sealed reads, writes and grants -----------------------------------------------------------


def _record_sealed_read(user: Any, obj: models.Model, field: str) -> None:
    # The audit app is written in parallel; until it exists a sealed read has nowhere to go.
    try:
        services = importlib.import_module("solidarity.audit.services")
    except ModuleNotFoundError:
        return
    services.record_sealed_read(user, obj, field)


def may_read_sealed(user: Any, obj: models.Model) -> bool:
    return section_of(obj) in sections_reading(user, FieldClass.SEALED)


def is_recipient(user: Any, obj: models.Model, field: str) -> bool:
    return SealedKey.objects.filter(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        field_name=field,
        user=user,
    ).exists()


def read_sealed(user: Any, obj: models.Model, field: str, private_key: PrivateKey) -> str:
    """The plaintext of a sealed value, for a recipient with an unlocked key; recorded."""
    if not may_read_sealed(user, obj):
        raise NotARecipient(_("Your role in this section does not include sealed data."))
    stored = obj.__dict__.get(_concrete_field(obj, field).attname) or ""
    if not isinstance(stored, Sealed):
        return str(stored)
    wrapped = SealedKey.objects.filter(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        field_name=field,
        user=user,
    ).first()
    if wrapped is None:
        raise NotARecipient(
            _(
                "This value was not sealed for you. A coordinator who can read it must grant "
                "you access (solidarity keys grant)."
            )
        )
    data_key = unwrap_data_key(b64d(wrapped.wrapped_key), private_key)
    with transaction.atomic():
        value = unseal(stored.ciphertext, row_aad(obj, field), data_key)
        _record_sealed_read(user, obj, field)
    return value


def read_sealed_many(
    user: Any, objects: list[Any], field: str, private_key: PrivateKey
) -> dict[Any, str]:
    """`read_sealed` for a page of objects of one model: one query for the wrapped keys and
    one transaction for all the audit entries. Objects not sealed for the user are left out."""
    if not objects:
        return {}
    content_type = ContentType.objects.get_for_model(objects[0])
    wrapped = dict(
        SealedKey.objects.filter(
            content_type=content_type,
            field_name=field,
            user=user,
            object_id__in=[obj.pk for obj in objects],
        ).values_list("object_id", "wrapped_key")
    )
    values: dict[Any, str] = {}
    with transaction.atomic():
        for obj in objects:
            stored = obj.__dict__.get(_concrete_field(obj, field).attname) or ""
            if not may_read_sealed(user, obj) or (stored and obj.pk not in wrapped):
                continue
            if not isinstance(stored, Sealed):
                values[obj.pk] = str(stored)
                continue
            data_key = unwrap_data_key(b64d(wrapped[obj.pk]), private_key)
            values[obj.pk] = unseal(stored.ciphertext, row_aad(obj, field), data_key)
            _record_sealed_read(user, obj, field)
    return values


def _concrete_field(obj: models.Model, name: str) -> models.Field[Any, Any]:
    field = obj._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise LookupError(f"{obj._meta.label}.{name} is not a stored field")
    return field


def write_sealed(obj: models.Model, field: str, value: str) -> None:
    """Seal a new value for the current recipients (all coordinators of the section).

    One transaction from reading the recipients' keys to storing the wrapped keys (Django's
    `save` alone is not atomic). Raises `RecipientsChanged` if a key changed meanwhile; the
    object then keeps the value it had.
    """
    attname = _concrete_field(obj, field).attname
    before = obj.__dict__.get(attname)
    setattr(obj, field, value)
    try:
        with transaction.atomic():
            obj.save(update_fields=[field])
    except BaseException:
        obj.__dict__[attname] = before
        obj.__dict__.get("_sealed_changes", {}).pop(field, None)
        raise


def sealed_ids(
    model: type[models.Model], field: str, section_id: int, *, lock: bool = True
) -> list[int]:
    """Primary keys of the section's rows whose `field` holds a sealed value (not empty).

    The base manager: a record a default manager hides still holds a value to grant, recover
    or drop. With `lock` (inside a transaction), the rows are locked where the database can, so
    that no write gives a value a new data key between reading its wrapped keys and wrapping it
    again; SQLite's transactions lock it all anyway.
    """
    path = section_path(model)
    if path is None:
        return []
    rows = model._base_manager.filter(**{path: section_id})
    if lock:
        rows = rows.select_for_update()
    # The field refuses lookups on its ciphertext, so emptiness is tested here, not in SQL.
    return [pk for pk, stored in rows.values_list("pk", field) if stored]


@dataclass(frozen=True)
class Rewrapped:
    """What `rewrap_section_keys` found: data keys wrapped again (content type, field, object id,
    wrapped key), values the target already had, and values with no key to open."""

    rows: list[tuple[ContentType, str, int, str]]
    already: int
    missing: int


WrappedKeys = Callable[[ContentType, str, list[int]], dict[int, str]]


def rewrap_section_keys(
    section_id: int,
    source: WrappedKeys,
    target: WrappedKeys,
    private_key: PrivateKey,
    public_key: PublicKey,
    refused: str,
) -> Rewrapped:
    """For each sealed value of the section (rows locked; call inside a transaction): the data
    key wrapped in `source` (object id -> wrapped key, base64), opened with `private_key` and
    wrapped for `public_key`, unless `target` already has one. A key that does not open raises
    KeyRefused(`refused`). The caller stores the rows."""
    rows: list[tuple[ContentType, str, int, str]] = []
    already = missing = 0
    for model, field in sealed_fields():
        content_type = ContentType.objects.get_for_model(model)
        ids = sealed_ids(model, field, section_id)
        opened = source(content_type, field, ids)
        existing = target(content_type, field, ids)
        for object_id in ids:
            if object_id in existing:
                already += 1
            elif object_id in opened:
                try:
                    data_key = unwrap_data_key(b64d(opened[object_id]), private_key)
                except DecryptionError:
                    raise KeyRefused(refused) from None
                wrapped = b64e(wrap_data_key(data_key, public_key))
                rows.append((content_type, field, object_id, wrapped))
            else:
                missing += 1
    return Rewrapped(rows, already, missing)


def user_wrapped_keys(user: Any) -> WrappedKeys:
    """`source`/`target` of `rewrap_section_keys`: the data keys wrapped for `user`."""

    def wrapped(content_type: ContentType, field: str, ids: list[int]) -> dict[int, str]:
        return dict(
            SealedKey.objects.filter(
                content_type=content_type, field_name=field, user=user, object_id__in=ids
            ).values_list("object_id", "wrapped_key")
        )

    return wrapped


def grant_sealed(granter: Any, private_key: PrivateKey, grantee: Any, section_id: int) -> int:
    """Wrap for `grantee` every sealed data key of the section that `granter` can open.

    Only a current recipient can add one (threat model: an insider cannot add themselves).
    Returns how many values were granted.
    """
    with transaction.atomic():
        public_key = grantee_public_key(grantee, section_id)
        found = rewrap_section_keys(
            section_id,
            user_wrapped_keys(granter),
            user_wrapped_keys(grantee),
            private_key,
            public_key,
            _("A key wrapped for you does not open with your private key."),
        )
        for content_type, field, object_id, wrapped in found.rows:
            SealedKey.objects.create(
                content_type=content_type,
                object_id=object_id,
                field_name=field,
                user=grantee,
                wrapped_key=wrapped,
            )
    return len(found.rows)


def grantee_public_key(grantee: Any, section_id: int) -> PublicKey:
    """The public key to grant a section's sealed values to; refused unless the grantee's role
    there reads sealed data and they have a key.

    Call inside the transaction that stores the grant: the key row is locked, so that a
    rotation of the grantee's key pair either waits for the grant (and re-wraps it) or has
    committed before it (and the new key is read), never leaving a grant for the old key.
    """
    if section_id not in sections_reading(grantee, FieldClass.SEALED):
        raise KeyRefused(
            _("%(user)s has no role in this section that includes sealed data.") % {"user": grantee}
        )
    grantee_key = UserKey.objects.select_for_update().filter(user=grantee).first()
    if grantee_key is None:
        raise KeyRefused(_("%(user)s has no key yet (solidarity keys setup).") % {"user": grantee})
    return PublicKey(b64d(grantee_key.public_key))


def drop_wrapped_keys(user_id: int, section_id: int) -> int:
    """Remove a user's wrapped keys for a section's records (their role there ended)."""
    removed = 0
    for model, field in sealed_fields():
        content_type = ContentType.objects.get_for_model(model)
        ids = sealed_ids(model, field, section_id, lock=False)
        removed += SealedKey.objects.filter(
            content_type=content_type, field_name=field, user_id=user_id, object_id__in=ids
        ).delete()[0]
    return removed


# -- The unlock window of a session ------------------------------------------------------------
#
# Threat addressed: a copy of the session table (a database dump, a backup, a disk image) must
# not yield unlocked private keys. The key is kept in the session only encrypted under a random
# key that lives in the browser's HttpOnly cookie, never on the server's disk; the session row
# alone is useless, and both expire after UNLOCK_SECONDS. Threat NOT addressed: an attacker who
# has rooted the live server sees the cookie on the next request and the decrypted key in the
# process's memory (threat model, residual risk 1). HttpOnly keeps page scripts from the cookie.


def unlock_cookie_name() -> str:
    """`__Host-unlock` under HTTPS, so no other host or plain-http page can set it (settings)."""
    return str(settings.SOLIDARITY_UNLOCK_COOKIE_NAME)


def remember_unlocked(
    request: HttpRequest, response: HttpResponse, private_key: PrivateKey
) -> None:
    # A new session key at re-authentication (M9): a session id captured before is worthless.
    request.session.cycle_key()
    cookie_key = random(SecretBox.KEY_SIZE)
    request.session[SESSION_KEY] = {
        "user": request.user.pk,
        "until": time.time() + UNLOCK_SECONDS,
        "blob": b64e(bytes(SecretBox(cookie_key).encrypt(bytes(private_key)))),
    }
    response.set_cookie(
        unlock_cookie_name(),
        b64e(cookie_key),
        max_age=UNLOCK_SECONDS,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Strict",
    )


def unlocked_key(request: HttpRequest) -> PrivateKey | None:
    """The requesting user's private key if they unlocked it in the last UNLOCK_SECONDS."""
    state = request.session.get(SESSION_KEY)
    cookie = request.COOKIES.get(unlock_cookie_name())
    if not state or not cookie:
        return None
    if state.get("user") != request.user.pk or state.get("until", 0) < time.time():
        request.session.pop(SESSION_KEY, None)
        return None
    try:
        return PrivateKey(SecretBox(b64d(cookie)).decrypt(b64d(state["blob"])))
    except (CryptoError, ValueError, KeyError):
        return None


def unlock_seconds_left(request: HttpRequest) -> int:
    state = request.session.get(SESSION_KEY) or {}
    return max(0, int(state.get("until", 0) - time.time()))


def forget_unlocked(request: HttpRequest, response: HttpResponse) -> None:
    request.session.pop(SESSION_KEY, None)
    response.delete_cookie(unlock_cookie_name(), samesite="Strict")


def role_ended(user_id: int, section_id: int) -> None:
    """A coordinator's role in a section ended or changed: their wrapped keys go.

    What they read before cannot be taken back; what is stored later is not sealed for them.
    """
    if not Role.objects.filter(
        user_id=user_id,
        section_id=section_id,
        role__in=policy.roles_reading(FieldClass.SEALED),
    ).exists():
        drop_wrapped_keys(user_id, section_id)
