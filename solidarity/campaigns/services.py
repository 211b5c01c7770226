"""Every change of campaign state goes through one of these functions.

The back office, the public forms and the CLI call the same function, so that they behave
identically (Zulip's `do_*` actions, Wagtail's actions). Each runs in one transaction. E-mail
is queued as a background task inside that same transaction: the task queue is a table in the
same database, so the change and its e-mail commit together or not at all, and the worker
cannot see the task before the change is committed. It is also one disk flush per signature
instead of two, which is what the signing rate is bound by; on SQLite, `groupcommit` lets
concurrent signatures share that flush.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from solidarity.core import secret_key
from solidarity.core.classification import FieldClass
from solidarity.core.partialdate import PartialDate
from solidarity.documentation.models import Act, Event, Participation, Person
from solidarity.documentation.vocabularies import PERSECUTION, EventType
from solidarity.safety.access import scoped_reading, sections_for, sections_reading
from solidarity.safety.policy import Kind

from . import groupcommit, intake, tasks
from .models import (
    STATES_NEEDING_EVENT,
    Action,
    Campaign,
    Demand,
    DemandKind,
    DemandState,
    ErasureLog,
    ExportLog,
    LetterReport,
    Outcome,
    Petition,
    Rsvp,
    Signature,
    SignatureIntake,
    Supporter,
    Target,
    UrgentAction,
    UrgentActionUpdate,
    email_index,
)

# Not secrets: they separate these HMACs from others made with the same SECRET_KEY.
_TOKEN_SALT = "solidarity.campaigns.signature-confirmation"  # noqa: S105
_UNSUBSCRIBE_SALT = "solidarity.campaigns.unsubscribe"


# -- Demands and outcomes -----------------------------------------------------------------------


def check_outcome(demand: Demand, state: str, event: Event | None) -> None:
    """Raise ValidationError unless `event` can settle `demand` in `state`.

    Won, partly won and lost need the documented event that shows it (the release, the
    verdict); for the release of a person that event must concern the person.
    """
    if state not in DemandState.values:
        raise ValidationError({"state": _("Unknown state: %(state)s") % {"state": state}})
    if state in STATES_NEEDING_EVENT and event is None:
        raise ValidationError(
            {"event": _("Choose the documented event that settled the demand, e.g. the release.")}
        )
    if event is not None and demand.kind == DemandKind.RELEASE_PERSON and demand.person_id:
        concerns_person = (
            Act.objects.filter(event=event, victim_id=demand.person_id).exists()
            or Participation.objects.filter(event=event, person_id=demand.person_id).exists()
        )
        if not concerns_person:
            raise ValidationError(
                {
                    "event": _(
                        "This event does not concern %(person)s: record them in it as the "
                        "victim of an act (e.g. the release) first."
                    )
                    % {"person": demand.person}
                }
            )


def record_outcome(
    demand: Demand,
    state: str,
    *,
    event: Event | None = None,
    date: PartialDate | str | None = None,
    note: str = "",
    user: User | None = None,
) -> Outcome:
    """Set a demand's state by recording what settled it (see `check_outcome`).

    The outcome's date is the event's date unless a date is given.
    """
    check_outcome(demand, state, event)
    if isinstance(date, str):
        date = PartialDate.parse(date) if date.strip() else None
    with transaction.atomic():
        outcome = Outcome.objects.create(
            demand=demand,
            state=state,
            event=event,
            date=date or (event.date if event else _day(timezone.now())),
            note=note,
            recorded_by=user,
        )
        Demand.objects.filter(pk=demand.pk).update(state=state)
        demand.state = state
    return outcome


# -- Supporter input ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SupporterDetails:
    """What a supporter types into a public form, already checked by the form."""

    email: str
    name: str
    country: str = ""
    language: str = "en"


def _new_supporter(details: SupporterDetails) -> Supporter:
    return Supporter.objects.create(
        email=details.email,
        name=details.name.strip(),
        country=details.country.strip(),
        language=details.language if details.language in ("en", "ru", "kk") else "en",
    )


# -- Petitions ----------------------------------------------------------------------------------


class SignResult(StrEnum):
    SIGNED = "signed"  # a new signature, waiting for confirmation
    PENDING_AGAIN = "pending_again"  # already signed, unconfirmed: the link is sent again
    ALREADY_CONFIRMED = "already_confirmed"  # already signed and confirmed: nothing counts twice


def _signature_token_under(signature: Signature, key: str) -> str:
    return salted_hmac(
        _TOKEN_SALT, signature.token_nonce, secret=key, algorithm="sha256"
    ).hexdigest()


def signature_token(signature: Signature) -> str:
    """The secret in the confirmation link, derived from the stored nonce and SECRET_KEY.

    Under the key the stored hash was made with, which after a rotation of SECRET_KEY may be a
    fallback: a mail sent after the rotation (a queued task, a worker that lagged) for a
    signature made before must carry the link that matches it (core/secret_key.py).
    """
    tokens = [_signature_token_under(signature, key) for key in secret_key.all_keys()]
    return next((t for t in tokens if _token_hash(t) == signature.token_hash), tokens[0])


def _token_hash(token: str) -> str:
    # An unkeyed digest is enough here: the token is a 256-bit HMAC, not a guessable value.
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token(signature: Signature) -> None:
    signature.token_nonce = secrets.token_hex(16)
    signature.token_hash = _token_hash(_signature_token_under(signature, settings.SECRET_KEY))


def check_open(petition: Petition) -> None:
    if not (petition.is_public and petition.accepting and petition.campaign.is_public):
        raise ValidationError(_("This petition is not accepting signatures."))


def sign_petition(
    petition: Petition,
    details: SupporterDetails,
    *,
    comment: str = "",
    public_name_consent: bool = False,
    contact_consent: bool = False,
    processing_consent: bool,
    base_url: str,
) -> SignResult:
    """Record a signature (pending until its e-mail link is followed) and queue that e-mail.

    An address signs a petition once. Signing again never says so on the page — that would
    tell anyone whether a given address has signed — but the e-mail does: an unconfirmed
    signature gets a fresh link, a confirmed one a note that it already counts.
    The public form goes through `intake.receive` instead, which defers this to the worker.
    """
    if not processing_consent:
        raise ValidationError(_("We can only record your signature with your consent."))
    check_open(petition)
    key = email_index(details.email)

    # Run by groupcommit in a transaction (with other signatures when many come at once).
    def write() -> SignResult:
        return record_signature(
            petition,
            details,
            key,
            comment=comment,
            public_name_consent=public_name_consent,
            contact_consent=contact_consent,
            base_url=base_url,
        )

    return groupcommit.write(write)


def record_signature(
    petition: Petition,
    details: SupporterDetails,
    key: str,
    *,
    comment: str,
    public_name_consent: bool,
    contact_consent: bool,
    base_url: str,
) -> SignResult:
    """`sign_petition`'s write, inside the caller's transaction (also the worker's, intake.py)."""
    supporter = _new_supporter(details)
    signature = Signature(
        petition=petition,
        supporter=supporter,
        email_index=key,
        comment=comment.strip(),
        public_name=supporter.name if public_name_consent else "",
        public_name_consent=public_name_consent,
        contact_consent=contact_consent,
        processing_consent=True,
    )
    _new_token(signature)
    try:
        with transaction.atomic():
            signature.save()
    except IntegrityError:
        # The unique (petition, email_index) constraint: this address has signed already.
        supporter.delete()
        existing = Signature.objects.select_for_update().get(petition=petition, email_index=key)
        confirmed = existing.status == Signature.Status.CONFIRMED
        result = SignResult.ALREADY_CONFIRMED if confirmed else SignResult.PENDING_AGAIN
        if not _claim_mail_slot(existing):
            return result  # the same answer; the link already sent stays valid
        if confirmed:
            tasks.send_already_signed.enqueue(existing.pk, base_url)
            return result
        _new_token(existing)
        existing.save(update_fields=["token_nonce", "token_hash"])
        tasks.send_signature_confirmation.enqueue(existing.pk, base_url)
        return result
    # The first mail of a new signature always goes; claiming its slot now holds back the
    # mail of a second signing within the interval.
    _claim_mail_slot(signature)
    tasks.send_signature_confirmation.enqueue(signature.pk, base_url)
    return SignResult.SIGNED


def _claim_mail_slot(signature: Signature) -> bool:
    """Claim the one mail about `signature` per SIGNATURE_MAIL_INTERVAL: True if it may go now
    (not to be confused with `may_mail`, whether a supporter still takes mail at all).

    Threat (M16): signing again sends the link again, for whoever lost the first mail, but a
    script signing with someone's address from many clients (each under the per-client limit)
    must not flood that mailbox. The answer on the page is the same either way.
    """
    interval = int(settings.SOLIDARITY_SIGNATURE_MAIL_INTERVAL)
    return interval <= 0 or bool(cache.add(f"signature-mail:{signature.pk}", 1, interval))


def signature_for_token(token: str) -> Signature | None:
    """The signature a confirmation link belongs to, or None for an unknown or erased one."""
    if not token or len(token) > 128:
        return None
    return (
        Signature.objects.select_related("petition", "petition__campaign")
        .filter(token_hash=_token_hash(token.lower()), erased=False)
        .first()
    )


def confirm_signature(token: str) -> Signature | None:
    """Count the signature whose link this is. Confirming twice is harmless."""

    def write() -> Signature | None:
        signature = signature_for_token(token)
        if signature is None:
            return None
        if signature.status != Signature.Status.CONFIRMED:
            signature.status = Signature.Status.CONFIRMED
            signature.confirmed_at = timezone.now()
            signature.save(update_fields=["status", "confirmed_at"])
        return signature

    return groupcommit.write(write)


def confirmed_signatures(petition: Petition) -> QuerySet[Signature]:
    """Every confirmed signature, erased ones included: erasure removes people, not counts."""
    return Signature.objects.filter(petition=petition, status=Signature.Status.CONFIRMED)


def count_signatures(petition: Petition) -> int:
    return confirmed_signatures(petition).count()


def exportable_signatures(petition: Petition) -> QuerySet[Signature]:
    """What an export hands out: the confirmed signatures whose signer was not erased."""
    return confirmed_signatures(petition).filter(erased=False)


_CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: str) -> str:
    # A cell starting with = + - @ is run as a formula by spreadsheet programs; a signer could
    # put one in their comment and reach whoever opens the delivery file.
    return "'" + value if value.startswith(_CSV_FORMULA_START) else value


