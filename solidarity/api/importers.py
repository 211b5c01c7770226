"""CSV import of people, events and signatures: the CLI and the back office both call `run`.

Every row is checked first and every fault reported with its line, column and reason. Then,
in one transaction, the rows are written: all of them, or — when asked — only the good ones;
with a bad row and no such request, nothing is. A dry run does the whole import and rolls it
back, so it reports exactly what the real run would do. Rows are matched on their natural
key (a slug; for a signature, the petition and e-mail address), so importing the same file
twice changes nothing the second time. In the back office, a user who cannot see every section
matches only the records they can see, and a new record's slug gets a random ending
(`safety.slugs`): "taken" would tell them what another section holds.

Signatures go through `campaigns.services.sign_petition` after the public form's checks, as
every other way in does: consent, a confirmation e-mail, one signature per address.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from solidarity.campaigns import services
from solidarity.campaigns.forms import SignForm
from solidarity.campaigns.models import Petition, Signature, email_index
from solidarity.core.models import Section
from solidarity.core.partialdate import PartialDate
from solidarity.documentation.models import Citation, Event, Person, PersonName, Place, Source
from solidarity.documentation.vocabularies import EventType, NameKind, NameScript
from solidarity.safety.access import scoped, writable_sections
from solidarity.safety.keys import RecordMoved, lock_for_sealing
from solidarity.safety.section_move import holds_sealed
from solidarity.safety.slugs import AmbiguousSlug, match_or_new

KINDS = ("people", "events", "signatures")
# The largest file either way in takes (back office and `solidarity import`): a file is read
# whole and every row checked in one request, so a bigger one is split (ASVS 5.2.1).
MAX_FILE_BYTES = 10 * 1024 * 1024
TRUE = {"1", "true", "yes", "y", "on"}
FALSE = {"", "0", "false", "no", "n", "off"}
Row = dict[str, str]


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        # In the active language, as the reasons are: the user's in the back office, English
        # for the CLI.
        values = {"line": self.line, "column": self.column, "reason": self.reason}
        if self.column:
            return _("line %(line)s, column %(column)s: %(reason)s") % values
        return _("line %(line)s: %(reason)s") % values


@dataclass
class Report:
    kind: str
    dry_run: bool
    only_good: bool
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    written: bool = False

    @property
    def bad_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})

    def summary(self) -> str:
        counts = ngettext(
            "%(created)s new, %(updated)s updated, %(unchanged)s unchanged of %(rows)s row",
            "%(created)s new, %(updated)s updated, %(unchanged)s unchanged of %(rows)s rows",
            self.rows,
        ) % {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rows": self.rows,
        }
        bad = len(self.bad_lines)
        if self.written:
            done = _("Imported %(kind)s: %(counts)s") % {"kind": self.kind, "counts": counts}
        elif self.dry_run and (not bad or self.only_good):
            done = _("Dry run, nothing written. The import would give: %(counts)s") % {
                "counts": counts
            }
        elif self.dry_run:
            done = _("Dry run, nothing written")
        else:
            done = _("Nothing imported: %(kind)s left as they were") % {"kind": self.kind}
        if bad and self.only_good:
            done += ". " + ngettext(
                "%(bad)s bad row (skipped)", "%(bad)s bad rows (skipped)", bad
            ) % {"bad": bad}
        elif bad:
            done += ". " + ngettext(
                "%(bad)s bad row; fix them, or import only the good rows with --only-good",
                "%(bad)s bad rows; fix them, or import only the good rows with --only-good",
                bad,
            ) % {"bad": bad}
        return done + "."


class BadRow(Exception):
    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__(errors)
        self.errors = errors


# -- Reading values -------------------------------------------------------------------------------


def _bool(row: Row, column: str, problems: list[tuple[str, str]]) -> bool:
    value = row.get(column, "").strip().lower()
    if value in TRUE:
        return True
    if value not in FALSE:
        problems.append(
            (column, _("write true or false, not %(value)s") % {"value": repr(row[column])})
        )
    return False


def _script(name: str) -> str | None:
    """Cyrl or Latn, or None if the name mixes both (or has neither)."""
    cyrillic = any("\u0400" <= ch <= "\u04ff" for ch in name)
    latin = any(ch.isascii() and ch.isalpha() for ch in name)
    if cyrillic and not latin:
        return NameScript.CYRILLIC
    if latin and not cyrillic:
        return NameScript.LATIN
    return None


def _messages(error: ValidationError) -> list[tuple[str, str]]:
    if hasattr(error, "error_dict"):
        return [(column, " ".join(msgs)) for column, msgs in error.message_dict.items()]
    return [("", " ".join(error.messages))]


def _clean(instance: Any, columns: dict[str, str], exclude: list[str]) -> list[tuple[str, str]]:
    """The model's own checks (lengths, choices, clean()), reported under the CSV's columns."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=False)
    except ValidationError as error:
        return [(columns.get(c, c if c != "__all__" else ""), m) for c, m in _messages(error)]
    return []


