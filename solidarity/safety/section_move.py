"""Moving a record that holds sealed values to another section.

Threat addressed: a record moved to another section would keep its sealed values (whereabouts,
testimony) wrapped for the old section's coordinators and its recovery key. Those people, and
whoever holds the old recovery key and a copy of the database, would go on reading where a
person in hiding is; the new section's coordinators and recovery key could not. The server
holds no private key, so it cannot re-wrap a value by itself: such a record changes section
only when someone who can open its values reseals them for the new section (`plan_move` before
the save, `reseal_moved` after it, in the same transaction). Every other way of changing a
record's section (the CSV import) refuses the change for such a record (`holds_sealed`).

Threat NOT addressed: whoever read a value before the move remembers it, and a copy of the
database taken before still opens with the old keys (as after any rewrite of a value).
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext as _
from nacl.public import PrivateKey

from .crypto import DecryptionError
from .keys import (
    KeyRefused,
    RecordMoved,
    lock_for_sealing,
    read_sealed,
    sealed_fields,
    write_sealed,
)
from .resilience import Resilience, enforced, sealed_resilience, shortfall, shortfall_message


class SectionMoveRefused(Exception):
    """The record may not change section now; the message says why and what to do."""


def sealed_names(model: type[models.Model]) -> list[str]:
    return [name for sealed_model, name in sealed_fields() if sealed_model is model]


def holds_sealed(obj: models.Model) -> list[str]:
    """The sealed fields of `obj` that hold a value, as `obj` was loaded (never decrypted)."""
    names = sealed_names(type(obj))
    # The instance's dict holds the stored `Sealed` (a text field's attname is its name).
    return [name for name in names if obj.__dict__.get(name)]


def plan_move(
    user: Any, private_key: PrivateKey | None, obj: models.Model, new_section_id: int | None
) -> dict[str, str]:
    """Before a save that may put `obj` into `new_section_id`: what to reseal after it.

    Returns {} when the section does not change or the record holds no sealed value; otherwise
    the plaintext of each sealed value, opened with `user`'s unlocked key (each read is audited
    as any other), for `reseal_moved`. Raises SectionMoveRefused when the values cannot be
    resealed: no unlocked key, a value the key does not open, or a new section nobody could
    read them in.
    """
    if obj.pk is None or new_section_id is None or not sealed_names(type(obj)):
        return {}
    with transaction.atomic():
        # The record as stored, locked (where the database can) so that no sealed value is
        # rewritten between reading it here and resealing it after the save; after both
        # sections and their keys, as a sealed save locks them (lock order, keys.py): the
        # other way round, a save of the record's value and this move could each wait for the
        # other. Locked whether or not the section changes: a form loaded before someone
        # else's move would otherwise move the record back without resealing it.
        try:
            stored = lock_for_sealing(type(obj), obj.pk, also=[new_section_id])
        except RecordMoved as error:
            raise SectionMoveRefused(str(error)) from None
        if getattr(stored, "section_id", None) == new_section_id:
            return {}
        fields = holds_sealed(stored)
        if not fields:
            return {}
        if private_key is None:
            raise SectionMoveRefused(
                _(
                    "This record holds sealed data. To move it to another section, unlock your "
                    "key first (it must be resealed for the new section's coordinators)."
                )
            )
        resilience = sealed_resilience(new_section_id)
        if resilience.coordinator_recipients == 0:
            raise SectionMoveRefused(
                _(
                    "No coordinator of the new section has set up a key, so nobody there could "
                    "read this record's sealed data. Move it once one of them has (“My key”)."
                )
            )
        # D4: the rule a new sealed value in that section must meet, where it is enforced.
        if not resilience.ok and enforced():
            raise SectionMoveRefused(shortfall_message(resilience, refused=True))
        try:
            return {field: read_sealed(user, stored, field, private_key) for field in fields}
        except (KeyRefused, DecryptionError):
            raise SectionMoveRefused(
                _(
                    "This record holds sealed data that your key does not open. Only a "
                    "coordinator who can read it can move it to another section (it must be "
                    "resealed for the new section's coordinators)."
                )
            ) from None


def reseal_moved(obj: models.Model, values: dict[str, str]) -> Resilience | None:
    """After `obj` was saved in its new section: seal each value again under a fresh data key
    for the new section's coordinators and recovery key. The old wrapped keys (old section's
    coordinators, old recovery key) are deleted by the field's own write
    (`keys.replace_wrapped_keys`). Returns the new section's shortfall of the two-recipient
    rule (D4), if any, to warn about."""
    with transaction.atomic():
        for field, value in values.items():
            write_sealed(obj, field, value)
    return shortfall(obj, next(iter(values.values()), ""))
