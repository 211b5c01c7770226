"""Search people, organisations, places and events by name, in any script or spelling.

The index (:class:`~.models.NameKey`) holds the keys of :func:`.names.name_keys` for every
name form of every record. A query is answered in two steps:

1. candidates by key: each key of the query is looked up on its own, with a row limit; a
   key that hits more rows than :data:`BROAD_KEY_ROWS` is too common to tell records apart
   (a consonant skeleton, a frequent given name) and only fills in when the selective
   keys found too little. Candidates are ranked by the weights of the keys they share
   with the query (:data:`.names.KEY_WEIGHTS`);
2. re-ranking: the best :data:`RERANKED` candidates are scored with :func:`.names.score`
   on each name form that matched, and the best form is shown as the matched name.

Index rows are rebuilt for a record whenever it or one of its name forms is saved or
deleted (signals.py), inside the same transaction, and all of them by
`solidarity reindex` after :data:`.names.KEYS_VERSION` changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from django.db import connection, models, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from solidarity.core.translation import LANGUAGES
from solidarity.documentation.models import Event, Organisation, Person, PersonName, Place

from .models import NameKey, Target
from .names import KEYS_VERSION, fold, key_weight, match_reason, name_keys, score, script_of

BROAD_KEY_ROWS: Final = 200
"""A key found in more index rows than this is broad: it is not used to find candidates
unless the selective keys found fewer than :data:`RERANKED`."""

RERANKED: Final = 40
"""How many candidates, best by shared keys, are scored with :func:`.names.score`."""

MIN_SCORE: Final = 0.5
"""Results scoring less are not shown: they share a common key and little else."""

MAX_QUERY_LENGTH: Final = 200

MODELS: Final[dict[str, type[models.Model]]] = {
    Target.PERSON: Person,
    Target.ORGANISATION: Organisation,
    Target.PLACE: Place,
    Target.EVENT: Event,
}
"""Each target and its model; the NameKey foreign key to it has the target's name."""

NAME_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    Target.PERSON: ("given_name", "patronymic", "family_name"),
    Target.ORGANISATION: (*(f"name_{lang}" for lang in LANGUAGES), "abbreviation"),
    Target.PLACE: tuple(f"name_{lang}" for lang in LANGUAGES),
    Target.EVENT: tuple(f"title_{lang}" for lang in LANGUAGES),
}
"""The fields names are read from (a person's also from their PersonName rows). Every one
is classed public: a public record's index rows may be shown on the public site."""


def target_of(model: type[models.Model]) -> str | None:
    for target, target_model in MODELS.items():
        if model is target_model:
            return target
    return None


# -- Keeping the index ------------------------------------------------------------------------


def name_forms(obj: models.Model) -> list[str]:
    """Every distinct name form of a record, in a stable order."""
    forms: list[str] = []
    if isinstance(obj, Person):
        forms.append(obj.full_name)
        forms.extend(
            PersonName.objects.filter(person=obj).order_by("id").values_list("name", flat=True)
        )
    else:
        target = target_of(type(obj))
        if target is None:
            raise TypeError(f"{type(obj).__name__} records are not indexed")
        forms.extend(getattr(obj, name) for name in NAME_FIELDS[target])
    seen: dict[str, None] = {}
    for form in forms:
        cleaned = " ".join(form.split())
        if cleaned:
            seen.setdefault(cleaned, None)
    return list(seen)


def indexed_forms(obj: models.Model, names: Iterable[PersonName] | None = None) -> dict[str, bool]:
    """{name form: whether the public search may find the record by it} of a record.

    A record's forms are public with the record, except a person's name forms that are not
    themselves public: the public search must not find a person by a name they live under in
    hiding (a hit would confirm to anyone typing it who that is). `names`: the person's
    prefetched PersonName rows, if loaded."""
    public = bool(getattr(obj, "is_public", False))
    if not isinstance(obj, Person):
        return dict.fromkeys(name_forms(obj), public)
    if names is None:
        names = PersonName.objects.filter(person=obj).order_by("id")
    found: dict[str, bool] = {}
    for form, shown in [(obj.full_name, True), *((n.name, n.is_public) for n in names)]:
        cleaned = " ".join(form.split())
        if cleaned:
            found[cleaned] = found.get(cleaned, False) or (public and shown)
    return found


def _rows_for(target: str, pk: int, forms: dict[str, bool]) -> Iterator[NameKey]:
    for form, published in forms.items():
        for key in sorted(name_keys(form)):
            if len(key) <= 200:
                row = NameKey(
                    key=key,
                    target=target,
                    name=form[:300],
                    published=published,
                    keys_version=KEYS_VERSION,
                )
                setattr(row, f"{target}_id", pk)
                yield row


def _delete_keys(target: str, pks: Iterable[int]) -> None:
    # A raw delete: rows of a derived index need no per-row signals (the audit log would
    # otherwise record thousands of key rows for one edit).
    queryset = NameKey.objects.filter(target=target, **{f"{target}__in": list(pks)})
    queryset._raw_delete(queryset.db)


