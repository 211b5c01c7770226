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
from uuid import uuid4

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from solidarity.core.fields import PartialDateField
from solidarity.core.links import validate_web_address, validate_web_page
from solidarity.core.models import Record, Section
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

    slug = models.SlugField(_("slug"), unique=True)
    title = models.CharField(_("title"), max_length=500)
    author = models.CharField(_("author"), max_length=300, blank=True)
    publisher = models.CharField(_("publisher"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.ARTICLE)
    published = PartialDateField(_("published"), blank=True)
    accessed = models.DateField(_("accessed"), null=True, blank=True)
    # Only addresses a public page may link (core/links.py): refused here, with a message.
    url = models.URLField(_("URL"), blank=True, validators=[validate_web_page])
    language = models.CharField(_("language"), max_length=10, blank=True)
    internal_notes = models.TextField(_("internal notes"), blank=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")

    def __str__(self) -> str:
        return self.title


class Citation(models.Model):
    """One fact → one source, with how reliable that source is for that fact."""

    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, verbose_name=_("content type")
    )
    object_id = models.PositiveBigIntegerField(_("object ID"))
    fact = GenericForeignKey("content_type", "object_id")
    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="citations", verbose_name=_("source")
    )
    reliability = models.CharField(
        _("reliability"), max_length=20, choices=Reliability.choices, default=Reliability.UNKNOWN
    )
    quote = models.TextField(
        _("quote"), blank=True, help_text=_("The words of the source, if useful.")
    )
    locator = models.CharField(
        _("locator"), max_length=100, blank=True, help_text=_("Page, paragraph or footnote.")
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
        verbose_name = _("citation")
        verbose_name_plural = _("citations")

    def __str__(self) -> str:
        return f"{self.source} ({self.get_reliability_display()})"


class Sourced(Record):
    """A record that states facts, and so must cite at least one source."""

    citations = GenericRelation(Citation, verbose_name=_("citations"))

    class Meta:
        abstract = True


# -- Places, organisations, people --------------------------------------------------------------


class Place(Record):
    class Kind(models.TextChoices):
        COUNTRY = "country", _("country")
        REGION = "region", _("region")
        CITY = "city", _("city or town")
        SITE = "site", _("site or building")

    slug = models.SlugField(_("slug"), unique=True)
    name_en = models.CharField(_("name (en)"), max_length=200)
    name_ru = models.CharField(_("name (ru)"), max_length=200, blank=True)
    name_kk = models.CharField(_("name (kk)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    country_code = models.CharField(_("country (ISO 3166)"), max_length=2, blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )

    class Meta:
        ordering = ["name_en"]
        verbose_name = _("place")
        verbose_name_plural = _("places")

    def __str__(self) -> str:
        return self.name_en

    @property
    def name(self) -> Translated:
        return tr(self, "name")


class Organisation(Sourced):
    slug = models.SlugField(_("slug"), unique=True)
    name_en = models.CharField(_("name (en)"), max_length=300)
    name_ru = models.CharField(_("name (ru)"), max_length=300, blank=True)
    name_kk = models.CharField(_("name (kk)"), max_length=300, blank=True)
    abbreviation = models.CharField(_("abbreviation"), max_length=30, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=OrganisationKind.choices)
    founded = PartialDateField(_("founded"), blank=True)
    dissolved = PartialDateField(_("dissolved"), blank=True)
    country = models.ForeignKey(
        Place,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("country"),
    )
    ideology = models.CharField(_("ideology"), max_length=300, blank=True)
    political_position = models.CharField(_("political position"), max_length=100, blank=True)
    colours = models.CharField(_("colours"), max_length=100, blank=True)
    website = models.CharField(
        _("website"), max_length=200, blank=True, validators=[validate_web_address]
    )
    newspaper = models.CharField(_("newspaper"), max_length=200, blank=True)
    summary_en = models.TextField(_("summary (en)"), blank=True)
    summary_ru = models.TextField(_("summary (ru)"), blank=True)
    summary_kk = models.TextField(_("summary (kk)"), blank=True)
    internal_notes = models.TextField(_("internal notes"), blank=True)

    class Meta:
        ordering = ["name_en"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

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
        Organisation,
        on_delete=models.CASCADE,
        related_name="relations",
        verbose_name=_("organisation"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=RelationKind.choices)
    other = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("other organisation"),
    )
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
        verbose_name = _("organisation relation")
        verbose_name_plural = _("organisation relations")

    def __str__(self) -> str:
        return f"{self.organisation} {self.get_kind_display()} {self.other}"

    def clean(self) -> None:
        if self.organisation_id and self.organisation_id == self.other_id:
            raise ValidationError({"other": _("An organisation cannot be related to itself.")})
        check_period(self.start, self.end, "end")


class Person(Sourced):
    slug = models.SlugField(_("slug"), unique=True)
    given_name = models.CharField(_("given name"), max_length=100)
    patronymic = models.CharField(_("patronymic"), max_length=100, blank=True)
    family_name = models.CharField(_("family name"), max_length=100)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
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
    internal_notes = models.TextField(_("internal notes"), blank=True)

    class Meta:
        ordering = ["family_name", "given_name"]
        verbose_name = _("person")
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

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="names", verbose_name=_("person")
    )
    name = models.CharField(_("name"), max_length=300)
    language = models.CharField(
        _("language"),
        max_length=10,
        help_text=_("ru, kk, kk-Latn, en, de, fr…: the language of this form."),
    )
    script = models.CharField(_("script"), max_length=4, choices=NameScript.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=NameKind.choices)
    # Threat: a name someone lives under in hiding, or a new identity after exile, is a name
    # form too (staff must find the person by it), but shown on a public page, in an export or
    # as a hit of the public search it tells the state whom to look for under that name. So a
    # form is internal until someone publishes it; forgetting to costs findability, not a life.
    is_public = models.BooleanField(
        _("public"),
        default=False,
        help_text=_(
            "Shown on public pages and exports, and found by the public search, when the "
            "person is public. Leave unticked for a name that could endanger them (a name "
            "used in hiding, a new identity)."
        ),
    )

    class Meta:
        ordering = ["person", "script", "language", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "name"],
                name="person_name_once",
                violation_error_message=_("This person already has this name form."),
            )
        ]
        verbose_name = _("person name")
        verbose_name_plural = _("person names")

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
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("person")
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("organisation"),
    )
    role = models.CharField(_("role"), max_length=200, help_text=_("E.g. member, leader, founder."))
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
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.person}: {self.role}, {self.organisation}"

    def clean(self) -> None:
        check_period(self.start, self.end, "end")


