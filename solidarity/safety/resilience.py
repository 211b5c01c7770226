"""The two-recipient rule for sealed data (threat model D4): who could still open it tomorrow.

Threat addressed: a sealed value that only one coordinator can open is lost for ever if that
coordinator is arrested, dies or forgets their password; one with no recovery copy is lost if
all of them are. The rule is at least SOLIDARITY_SEALED_MIN_RECIPIENTS (2) coordinators able
to open it and, with SOLIDARITY_SEALED_REQUIRE_RECOVERY, a copy for the section's offline
recovery key. Two different questions, answered by two functions:

- `sealed_resilience(section)`: a value WRITTEN NOW, which is wrapped to every current
  coordinator of the section with a key and to its recovery key. A back-office save that falls
  short is warned about, or refused with SOLIDARITY_SEALED_ENFORCE (`views.sealed_value`). Not
  refused by default: a small section, or the demo, with one coordinator would otherwise have
  nowhere to write whereabouts at all.
- `stored_shortfalls()`: the values ALREADY STORED, counted one by one by their wrapped keys.
  A coordinator who set up a key after a value was written can open it only once someone
  grants it (`solidarity keys grant`), and `recovery-set` wraps only what its coordinator can
  open; counting coordinators with a key would call such a value safe when one person alone
  can open it. `check --deploy` lists the sections holding such values (accounts.W010).
"""

from __future__ import annotations

from typing import NamedTuple

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Length
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from solidarity.core.classification import FieldClass
from solidarity.core.models import Section

from . import policy
from .access import section_of, section_path
from .keys import sealed_fields, section_recipient_keys
from .models import RecoveryWrappedKey, SealedKey, SectionRecoveryKey


class Resilience(NamedTuple):
    """Of a value written now in a section (`sealed_resilience`), not of those stored."""

    coordinator_recipients: int
    has_recovery: bool
    ok: bool


def minimum_recipients() -> int:
    return int(getattr(settings, "SOLIDARITY_SEALED_MIN_RECIPIENTS", 2))


def recovery_required() -> bool:
    return bool(getattr(settings, "SOLIDARITY_SEALED_REQUIRE_RECOVERY", False))


def enforced() -> bool:
    return bool(getattr(settings, "SOLIDARITY_SEALED_ENFORCE", False))


def sealed_resilience(section: Section | int) -> Resilience:
    """How many coordinators a sealed value WRITTEN NOW in `section` is wrapped to, whether
    the section has a recovery key, and whether that meets the rule.

    For the save-time warning only: a write wraps to every coordinator with a key, so this is
    exact for it. It says nothing of the values already stored (a coordinator who set up a key
    later is no recipient of them until granted): `stored_shortfalls` counts those."""
    section_id = section.pk if isinstance(section, Section) else section
    # Distinct users: one person with two roles that read sealed data is one recipient.
    count = section_recipient_keys(section_id).values("user_id").distinct().count()
    has_recovery = SectionRecoveryKey.objects.filter(section_id=section_id).exists()
    ok = count >= minimum_recipients() and (has_recovery or not recovery_required())
    return Resilience(count, has_recovery, ok)


def shortfall(obj: models.Model, value: str) -> Resilience | None:
    """The resilience of writing `value` into a sealed field of `obj`, if it falls short.

    None when there is nothing to protect (an empty value erases) or the rule is met. A record
    without a section has no recipient at all, which the field itself refuses (SealingError).
    """
    section_id = section_of(obj)
    if not value or section_id is None:
        return None
    resilience = sealed_resilience(section_id)
    return None if resilience.ok else resilience