def export_signatures_csv(petition: Petition, user: User) -> tuple[str, ExportLog]:
    """Confirmed, not erased signatures as CSV for delivery to the target; the export is logged.

    Names, countries, dates and comments go out; e-mail addresses never do.
    """
    if not user.has_perm("campaigns.export_signatures"):
        raise PermissionError(_("You may not export signatures."))
    rows = (
        exportable_signatures(petition).select_related("supporter").order_by("confirmed_at", "id")
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "country", "signed_on", "comment"])
    count = 0
    for signature in rows:
        supporter = signature.supporter
        confirmed = signature.confirmed_at
        writer.writerow(
            [
                _csv_cell(supporter.name if supporter else ""),
                _csv_cell(supporter.country if supporter else ""),
                confirmed.date().isoformat() if confirmed else "",
                _csv_cell(signature.comment),
            ]
        )
        count += 1
    with transaction.atomic():
        log = ExportLog.objects.create(petition=petition, user=user, rows=count)
    return out.getvalue(), log


def may_see_exports(user: User) -> bool:
    """Whether `user` reads signatures in some section, and so is shown its exports."""
    readers = sections_for(user, "view", Kind.CAMPAIGNS) & sections_reading(
        user, FieldClass.PERSONAL
    )
    return bool(readers)