# -- Events (ESF: event → act → involvement) ----------------------------------------------------


class Event(Sourced):
    slug = models.SlugField(_("slug"), unique=True)
    type = models.CharField(_("type"), max_length=30, choices=EventType.choices)
    title_en = models.CharField(_("title (en)"), max_length=300)
    title_ru = models.CharField(_("title (ru)"), max_length=300, blank=True)
    title_kk = models.CharField(_("title (kk)"), max_length=300, blank=True)
    summary_en = models.TextField(_("summary (en)"), blank=True)
    summary_ru = models.TextField(_("summary (ru)"), blank=True)
    summary_kk = models.TextField(_("summary (kk)"), blank=True)
    date = PartialDateField(_("date"))
    # Bounds of `date`, kept in step on save so that the timeline sorts and filters in SQL.
    date_earliest = models.DateField(_("earliest date"), editable=False)
    date_latest = models.DateField(_("latest date"), editable=False)
    place = models.ForeignKey(
        Place,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("place"),
    )
    place_detail = models.CharField(
        _("place detail"),
        max_length=200,
        blank=True,
        help_text=_("E.g. 'his home', when no place record fits."),
    )
    part_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="parts",
        verbose_name=_("part of"),
    )
    internal_notes = models.TextField(_("internal notes"), blank=True)

    class Meta:
        # The same order as PartialDate's: by the latest day the event can have happened.
        ordering = ["date_latest", "date_earliest", "slug"]
        indexes = [models.Index(fields=["date_latest", "date_earliest"])]
        verbose_name = _("event")
        verbose_name_plural = _("events")

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

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="acts", verbose_name=_("event")
    )
    type = models.CharField(_("type"), max_length=30, choices=EventType.choices)
    victim = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="acts",
        verbose_name=_("victim"),
    )
    victim_description = models.CharField(
        _("victim description"),
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
        verbose_name = _("act")
        verbose_name_plural = _("acts")

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

    act = models.ForeignKey(
        Act, on_delete=models.CASCADE, related_name="involvements", verbose_name=_("act")
    )
    perpetrator = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("perpetrator"),
    )
    perpetrator_organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("perpetrator organisation"),
    )
    perpetrator_description = models.CharField(
        _("perpetrator description"), max_length=300, blank=True
    )
    degree = models.CharField(_("degree"), max_length=20, choices=InvolvementDegree.choices)

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
        verbose_name = _("involvement")
        verbose_name_plural = _("involvements")

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

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="participations", verbose_name=_("event")
    )
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="participations",
        verbose_name=_("person"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="participations",
        verbose_name=_("organisation"),
    )
    role = models.CharField(_("role"), max_length=20, choices=ParticipantRole.choices)

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
        verbose_name = _("participation")
        verbose_name_plural = _("participations")

    def __str__(self) -> str:
        return f"{self.person or self.organisation}: {self.get_role_display()}"

    def clean(self) -> None:
        if bool(self.person_id) == bool(self.organisation_id):
            raise ValidationError(_("Choose either a person or an organisation."))