def shortfall_message(resilience: Resilience, *, refused: bool = False) -> str:
    """What falls short and what to do, for the coordinator writing a value; never the value."""
    count = resilience.coordinator_recipients
    if resilience.has_recovery:
        state = ngettext(
            "%(count)d coordinator of this section can open its sealed values, and the section "
            "has a recovery key.",
            "%(count)d coordinators of this section can open its sealed values, and the section "
            "has a recovery key.",
            count,
        )
    else:
        state = ngettext(
            "%(count)d coordinator of this section can open its sealed values, and the section "
            "has no recovery key.",
            "%(count)d coordinators of this section can open its sealed values, and the section "
            "has no recovery key.",
            count,
        )
    parts = [_("Not saved.")] if refused else []
    parts.append(state % {"count": count})
    minimum = minimum_recipients()
    if count < minimum:
        parts.append(
            ngettext(
                "Sealed data needs at least %(minimum)d coordinator with a key, so that one "
                "arrest or one forgotten password does not lose it.",
                "Sealed data needs at least %(minimum)d coordinators with a key, so that one "
                "arrest or one forgotten password does not lose it.",
                minimum,
            )
            % {"minimum": minimum}
        )
        parts.append(
            _(
                "Give another person the coordinator role in this section; once they have set "
                "up their key, grant them the section's sealed values (“solidarity keys "
                "grant”)."
            )
        )
    if not resilience.has_recovery:
        parts.append(
            _(
                "Register the section's offline recovery key (“solidarity keys recovery-set”), "
                "so that its sealed values outlive the loss of every coordinator."
            )
        )
    return " ".join(parts)


class StoredShortfall(NamedTuple):
    """A section's stored sealed values that fall short of the rule, by count only."""

    values: int  # non-empty sealed values in the section
    below_minimum: int  # of them, open to fewer than the minimum of current recipients
    without_recovery: int  # of them, with no copy for the section's current recovery key


def _per_section(model: type[models.Model], field: str, minimum: int) -> list[dict[str, int]]:
    """For one sealed field, per section: its non-empty values, those with fewer than `minimum`
    current recipients and those with no recovery copy; one aggregate query, no ciphertext."""
    path = section_path(model)
    if path is None:
        return []
    content_type = ContentType.objects.get_for_model(model)
    # A current recipient: a wrapped key whose user is active, still has a key pair and holds a
    # role reading sealed data in the record's section. A key left for someone who lost that
    # role, or was deactivated, opens nothing for the section any more. One role per user and
    # section, so the join counts each recipient once.
    recipients = (
        SealedKey.objects.filter(
            content_type=content_type,
            field_name=field,
            object_id=OuterRef("pk"),
            user__is_active=True,
            user__safety_key__isnull=False,
            user__safety_roles__section_id=OuterRef(path),
            user__safety_roles__role__in=policy.roles_reading(FieldClass.SEALED),
        )
        .order_by()
        .values("object_id")
        .annotate(count=Count("user_id", distinct=True))
        .values("count")
    )
    # The section's recovery key is its current one (one per section; a replaced or removed
    # key's copies go with it).
    recovery_copy = RecoveryWrappedKey.objects.filter(
        content_type=content_type,
        field_name=field,
        object_id=OuterRef("pk"),
        recovery_key__section_id=OuterRef(path),
    )
    # The field refuses lookups on its ciphertext; the length of the column is no lookup, so
    # emptiness is tested in SQL without reading a single ciphertext. The base manager: a row a
    # default manager hides still holds a value that can be lost.
    rows = (
        model._base_manager.annotate(sealed_length=Length(field))
        .filter(sealed_length__gt=0)
        .annotate(
            recipients=Coalesce(Subquery(recipients), Value(0), output_field=IntegerField()),
            has_recovery=Exists(recovery_copy),
        )
        .order_by()
        .values(owning_section=F(path))
        .annotate(
            values=Count("pk"),
            below_minimum=Count("pk", filter=Q(recipients__lt=minimum)),
            without_recovery=Count("pk", filter=Q(has_recovery=False)),
        )
    )
    return list(rows)


def stored_shortfalls() -> list[tuple[Section, StoredShortfall]]:
    """Every section holding sealed values of which some are open to fewer than the minimum of
    current recipients or, when a recovery key is required, have no recovery copy."""
    minimum = minimum_recipients()
    totals: dict[int, StoredShortfall] = {}
    for model, field in sealed_fields():
        for row in _per_section(model, field, minimum):
            before = totals.get(row["owning_section"], StoredShortfall(0, 0, 0))
            totals[row["owning_section"]] = StoredShortfall(
                before.values + row["values"],
                before.below_minimum + row["below_minimum"],
                before.without_recovery + row["without_recovery"],
            )
    required = recovery_required()
    short = {
        pk: found
        for pk, found in totals.items()
        if found.below_minimum or (required and found.without_recovery)
    }
    return [
        (section, short[section.pk])
        for section in Section.objects.filter(pk__in=short).order_by("slug")
    ]
