"""Rotating a coordinator's key pair: a new X25519 pair, and every data key wrapped for the old
one wrapped again for the new one.

Threat addressed: the encrypted private key and the password that opens it have both leaked (a
seized laptop with a saved password; a copy of the database plus a phished password). A new
password does not help then: the adversary holds the old private key itself, which opens every
data key wrapped for it, in their copy and in the live database. After a rotation nothing in
the database is wrapped for the old key any more, and values written from then on are sealed
for the new one only. The password should be changed first (the new private key is protected
under the password given here; after a change the previous one is asked once, as at an
unlock), and the other logged-in sessions ended ("Sessions").

Threat NOT addressed by the rotation alone: a copy of the database taken before it keeps the
old wrapped keys, and the sealed values keep their data keys, so whatever the old key opened in
that copy stays open to its holder. `reseal_for` rewrites each value the user can read under a
fresh data key (for every current recipient), so that the values now in the database no longer
match the data keys of an old copy; a value the adversary has already read stays read.

Order of work: both Argon2id derivations (seconds, 256 MiB) run before the transaction, so the
database is not held while they run; the transaction then locks the user's key row, checks that
it is still the one that was opened, re-wraps every data key, replaces the key and records it.

Concurrent writes: every other write of a data key wrapped for a user reads that user's public
key locked, inside the transaction that stores it (a sealed save, `keys.sealing_recipients`, read
again just before the insert; a grant or a recovery, `keys.grantee_public_key`). So a write
either commits before the rotation takes the lock, and is re-wrapped by it, or reads the new key
after its commit; a sealed save whose keys changed all the same (a recipient added, removed or
rotated in between) is refused and rolled back whole (`keys.RecipientsChanged`, "save again").
No data key is left wrapped for the old key, and none is wrapped for it after the commit.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from nacl.public import PrivateKey, PublicKey

from solidarity.audit.bulk import named as audit_action
from solidarity.audit.services import append, model_label

from .access import section_of
from .crypto import (
    DecryptionError,
    KdfLimits,
    b64d,
    b64e,
    kdf_limits,
    new_salt,
    open_private_key,
    protect_private_key,
    unwrap_data_key,
    wrap_data_key,
)
from .fields import Sealed
from .keys import (
    SESSION_KEY,
    KeyRefused,
    lock_sections,
    may_read_sealed,
    read_sealed,
    sealed_fields,
    stored_sections,
    write_sealed,
)
from .models import SealedKey, UserKey

ACTION = "user_key_rotated"
RESEAL_ACTION = "sealed_values_resealed"
BATCH = 500


@dataclass(frozen=True)
class RotationResult:
    rewrapped: int
    unlocked_sessions_ended: int


def _open_old_key(user: Any, key: UserKey, password: str, previous_password: str) -> PrivateKey:
    """The current private key, opened as `keys.unlock_private_key` opens it (after a password
    reset, with the previous password, the new one being the login password)."""
    secret = password
    if key.needs_rewrap:
        if not previous_password:
            raise KeyRefused(
                _("Your password was changed since your key was set up: enter the previous one.")
            )
        if not user.check_password(password):
            raise KeyRefused(_("This is not your current password."))
        secret = previous_password
    try:
        return open_private_key(key.encrypted_private_key, secret, b64d(key.salt), _limits_of(key))
    except DecryptionError:
        if key.needs_rewrap:
            raise KeyRefused(_("The previous password does not open your key.")) from None
        raise KeyRefused(_("This password does not open your key.")) from None


def _limits_of(key: UserKey) -> KdfLimits:
    return KdfLimits(key.opslimit, key.memlimit)


def rotate_user_key(
    user: Any, password: str, previous_password: str = ""
) -> tuple[RotationResult, PrivateKey]:
    """Replace `user`'s key pair, the new private key protected under `password`; returns what
    was done and the new private key (to reseal with).

    Refused, with nothing changed, if the password does not open the current key (or, after a
    password reset, if `previous_password` does not, or `password` is not the login password).
    """
    key = UserKey.objects.filter(user=user).first()
    if key is None:
        raise KeyRefused(_("%(user)s has no key yet (solidarity keys setup).") % {"user": user})
    old_private = _open_old_key(user, key, password, previous_password)
    new_private = PrivateKey.generate()
    salt, limits = new_salt(), kdf_limits()
    encrypted = protect_private_key(new_private, password, salt, limits)
    with transaction.atomic():
        locked = UserKey.objects.select_for_update().get(pk=key.pk)
        # Opened outside the lock: a rotation or re-wrap that committed meanwhile would be lost.
        if (locked.public_key, locked.encrypted_private_key) != (
            key.public_key,
            key.encrypted_private_key,
        ):
            raise KeyRefused(_("The key changed while it was being rotated: try again."))
        with audit_action(ACTION):
            rewrapped = _rewrap(user, old_private, new_private.public_key)
            UserKey.objects.filter(pk=key.pk).update(
                public_key=b64e(bytes(new_private.public_key)),
                encrypted_private_key=encrypted,
                salt=b64e(salt),
                opslimit=limits.opslimit,
                memlimit=limits.memlimit,
                needs_rewrap=False,
                updated_at=timezone.now(),
            )
        ended = forget_unlocked_everywhere(user)
        # A number, never key material (the row entries above name the fields only).
        append(ACTION, model_label(get_user_model()), user.pk, values={"wrapped_keys": rewrapped})
    return RotationResult(rewrapped, ended), new_private


def _rewrap(user: Any, old_private: PrivateKey, new_public: PublicKey) -> int:
    changed: list[SealedKey] = []
    for wrapped in SealedKey.objects.filter(user=user).order_by("pk").iterator():
        try:
            data_key = unwrap_data_key(b64d(wrapped.wrapped_key), old_private)
        except DecryptionError:
            # Not wrapped for the old key (damaged): it opens nothing for anyone; left as is,
            # rather than leave every other key wrapped for the leaked one.
            continue
        wrapped.wrapped_key = b64e(wrap_data_key(data_key, new_public))
        changed.append(wrapped)
    SealedKey.objects.bulk_update(changed, ["wrapped_key"], batch_size=BATCH)
    return len(changed)


def forget_unlocked_everywhere(user: Any) -> int:
    """Drop the unlocked state (`keys.remember_unlocked`) of every stored session of `user`.

    Each holds the old private key, encrypted under a key in that browser's cookie: after the
    rotation it opens nothing in the database, but it still opens the data keys of an old copy.
    The sessions stay logged in. Only a session store in the database can be gone through;
    with another engine the states expire after UNLOCK_SECONDS.
    """
    engine = importlib.import_module(settings.SESSION_ENGINE)
    store_class = getattr(engine, "SessionStore", None)
    if store_class is None or not hasattr(store_class, "get_model_class"):
        return 0
    model = store_class.get_model_class()
    store = store_class()
    ended = 0
    rows = model.objects.filter(expire_date__gt=timezone.now()).values_list("pk", "session_data")
    for pk, text in rows.iterator():
        data = store.decode(text)
        state = data.get(SESSION_KEY)
        if isinstance(state, dict) and state.get("user") == user.pk:
            del data[SESSION_KEY]
            model.objects.filter(pk=pk).update(session_data=store.encode(data))
            ended += 1
    return ended


def reseal_for(user: Any, private_key: PrivateKey) -> int:
    """Rewrite every sealed value that `user` can read under a fresh data key.

    Each value is read like any sealed read (checked and recorded, `keys.read_sealed`) and
    written back through its field (`keys.write_sealed`), so every current recipient of its
    section gets the new data key and the old data key opens nothing now in the database.
    One transaction. A value whose ciphertext or wrapped key is damaged opens for nobody and is
    left as it is. Returns how many were rewritten.
    """
    resealed = 0
    with transaction.atomic():
        found = [
            (
                model,
                field,
                list(
                    SealedKey.objects.filter(
                        user=user,
                        content_type=ContentType.objects.get_for_model(model),
                        field_name=field,
                    ).values_list("object_id", flat=True)
                ),
            )
            for model, field in sealed_fields()
        ]
        # Every section concerned and its keys first, then the records, locked and read again
        # (lock order, keys.py): written through a copy read unlocked, a value whose record
        # was moved meanwhile would be sealed for its old section.
        locked = {
            section
            for model, _field, ids in found
            for section in stored_sections(model, ids).values()
        }
        lock_sections(locked)
        for model, field, ids in found:
            # The base manager: a record a default manager hides keeps its value all the same.
            rows = model._base_manager.select_for_update().filter(pk__in=ids).order_by("pk")
            for obj in rows:
                if not isinstance(obj.__dict__.get(field), Sealed):
                    continue
                if section_of(obj) not in locked:
                    continue  # moved meanwhile: the move sealed it again under a new data key
                if not may_read_sealed(user, obj):
                    continue
                try:
                    value = read_sealed(user, obj, field, private_key)
                except DecryptionError:
                    continue  # damaged: it opens for nobody, and a new data key cannot help
                write_sealed(obj, field, value)
                resealed += 1
        append(RESEAL_ACTION, model_label(get_user_model()), user.pk, values={"values": resealed})
    return resealed