# -- People ---------------------------------------------------------------------------------------

PEOPLE_COLUMNS = {
    "required": ("slug", "given_name", "family_name", "section"),
    "optional": (
        "patronymic",
        "name_ru",
        "name_kk",
        "name_en",
        "other_names",
        "is_public",
        "birth_year",
        "occupation_en",
        "occupation_ru",
        "occupation_kk",
        "summary_en",
        "summary_ru",
        "summary_kk",
    ),
}
_PERSON_TEXT = (
    "given_name",
    "patronymic",
    "family_name",
    "occupation_en",
    "occupation_ru",
    "occupation_kk",
    "summary_en",
    "summary_ru",
    "summary_kk",
)
# The language and script each name column holds, and what kind of form it is.
_NAME_COLUMNS = {
    "name_ru": ("ru", NameScript.CYRILLIC, NameKind.NATIVE),
    "name_kk": ("kk", NameScript.CYRILLIC, NameKind.NATIVE),
    "name_en": ("en", NameScript.LATIN, NameKind.TRANSLITERATION),
}


@dataclass
class PersonPlan:
    person: Person
    names: list[PersonName]


def _match(
    model: type[Person] | type[Event], slug: str, user: Any
) -> tuple[Any, list[tuple[str, str]]]:
    """The record `slug` names for `user` (`safety.slugs.match_or_new`: for a user who cannot
    see every section, a new record's slug gets a random ending, so that an import never says
    a slug another section holds is taken), and what is wrong with the slug."""
    try:
        validate_slug(slug)
    except ValidationError:
        return model(slug=slug), [("slug", _("use only letters, digits, hyphens and underscores"))]
    try:
        return match_or_new(model, slug, user), []
    except AmbiguousSlug:
        reason = _(
            "several of your records have the slug %(slug)s with an ending added; "
            "write the whole slug of the one you mean"
        ) % {"slug": repr(slug)}
        return model(slug=slug), [("slug", reason)]


def _no_sealed_move() -> str:
    return _(
        "this person's record holds sealed data, so it cannot be moved to "
        "another section by import: move it in the back office, with your key "
        "unlocked"
    )


def check_person(row: Row, user: Any = None) -> PersonPlan:
    person, problems = _match(Person, row["slug"].strip(), user)
    section = Section.objects.filter(slug=row["section"].strip()).first()
    if section is None:
        problems.append(
            ("section", _("no section %(slug)s") % {"slug": repr(row["section"].strip())})
        )
    for column in _PERSON_TEXT:
        if column in row:
            setattr(person, column, row[column].strip())
    if section is not None:
        # Sealed values stay wrapped for the old section's coordinators and recovery key until
        # someone who can open them reseals them, which takes an unlocked key: not here.
        if person.pk is not None and person.section_id != section.pk and holds_sealed(person):
            problems.append(("section", _no_sealed_move()))
        person.section = section
    if "is_public" in row:
        person.is_public = _bool(row, "is_public", problems)
    if "birth_year" in row:
        year = row["birth_year"].strip()
        if not year:
            person.birth_year = None
        elif year.isdigit():
            person.birth_year = int(year)
        else:
            problems.append(
                (
                    "birth_year",
                    _("write a year such as 1965, not %(value)s") % {"value": repr(year)},
                )
            )
    exclude = ["section"] if section is None else []
    if "birth_year" in {c for c, _m in problems}:
        exclude.append("birth_year")
    problems += _clean(person, {}, exclude)
    names: list[PersonName] = []
    for column, (language, script, kind) in _NAME_COLUMNS.items():
        name = row.get(column, "").strip()
        if not name:
            continue
        if _script(name) != script:
            problems.append(
                (
                    column,
                    _("%(name)s is not written in %(script)s letters only")
                    % {"name": repr(name), "script": script.label},
                )
            )
        # A spreadsheet's name columns are the spellings the sources print: public with the
        # person. A name to keep internal (one used in hiding) is added in the back office.
        names.append(
            PersonName(name=name, language=language, script=script, kind=kind, is_public=True)
        )
    for name in (n.strip() for n in row.get("other_names", "").split("|")):
        if not name:
            continue
        found = _script(name)
        if found is None:
            problems.append(
                (
                    "other_names",
                    _("%(name)s mixes Cyrillic and Latin letters") % {"name": repr(name)},
                )
            )
            continue
        # Without a column to say so, a variant's language is the usual one of its script.
        language = "ru" if found == NameScript.CYRILLIC else "en"
        names.append(
            PersonName(name=name, language=language, script=found, kind="variant", is_public=True)
        )
    for form in names:
        if len(form.name) > 300:
            problems.append(
                (
                    "other_names",
                    _("%(name)s… is longer than 300 characters") % {"name": repr(form.name[:30])},
                )
            )
    if problems:
        raise BadRow(problems)
    return PersonPlan(person, names)


