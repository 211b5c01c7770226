"""The documentation domain: who did what to whom, when, where, and who says so.

The shape follows the HURIDOCS Events Standard Formats: an Event holds Acts, each Act has one
victim, and Involvements tie perpetrators to an Act. Sources are information records; a
Citation ties any fact to a source with a reliability rating and an optional quote, so a reader
always sees who claims what. Prisoner records (Prosecution, Detention, Recognition) hang off a
Person. Every field's class (public, internal, personal, sealed) is declared in
`solidarity.core.classification`, not here.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from solidarity.core.fields import PartialDateField
from solidarity.core.models import Record
from solidarity.core.partialdate import PartialDate
from solidarity.core.translation import Translated, tr
from solidarity.safety.fields import EncryptedTextField, SealedTextField, row_nonce_field

from .vocabularies import (
    Correspondence,
    EventType,
    InvolvementDegree,
    NameKind,
    NameScript,
    OrganisationKind,
    ParticipantRole,
    ProsecutionOutcome,
    RelationKind,
    Reliability,
)


def check_period(start: PartialDate | None, end: PartialDate | None, end_field: str) -> None:
    """Reject an end that is certainly before the start, naming the field at fault."""
    if start and end and end.latest < start.earliest:
        raise ValidationError(
            {
                end_field: _("The end (%(end)s) is before the start (%(start)s).")
                % {"end": end.display(), "start": start.display()}
            }
        )


# -- Sources and citations --------------------------------------------------------------------


class Source(Record):
    """An information record: a document, article or site that makes claims."""

    class Kind(models.TextChoices):
        ARTICLE = "article", _("article")
        WEBSITE = "website", _("website")
        ENCYCLOPEDIA = "encyclopedia", _("encyclopedia article")
        STATEMENT = "statement", _("statement")
        TESTIMONY = "testimony", _("testimony")
        OTHER = "other", _("other")

    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=500)
    author = models.CharField(max_length=300, blank=True)
    publisher = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.ARTICLE)
    published = PartialDateField(_("published"), blank=True)
    accessed = models.DateField(_("accessed"), null=True, blank=True)
    url = models.URLField(blank=True)
    language = models.CharField(max_length=10, blank=True)
    internal_notes = models.TextField(blank=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class Citation(models.Model):
    """One fact → one source, with how reliable that source is for that fact."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    fact = GenericForeignKey("content_type", "object_id")
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="citations")
    reliability = models.CharField(
        max_length=20, choices=Reliability.choices, default=Reliability.UNKNOWN
    )
    quote = models.TextField(blank=True, help_text=_("The words of the source, if useful."))
    locator = models.CharField(
        max_length=100, blank=True, help_text=_("Page, paragraph or footnote.")
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "source"],
                name="citation_once_per_fact_and_source",
                violation_error_message=_("This source is already cited for this fact."),
            )
        ]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.source} ({self.get_reliability_display()})"


class Sourced(Record):
    """A record that states facts, and so must cite at least one source."""

    citations = GenericRelation(Citation)

    class Meta:
        abstract = True


# -- Places, organisations, people --------------------------------------------------------------


