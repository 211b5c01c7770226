"""Controlled vocabularies of the documentation domain.

They follow the HURIDOCS Events Standard Formats micro-thesauri where one fits (types of acts,
roles of involvement, reliability of information) and stay small: a term is added when a real
case needs it, with its label in the three interface languages through gettext.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    # Persecution
    DETENTION = "detention", _("detention")
    ASSAULT = "assault", _("assault")
    IMPRISONMENT = "imprisonment", _("imprisonment")
    THREAT = "threat", _("threat")
    ATTEMPT_ON_LIFE = "attempt_on_life", _("attempt on life")
    SUSPICIOUS_DEATH = "suspicious_death", _("suspicious death")
    KILLING = "killing", _("killing")
    EXILE = "exile", _("exile or hiding")
    EVICTION = "eviction", _("eviction")
    MASSACRE = "massacre", _("massacre")
    # Outcome
    RELEASE = "release", _("release")
    # Resistance
    FOUNDING = "founding", _("founding")
    STRIKE = "strike", _("strike")
    DEMONSTRATION = "demonstration", _("demonstration")
    PROTEST = "protest", _("protest")


PERSECUTION = frozenset(
    {
        EventType.DETENTION,
        EventType.ASSAULT,
        EventType.IMPRISONMENT,
        EventType.THREAT,
        EventType.ATTEMPT_ON_LIFE,
        EventType.SUSPICIOUS_DEATH,
        EventType.KILLING,
        EventType.EXILE,
        EventType.EVICTION,
        EventType.MASSACRE,
    }
)


class PersonStatus(models.TextChoices):
    FREE = "free", _("free")
    THREATENED = "threatened", _("threatened")
    DETAINED = "detained", _("detained")
    IMPRISONED = "imprisoned", _("imprisoned")
    IN_EXILE = "in_exile", _("in hiding or exile")
    RELEASED = "released", _("released")
    DEAD = "dead", _("dead")


# What an act does to its victim's status. Acts of other types (a massacre's unnamed victims,
# an eviction) are recorded but do not move a person's status on their own.
STATUS_AFTER_ACT: dict[str, PersonStatus] = {
    EventType.THREAT: PersonStatus.THREATENED,
    EventType.ASSAULT: PersonStatus.THREATENED,
    EventType.ATTEMPT_ON_LIFE: PersonStatus.THREATENED,
    EventType.DETENTION: PersonStatus.DETAINED,
    EventType.IMPRISONMENT: PersonStatus.IMPRISONED,
    EventType.EXILE: PersonStatus.IN_EXILE,
    EventType.RELEASE: PersonStatus.RELEASED,
    EventType.SUSPICIOUS_DEATH: PersonStatus.DEAD,
    EventType.KILLING: PersonStatus.DEAD,
}


class ParticipantRole(models.TextChoices):
    """Roles besides victim (an Act) and perpetrator (an Involvement)."""

    WITNESS = "witness", _("witness")
    LEGAL_COUNSEL = "legal_counsel", _("legal counsel")
    ORGANISER = "organiser", _("organiser")
    SUPPORTER = "supporter", _("supporter")


class InvolvementDegree(models.TextChoices):
    """ESF 'degree of involvement', plus the weaker claims sources make."""

    DIRECT = "direct", _("perpetrator")
    ORDERED = "ordered", _("ordered or instigated")
    ACCUSED = "accused", _("accused by the source")
    SUSPECTED = "suspected", _("suspected")


class Reliability(models.TextChoices):
    """How far a source can be relied on for one claim (ESF 'reliability of information')."""

    CONFIRMED = "confirmed", _("confirmed by independent sources")
    RELIABLE = "reliable", _("reliable source")
    PARTISAN = "partisan", _("interested party's account")
    UNCORROBORATED = "uncorroborated", _("uncorroborated")
    UNKNOWN = "unknown", _("not assessed")


class Correspondence(models.TextChoices):
    """Whether supporters may write to a prisoner."""

    UNKNOWN = "unknown", _("unknown")
    OPEN = "open", _("open: anyone may write")
    FAMILY_ONLY = "family_only", _("family only")
    BLOCKED = "blocked", _("blocked")


class ProsecutionOutcome(models.TextChoices):
    UNKNOWN = "unknown", _("unknown")
    PENDING = "pending", _("pending")
    CONVICTED = "convicted", _("convicted")
    ACQUITTED = "acquitted", _("acquitted")
    DROPPED = "dropped", _("charges dropped")


class NameScript(models.TextChoices):
    CYRILLIC = "Cyrl", _("Cyrillic")
    LATIN = "Latn", _("Latin")


class NameKind(models.TextChoices):
    NATIVE = "native", _("name as written in its own language")
    TRANSLITERATION = "transliteration", _("transliteration")
    VARIANT = "variant", _("other spelling found in sources")


class OrganisationKind(models.TextChoices):
    POLITICAL = "political", _("political organisation")
    INTERNATIONAL = "international", _("international")
    TRADE_UNION = "trade_union", _("trade union")
    STATE_BODY = "state_body", _("state body")
    PARTY = "party", _("political party")
    MEDIA = "media", _("media")
    OTHER = "other", _("other")


class RelationKind(models.TextChoices):
    AFFILIATED_TO = "affiliated_to", _("affiliated to")
    SECTION_OF = "section_of", _("section of")
    MEMBER_OF = "member_of", _("member of")