def apply_person(plan: PersonPlan) -> str:
    person = plan.person
    if person.pk is None:
        outcome = "created"
        person.save()
    else:
        # Checked again on the row as stored now, locked (lock order, safety/keys.py): the
        # record may have been moved, its sealed values resealed for the new section, after
        # this row was checked; writing the section the row names would move it back unsealed.
        try:
            stored = lock_for_sealing(Person, person.pk, also=[person.section_id])
        except RecordMoved as error:
            raise ValidationError(str(error)) from None
        if stored.section_id != person.section_id and holds_sealed(stored):
            raise ValidationError(_no_sealed_move())
        before = Person.objects.filter(pk=person.pk).values(*_PERSON_TEXT, "is_public").get()
        after = {k: getattr(person, k) for k in before}
        outcome = "unchanged" if before == after else "updated"
        person.save()
    known = set(PersonName.objects.filter(person=person).values_list("name", flat=True))
    for name in plan.names:
        if name.name not in known:
            name.person = person
            name.save()
            known.add(name.name)
            outcome = "updated" if outcome == "unchanged" else outcome
    return outcome


# -- Events ---------------------------------------------------------------------------------------

EVENTS_COLUMNS = {
    "required": ("slug", "type", "title_en", "date", "sources", "section"),
    "optional": (
        "title_ru",
        "title_kk",
        "summary_en",
        "summary_ru",
        "summary_kk",
        "place",
        "place_detail",
        "is_public",
    ),
}
_EVENT_TEXT = (
    "title_en",
    "title_ru",
    "title_kk",
    "summary_en",
    "summary_ru",
    "summary_kk",
    "place_detail",
)


@dataclass
class EventPlan:
    event: Event
    sources: list[Source]


def check_event(row: Row, user: Any = None) -> EventPlan:
    event, problems = _match(Event, row["slug"].strip(), user)
    for column in _EVENT_TEXT:
        if column in row:
            setattr(event, column, row[column].strip())
    event_type = row["type"].strip()
    if event_type not in EventType.values:
        problems.append(
            (
                "type",
                _("%(value)s is not one of: %(choices)s")
                % {"value": repr(event_type), "choices": ", ".join(EventType.values)},
            )
        )
    event.type = event_type
    try:
        event.date = PartialDate.parse(row["date"])
    except ValidationError as error:
        problems.append(("date", " ".join(error.messages)))
    section = Section.objects.filter(slug=row["section"].strip()).first()
    if section is None:
        problems.append(
            ("section", _("no section %(slug)s") % {"slug": repr(row["section"].strip())})
        )
    else:
        event.section = section
    if "is_public" in row:
        event.is_public = _bool(row, "is_public", problems)
    place_slug = row.get("place", "").strip()
    event.place = None
    if place_slug:
        event.place = Place.objects.filter(slug=place_slug).first()
        if event.place is None:
            problems.append(("place", _("no place %(slug)s") % {"slug": repr(place_slug)}))
    slugs = [s.strip() for s in row["sources"].split("|") if s.strip()]
    sources = list(Source.objects.filter(slug__in=slugs))
    if not slugs:
        problems.append(("sources", _("every event needs at least one source (slugs, split by |)")))
    for missing in sorted(set(slugs) - {s.slug for s in sources}):
        problems.append(("sources", _("no source %(slug)s") % {"slug": repr(missing)}))
    exclude = ["type", "date", "date_earliest", "date_latest", "section", "place"]
    problems += _clean(event, {}, exclude)
    if problems:
        raise BadRow(problems)
    return EventPlan(event, sources)


