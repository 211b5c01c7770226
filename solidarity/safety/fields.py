"""Model fields whose values never reach the database in plaintext.

`EncryptedTextField` (personal data) encrypts with a keyring key on save and decrypts on first
access. `SealedTextField` (sealed data) encrypts to the public keys of the section's coordinators
(and of its offline recovery key, if it has one) on save, and cannot be read from the model at
all: reading takes an unlocked private key (`solidarity.safety.keys.read_sealed`).

Binding to the row: the associated data of every ciphertext is the model label, the field name
and the row's `row_nonce`, a random UUID set when the object is created. A random per-row value
rather than the primary key, because the key is not known before the INSERT, and encrypting in a
second UPDATE after it would leave a window where the row is saved without its value (or with a
plaintext one). A ciphertext copied into another row, or into another column of the same row,
fails to decrypt.

Neither field supports lookups other than `isnull`: searching or filtering on a ciphertext would
silently find nothing, so the attempt is refused (FieldError).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models, router, transaction
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from nacl.public import PublicKey

from .crypto import associated_data, b64d, decrypt_personal, encrypt_personal, seal

if TYPE_CHECKING:
    from django.db.models.lookups import Lookup

    _TextField = models.TextField[Any, Any]
else:  # Django's fields are not subscriptable at run time.
    _TextField = models.TextField

ROW_NONCE = "row_nonce"


def row_nonce_field() -> models.UUIDField[Any, Any]:
    """The per-row random identity that encrypted fields bind their ciphertexts to."""
    return models.UUIDField(_("row identity"), default=uuid.uuid4, editable=False)


class SealingError(Exception):
    """A sealed value cannot be stored, e.g. because it would have no recipient."""


class Ciphertext(str):
    """A personal value as stored, not yet decrypted."""

    __slots__ = ()


@dataclass(frozen=True)
class Sealed:
    """A sealed value as stored. It prints as "sealed", never as its content."""

    ciphertext: str

    def __str__(self) -> str:
        return gettext("sealed")


def row_aad(instance: models.Model, field_name: str) -> bytes:
    nonce = getattr(instance, ROW_NONCE, None)
    if nonce is None:
        raise SealingError(f"{instance._meta.label} has no {ROW_NONCE}; encrypted fields need it")
    return associated_data(instance._meta.label, field_name, str(nonce))


def _read_key(attname: str) -> str:
    return f"_{attname}_as_read"


class _EncryptedAttribute(DeferredAttribute):
    def __get__(self, instance: Any, cls: Any = None) -> Any:
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, Ciphertext):
            stored = str(value)
            value = decrypt_personal(stored, row_aad(instance, self.field.name))
            instance.__dict__[self.field.attname] = value
            # Remembered so that saving the row unchanged writes the same ciphertext: a fresh
            # one would read as a change of this field in the audit log at every save.
            instance.__dict__[_read_key(self.field.attname)] = (
                value,
                getattr(instance, ROW_NONCE, None),
                stored,
            )
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


class _NoLookups:
    def get_lookup(self, lookup_name: str) -> type[Lookup[Any]] | None:
        if lookup_name != "isnull":
            return None
        lookup: type[Lookup[Any]] | None = super().get_lookup(lookup_name)  # type: ignore[misc]
        return lookup


class EncryptedTextField(_NoLookups, _TextField):
    """Text encrypted with authenticated encryption bound to its row; keys from the keyring.

    The model needs a `row_nonce` field (`row_nonce_field()`). Stored as
    "p1:<key id>:<nonce and ciphertext, base64>", so `solidarity rotate-keys` can find values
    still under an old key.
    """

    descriptor_class = _EncryptedAttribute

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str:
        return Ciphertext(value) if value else ""

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = model_instance.__dict__.get(self.attname) or ""
        if isinstance(value, Ciphertext):
            return str(value)
        if not value:
            return ""
        read = model_instance.__dict__.get(_read_key(self.attname))
        if read is not None and read[:2] == (value, getattr(model_instance, ROW_NONCE, None)):
            return str(read[2])
        return encrypt_personal(str(value), row_aad(model_instance, self.name))

    def to_python(self, value: Any) -> Any:
        return value if isinstance(value, Ciphertext) else super().to_python(value)


class StoredEmpty(str):
    """An empty sealed value as loaded from the database, as opposed to "" assigned to clear it
    (`SealedTextField.pre_save`: only an assignment is written)."""

    __slots__ = ()


def _as_stored(value: Any) -> bool:
    """Is `value` a sealed attribute's value as stored (loaded, or written by this instance),
    rather than one assigned since? A `Sealed` is never new content: plaintext is a `str`."""
    return isinstance(value, Sealed | StoredEmpty)


class _SealedAttribute(DeferredAttribute):
    # What was assigned is told apart from what was loaded by its type, not by a flag set here:
    # Django loads a row through `__init__`, which sets every attribute through this descriptor
    # just as an assignment does, but what it sets has passed through `from_db_value` (a
    # `Sealed`, or `StoredEmpty`), which no plaintext does. `refresh_from_db` copies such values
    # too, so it does not count as an assignment either.
    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


class SealedTextField(_NoLookups, _TextField):
    """Text sealed to the coordinators of the record's section (envelope encryption).

    Assign a string and save: a fresh data key encrypts the value, and is wrapped for every
    coordinator of the record's section who has a key (`solidarity keys setup`); saving is
    refused if there is none, as nobody could ever read the value. After saving, and whenever
    loaded, the attribute holds a `Sealed` object (or "" when empty): the plaintext is read
    only through `solidarity.safety.keys.read_sealed` with an unlocked private key.
    """

    descriptor_class = _SealedAttribute

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["editable"] = False
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def contribute_to_class(
        self, cls: type[models.Model], name: str, private_only: bool = False
    ) -> None:
        super().contribute_to_class(cls, name, private_only)
        if not cls._meta.abstract:
            post_save.connect(
                self._store_wrapped_keys,
                sender=cls,
                weak=False,
                dispatch_uid=f"sealed:{cls._meta.label}.{name}",
            )
            # Once per model, whatever number of sealed fields it has. Without the record's
            # ciphertext its wrapped keys open nothing, but they would still say which records
            # held sealed data, and for whom. Connected here, beside the hook that makes them,
            # rather than as a GenericRelation on each model: no model with a sealed field can
            # forget it. post_delete runs inside the delete's own transaction (also for a
            # queryset's delete and a cascade), so the keys go, and are audited, with the row.
            post_delete.connect(
                _delete_wrapped_keys,
                sender=cls,
                weak=False,
                dispatch_uid=f"sealed-delete:{cls._meta.label}",
            )

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Sealed | str:
        return Sealed(value) if value else StoredEmpty()

    def to_python(self, value: Any) -> Any:
        return value if _as_stored(value) else super().to_python(value)

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, Sealed):
            return value.ciphertext
        if isinstance(value, StoredEmpty):
            return ""
        return super().get_prep_value(value)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        from .keys import sealing_recipients

        value = model_instance.__dict__.get(self.attname, "")
        if _as_stored(value):
            if not add:
                # Threat: data loss. An out-of-date copy of the record (loaded before a
                # coordinator wrote the whereabouts; the import, the admin form) saved whole
                # would write back "" (erasing the value, and its wrapped keys with it) or the
                # old ciphertext (under wrapped keys of the new data key: nobody could open
                # it). Not assigned on this instance, the column is set to itself, which keeps
                # whatever the row holds when the UPDATE runs, under its row lock: no read of
                # the current value, and no window for a write between that read and the
                # UPDATE. Nor are its wrapped keys touched (nothing in `_sealed_changes`).
                return models.F(self.attname)
            return self.get_prep_value(value)
        value = value or ""
        # Per field: the users' wrapped keys, and the section recovery key's if it has one,
        # each with the public key it was wrapped for (checked again before the insert).
        changes: dict[str, tuple[list[tuple[int, str, bytes]], tuple[int, str, bytes] | None]] = (
            model_instance.__dict__.setdefault("_sealed_changes", {})
        )
        if not value:
            changes[self.name] = ([], None)
            model_instance.__dict__[self.attname] = StoredEmpty()
            return ""
        # Threat: a key pair rotated (or a first recovery key set) between reading the keys and
        # storing the wrapped keys leaves the value wrapped for the old, possibly leaked, key.
        # Django's save is not atomic by itself, so the caller's transaction must hold it all;
        # on SQLite its IMMEDIATE start also means the keys below are read under the write lock.
        using = router.db_for_write(type(model_instance), instance=model_instance)
        if not transaction.get_connection(using).in_atomic_block:
            raise SealingError(
                f"{model_instance._meta.label}.{self.name}: a sealed value is saved only inside "
                "transaction.atomic() (see keys.write_sealed)"
            )
        recipients, recovery = sealing_recipients(model_instance)
        if not recipients:
            raise SealingError(
                gettext(
                    "No coordinator of this record's section has set up a key, so nobody could "
                    "ever read this value. A coordinator must first run "
                    "“solidarity keys setup USERNAME” or use “Set up my key” in the back office."
                )
            )
        # The recovery key is an extra recipient, never the only one: a value is stored only
        # if a coordinator can read it now (the check above).
        public_keys = [PublicKey(b64d(public)) for _user, public in recipients]
        if recovery is not None:
            public_keys.append(PublicKey(b64d(recovery[1])))
        stored, wrapped = seal(str(value), row_aad(model_instance, self.name), public_keys)
        for_users = zip(recipients, wrapped[: len(recipients)], strict=True)
        changes[self.name] = (
            [(user_id, public, wrapped_key) for (user_id, public), wrapped_key in for_users],
            None if recovery is None else (*recovery, wrapped[-1]),
        )
        model_instance.__dict__[self.attname] = Sealed(stored)
        return stored

    def _store_wrapped_keys(self, sender: Any, instance: models.Model, **kwargs: Any) -> None:
        from .keys import replace_wrapped_keys

        changes = instance.__dict__.get("_sealed_changes", {}).pop(self.name, None)
        if changes is not None:
            users, recovery = changes
            replace_wrapped_keys(instance, self.name, users, recovery)


def _delete_wrapped_keys(sender: Any, instance: models.Model, **kwargs: Any) -> None:
    from .keys import delete_wrapped_keys

    delete_wrapped_keys(instance)