# -- Prisoner records ---------------------------------------------------------------------------


class PaceCriterion(models.Model):
    """A criterion of PACE Resolution 1900 (2012) for defining a political prisoner."""

    code = models.CharField(_("code"), max_length=2, unique=True)
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
    slug = models.SlugField(_("slug"), unique=True)
    name_en = models.CharField(_("name (en)"), max_length=300)
    name_ru = models.CharField(_("name (ru)"), max_length=300, blank=True)
    name_kk = models.CharField(_("name (kk)"), max_length=300, blank=True)
    place = models.ForeignKey(
        Place, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("place")
    )
    postal_address = models.TextField(_("postal address"), blank=True)

    class Meta:
        ordering = ["name_en"]
        verbose_name = _("detention facility")
        verbose_name_plural = _("detention facilities")

    def __str__(self) -> str:
        return self.name_en


class Prosecution(Sourced):
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="prosecutions", verbose_name=_("person")
    )
    charge = models.CharField(_("charge"), max_length=500, blank=True)
    code_article = models.CharField(_("article of the criminal code"), max_length=200, blank=True)
    court = models.CharField(_("court"), max_length=300, blank=True)
    opened = PartialDateField(_("case opened"), blank=True)
    verdict_date = PartialDateField(_("verdict"), blank=True)
    outcome = models.CharField(
        _("outcome"),
        max_length=20,
        choices=ProsecutionOutcome.choices,
        default=ProsecutionOutcome.UNKNOWN,
    )
    sentence = models.CharField(_("sentence"), max_length=300, blank=True)
    appeal = models.TextField(_("appeal"), blank=True)
    event = models.ForeignKey(
        Event,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="prosecutions",
        verbose_name=_("event"),
    )

    class Meta:
        ordering = ["person", "opened"]
        verbose_name = _("prosecution")
        verbose_name_plural = _("prosecutions")

    def __str__(self) -> str:
        return f"{self.person}: {self.charge or _('charge unknown')}"

    def clean(self) -> None:
        check_period(self.opened, self.verdict_date, "verdict_date")


class Detention(Sourced):
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="detentions", verbose_name=_("person")
    )
    facility = models.ForeignKey(
        DetentionFacility,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("facility"),
    )
    start = PartialDateField(_("from"), blank=True)
    end = PartialDateField(_("until"), blank=True)
    correspondence = models.CharField(
        _("writing to the prisoner"),
        max_length=20,
        choices=Correspondence.choices,
        default=Correspondence.UNKNOWN,
    )
    correspondence_notes = models.TextField(_("correspondence notes"), blank=True)

    class Meta:
        ordering = ["person", "start"]
        verbose_name = _("detention")
        verbose_name_plural = _("detentions")

    def __str__(self) -> str:
        return f"{self.person}: {self.facility or _('place unknown')}"

    def clean(self) -> None:
        check_period(self.start, self.end, "end")