def visible_exports(user: User) -> QuerySet[ExportLog]:
    """The signature exports of the last SOLIDARITY_EXPORT_NOTICE_DAYS days in the sections
    where `user` may read signatures, newest first, their own included.

    The back-office home page lists them: this is how the section's other coordinators learn of
    an export they did not expect, made with a phished password and relayed code, or by an
    insider (threat model M10, A3, A4). In the app, never by e-mail: a mail would put who took
    which list in third-party mailboxes, and the phished account could delete the one about
    its own export, whereas nobody can delete an ExportLog row. Another section's exports are
    never listed: which petitions it exports, and who does, is its own business (D6).
    """
    since = timezone.now() - dt.timedelta(days=settings.SOLIDARITY_EXPORT_NOTICE_DAYS)
    recent = ExportLog.objects.filter(created_at__gte=since)
    return (
        scoped_reading(recent, user, FieldClass.PERSONAL)
        .select_related("user", "petition__section")
        .order_by("-created_at", "-pk")
    )


# -- Urgent actions -----------------------------------------------------------------------------


def _check_ua_open(urgent_action: UrgentAction) -> None:
    if not (urgent_action.is_public and urgent_action.campaign.is_public):
        raise ValidationError(_("This urgent action is not published."))
    if urgent_action.status != UrgentAction.Status.OPEN:
        raise ValidationError(_("This urgent action is closed: no further letters are needed."))