class Place(Record):
    class Kind(models.TextChoices):
        COUNTRY = "country", _("country")
        REGION = "region", _("region")
        CITY = "city", _("city or town")
        SITE = "site", _("site or building")

    slug = models.SlugField(unique=True)
    name_en = models.CharField(_("name (en)"), max_length=200)
    name_ru = models.CharField(_("name (ru)"), max_length=200, blank=True)
    name_kk = models.CharField(_("name (kk)"), max_length=200, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    country_code = models.CharField(_("country (ISO 3166)"), max_length=2, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )

    class Meta:
        ordering = ["name_en"]

    def __str__(self) -> str:
        return self.name_en

    @property
    def name(self) -> Translated:
        return tr(self, "name")


class Organisation(Sourced):
    slug = models.SlugField(unique=True)
    name_en = models.CharField(_("name (en)"), max_length=300)
    name_ru = models.CharField(_("name (ru)"), max_length=300, blank=True)
    name_kk = models.CharField(_("name (kk)"), max_length=300, blank=True)
    abbreviation = models.CharField(max_length=30, blank=True)
    kind = models.CharField(max_length=20, choices=OrganisationKind.choices)
    founded = PartialDateField(_("founded"), blank=True)
    dissolved = PartialDateField(_("dissolved"), blank=True)
    country = models.ForeignKey(
        Place, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ideology = models.CharField(max_length=300, blank=True)
    political_position = models.CharField(max_length=100, blank=True)
    colours = models.CharField(max_length=100, blank=True)
    website = models.CharField(max_length=200, blank=True)
    newspaper = models.CharField(max_length=200, blank=True)
    summary_en = models.TextField(_("summary (en)"), blank=True)
    summary_ru = models.TextField(_("summary (ru)"), blank=True)
    summary_kk = models.TextField(_("summary (kk)"), blank=True)
    internal_notes = models.TextField(blank=True)

    class Meta:
        ordering = ["name_en"]

    def __str__(self) -> str:
        return self.name_en

    @property
    def name(self) -> Translated:
        return tr(self, "name")

    def clean(self) -> None:
        check_period(self.founded, self.dissolved, "dissolved")


class OrganisationRelation(Sourced):
    """An affiliation between organisations, e.g. a section of an International."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="relations"
    )
    kind = models.CharField(max_length=20, choices=RelationKind.choices)
    other = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    start = PartialDateField(_("from"), blank=True)
    end = PartialDateField(_("until"), blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "kind", "other"],
                name="organisation_relation_once",
                violation_error_message=_("This relation is already recorded."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation} {self.get_kind_display()} {self.other}"

    def clean(self) -> None:
        if self.organisation_id and self.organisation_id == self.other_id:
            raise ValidationError({"other": _("An organisation cannot be related to itself.")})
        check_period(self.start, self.end, "end")


class Person(Sourced):
    slug = models.SlugField(unique=True)
    given_name = models.CharField(max_length=100)
    patronymic = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100)
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    occupation_en = models.CharField(_("occupation (en)"), max_length=300, blank=True)
    occupation_ru = models.CharField(_("occupation (ru)"), max_length=300, blank=True)
    occupation_kk = models.CharField(_("occupation (kk)"), max_length=300, blank=True)
    summary_en = models.TextField(_("summary (en)"), blank=True)
    summary_ru = models.TextField(_("summary (ru)"), blank=True)
    summary_kk = models.TextField(_("summary (kk)"), blank=True)
    # Where a person in hiding can be found is the most dangerous fact we hold: sealed to the
    # section's coordinators. Contact details are encrypted with a keyring key; both are bound
    # to this row by `row_nonce` (see solidarity.safety.fields).
    whereabouts = SealedTextField(_("whereabouts"), blank=True)
    contact = EncryptedTextField(_("contact details"), blank=True)
    row_nonce = row_nonce_field()
    internal_notes = models.TextField(blank=True)

    class Meta:
        ordering = ["family_name", "given_name"]
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.given_name, self.patronymic, self.family_name) if p)

    def clean(self) -> None:
        if self.birth_year is not None and not 1850 <= self.birth_year <= 2100:
            raise ValidationError({"birth_year": _("Enter a year between 1850 and 2100.")})


class PersonName(models.Model):
    """One way of writing a person's name: every script and spelling the sources use."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="names")
    name = models.CharField(max_length=300)
    language = models.CharField(
        max_length=10, help_text=_("ru, kk, kk-Latn, en, de, fr…: the language of this form.")
    )
    script = models.CharField(max_length=4, choices=NameScript.choices)
    kind = models.CharField(max_length=20, choices=NameKind.choices)

    class Meta:
        ordering = ["person", "script", "language", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "name"],
                name="person_name_once",
                violation_error_message=_("This person already has this name form."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        has_cyrillic = any("\u0400" <= ch <= "\u04ff" for ch in self.name)
        has_latin = any(ch.isascii() and ch.isalpha() for ch in self.name)
        if self.script == NameScript.CYRILLIC and has_latin:
            raise ValidationError({"script": _("This name has Latin letters, not Cyrillic.")})
        if self.script == NameScript.LATIN and has_cyrillic:
            raise ValidationError({"script": _("This name has Cyrillic letters, not Latin.")})


class Membership(Sourced):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(max_length=200, help_text=_("E.g. member, leader, founder."))
    start = PartialDateField(_("from"), blank=True)
    end = PartialDateField(_("until"), blank=True)

    class Meta:
        ordering = ["person", "organisation", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "organisation", "role"],
                name="membership_role_once",
                violation_error_message=_("This person already has this role here."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.person}: {self.role}, {self.organisation}"

    def clean(self) -> None:
        check_period(self.start, self.end, "end")


# -- Events (ESF: event → act → involvement) ----------------------------------------------------


class Event(Sourced):
    slug = models.SlugField(unique=True)
    type = models.CharField(max_length=30, choices=EventType.choices)
    title_en = models.CharField(_("title (en)"), max_length=300)
    title_ru = models.CharField(_("title (ru)"), max_length=300, blank=True)
    title_kk = models.CharField(_("title (kk)"), max_length=300, blank=True)
    summary_en = models.TextField(_("summary (en)"), blank=True)
    summary_ru = models.TextField(_("summary (ru)"), blank=True)
    summary_kk = models.TextField(_("summary (kk)"), blank=True)
    date = PartialDateField(_("date"))
    # Bounds of `date`, kept in step on save so that the timeline sorts and filters in SQL.
    date_earliest = models.DateField(editable=False)
    date_latest = models.DateField(editable=False)
    place = models.ForeignKey(
        Place, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    place_detail = models.CharField(
        max_length=200, blank=True, help_text=_("E.g. 'his home', when no place record fits.")
    )
    part_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="parts"
    )
    internal_notes = models.TextField(blank=True)

    class Meta:
        # The same order as PartialDate's: by the latest day the event can have happened.
        ordering = ["date_latest", "date_earliest", "slug"]
        indexes = [models.Index(fields=["date_latest", "date_earliest"])]

    def __str__(self) -> str:
        return self.title_en

    @property
    def title(self) -> Translated:
        return tr(self, "title")

    def save(self, *args: Any, **kwargs: Any) -> None:
        if isinstance(self.date, str):
            self.date = PartialDate.parse(self.date)
        if self.date is not None:
            self.date_earliest, self.date_latest = self.date.earliest, self.date.latest
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.part_of_id and self.part_of_id == self.pk:
            raise ValidationError({"part_of": _("An event cannot be part of itself.")})


class Act(models.Model):
    """One act against one victim within an event (ESF 'act')."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="acts")
    type = models.CharField(max_length=30, choices=EventType.choices)
    victim = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="acts"
    )
    victim_description = models.CharField(
        max_length=300,
        blank=True,
        help_text=_("Who the victim was, when no person record exists (e.g. 'a member')."),
    )
    date = PartialDateField(_("date"), blank=True, help_text=_("Leave empty: the event's date."))

    class Meta:
        ordering = ["event", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "victim", "type"],
                name="act_victim_once_per_type",
                violation_error_message=_("This person is already a victim of this act here."),
            )
        ]

    def __str__(self) -> str:
        who = self.victim or self.victim_description
        return f"{self.get_type_display()}: {who}"

    @property
    def effective_date(self) -> PartialDate:
        date = self.date or self.event.date
        if date is None:  # Event.date is required; only an unsaved event can lack it.
            raise ValueError(f"{self.event} has no date")
        return date

    def clean(self) -> None:
        if not self.victim_id and not self.victim_description.strip():
            raise ValidationError(
                {"victim": _("Choose the victim, or describe them if they have no record.")}
            )


class Involvement(models.Model):
    """A perpetrator's part in an act (ESF 'involvement')."""

    act = models.ForeignKey(Act, on_delete=models.CASCADE, related_name="involvements")
    perpetrator = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    perpetrator_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    perpetrator_description = models.CharField(max_length=300, blank=True)
    degree = models.CharField(max_length=20, choices=InvolvementDegree.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["act", "perpetrator"],
                name="involvement_person_once",
                violation_error_message=_("This person is already listed as a perpetrator."),
            ),
            models.UniqueConstraint(
                fields=["act", "perpetrator_organisation"],
                name="involvement_organisation_once",
                violation_error_message=_("This organisation is already listed as a perpetrator."),
            ),
        ]

    def __str__(self) -> str:
        who = self.perpetrator or self.perpetrator_organisation or self.perpetrator_description
        return f"{who} ({self.get_degree_display()})"

    def clean(self) -> None:
        given = [
            bool(self.perpetrator_id),
            bool(self.perpetrator_organisation_id),
            bool(self.perpetrator_description.strip()),
        ]
        if sum(given) != 1:
            raise ValidationError(
                _("Give exactly one perpetrator: a person, an organisation, or a description.")
            )


class Participation(models.Model):
    """Anyone else with a part in an event: witness, legal counsel, organiser, supporter."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="participations")
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="participations"
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="participations",
    )
    role = models.CharField(max_length=20, choices=ParticipantRole.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event", "person", "role"],
                name="participation_person_role_once",
                violation_error_message=_("This person is already listed in this role."),
            ),
            models.UniqueConstraint(
                fields=["event", "organisation", "role"],
                name="participation_organisation_role_once",
                violation_error_message=_("This organisation is already listed in this role."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person or self.organisation}: {self.get_role_display()}"

    def clean(self) -> None:
        if bool(self.person_id) == bool(self.organisation_id):
            raise ValidationError(_("Choose either a person or an organisation."))


# -- Prisoner records ---------------------------------------------------------------------------


class PaceCriterion(models.Model):
    """A criterion of PACE Resolution 1900 (2012) for defining a political prisoner."""

    code = models.CharField(max_length=2, unique=True)
    label_en = models.TextField(_("label (en)"))
    label_ru = models.TextField(_("label (ru)"), blank=True)
    label_kk = models.TextField(_("label (kk)"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("PACE 1900 criterion")
        verbose_name_plural = _("PACE 1900 criteria")

    def __str__(self) -> str:
        return f"{self.code}) {self.label_en}"


class DetentionFacility(Record):
    slug = models.SlugField(unique=True)
    name_en = models.CharField(_("name (en)"), max_length=300)
    name_ru = models.CharField(_("name (ru)"), max_length=300, blank=True)
    name_kk = models.CharField(_("name (kk)"), max_length=300, blank=True)
    place = models.ForeignKey(Place, on_delete=models.PROTECT, null=True, blank=True)
    postal_address = models.TextField(blank=True)

    class Meta:
        ordering = ["name_en"]
        verbose_name_plural = _("detention facilities")

    def __str__(self) -> str:
        return self.name_en


class Prosecution(Sourced):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="prosecutions")
    charge = models.CharField(max_length=500, blank=True)
    code_article = models.CharField(_("article of the criminal code"), max_length=200, blank=True)
    court = models.CharField(max_length=300, blank=True)
    opened = PartialDateField(_("case opened"), blank=True)
    verdict_date = PartialDateField(_("verdict"), blank=True)
    outcome = models.CharField(
        max_length=20, choices=ProsecutionOutcome.choices, default=ProsecutionOutcome.UNKNOWN
    )
    sentence = models.CharField(max_length=300, blank=True)
    appeal = models.TextField(blank=True)
    event = models.ForeignKey(
        Event, on_delete=models.SET_NULL, null=True, blank=True, related_name="prosecutions"
    )

    class Meta:
        ordering = ["person", "opened"]

    def __str__(self) -> str:
        return f"{self.person}: {self.charge or _('charge unknown')}"

    def clean(self) -> None:
        check_period(self.opened, self.verdict_date, "verdict_date")


class Detention(Sourced):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="detentions")
    facility = models.ForeignKey(DetentionFacility, on_delete=models.PROTECT, null=True, blank=True)
    start = PartialDateField(_("from"), blank=True)
    end = PartialDateField(_("until"), blank=True)
    correspondence = models.CharField(
        _("writing to the prisoner"),
        max_length=20,
        choices=Correspondence.choices,
        default=Correspondence.UNKNOWN,
    )
    correspondence_notes = models.TextField(blank=True)

    class Meta:
        ordering = ["person", "start"]

    def __str__(self) -> str:
        return f"{self.person}: {self.facility or _('place unknown')}"

    def clean(self) -> None:
        check_period(self.start, self.end, "end")


class Recognition(Sourced):
    """Recognition of a person as a political prisoner, with the PACE criteria relied on."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="recognitions")
    recognised_by = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="recognitions"
    )
    date = PartialDateField(_("date"), blank=True)
    criteria = models.ManyToManyField(PaceCriterion, blank=True)
    reasons = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "recognised_by"],
                name="recognition_once_per_organisation",
                violation_error_message=_("This organisation's recognition is already recorded."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.person}, recognised by {self.recognised_by}"
