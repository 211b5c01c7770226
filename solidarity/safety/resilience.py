"""The two-recipient rule for sealed data (threat model D4): who could still open it tomorrow.

Threat addressed: a sealed value that only one coordinator can open is lost for ever if that
coordinator is arrested, dies or forgets their password; one with no recovery key is lost if
all of them are. The rule is at least SOLIDARITY_SEALED_MIN_RECIPIENTS (2) coordinators with a
key and, with SOLIDARITY_SEALED_REQUIRE_RECOVERY, the section's offline recovery key. A save in
the back office that falls short is warned about, or refused with SOLIDARITY_SEALED_ENFORCE
(`views.sealed_value`), and `check --deploy` lists the sections holding sealed values that
fall short (accounts.W010). Not refused by default: a small section, or the demo, with one
coordinator would otherwise have nowhere to write whereabouts at all.

Not addressed: the rule is about recipients at the moment of writing; a coordinator who leaves
afterwards lowers the count of values already stored (the deploy check sees it).
"""

from __future__ import annotations

from typing import NamedTuple

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from solidarity.core.models import Section

from .access import section_of, section_path
from .keys import sealed_fields, section_recipient_keys
from .models import SectionRecoveryKey


class Resilience(NamedTuple):
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
    """How many coordinators a sealed value written now in `section` is wrapped to, whether
    the section has a recovery key, and whether that meets the rule."""
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


def sections_holding_sealed() -> list[int]:
    """Ids of the sections with at least one non-empty sealed value."""
    ids: set[int] = set()
    for model, field in sealed_fields():
        path = section_path(model)
        if path is None:
            continue
        # The field refuses lookups on its ciphertext; the length of the column is no lookup,
        # so emptiness is tested in SQL without reading a single ciphertext. The base manager:
        # a row a default manager hides still holds a value that can be lost.
        rows = model._base_manager.annotate(sealed_length=Length(field)).filter(sealed_length__gt=0)
        ids.update(rows.values_list(path, flat=True).distinct())
    return sorted(ids)


def short_sections() -> list[tuple[Section, Resilience]]:
    """Every section holding sealed values whose resilience falls short of the rule."""
    found = []
    for section in Section.objects.filter(pk__in=sections_holding_sealed()).order_by("slug"):
        resilience = sealed_resilience(section)
        if not resilience.ok:
            found.append((section, resilience))
    return found