def report_letters(
    urgent_action: UrgentAction,
    details: SupporterDetails,
    *,
    letters: int,
    target: Target | None = None,
    contact_consent: bool = False,
    processing_consent: bool,
) -> LetterReport:
    """Count letters a supporter says they posted; with consent they get the updates."""
    if not processing_consent:
        raise ValidationError(_("We can only record your report with your consent."))
    if not 1 <= letters <= 100:
        raise ValidationError(_("Report between 1 and 100 letters at a time."))
    _check_ua_open(urgent_action)
    if target is not None and not urgent_action.targets.filter(pk=target.pk).exists():
        raise ValidationError(_("This official is not a target of this urgent action."))

    def write() -> LetterReport:
        return LetterReport.objects.create(
            urgent_action=urgent_action,
            target=target,
            letters=letters,
            supporter=_new_supporter(details),
            contact_consent=contact_consent,
            processing_consent=True,
        )

    return groupcommit.write(write)


def letters_reported(urgent_action: UrgentAction) -> int:
    total = urgent_action.letter_reports.aggregate(total=Sum("letters"))["total"]
    return int(total or 0)


def publish_update(
    urgent_action: UrgentAction,
    *,
    date: dt.date,
    text_en: str,
    text_ru: str = "",
    text_kk: str = "",
    is_closure: bool = False,
    base_url: str,
) -> UrgentActionUpdate:
    """Add further information (or close the action) and e-mail it to everyone who took part."""
    if not text_en.strip():
        raise ValidationError({"text_en": _("Write the update in English at least.")})
    with transaction.atomic():
        update = UrgentActionUpdate.objects.create(
            urgent_action=urgent_action,
            date=date,
            text_en=text_en,
            text_ru=text_ru,
            text_kk=text_kk,
            is_closure=is_closure,
        )
        if is_closure and urgent_action.status != UrgentAction.Status.CLOSED:
            urgent_action.status = UrgentAction.Status.CLOSED
            urgent_action.save(update_fields=["status", "updated_at"])
        tasks.send_urgent_action_update.enqueue(update.pk, base_url)
    return update


def consenting_reports(urgent_action: UrgentAction) -> QuerySet[LetterReport]:
    """The letter reports whose writer agreed to hear back and was not erased: who may be sent
    an update, chosen here (`update_recipients`) and checked again per message (tasks)."""
    return urgent_action.letter_reports.filter(contact_consent=True, erased=False)


def update_recipients(urgent_action: UrgentAction) -> list[Supporter]:
    """One supporter row per address that reported letters, agreed to hear back and has not
    unsubscribed since."""
    reports = (
        consenting_reports(urgent_action)
        .filter(supporter__unsubscribed_at=None)
        .exclude(supporter=None)
        .select_related("supporter")
        .order_by("-created_at")
    )
    seen: set[str] = set()
    recipients: list[Supporter] = []
    for report in reports:
        supporter = report.supporter
        if supporter is not None and supporter.email_index not in seen:
            seen.add(supporter.email_index)
            recipients.append(supporter)
    return recipients


# -- Actions ------------------------------------------------------------------------------------