class Recognition(Sourced):
    """Recognition of a person as a political prisoner, with the PACE criteria relied on."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="recognitions", verbose_name=_("person")
    )
    recognised_by = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="recognitions",
        verbose_name=_("recognised by"),
    )
    date = PartialDateField(_("date"), blank=True)
    criteria = models.ManyToManyField(PaceCriterion, blank=True, verbose_name=_("criteria"))
    reasons = models.TextField(_("reasons"), blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "recognised_by"],
                name="recognition_once_per_organisation",
                violation_error_message=_("This organisation's recognition is already recorded."),
            )
        ]
        verbose_name = _("recognition")
        verbose_name_plural = _("recognitions")

    def __str__(self) -> str:
        return f"{self.person}, recognised by {self.recognised_by}"


class Testimony(models.Model):
    """A witness's account of detention, torture, threats or what they saw: sealed, never public.

    Who gave it and what they said could get the witness, or the people they name, detained or
    killed (threat model, sealed tier). Both are sealed to the coordinators of the section, like
    `Person.whereabouts`: read only on their own page after unlocking a key (with the password
    and second factor again), and every read is in the audit log. What the section's staff see
    otherwise is a neutral reference, the person and event concerned and a date. There is no
    publication flag: the public site, feeds, API and mirror never read this model. What may be
    published from a testimony becomes a fact cited to a public source, by a person's decision.
    """

    section = models.ForeignKey(
        Section, on_delete=models.PROTECT, related_name="+", verbose_name=_("section")
    )
    reference = models.CharField(
        _("reference"),
        max_length=200,
        help_text=_("A neutral name for lists, such as “T-2012-03”; never the witness's name."),
    )
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="testimonies",
        verbose_name=_("person concerned"),
    )
    event = models.ForeignKey(
        Event,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="testimonies",
        verbose_name=_("event"),
    )
    given_on = PartialDateField(_("given on"), blank=True)
    witness = SealedTextField(_("witness"), blank=True)
    account = SealedTextField(_("account"), blank=True)
    row_nonce = row_nonce_field()
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("testimony")
        verbose_name_plural = _("testimonies")

    def __str__(self) -> str:
        return self.reference


# -- Files attached to sources -----------------------------------------------------------------


def _source_file_path(instance: Any, filename: str) -> str:
    # A random name: neither the uploader's file name (which can say where, when or by whom a
    # photo was taken) nor the source's id can be read from or guessed into the path.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"documentation/source-files/{uuid4().hex}.{suffix}"


class SourceFile(models.Model):
    """A document kept with a source: a court ruling as PDF, a photo of an injury, a scanned
    letter. Internal to the source's section, whether or not the source is public: it is served
    only through the back office (`solidarity.documentation.source_files`), never by a public
    address, the API, the exports or the mirror.

    Every way in passes `save`, which stores only bytes cleaned by `solidarity.safety.sanitise`
    (no EXIF GPS, author, XMP, attached files or scripts; threat model M13).
    """

    class MediaType(models.TextChoices):
        PDF = "application/pdf", "PDF"
        JPEG = "image/jpeg", "JPEG"
        PNG = "image/png", "PNG"
        WEBP = "image/webp", "WebP"

    # The section is always the source's: kept on the row so that the access functions scope
    # it like any other section record.
    section = models.ForeignKey(
        Section, on_delete=models.PROTECT, related_name="+", verbose_name=_("section")
    )
    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, related_name="files", verbose_name=_("source")
    )
    file = models.FileField(
        _("file"),
        upload_to=_source_file_path,
        max_length=200,
        help_text=_(
            "PDF, JPEG, PNG or WebP. Author, GPS position, device and other metadata are removed "
            "before the file is stored."
        ),
    )
    media_type = models.CharField(
        _("type"), max_length=40, choices=MediaType.choices, editable=False
    )
    caption = models.CharField(_("caption"), max_length=500, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["source", "uploaded_at", "id"]
        verbose_name = _("source file")
        verbose_name_plural = _("source files")

    def __str__(self) -> str:
        return self.caption or f"{self.get_media_type_display()} {self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        from solidarity.safety.sanitise import cleaned_upload

        if self.source_id is not None:
            self.section_id = self.source.section_id
        replaced = ""
        if self.file and not getattr(self.file, "_committed", True):
            # Cleaned before the first byte reaches the storage: a file that cannot be cleaned
            # raises ValidationError here and nothing is written.
            cleaned = cleaned_upload(self.file.file)
            self.file = cleaned
            self.media_type = cleaned.media_type
            if self.pk is not None:
                stored = SourceFile.objects.filter(pk=self.pk).values_list("file", flat=True)
                replaced = stored.first() or ""
        super().save(*args, **kwargs)
        if replaced:
            _delete_stored(self.file.storage, replaced)

    @property
    def extension(self) -> str:
        return self.file.name.rsplit(".", 1)[-1] if "." in self.file.name else "bin"

    @property
    def download_name(self) -> str:
        return f"{self.source.slug}-{self.pk}.{self.extension}"


def _delete_stored(storage: Any, name: str) -> None:
    # Once the change has committed (a rollback keeps the row, so it must keep its file): a
    # photo of an injury or a scanned letter should not outlive its record on the disk.
    transaction.on_commit(lambda: storage.delete(name))


@receiver(post_delete, sender=SourceFile)
def _source_file_deleted(sender: type[SourceFile], instance: SourceFile, **kwargs: Any) -> None:
    if instance.file.name:
        _delete_stored(instance.file.storage, instance.file.name)