def apply_event(plan: EventPlan) -> str:
    event = plan.event
    if event.pk is None:
        outcome = "created"
    else:
        fields = (*_EVENT_TEXT, "type", "date", "place_id", "section_id", "is_public")
        before = Event.objects.filter(pk=event.pk).values(*fields).get()
        outcome = "unchanged" if before == {k: getattr(event, k) for k in fields} else "updated"
    event.save()
    content_type = ContentType.objects.get_for_model(Event)
    for source in plan.sources:
        _citation, made = Citation.objects.get_or_create(
            content_type=content_type, object_id=event.pk, source=source
        )
        if made and outcome == "unchanged":
            outcome = "updated"
    return outcome


# -- Signatures -----------------------------------------------------------------------------------

SIGNATURES_COLUMNS = {
    "required": ("petition", "name", "email", "country", "processing_consent"),
    "optional": ("language", "comment", "public_name_consent", "contact_consent"),
}


@dataclass
class SignaturePlan:
    petition: Petition
    form: SignForm


def check_signature(row: Row, user: Any = None) -> SignaturePlan:
    problems: list[tuple[str, str]] = []
    slug = row["petition"].strip()
    petitions = Petition.objects.select_related("campaign").filter(slug=slug)
    if user is not None:
        # Another section's petition is missing, not "not accepting signatures" (D6).
        petitions = scoped(petitions, user, "add")
    petition = petitions.first()
    if petition is None:
        problems.append(("petition", _("no petition %(slug)s") % {"slug": repr(slug)}))
    elif not (petition.is_public and petition.accepting and petition.campaign.is_public):
        problems.append(("petition", _("this petition is not accepting signatures")))
    data = {
        "name": row["name"],
        "email": row["email"],
        "country": row["country"],
        "language": row.get("language", "").strip() or "en",
        "comment": row.get("comment", ""),
    }
    # The public form's checkboxes: present means ticked.
    for column in ("processing_consent", "public_name_consent", "contact_consent"):
        if _bool(row, column, problems):
            data[column] = "on"
    form = SignForm(data)
    if not form.is_valid():
        problems += [
            (column, " ".join(str(m) for m in msgs)) for column, msgs in form.errors.items()
        ]
    if problems or petition is None:
        raise BadRow(problems)
    return SignaturePlan(petition, form)


def apply_signature(plan: SignaturePlan, base_url: str) -> str:
    data = plan.form.cleaned_data
    if Signature.objects.filter(petition=plan.petition, email_index=email_index(data["email"])):
        # Signed already: a second import must not mail the signer again.
        return "unchanged"
    services.sign_petition(
        plan.petition,
        plan.form.details(),
        comment=data["comment"],
        public_name_consent=data["public_name_consent"],
        contact_consent=data["contact_consent"],
        processing_consent=data["processing_consent"],
        base_url=base_url,
    )
    return "created"


# -- Who may import what ---------------------------------------------------------------------------


def refusals(plan: Any, user: Any) -> list[tuple[str, str]]:
    """Why `user` may not write what `plan` would, through `solidarity.safety.access`.

    An insider of one section must not create, overwrite or move another section's records by
    import, nor cite its sources or places, nor sign into its petitions (threat model D6). What
    they may not reach is reported as a missing one is, so an import tells nobody what another
    section holds. An existing slug they may not change is "taken" only where they can see its
    record: the check found it among those (`check_person`, `check_event`), and a slug held
    where they cannot see was given a random ending instead (`safety.slugs`).
    """
    if isinstance(plan, SignaturePlan):
        if scoped(Petition.objects.filter(pk=plan.petition.pk), user, "add").exists():
            return []
        return [("petition", _("no petition %(slug)s") % {"slug": repr(plan.petition.slug)})]
    record: Person | Event = plan.person if isinstance(plan, PersonPlan) else plan.event
    model = type(record)
    problems: list[tuple[str, str]] = []
    if record.pk is not None and not scoped(
        model._default_manager.filter(pk=record.pk), user, "change"
    ):
        problems.append(("slug", _("the slug %(slug)s is taken") % {"slug": repr(record.slug)}))
    if record.section_id not in writable_sections(user, model):
        problems.append(("section", _("no section %(slug)s") % {"slug": repr(record.section.slug)}))
    if isinstance(plan, EventPlan):
        place = plan.event.place
        if place is not None and not scoped(Place.objects.filter(pk=place.pk), user, "view"):
            problems.append(("place", _("no place %(slug)s") % {"slug": repr(place.slug)}))
        visible = set(scoped(Source.objects.all(), user, "view").values_list("pk", flat=True))
        problems += [
            ("sources", _("no source %(slug)s") % {"slug": repr(s.slug)})
            for s in plan.sources
            if s.pk not in visible
        ]
    return problems