class AlreadyRsvpd(Exception):
    """This address has already said it is coming."""


def rsvp(action: Action, details: SupporterDetails, *, processing_consent: bool) -> Rsvp:
    if not processing_consent:
        raise ValidationError(_("We can only record your reply with your consent."))
    if not (action.is_public and action.campaign.is_public):
        raise ValidationError(_("This action is not published."))
    if action.status == Action.Status.CANCELLED:
        raise ValidationError(_("This action has been cancelled."))
    if action.starts_at < timezone.now():
        raise ValidationError(_("This action has already taken place."))
    with transaction.atomic():
        supporter = _new_supporter(details)
        try:
            with transaction.atomic():
                return Rsvp.objects.create(
                    action=action,
                    supporter=supporter,
                    email_index=supporter.email_index,
                    processing_consent=True,
                )
        except IntegrityError:
            supporter.delete()
            raise AlreadyRsvpd from None


# -- Unsubscribing ------------------------------------------------------------------------------


def unsubscribe_token(supporter: Supporter, key: str | None = None) -> str:
    """The secret in a supporter's unsubscribe link: "<id>-<HMAC(SECRET_KEY, id, row nonce)>".

    Derived, not stored, like the confirmation token: neither a copy of the database nor the
    task queue can forge it, and erasure (which deletes the row) kills the link with it.
    `key` is SECRET_KEY unless given (a fallback, when checking a link).
    """
    mac = salted_hmac(
        _UNSUBSCRIBE_SALT,
        f"{supporter.pk}:{supporter.row_nonce}",
        secret=key,
        algorithm="sha256",
    )
    return f"{supporter.pk}-{mac.hexdigest()}"


def supporter_for_unsubscribe_token(token: str) -> Supporter | None:
    """The supporter an unsubscribe link belongs to, or None for a forged or stale one."""
    pk, _dash, _mac = token.partition("-")
    if not pk.isdigit() or len(token) > 128:
        return None
    supporter = Supporter.objects.filter(pk=int(pk)).first()
    # The link is in mails already sent, which outlive a rotation of SECRET_KEY: it is checked
    # under the current key and each fallback (settings.SECRET_KEY_FALLBACKS).
    if supporter is None or not secret_key.matches_any_key(
        token, lambda key: unsubscribe_token(supporter, key)
    ):
        return None
    return supporter


def may_mail(supporter: Supporter) -> bool:
    return supporter.unsubscribed_at is None


def unsubscribe(supporter: Supporter) -> int:
    """Stop every mail to every submission this address made so far; return how many rows.

    The whole address, not one list: the person asked for no more mail from us, and a second
    link to press per petition or urgent action would be a dark pattern. Contact consents are
    withdrawn too, so the OSDI API reports the address unsubscribed. A later submission is a new
    request by the person and gets its own confirmation mail (with its own link).
    """
    with transaction.atomic():
        rows = Supporter.objects.filter(email_index=supporter.email_index)
        count = rows.filter(unsubscribed_at=None).update(unsubscribed_at=timezone.now())
        ids = rows.values("pk")
        Signature.objects.filter(supporter__in=ids).update(contact_consent=False)
        LetterReport.objects.filter(supporter__in=ids).update(contact_consent=False)
    return count


# -- Erasure ------------------------------------------------------------------------------------


