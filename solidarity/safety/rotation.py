"""Re-encrypting every personal value under the keyring's newest key, losing nothing.

Order of work: the new key is written to the keyring file (atomically) before any value uses it;
values are then re-encrypted in batches, each batch in its own transaction with its rows locked.
A crash at any point leaves every value readable, each under either the old or the new key, both
of which are in the keyring; running again (with `resume`) finishes the job. Old keys leave the
keyring only on request, and only once no value uses them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models, transaction

from solidarity.audit.bulk import named as audit_action

from .crypto import (
    DecryptionError,
    add_current_key,
    encrypt_personal,
    load_keyring,
    personal_key_id,
    remove_keys,
)
from .fields import Ciphertext, EncryptedTextField, row_aad


@dataclass
class RotationReport:
    key_id: str
    rotated: int = 0
    unchanged: int = 0
    by_field: dict[str, int] = field(default_factory=dict)


def encrypted_fields() -> list[tuple[type[models.Model], list[EncryptedTextField]]]:
    found = []
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if fields:
            found.append((model, fields))
    return found


def rotate(
    *, resume: bool = False, batch_size: int = 200, progress: Callable[[str], None] | None = None
) -> RotationReport:
    key_id = load_keyring().current if resume else add_current_key()
    report = RotationReport(key_id=key_id)
    for model, fields in encrypted_fields():
        pks = list(model._default_manager.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(pks), batch_size):
            chunk = pks[start : start + batch_size]
            with transaction.atomic():
                rows = model._default_manager.select_for_update().filter(pk__in=chunk)
                for row in rows:
                    updates: dict[str, str] = {}
                    for f in fields:
                        stored = row.__dict__.get(f.attname)
                        if not isinstance(stored, Ciphertext) or personal_key_id(stored) == key_id:
                            report.unchanged += 1
                            continue
                        try:
                            plaintext = getattr(row, f.attname)
                        except DecryptionError as error:
                            raise DecryptionError(
                                f"{model._meta.label} {row.pk}, field {f.name}: {error}. Nothing "
                                "of this batch was changed; values before it are rotated."
                            ) from error
                        updates[f.attname] = encrypt_personal(plaintext, row_aad(row, f.name))
                        label = f"{model._meta.label}.{f.name}"
                        report.by_field[label] = report.by_field.get(label, 0) + 1
                    if updates:
                        # Recorded in the audit log by the update itself (audit/bulk.py).
                        with audit_action("rotate_keys"):
                            model._default_manager.filter(pk=row.pk).update(**updates)
                        report.rotated += len(updates)
            if progress:
                progress(f"{model._meta.label}: {min(start + batch_size, len(pks))}/{len(pks)}")
    return report


def keys_in_use() -> dict[str, int]:
    """How many stored values use each key id."""
    counts: dict[str, int] = {}
    for model, fields in encrypted_fields():
        for f in fields:
            for stored in model._default_manager.values_list(f.attname, flat=True).iterator():
                if stored:
                    key_id = personal_key_id(str(stored))
                    counts[key_id] = counts.get(key_id, 0) + 1
    return counts


def remove_retired() -> list[str]:
    """Drop every non-current key that no stored value uses; return their ids."""
    keyring = load_keyring()
    in_use = keys_in_use()
    retired = {k for k in keyring.keys if k != keyring.current and k not in in_use}
    still_used = sorted(k for k in keyring.keys if k != keyring.current and k in in_use)
    if still_used:
        raise DecryptionError(
            f"Key(s) {', '.join(still_used)} are still used by "
            f"{sum(in_use[k] for k in still_used)} value(s): run `solidarity rotate-keys --resume` "
            "first."
        )
    if retired:
        remove_keys(retired)
    return sorted(retired)
