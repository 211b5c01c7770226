"""Section recovery keys: sealed data that outlives the loss of every coordinator of a section.

Threat addressed: every coordinator of a section is arrested, dies or forgets their password,
and the section's whereabouts and testimony, sealed to them alone, are lost for ever. Each
sealed value of a section that has a recovery key is also wrapped to that key's X25519 public
key (`keys.sealing_recipients`, at every write; `set_recovery_key` for the values stored
before). The private key is made offline (`solidarity keys recovery-keygen`) and kept abroad
(the International, printed or on a hardware token); the server never holds it, so it reads
nothing by itself. With it, `recover` wraps the section's values for a new coordinator.

Threat NOT addressed: whoever holds the private key and a copy of the database reads every
sealed value of the section. Registering a key takes a coordinator's password, and the
coordinator could read and grant those values anyway; replacing it also takes the current
recovery private key (its custodians' consent: otherwise one coordinator could wrap everything
to a key of their own, which no role change or rotation would end). The first registration
takes a second coordinator's password too where the section has two coordinators with keys,
and `remove_recovery_key` takes two: a coordinator coerced (or turned) with shell access
cannot alone register a key they control before the custodians do, and if one got in all the
same, two honest coordinators can remove it. A section with a single coordinator has nobody
to confirm: its first key is registered on one password, with a warning. Every registration,
removal and recovery is in the audit log (names and counts, never a value).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from nacl.public import PrivateKey, PublicKey

from solidarity.audit import bulk
from solidarity.audit.context import actor_for_user
from solidarity.audit.keys import fingerprint
from solidarity.audit.services import append, model_label
from solidarity.core.classification import FieldClass
from solidarity.core.models import Section

from .access import sections_reading
from .crypto import DecryptionError, b64d, b64e, unwrap_data_key, wrap_data_key
from .keys import (
    KeyRefused,
    grantee_public_key,
    rewrap_section_keys,
    sealed_fields,
    sealed_ids,
    section_recipient_keys,
    unlock_private_key,
    user_wrapped_keys,
)
from .models import RecoveryWrappedKey, SealedKey, SectionRecoveryKey


@dataclass(frozen=True)
class RecoverySet:
    """What `set_recovery_key` did: values newly wrapped, already wrapped, and not wrapped
    because the coordinator is not a recipient of them."""

    key: SectionRecoveryKey
    replaced: bool
    wrapped: int
    already: int
    unopened: int
    # A first registration on one coordinator's password alone (the section had no other
    # coordinator with a key to confirm it).
    unconfirmed: bool = False


@dataclass(frozen=True)
class Recovered:
    """What `recover` did: values granted, already the grantee's, and not covered by the
    recovery key (stored before it was set, by a coordinator who could not open them)."""

    granted: int
    already: int
    uncovered: int


# Primary keys of the section's rows whose field holds a sealed value, locked (`keys.sealed_ids`).


def _coordinators_with_keys(section: Section) -> int:
    """How many distinct active users of the section read its sealed data and have a key."""
    return section_recipient_keys(section.pk).values("user_id").distinct().count()


def _confirm(section: Section, user: Any, password: str, first: Any) -> None:
    """Prove that `user`, a coordinator of the section with a key other than `first`, agrees:
    their password must open their private key (a password check alone would do for a login,
    but the key is what makes them one of the section's coordinators for sealed data)."""
    if user.pk == first.pk:
        raise KeyRefused(
            f"The two coordinators must be different people; {user} was given twice. Nothing "
            "was changed."
        )
    if section.pk not in sections_reading(user, FieldClass.SEALED):
        raise KeyRefused(
            f"{user} has no role in section {section.slug} that includes sealed data. Nothing "
            "was changed."
        )
    unlock_private_key(user, password)


def set_recovery_key(
    section: Section,
    public_key: PublicKey,
    by: Any,
    private_key: PrivateKey,
    *,
    old_private_key: PrivateKey | None = None,
    drop_unopened: bool = False,
    second: Any = None,
    second_password: str = "",
) -> RecoverySet:
    """Register `public_key` as the section's recovery key and wrap to it every sealed value of
    the section that `by` (a coordinator there, with their unlocked key) can open.

    Run again with the same key, it wraps what is still missing (another coordinator may open
    values the first could not). With another key, the old one and its wrapped keys go; that is
    refused without `old_private_key`, the current recovery private key (threat: one
    coordinator with their password and shell access quietly swapping in a key they control,
    so that every value is re-wrapped to them and neither losing their role nor rotating their
    key pair ends it), and refused while a value wrapped to the old key cannot be re-wrapped by
    `by` (it would then be recoverable no more) unless `drop_unopened`, which does not waive
    the old key.

    The first registration needs `second`, another coordinator of the section with a key, and
    their password, whenever the section has two or more coordinators with keys (threat: one
    coordinator registering a key they control before the custodians do; they could read the
    values anyway, but the key would outlive their role). With a single one, nobody can
    confirm: allowed, and `unconfirmed` says so.
    """
    if section.pk not in sections_reading(by, FieldClass.SEALED):
        raise KeyRefused(f"{by} has no role in section {section.slug} that includes sealed data.")
    if second is not None:
        # The Argon2id work before the transaction, which holds the section's lock.
        _confirm(section, second, second_password, by)
    encoded = b64e(bytes(public_key))
    with transaction.atomic():
        # The section row first, as a sealed save locks it (keys.sealing_recipients): a record
        # sealed meanwhile on PostgreSQL is then wrapped to this key or seen by the loop below.
        Section.objects.select_for_update().filter(pk=section.pk).first()
        current = SectionRecoveryKey.objects.select_for_update().filter(section=section).first()
        replaced = current is not None and current.public_key != encoded
        # Counted under the section's lock: a coordinator set up meanwhile is counted or not,
        # never half.
        unconfirmed = current is None and second is None
        if unconfirmed and _coordinators_with_keys(section) >= 2:
            raise KeyRefused(
                f"Section {section.slug} has no recovery key yet and more than one coordinator "
                "with a key: registering the first one needs a second coordinator to confirm "
                "it (--second, and their password). Nothing was changed."
            )
        if replaced and current is not None:
            # Checked before anything changes: possession of the current private key, which
            # only the section's custodians hold offline, not a password on this server.
            when = current.created_at.date().isoformat()
            if old_private_key is None:
                raise KeyRefused(
                    f"Section {section.slug} already has a recovery key (fingerprint "
                    f"{current.fingerprint}, registered {when}). Replacing it needs the current "
                    "recovery private key from its custodians: pass it with --old-key. Nothing "
                    "was changed."
                )
            if b64e(bytes(old_private_key.public_key)) != current.public_key:
                raise KeyRefused(
                    "The key given with --old-key is not the current recovery key of section "
                    f"{section.slug} (fingerprint {current.fingerprint}, registered {when}). "
                    "Nothing was changed."
                )
        plan: list[tuple[ContentType, str, dict[int, str], set[int], list[int]]] = []
        lost = 0
        for model, field in sealed_fields():
            content_type = ContentType.objects.get_for_model(model)
            ids = sealed_ids(model, field, section.pk)
            mine = dict(
                SealedKey.objects.filter(
                    content_type=content_type, field_name=field, user=by, object_id__in=ids
                ).values_list("object_id", "wrapped_key")
            )
            covered: set[int] = set()
            if current is not None:
                covered = set(
                    current.wrapped_keys.filter(
                        content_type=content_type, field_name=field, object_id__in=ids
                    ).values_list("object_id", flat=True)
                )
            if replaced:
                lost += len(covered - set(mine))
            plan.append((content_type, field, mine, set() if replaced else covered, ids))
        if lost and not drop_unopened:
            raise KeyRefused(
                f"{lost} sealed value(s) of section {section.slug} are wrapped to the current "
                f"recovery key but {by} cannot open them, so replacing the key would make them "
                "unrecoverable. Run recovery-set with the password of a coordinator who can, or "
                "grant them first (keys recover with the current key), or pass --drop-unopened."
            )
        if replaced and current is not None:
            current.delete()  # its wrapped keys go with it (CASCADE), each logged
        key = current if current is not None and not replaced else None
        if key is None:
            key = SectionRecoveryKey.objects.create(
                section=section,
                public_key=encoded,
                fingerprint=fingerprint(bytes(public_key)),
                created_by=by,
            )
        wrapped = already = unopened = 0
        rows: list[RecoveryWrappedKey] = []
        for content_type, field, mine, covered, ids in plan:
            for object_id in ids:
                if object_id in covered:
                    already += 1
                elif object_id in mine:
                    try:
                        data_key = unwrap_data_key(b64d(mine[object_id]), private_key)
                    except DecryptionError:
                        raise KeyRefused(
                            f"A key wrapped for {by} does not open with their private key."
                        ) from None
                    rows.append(
                        RecoveryWrappedKey(
                            content_type=content_type,
                            object_id=object_id,
                            field_name=field,
                            recovery_key=key,
                            wrapped_key=b64e(wrap_data_key(data_key, public_key)),
                        )
                    )
                    wrapped += 1
                else:
                    unopened += 1
        with bulk.named("recovery_wrap"):
            RecoveryWrappedKey.objects.bulk_create(rows)
        append(
            "recovery_key_set",
            model_label(SectionRecoveryKey),
            key.pk,
            values={
                "section": section.slug,
                "fingerprint": key.fingerprint,
                "by": actor_for_user(by),
                "second": None if second is None else actor_for_user(second),
                "replaced": replaced,
                "wrapped": wrapped,
                "unopened": unopened,
            },
        )
    return RecoverySet(key, replaced, wrapped, already, unopened, unconfirmed)


def remove_recovery_key(
    section: Section, by: Any, by_password: str, second: Any, second_password: str
) -> int:
    """Delete the section's recovery key and every data key wrapped to it, on the passwords of
    two different coordinators of the section with keys; returns how many wrapped keys went.

    Threat: a key registered by a coerced coordinator, or by one who has since turned, whose
    private half is held by someone the section does not trust; no replacement can end it
    without that private key (`set_recovery_key`). Two coordinators together can: the values
    stay open to every coordinator they were sealed for, only the recovery path goes, until
    the custodians' key is registered again (`recovery-set`). Two passwords, not one, so that
    a single coerced coordinator cannot remove the section's real recovery path either.
    """
    _confirm(section, by, by_password, second)
    _confirm(section, second, second_password, by)
    with transaction.atomic():
        # The section row first, as a sealed save locks it (keys.sealing_recipients): a save
        # under way either commits before (its recovery copy deleted below) or reads no key.
        Section.objects.select_for_update().filter(pk=section.pk).first()
        key = SectionRecoveryKey.objects.select_for_update().filter(section=section).first()
        if key is None:
            raise KeyRefused(f"Section {section.slug} has no recovery key. Nothing was changed.")
        wrapped = key.wrapped_keys.count()
        pk, key_fingerprint = key.pk, key.fingerprint
        key.delete()  # its wrapped keys go with it (CASCADE), each logged
        append(
            "recovery_key_removed",
            model_label(SectionRecoveryKey),
            pk,
            values={
                "section": section.slug,
                "fingerprint": key_fingerprint,
                "by": actor_for_user(by),
                "second": actor_for_user(second),
                "wrapped_keys_deleted": wrapped,
            },
        )
    return wrapped


def recover(section: Section, private_key: PrivateKey, grantee: Any) -> Recovered:
    """With the section's offline recovery private key, wrap every value wrapped to it for
    `grantee`, who must be allowed to read the section's sealed data and have a key (the rules
    of `keys.grant_sealed`)."""
    with transaction.atomic():
        # Not locked: a sealed save locks the recipients' keys before the recovery key, and
        # this the grantee's key after it would invert that order.
        key = SectionRecoveryKey.objects.filter(section=section).first()
        if key is None:
            raise KeyRefused(f"Section {section.slug} has no recovery key (keys recovery-set).")
        # Compared before any unwrapping, so a wrong key is named as such, not as a crypto
        # failure.
        if b64e(bytes(private_key.public_key)) != key.public_key:
            raise KeyRefused(
                f"This private key does not match the recovery key of section {section.slug} "
                f"(fingerprint {key.fingerprint})."
            )
        # Read (locked) in the transaction that stores the grant: a rotation of the grantee's
        # key pair cannot commit between, which would leave these keys wrapped for the old one.
        public_key = grantee_public_key(grantee, section.pk)

        def recoverable(content_type: ContentType, field: str, ids: list[int]) -> dict[int, str]:
            return dict(
                key.wrapped_keys.filter(
                    content_type=content_type, field_name=field, object_id__in=ids
                ).values_list("object_id", "wrapped_key")
            )

        found = rewrap_section_keys(
            section.pk,
            recoverable,
            user_wrapped_keys(grantee),
            private_key,
            public_key,
            "A key wrapped to the recovery key does not open with it.",
        )
        rows = [
            SealedKey(
                content_type=content_type,
                object_id=object_id,
                field_name=field,
                user=grantee,
                wrapped_key=wrapped,
            )
            for content_type, field, object_id, wrapped in found.rows
        ]
        with bulk.named("recovery_grant"):
            SealedKey.objects.bulk_create(rows)
        append(
            "recovery_grant",
            model_label(SectionRecoveryKey),
            key.pk,
            values={
                "section": section.slug,
                "fingerprint": key.fingerprint,
                "to": actor_for_user(grantee),
                "granted": len(rows),
                "uncovered": found.missing,
            },
        )
    return Recovered(len(rows), found.already, found.missing)