def erase_supporter(email: str, *, user: User) -> ErasureLog:
    """Wipe everything personal that came with `email`, keeping what counts happened.

    Signatures stay (erased, still counted if they were confirmed), letters reported stay in
    the totals, RSVPs stay as anonymous replies. Names, addresses, comments, public names and
    the e-mail's index go, and so do the Supporter rows. The address may then sign again,
    because nothing is left to recognise it by; that is the price of real erasure.
    """
    if not user.has_perm("campaigns.delete_supporter"):
        raise PermissionError(_("You may not erase supporters' data."))
    key = email_index(email)
    with transaction.atomic():
        # A signature the worker has not reached yet is recorded first, then erased with the
        # rest: the same outcome as if the worker had been quicker.
        intake.record(SignatureIntake.objects.filter(email_index=key))
        SignatureIntake.objects.filter(email_index=key).delete()
        supporters = list(Supporter.objects.select_for_update().filter(email_index=key))
        ids = [s.pk for s in supporters]
        signatures = Signature.objects.filter(Q(supporter_id__in=ids) | Q(email_index=key)).update(
            supporter=None,
            email_index=None,
            comment="",
            public_name="",
            token_nonce="",
            token_hash="",
            erased=True,
        )
        letters = LetterReport.objects.filter(supporter_id__in=ids).update(
            supporter=None, contact_consent=False, erased=True
        )
        rsvps = Rsvp.objects.filter(Q(supporter_id__in=ids) | Q(email_index=key)).update(
            supporter=None, email_index=None, erased=True
        )
        Supporter.objects.filter(pk__in=ids).delete()
        return ErasureLog.objects.create(
            user=user,
            supporters=len(ids),
            signatures=signatures,
            letter_reports=letters,
            rsvps=rsvps,
        )


# -- Dashboard and impact timeline ----------------------------------------------------------


@dataclass(frozen=True)
class MonthCount:
    month: dt.date
    count: int
    extra: int = 0


@dataclass(frozen=True)
class TimelineEntry:
    date: PartialDate
    kind: str  # "persecution", "release", "demand", "urgent_action", "action", "outcome"
    title: str
    detail: str = ""
    admin_url_name: str = ""
    object_id: int | None = None


@dataclass
class Dashboard:
    campaign: Campaign
    demands: list[tuple[Demand, Outcome | None]]  # each with its latest outcome
    demand_states: dict[str, int]
    actions_by_month: list[MonthCount]
    signatures_by_month: list[MonthCount]
    petitions: list[tuple[Petition, int, int]]  # petition, confirmed, pending
    urgent_actions: list[tuple[UrgentAction, int]]  # urgent action, letters reported
    people: list[Person] = field(default_factory=list)


