"""The campaigns domain: what we demand, of whom, what we did about it, and how it ended.

A Campaign holds Demands (release of a person, stop of an eviction, a reform). A demand's
state changes only through an Outcome that points at the documented Event that settled it,
written by `services.record_outcome`, so every "won" on a public page leads to a fact with
sources. Targets are the officials and bodies we write to; Urgent Actions and Petitions
address them; Actions (protests, letter-writing evenings, statements, delegations, strikes)
are what sections did, grouped under an ActionSeries when one heading covers many cities.

Supporters have no account. Each submission (a signature, a letter report, an RSVP) keeps its
own Supporter row with the contact details given then: a shared row per e-mail address would
let anyone who types someone else's address overwrite that person's name. Field classes live
in `solidarity.core.classification`, as for every model.

A supporter's e-mail address, name and country, and a signature's comment and public name, are
stored encrypted (bound to their row, keys in the keyring outside the database); an address is
found by `email_index`, a keyed hash; see `email_index()` for why not a digest.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from solidarity.core.fields import PartialDateField
from solidarity.core.models import Record
from solidarity.core.translation import Translated, tr
from solidarity.documentation.models import Event, Organisation, Person, Place, Sourced
from solidarity.safety.crypto import blind_index
from solidarity.safety.fields import Ciphertext, EncryptedTextField, row_nonce_field

LANGUAGE_CHOICES = [("en", "English"), ("ru", "Русский"), ("kk", "Қазақша")]


def normalise_email(email: str) -> str:
    """The form under which an address signs once: trimmed and case-folded as a whole.

    RFC 5321 lets the local part be case-sensitive, but no mail provider our supporters use
    treats "Anna@" and "anna@" as two people, and counting them twice would be worse.
    """
    return email.strip().lower()


EMAIL_INDEX_PURPOSE = "supporter-email"


def email_index(email: str) -> str:
    """The key under which an address signs once, is mailed once, and is found for erasure.

    A keyed hash (the keyring's server secret, `blind_index`), not a plain SHA-256: whoever holds
    a copy of the database (threat model A1) could hash a guessed address and learn whether that
    person signed.
    Rotating the personal keys (`solidarity rotate-keys`) leaves the server secret, and so every
    index, unchanged.
    """
    return blind_index(normalise_email(email), EMAIL_INDEX_PURPOSE)


# -- Campaigns and demands --------------------------------------------------------------------


class Campaign(Record):
    slug = models.SlugField(_("slug"), unique=True)
    title_en = models.CharField(_("title (en)"), max_length=300)
    title_ru = models.CharField(_("title (ru)"), max_length=300, blank=True)
    title_kk = models.CharField(_("title (kk)"), max_length=300, blank=True)
    summary_en = models.TextField(_("summary (en)"), blank=True)
    summary_ru = models.TextField(_("summary (ru)"), blank=True)
    summary_kk = models.TextField(_("summary (kk)"), blank=True)
    organiser = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
        verbose_name=_("organiser"),
    )
    hide_organiser = models.BooleanField(
        _("hide the organiser on public pages"),
        default=False,
        help_text=_("For campaigns where naming the organiser would endanger it."),
    )
    started = PartialDateField(_("started"), blank=True)
    ended = PartialDateField(_("ended"), blank=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["title_en"]

    def __str__(self) -> str:
        return self.title_en

    @property
    def title(self) -> Translated:
        return tr(self, "title")

    def clean(self) -> None:
        if self.started and self.ended and self.ended.latest < self.started.earliest:
            raise ValidationError({"ended": _("A campaign cannot end before it started.")})


class DemandKind(models.TextChoices):
    RELEASE_PERSON = "release_person", _("release of a person")
    STOP_EVICTION = "stop_eviction", _("stop of an eviction")
    REFORM = "reform", _("reform")
    OTHER = "other", _("other")


class DemandState(models.TextChoices):
    OPEN = "open", _("open")
    WON = "won", _("won")
    PARTLY_WON = "partly_won", _("partly won")
    LOST = "lost", _("lost")
    DROPPED = "dropped", _("dropped")


# States that a documented event must have settled; dropping a demand is our own decision.
STATES_NEEDING_EVENT = frozenset({DemandState.WON, DemandState.PARTLY_WON, DemandState.LOST})


class Demand(models.Model):
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="demands", verbose_name=_("campaign")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=DemandKind.choices)
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="demands",
        help_text=_("Required for the release of a person."),
        verbose_name=_("person"),
    )
    address = models.CharField(
        _("address"),
        max_length=300,
        blank=True,
        help_text=_("Required for the stop of an eviction."),
    )
    text_en = models.TextField(_("demand (en)"))
    text_ru = models.TextField(_("demand (ru)"), blank=True)
    text_kk = models.TextField(_("demand (kk)"), blank=True)
    demanded_on = PartialDateField(_("demanded on"), blank=True)
    # Written only by services.record_outcome, which keeps the Outcome history beside it.
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=DemandState.choices,
        default=DemandState.OPEN,
        editable=False,
    )

    class Meta:
        verbose_name = _("demand")
        verbose_name_plural = _("demands")
        ordering = ["campaign", "id"]

    def __str__(self) -> str:
        return self.text_en[:80]

    @property
    def text(self) -> Translated:
        return tr(self, "text")

    def clean(self) -> None:
        if self.kind == DemandKind.RELEASE_PERSON and not self.person_id:
            raise ValidationError({"person": _("Choose the person whose release we demand.")})
        if self.kind == DemandKind.STOP_EVICTION and not self.address.strip():
            raise ValidationError({"address": _("Give the address of the eviction.")})


class Outcome(models.Model):
    """What settled a demand (or moved it), tied to the event that shows it."""

    demand = models.ForeignKey(
        Demand, on_delete=models.CASCADE, related_name="outcomes", verbose_name=_("demand")
    )
    state = models.CharField(_("state"), max_length=20, choices=DemandState.choices)
    event = models.ForeignKey(
        Event,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaign_outcomes",
        help_text=_("The documented event that settled the demand, e.g. the release."),
        verbose_name=_("event"),
    )
    date = PartialDateField(_("date"), blank=True, help_text=_("Leave empty: the event's date."))
    note = models.TextField(
        _("note"), blank=True, help_text=_("Internal: not shown on public pages.")
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        verbose_name = _("outcome")
        verbose_name_plural = _("outcomes")
        ordering = ["demand", "recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.demand}: {self.get_state_display()}"


# -- Targets ----------------------------------------------------------------------------------


class Target(Record):
    """An embassy, ministry, court or official we write to: a post, with whoever holds it."""

    class Kind(models.TextChoices):
        EMBASSY = "embassy", _("embassy")
        MINISTRY = "ministry", _("ministry")
        COURT = "court", _("court")
        OFFICIAL = "official", _("official")
        OTHER = "other", _("other")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(
        _("name of the body or post"),
        max_length=300,
        help_text=_("E.g. 'Embassy of Kazakhstan in London' or 'Prosecutor General'."),
    )
    holder = models.CharField(
        _("holder of the post"),
        max_length=300,
        blank=True,
        help_text=_("Who holds the post now, if it is a person."),
    )
    country = models.CharField(_("country (ISO 3166 code)"), max_length=2)
    city = models.CharField(_("city"), max_length=200, blank=True)
    postal_address = models.TextField(_("postal address"), blank=True)
    email = models.EmailField(_("e-mail address"), blank=True)
    salutation = models.CharField(
        _("salutation"), max_length=200, help_text=_("E.g. 'Dear Ambassador'.")
    )
    language = models.CharField(
        _("language to write in"), max_length=2, choices=LANGUAGE_CHOICES, default="ru"
    )
    internal_notes = models.TextField(_("internal notes"), blank=True)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["country", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.country})"

    def clean(self) -> None:
        self.country = self.country.upper()
        if not (len(self.country) == 2 and self.country.isascii() and self.country.isalpha()):
            raise ValidationError({"country": _("Give the two-letter ISO 3166 code, e.g. KZ.")})
        if not self.postal_address.strip() and not self.email.strip():
            raise ValidationError(_("Give a postal address, an e-mail address, or both."))


# -- Supporters -------------------------------------------------------------------------------


class Supporter(models.Model):
    """Contact details given with one submission; deleted on erasure."""

    # Encrypted with the keyring key, bound to this row (row_nonce): a disk image or a database
    # dump taken without the keyring shows no address (threat model A1).
    email = EncryptedTextField(_("e-mail address"))
    email_index = models.CharField(_("e-mail index"), max_length=64, db_index=True, editable=False)
    row_nonce = row_nonce_field()
    # Encrypted like the address: a list of who signed what is what a seized disk must not
    # give (A1). The public form caps their lengths (forms.NAME_MAX, COUNTRY_MAX).
    name = EncryptedTextField(_("name"))
    country = EncryptedTextField(_("country"), blank=True)
    language = models.CharField(_("language"), max_length=2, choices=LANGUAGE_CHOICES, default="en")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Set by services.unsubscribe on every row of the address: no mail goes to this row again.
    unsubscribed_at = models.DateTimeField(
        _("unsubscribed at"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("supporter")
        verbose_name_plural = _("supporters")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        # Not the name: a representation ends up in page titles, breadcrumbs and the admin log,
        # where roles that may not read personal data would see it.
        return _("supporter %(id)s") % {"id": self.pk}

    def save(self, *args: Any, **kwargs: Any) -> None:
        stored = self.__dict__.get("email")
        if stored is not None and not isinstance(stored, Ciphertext):
            # A new or changed address (a loaded one stays ciphertext until read).
            self.email = normalise_email(stored)
            self.email_index = email_index(self.email)
        super().save(*args, **kwargs)


# -- Urgent actions ---------------------------------------------------------------------------


class UrgentAction(Record):
    """A numbered appeal ("UA 3/12"): what happened, what to ask for, whom to write to."""

    class Status(models.TextChoices):
        OPEN = "open", _("open: please write")
        CLOSED = "closed", _("closed: no further action")

    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.PROTECT,
        related_name="urgent_actions",
        verbose_name=_("campaign"),
    )
    # Unique within its section, not across all of them: a global check ("already exists")
    # would tell a section organiser which numbers another section has used (threat model D6).
    # Each section numbers its own appeals; public addresses use the slug, which stays global.
    number = models.CharField(_("number"), max_length=20, help_text=_("E.g. 'UA 3/12'."))
    slug = models.SlugField(_("slug"), unique=True)
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="urgent_actions",
        help_text=_("The person the appeal is for, if it is about one person."),
        verbose_name=_("person"),
    )
    issued_on = models.DateField(_("issued on"))
    deadline = models.DateField(_("deadline"), help_text=_("Send appeals before this date."))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    title_en = models.CharField(_("title (en)"), max_length=300)
    title_ru = models.CharField(_("title (ru)"), max_length=300, blank=True)
    title_kk = models.CharField(_("title (kk)"), max_length=300, blank=True)
    what_happened_en = models.TextField(_("what happened (en)"))
    what_happened_ru = models.TextField(_("what happened (ru)"), blank=True)
    what_happened_kk = models.TextField(_("what happened (kk)"), blank=True)
    recommended_points_en = models.TextField(
        _("recommended points (en)"), help_text=_("The body of the letter, one point a paragraph.")
    )
    recommended_points_ru = models.TextField(_("recommended points (ru)"), blank=True)
    recommended_points_kk = models.TextField(_("recommended points (kk)"), blank=True)
    targets = models.ManyToManyField(
        Target, related_name="urgent_actions", verbose_name=_("targets")
    )

    class Meta:
        verbose_name = _("urgent action")
        verbose_name_plural = _("urgent actions")
        ordering = ["-issued_on", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["section", "number"],
                name="urgent_action_number_once_per_section",
                violation_error_message=_(
                    "An urgent action with this number already exists in this section."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.number}: {self.title_en}"

    @property
    def title(self) -> Translated:
        return tr(self, "title")

    def clean(self) -> None:
        if self.issued_on and self.deadline and self.deadline < self.issued_on:
            raise ValidationError({"deadline": _("The deadline is before the issue date.")})


class UrgentActionUpdate(models.Model):
    """Further information on an urgent action; a closure ends it ("released: stop writing")."""

    urgent_action = models.ForeignKey(
        UrgentAction,
        on_delete=models.CASCADE,
        related_name="updates",
        verbose_name=_("urgent action"),
    )
    date = models.DateField(_("date"))
    text_en = models.TextField(_("text (en)"))
    text_ru = models.TextField(_("text (ru)"), blank=True)
    text_kk = models.TextField(_("text (kk)"), blank=True)
    is_closure = models.BooleanField(
        _("closes the urgent action"), default=False, help_text=_("No further action needed.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True, editable=False)
    recipients = models.PositiveIntegerField(_("recipients"), default=0, editable=False)

    class Meta:
        verbose_name = _("urgent action update")
        verbose_name_plural = _("urgent action updates")
        ordering = ["urgent_action", "date", "id"]

    def __str__(self) -> str:
        return f"{self.urgent_action.number}, {self.date}"


class LetterReport(models.Model):
    """A supporter's report of letters posted for an urgent action (self-reported)."""

    urgent_action = models.ForeignKey(
        UrgentAction,
        on_delete=models.PROTECT,
        related_name="letter_reports",
        verbose_name=_("urgent action"),
    )
    target = models.ForeignKey(
        Target,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("target"),
    )
    letters = models.PositiveSmallIntegerField(_("letters"), default=1)
    supporter = models.ForeignKey(
        Supporter,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="letter_reports",
        verbose_name=_("supporter"),
    )
    contact_consent = models.BooleanField(_("consent to be contacted"), default=False)
    processing_consent = models.BooleanField(_("consent to processing"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    erased = models.BooleanField(_("erased"), default=False)

    class Meta:
        verbose_name = _("letter report")
        verbose_name_plural = _("letter reports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.urgent_action.number}: {self.letters}"


# -- Actions ----------------------------------------------------------------------------------


class ActionKind(models.TextChoices):
    PROTEST = "protest", _("protest")
    LETTER_WRITING = "letter_writing", _("letter-writing evening")
    STATEMENT = "statement", _("statement")
    DELEGATION = "delegation", _("delegation")
    SOLIDARITY_STRIKE = "solidarity_strike", _("solidarity strike")
    OTHER = "other", _("other")


class ActionSeries(Record):
    """One heading over many local actions: "Protest outside the Kazakh embassy"."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="series", verbose_name=_("campaign")
    )
    slug = models.SlugField(_("slug"), unique=True)
    title_en = models.CharField(_("title (en)"), max_length=300)
    title_ru = models.CharField(_("title (ru)"), max_length=300, blank=True)
    title_kk = models.CharField(_("title (kk)"), max_length=300, blank=True)
    summary_en = models.TextField(_("summary (en)"), blank=True)
    summary_ru = models.TextField(_("summary (ru)"), blank=True)
    summary_kk = models.TextField(_("summary (kk)"), blank=True)

    class Meta:
        verbose_name = _("action series")
        verbose_name_plural = _("action series")
        ordering = ["title_en"]

    def __str__(self) -> str:
        return self.title_en


class Action(Sourced):
    """Something a section did or will do; its `section` is the organising section."""

    class Status(models.TextChoices):
        # The three STATUS values of RFC 5545 VEVENT, so the calendar feed says the same.
        CONFIRMED = "confirmed", _("confirmed")
        TENTATIVE = "tentative", _("tentative")
        CANCELLED = "cancelled", _("cancelled")

    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="actions", verbose_name=_("campaign")
    )
    series = models.ForeignKey(
        ActionSeries,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="actions",
        help_text=_("The heading of an event campaign this local action belongs to."),
        verbose_name=_("series"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ActionKind.choices)
    title_en = models.CharField(_("title (en)"), max_length=300)
    title_ru = models.CharField(_("title (ru)"), max_length=300, blank=True)
    title_kk = models.CharField(_("title (kk)"), max_length=300, blank=True)
    place = models.ForeignKey(
        Place,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaign_actions",
        help_text=_("The city."),
        verbose_name=_("place"),
    )
    address = models.CharField(
        _("address"),
        max_length=300,
        blank=True,
        help_text=_("E.g. 'outside the embassy, 125 Pall Mall'."),
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.CONFIRMED
    )
    participants = models.PositiveIntegerField(
        _("participants"),
        null=True,
        blank=True,
        help_text=_("How many took part; empty if not known."),
    )

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        ordering = ["starts_at", "id"]

    def __str__(self) -> str:
        return f"{self.title_en} ({self.starts_at:%Y-%m-%d})"

    @property
    def title(self) -> Translated:
        return tr(self, "title")

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("An action must end after it starts.")})
        if (
            self.place_id
            and self.place
            and self.place.kind
            not in {
                Place.Kind.CITY,
                Place.Kind.SITE,
            }
        ):
            raise ValidationError({"place": _("Choose a city or town (or a site in one).")})


class Rsvp(models.Model):
    """A supporter's word that they plan to come to an action."""

    action = models.ForeignKey(
        Action, on_delete=models.CASCADE, related_name="rsvps", verbose_name=_("action")
    )
    supporter = models.ForeignKey(
        Supporter,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rsvps",
        verbose_name=_("supporter"),
    )
    # NULL, not "", once erased: many erased rows must not collide in the unique constraint.
    email_index = models.CharField(  # noqa: DJ001
        _("e-mail index"), max_length=64, null=True, blank=True, editable=False
    )
    processing_consent = models.BooleanField(_("consent to processing"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    erased = models.BooleanField(_("erased"), default=False)

    class Meta:
        verbose_name = _("RSVP")
        verbose_name_plural = _("RSVPs")
        ordering = ["action", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["action", "email_index"], name="rsvp_once_per_email")
        ]

    def __str__(self) -> str:
        return f"RSVP {self.pk} to {self.action_id}"


# -- Petitions --------------------------------------------------------------------------------


class Petition(Record):
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="petitions", verbose_name=_("campaign")
    )
    slug = models.SlugField(_("slug"), unique=True)
    title_en = models.CharField(_("title (en)"), max_length=300)
    title_ru = models.CharField(_("title (ru)"), max_length=300, blank=True)
    title_kk = models.CharField(_("title (kk)"), max_length=300, blank=True)
    text_en = models.TextField(_("text (en)"))
    text_ru = models.TextField(_("text (ru)"), blank=True)
    text_kk = models.TextField(_("text (kk)"), blank=True)
    target = models.ForeignKey(
        Target,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="petitions",
        verbose_name=_("target"),
    )
    goal = models.PositiveIntegerField(_("goal"), null=True, blank=True)
    hide_count = models.BooleanField(_("hide the number of signatures"), default=False)
    accepting = models.BooleanField(
        _("accepting signatures"), default=True, help_text=_("Untick once delivered.")
    )

    class Meta:
        verbose_name = _("petition")
        verbose_name_plural = _("petitions")
        ordering = ["title_en"]
        permissions = [("export_signatures", "Can export confirmed signatures")]

    def __str__(self) -> str:
        return self.title_en

    @property
    def title(self) -> Translated:
        return tr(self, "title")


class Signature(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for e-mail confirmation")
        CONFIRMED = "confirmed", _("confirmed")

    petition = models.ForeignKey(
        Petition, on_delete=models.PROTECT, related_name="signatures", verbose_name=_("petition")
    )
    supporter = models.ForeignKey(
        Supporter,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="signatures",
        verbose_name=_("supporter"),
    )
    # NULL (not "") once erased: the key goes with the address it was made from, and many
    # erased rows must not collide in the unique constraint.
    email_index = models.CharField(  # noqa: DJ001
        _("e-mail index"), max_length=64, null=True, blank=True, editable=False
    )
    row_nonce = row_nonce_field()
    # Encrypted and bound to this row, as the supporter's details are. The public name too:
    # the page shows only the latest few, and a disk (A1) must not list every signer who ever
    # agreed to be named. Both are decrypted where they are shown (public_data, the export).
    comment = EncryptedTextField(_("comment"), blank=True)
    # The name to show publicly: copied from the supporter only with their consent.
    public_name = EncryptedTextField(_("public name"), blank=True)
    public_name_consent = models.BooleanField(_("consent to be named publicly"), default=False)
    contact_consent = models.BooleanField(_("consent to be contacted"), default=False)
    processing_consent = models.BooleanField(_("consent to processing"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    # The link's token is HMAC(SECRET_KEY, nonce); only its SHA-256 is stored, so neither a
    # copy of the database nor the task queue (which gets the signature id) can confirm.
    token_nonce = models.CharField(_("token nonce"), max_length=32, editable=False)
    token_hash = models.CharField(_("token hash"), max_length=64, db_index=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    erased = models.BooleanField(_("erased"), default=False)

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "email_index"], name="signature_once_per_email"
            ),
            models.CheckConstraint(
                condition=models.Q(processing_consent=True),
                name="signature_needs_processing_consent",
            ),
        ]
        indexes = [models.Index(fields=["petition", "status"])]

    def __str__(self) -> str:
        return f"Signature {self.pk} on {self.petition_id}"


class SignatureIntake(models.Model):
    """A public signature that has been answered "thank you" but not yet recorded.

    The public form's POST writes this one row, committed to disk before the answer, and
    returns; the background worker turns it into a Supporter and a Signature and queues the
    confirmation e-mail (`services.record_received_signatures`), usually within a second or
    two. Everything the supporter typed is in `details`, one value encrypted and bound to
    this row like a supporter's fields (threat model A1); `email_index` lets an erasure find
    a submission that the worker has not reached yet. The row is deleted in the transaction
    that records it, so a submission is recorded once.
    """

    petition = models.ForeignKey(
        Petition, on_delete=models.PROTECT, related_name="+", verbose_name=_("petition")
    )
    row_nonce = row_nonce_field()
    # JSON: e-mail, name, country, comment and the consents, as the form checked them.
    details = EncryptedTextField(_("details"))
    email_index = models.CharField(_("e-mail index"), max_length=64, db_index=True, editable=False)
    language = models.CharField(_("language"), max_length=2, choices=LANGUAGE_CHOICES, default="en")
    # Where the e-mail's links must point: the address the supporter used.
    base_url = models.CharField(_("site address"), max_length=200)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    # A recording that failed is retried (intake.ATTEMPTS times), then waits for an operator
    # (the back office shows its failure, "record again"). Only the exception's class is kept,
    # never a message that could quote data. A row still failed SOLIDARITY_RETENTION
    # ["failed_received_signatures"] after its last failure is deleted (core/retention.py):
    # otherwise a bug would keep the supporter's encrypted address and name for ever.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    failure = models.CharField(_("last failure"), max_length=100, blank=True)
    failed_at = models.DateTimeField(_("last failed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("received signature")
        verbose_name_plural = _("received signatures")
        ordering = ["id"]

    def __str__(self) -> str:
        return _("received signature %(id)s") % {"id": self.pk}


# -- Accountability logs -----------------------------------------------------------------------


class ExportLog(models.Model):
    """Who exported which petition's signatures, when, and how many rows left the system."""

    petition = models.ForeignKey(
        Petition, on_delete=models.PROTECT, related_name="exports", verbose_name=_("petition")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    rows = models.PositiveIntegerField(_("rows"))

    class Meta:
        verbose_name = _("signature export")
        verbose_name_plural = _("signature exports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.petition}: {self.rows} rows, {self.created_at:%Y-%m-%d %H:%M}"


class ErasureLog(models.Model):
    """That an erasure happened and what it touched; never whose data it was."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    supporters = models.PositiveIntegerField(_("supporters"))
    signatures = models.PositiveIntegerField(_("signatures"))
    letter_reports = models.PositiveIntegerField(_("letter reports"))
    rsvps = models.PositiveIntegerField(_("RSVPs"))

    class Meta:
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Erasure {self.created_at:%Y-%m-%d %H:%M}"


class Tag(models.Model):
    """A label a section puts on supporters ("volunteer", "London"), as OSDI tags are.

    A tag belongs to one section and says something about people, so tags, and who carries
    them, are that section's internal business (threat model D6).
    """

    section = models.ForeignKey(
        "core.Section", on_delete=models.PROTECT, related_name="+", verbose_name=_("section")
    )
    name = models.CharField(_("name"), max_length=100)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["section", "name"], name="tag_name_once_per_section")
        ]

    def __str__(self) -> str:
        return self.name


class Tagging(models.Model):
    """A tag on one supporter row; erased with the row."""

    tag = models.ForeignKey(
        Tag, on_delete=models.CASCADE, related_name="taggings", verbose_name=_("tag")
    )
    supporter = models.ForeignKey(
        Supporter, on_delete=models.CASCADE, related_name="taggings", verbose_name=_("supporter")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tagging")
        verbose_name_plural = _("taggings")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tag", "supporter"], name="tagging_once_per_supporter")
        ]

    def __str__(self) -> str:
        return f"{self.tag} → {self.supporter_id}"