def index_record(obj: models.Model) -> int:
    """Rebuild the index rows of one record; returns how many rows it now has."""
    target = target_of(type(obj))
    if target is None or obj.pk is None:
        return 0
    with transaction.atomic():
        _delete_keys(target, [obj.pk])
        rows = list(_rows_for(target, obj.pk, indexed_forms(obj)))
        NameKey.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def unindex_record(obj: models.Model) -> None:
    target = target_of(type(obj))
    if target is not None and obj.pk is not None:
        _delete_keys(target, [obj.pk])


def reindex(
    progress: Callable[[str, int, int], None] | None = None, batch_size: int = 500
) -> dict[str, int]:
    """Rebuild the whole index, model by model; returns the number of rows per target.

    Each batch of records is rebuilt in its own transaction, so a long run holds no lock
    for long and a search during it finds every record either with old keys or new ones.
    """
    counts: dict[str, int] = {}
    for target, model in MODELS.items():
        total = model._default_manager.count()
        done = rows = 0
        pks = list(model._default_manager.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(pks), batch_size):
            batch = pks[start : start + batch_size]
            with transaction.atomic():
                _delete_keys(target, batch)
                objects = model._default_manager.filter(pk__in=batch)
                if model is Person:
                    objects = objects.prefetch_related("names")
                new_rows: list[NameKey] = []
                for obj in objects:
                    names = obj.names.all() if isinstance(obj, Person) else None
                    new_rows.extend(_rows_for(target, obj.pk, indexed_forms(obj, names)))
                NameKey.objects.bulk_create(new_rows, batch_size=1000)
            rows += len(new_rows)
            done += len(batch)
            if progress is not None:
                progress(target, done, total)
        # Rows whose record is gone (deleted while signals were off, e.g. by raw SQL).
        orphans = NameKey.objects.filter(target=target).exclude(**{f"{target}__in": pks})
        orphans._raw_delete(orphans.db)
        counts[target] = rows
    return counts


def stale_rows() -> int:
    """Index rows built by another version of the key rules."""
    return NameKey.objects.exclude(keys_version=KEYS_VERSION).count()


# -- Querying ---------------------------------------------------------------------------------


@dataclass
class _Candidate:
    target: str
    pk: int
    key_score: float = 0.0
    keys: set[str] = field(default_factory=set)
    forms: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Hit:
    """One record found: which, how well, by which of its name forms, and why."""

    target: str
    pk: int
    score: float
    matched_name: str
    reason: str


_Row = tuple[str, int | None, int | None, int | None, int | None, str]


_ID_COLUMNS: Final = ("person_id", "organisation_id", "place_id", "event_id")


def _key_sql(public_only: bool, targets: Sequence[str]) -> str:
    """Records with one key, read from the covering index alone, one row past the limit."""
    quote = connection.ops.quote_name
    where = [f"{quote('key')} = %s"]
    if public_only:
        where.append(f"{quote('published')} = %s")
    if len(targets) < len(MODELS):
        where.append(f"{quote('target')} IN ({', '.join(['%s'] * len(targets))})")
    record = f"COALESCE({', '.join(quote(c) for c in _ID_COLUMNS)})"
    table = quote(NameKey._meta.db_table)
    return (
        f"SELECT {quote('target')}, {record} FROM {table} "  # noqa: S608  # names only; values are parameters
        f"WHERE {' AND '.join(where)} LIMIT %s"
    )


def _key_params(key: str, public_only: bool, targets: Sequence[str]) -> list[Any]:
    values: list[Any] = [key]
    if public_only:
        values.append(True)
    if len(targets) < len(MODELS):
        values.extend(targets)
    return [*values, BROAD_KEY_ROWS + 1]


def _lookup(keys: Iterable[str], public_only: bool, targets: Sequence[str]) -> list[_Candidate]:
    """Candidates sharing keys with a query, best first by the weight of shared keys, a rare
    key counting more than a common one (as idf does in text search)."""
    sql = _key_sql(public_only, targets)
    found: dict[tuple[str, int], _Candidate] = {}
    broad: list[tuple[str, list[tuple[str, int]]]] = []

    def add(key: str, rows: list[tuple[str, int]]) -> None:
        weight = key_weight(key) * (1.0 + math.log(BROAD_KEY_ROWS / max(1, len(rows))))
        for row in rows:
            candidate = found.get(row)
            if candidate is None:
                candidate = found[row] = _Candidate(row[0], row[1])
            if key not in candidate.keys:
                candidate.keys.add(key)
                candidate.key_score += weight

    with connection.cursor() as cursor:
        for key in sorted(keys, key=lambda k: (-key_weight(k), k)):
            cursor.execute(sql, _key_params(key, public_only, targets))
            rows = [(target, pk) for target, pk in cursor.fetchall()]
            if len(rows) > BROAD_KEY_ROWS:
                broad.append((key, rows[:BROAD_KEY_ROWS]))
            else:
                add(key, rows)
    if len(found) < RERANKED:
        for key, rows in broad:
            add(key, rows)
    return sorted(found.values(), key=lambda c: (-c.key_score, c.target, c.pk))