def _fill_months(rows: Iterable[tuple[dt.date, int, int]]) -> list[MonthCount]:
    """Counts per month with empty months in between, so a gap shows as a gap."""
    by_month = {month: (count, extra) for month, count, extra in rows}
    if not by_month:
        return []
    first, last = min(by_month), max(by_month)
    months: list[MonthCount] = []
    current = first
    while current <= last:
        count, extra = by_month.get(current, (0, 0))
        months.append(MonthCount(current, count, extra))
        current = (current.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return months


def _month(value: dt.datetime | dt.date) -> dt.date:
    day = value.date() if isinstance(value, dt.datetime) else value
    return day.replace(day=1)


def _latest(outcomes: list[Outcome]) -> Outcome | None:
    return outcomes[-1] if outcomes else None


def campaign_dashboard(campaign: Campaign) -> Dashboard:
    demands = list(
        campaign.demands.select_related("person").prefetch_related("outcomes__event").all()
    )
    states: dict[str, int] = defaultdict(int)
    for demand in demands:
        states[demand.state] += 1
    action_rows = (
        Action.objects.filter(campaign=campaign)
        .annotate(month=TruncMonth("starts_at", tzinfo=dt.UTC))
        .values("month")
        .annotate(count=Count("id"), people=Sum("participants"))
        .order_by("month")
    )
    signature_rows = (
        Signature.objects.filter(petition__campaign=campaign, status=Signature.Status.CONFIRMED)
        .annotate(month=TruncMonth("confirmed_at", tzinfo=dt.UTC))
        .values("month")
        .annotate(count=Count("id"))
        .order_by("month")
    )
    petitions = [
        (
            p,
            p.signatures.filter(status=Signature.Status.CONFIRMED).count(),
            p.signatures.filter(status=Signature.Status.PENDING).count(),
        )
        for p in campaign.petitions.all()
    ]
    urgent_actions = [(ua, letters_reported(ua)) for ua in campaign.urgent_actions.all()]
    people = {d.person.pk: d.person for d in demands if d.person is not None}
    for ua in campaign.urgent_actions.select_related("person"):
        if ua.person is not None:
            people[ua.person.pk] = ua.person
    return Dashboard(
        campaign=campaign,
        demands=[(d, _latest(list(d.outcomes.all()))) for d in demands],
        demand_states=dict(states),
        actions_by_month=_fill_months(
            (_month(r["month"]), r["count"], r["people"] or 0) for r in action_rows
        ),
        signatures_by_month=_fill_months(
            (_month(r["month"]), r["count"], 0) for r in signature_rows
        ),
        petitions=petitions,
        urgent_actions=urgent_actions,
        people=sorted(people.values(), key=lambda p: (p.family_name, p.given_name)),
    )


def _day(value: dt.datetime | dt.date) -> PartialDate:
    day = value.date() if isinstance(value, dt.datetime) else value
    return PartialDate.parse(day.isoformat())


_KIND_ORDER = {
    "persecution": 0,
    "demand": 1,
    "urgent_action": 2,
    "action": 3,
    "release": 4,
    "outcome": 5,
}


def impact_timeline(
    person: Person, campaigns: Sequence[Campaign] | None = None
) -> list[TimelineEntry]:
    """Persecution of `person`, what we did about it, and how it ended, in one chronology.

    Actions come from the campaigns with a demand or an urgent action for this person (or
    from `campaigns` if given); persecution and release from the acts of which the person
    was the victim.
    """
    entries: list[TimelineEntry] = []
    for act in Act.objects.filter(victim=person).select_related("event"):
        is_release = act.type == EventType.RELEASE
        if act.type not in PERSECUTION and not is_release:
            continue
        entries.append(
            TimelineEntry(
                date=act.effective_date,
                kind="release" if is_release else "persecution",
                title=f"{act.get_type_display()}: {act.event.title_en}",
                admin_url_name="admin:documentation_event_change",
                object_id=act.event_id,
            )
        )
    demands = Demand.objects.filter(person=person).select_related("campaign")
    uas = UrgentAction.objects.filter(person=person).select_related("campaign")
    if campaigns is None:
        campaign_ids = {d.campaign_id for d in demands} | {u.campaign_id for u in uas}
    else:
        campaign_ids = {c.pk for c in campaigns}
        demands = demands.filter(campaign_id__in=campaign_ids)
        uas = uas.filter(campaign_id__in=campaign_ids)
    for demand in demands:
        if demand.demanded_on:
            entries.append(
                TimelineEntry(
                    date=demand.demanded_on,
                    kind="demand",
                    title=_("Demanded: %(text)s") % {"text": demand.text_en},
                    detail=demand.campaign.title_en,
                    admin_url_name="admin:campaigns_demand_change",
                    object_id=demand.pk,
                )
            )
    for ua in uas:
        entries.append(
            TimelineEntry(
                date=_day(ua.issued_on),
                kind="urgent_action",
                title=f"{ua.number}: {ua.title_en}",
                detail=ua.campaign.title_en,
                admin_url_name="admin:campaigns_urgentaction_change",
                object_id=ua.pk,
            )
        )
    actions = Action.objects.filter(campaign_id__in=campaign_ids).select_related("place", "section")
    for action in actions:
        where = action.place.name_en if action.place else action.address
        people_count = (
            _("participants: %(n)s") % {"n": action.participants} if action.participants else ""
        )
        entries.append(
            TimelineEntry(
                date=_day(action.starts_at),
                kind="action",
                title=f"{action.get_kind_display()}: {action.title_en}",
                detail=", ".join(x for x in (where, action.section.name_en, people_count) if x),
                admin_url_name="admin:campaigns_action_change",
                object_id=action.pk,
            )
        )
    for outcome in Outcome.objects.filter(demand__in=demands).select_related("demand", "event"):
        if outcome.date is None:
            continue
        entries.append(
            TimelineEntry(
                date=outcome.date,
                kind="outcome",
                title=_("Demand %(state)s: %(text)s")
                % {"state": outcome.get_state_display(), "text": outcome.demand.text_en},
                detail=outcome.event.title_en if outcome.event else "",
                admin_url_name="admin:campaigns_demand_change",
                object_id=outcome.demand_id,
            )
        )
    entries.sort(key=lambda e: (e.date.earliest, e.date.latest, _KIND_ORDER[e.kind]))
    return entries