# -- Running an import ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Importer:
    columns: dict[str, tuple[str, ...]]
    key: Callable[[Row], str]
    check: Callable[[Row, Any], Any]
    apply: Callable[[Any, str], str]


IMPORTERS = {
    "people": Importer(
        PEOPLE_COLUMNS,
        lambda row: row["slug"].strip(),
        check_person,
        lambda plan, base_url: apply_person(plan),
    ),
    "events": Importer(
        EVENTS_COLUMNS,
        lambda row: row["slug"].strip(),
        check_event,
        lambda plan, base_url: apply_event(plan),
    ),
    "signatures": Importer(
        SIGNATURES_COLUMNS,
        lambda row: f"{row['petition'].strip()} {row['email'].strip().lower()}",
        check_signature,
        apply_signature,
    ),
}


def _rows(text: str) -> tuple[list[str], Iterator[tuple[int, Row]]]:
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header

    def rows() -> Iterator[tuple[int, Row]]:
        line = reader.line_num + 1
        for raw in reader:
            row = {k: v if isinstance(v, str) else "" for k, v in raw.items() if k is not None}
            if None in raw:
                row["\0extra"] = "x"
            yield line, row
            line = reader.line_num + 1

    return header, rows()


def run(
    kind: str,
    text: str,
    *,
    dry_run: bool,
    only_good: bool,
    base_url: str = "",
    user: Any = None,
) -> Report:
    """Check every row of `text` (a CSV file), then import the rows as described above.

    With `user` (the back office), each row must also be one the user may write (`refusals`);
    without (the command line, run by whoever operates the server), every section is open.
    """
    importer = IMPORTERS[kind]
    report = Report(kind, dry_run=dry_run, only_good=only_good)
    header, rows = _rows(text)
    if not header:
        report.errors.append(RowError(1, "", _("the file is empty: the first line names columns")))
        return report
    known = set(importer.columns["required"]) | set(importer.columns["optional"])
    for column in importer.columns["required"]:
        if column not in header:
            report.errors.append(RowError(1, column, _("this column is missing")))
    for column in header:
        if column not in known:
            report.errors.append(
                RowError(
                    1,
                    column,
                    _("unknown column; the columns are: %(columns)s")
                    % {"columns": ", ".join(sorted(known))},
                )
            )
    if report.errors:
        return report  # without the right columns no row can be read
    plans: list[tuple[int, Any]] = []
    first_seen: dict[str, int] = {}
    for line, row in rows:
        report.rows += 1
        if "\0extra" in row:
            report.errors.append(RowError(line, "", _("more cells than there are columns")))
            continue
        key = importer.key(row)
        if key in first_seen:
            report.errors.append(
                RowError(
                    line,
                    "",
                    _("the same record as line %(line)s (%(key)s)")
                    % {"line": first_seen[key], "key": key},
                )
            )
            continue
        first_seen[key] = line
        try:
            plan = importer.check(row, user)
            refused = refusals(plan, user) if user is not None else []
            if refused:
                raise BadRow(refused)
            plans.append((line, plan))
        except BadRow as bad:
            report.errors += [RowError(line, column, reason) for column, reason in bad.errors]
    if report.rows == 0:
        report.errors.append(RowError(2, "", _("no rows under the header: nothing to import")))
        return report
    if report.errors and not only_good:
        return report
    with transaction.atomic():
        for line, plan in plans:
            try:
                with transaction.atomic():
                    outcome = importer.apply(plan, base_url)
            except (ValidationError, DatabaseError) as error:
                reason = (
                    " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
                )
                report.errors.append(RowError(line, "", reason))
                continue
            setattr(report, outcome, getattr(report, outcome) + 1)
        if report.errors and not only_good:
            transaction.set_rollback(True)
            report.created = report.updated = report.unchanged = 0
        elif dry_run:
            transaction.set_rollback(True)
        else:
            report.written = True
    return report