def _attach_forms(candidates: Sequence[_Candidate], public_only: bool) -> None:
    """Read the indexed name forms of the candidates (one query per kind of record)."""
    for target in {c.target for c in candidates}:
        wanted = {c.pk: c for c in candidates if c.target == target}
        rows = NameKey.objects.filter(target=target, **{f"{target}__in": list(wanted)})
        if public_only:
            rows = rows.filter(published=True)
        for pk, name in rows.values_list(f"{target}_id", "name").distinct():
            wanted[pk].forms.add(name)


def _reason(query: str, target: str, matched: str) -> str:
    """Why a record was found, in the active language (worded per request, never stored)."""
    if target == Target.PERSON:
        return match_reason(query, matched)
    other_script = script_of(query) != script_of(matched)
    folded_query, folded_match = fold(query), fold(matched)
    event = target == Target.EVENT
    if folded_query == folded_match:
        if event:
            return _("same title in another script") if other_script else _("same title")
        # Russian and Kazakh name an organisation or a place with another word than a person.
        if other_script:
            return pgettext("organisation or place", "same name in another script")
        return pgettext("organisation or place", "same name")
    if f" {folded_query} " in f" {folded_match} ":
        return _("words of the title") if event else _("words of the name")
    if other_script:
        if event:
            return _("title spelled differently in another script")
        return _("name spelled differently in another script")
    return _("title spelled differently") if event else _("name spelled differently")


def search(
    query: str,
    *,
    public_only: bool,
    limit: int = 20,
    targets: Sequence[str] = tuple(MODELS),
) -> list[Hit]:
    """Records whose names match `query` in any script or spelling, best first.

    With `public_only`, only records published on the public site are looked at, only by
    their public name forms, and the matched name form shown is always one of those.
    """
    query = " ".join(query.split())[:MAX_QUERY_LENGTH]
    keys = name_keys(query)
    if not keys:
        return []
    candidates = _lookup(keys, public_only, targets)[:RERANKED]
    _attach_forms(candidates, public_only)
    scored: list[tuple[float, float, str, int, str]] = []
    for candidate in candidates:
        if not candidate.forms:
            continue
        best, matched = max((score(query, form), form) for form in candidate.forms)
        if best >= MIN_SCORE:
            scored.append((best, candidate.key_score, candidate.target, candidate.pk, matched))
    scored.sort(key=lambda s: (-s[0], -s[1], s[2], s[3]))
    # Reasons are worded for the shown results only: comparing roles costs more than scoring.
    return [
        Hit(target, pk, round(best, 3), matched, _reason(query, target, matched))
        for best, _key_score, target, pk, matched in scored[:limit]
    ]


def visible_hits(
    hits: Iterable[Hit], visible: Callable[[type[models.Model]], QuerySet[Any]]
) -> list[Hit]:
    """The hits whose records are in `visible(model)` (e.g. a user's sections), in order."""
    hits = list(hits)
    allowed: set[tuple[str, int]] = set()
    for target, model in MODELS.items():
        pks = [h.pk for h in hits if h.target == target]
        if pks:
            found = visible(model).filter(pk__in=pks).values_list("pk", flat=True)
            allowed.update((target, pk) for pk in found)
    return [h for h in hits if (h.target, h.pk) in allowed]


# -- Duplicate people ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Duplicate:
    """A person record that may describe the same person as the one being edited."""

    pk: int
    name: str
    birth_year: int | None
    likely: bool
    score: float
    reason: str


WARN_SCORE: Final = 0.75
"""Records scoring at least this are shown as possible duplicates even when the rules do
not call them the same person (same name, nothing else to tell them apart)."""


def find_duplicates(
    names: Sequence[str],
    birth_year: int | None,
    among: QuerySet[Person],
    *,
    exclude: int | None = None,
    limit: int = 10,
) -> list[Duplicate]:
    """People in `among` who are likely, or possibly, the person with these name forms.

    Candidates come from the index (every form's keys); each is then judged by
    :func:`.names.likely_same_person` on all name forms of both records and their birth
    years, which never takes namesakes with different patronymics, one-letter siblings
    (Ерлан/Ержан) or a brother and a sister for one person.
    """
    from .names import likely_same_person

    keys: set[str] = set()
    for name in names:
        keys |= name_keys(name)
    if not keys:
        return []
    candidates = _lookup(keys, False, (Target.PERSON,))[: RERANKED * 2]
    pks = [c.pk for c in candidates if c.pk != exclude]
    people = among.filter(pk__in=pks).prefetch_related("names")
    found: list[Duplicate] = []
    for person in people:
        likely, value, reason = likely_same_person(
            names, name_forms_of(person), birth_year, person.birth_year
        )
        if likely or value >= WARN_SCORE:
            found.append(
                Duplicate(person.pk, person.full_name, person.birth_year, likely, value, reason)
            )
    found.sort(key=lambda d: (not d.likely, -d.score, d.pk))
    return found[:limit]


def name_forms_of(person: Person) -> list[str]:
    """A person's forms from prefetched names where available (no query per person)."""
    forms = [person.full_name, *(n.name for n in person.names.all())]
    return list(dict.fromkeys(" ".join(f.split()) for f in forms if f.strip()))
