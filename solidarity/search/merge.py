"""Merging two person records that describe one person, and undoing it.

A merge moves everything that points at the removed record (name forms, acts as victim,
involvements as perpetrator, participations, memberships, prosecutions, detentions,
recognitions, campaigns, citations…) to the kept record, adds the removed record's own
name as a name form of the kept one, fills the kept record's blank fields from the removed
one, and deletes the removed record, all in one transaction. The :class:`MergeRecord`
lists the ids of every row moved, dropped or added, and holds the removed record as it
was, so that :func:`unmerge` puts every row back where it was, with the same ids.

Related rows are found from the model's relations, so a model added later that points at
a person moves with the merge without changes here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from solidarity.documentation.models import Citation, Person, PersonName
from solidarity.documentation.vocabularies import NameKind, NameScript

from . import services
from .models import MergeRecord
from .names import script_of

FILLED_FIELDS = (
    "patronymic",
    "birth_year",
    "occupation_en",
    "occupation_ru",
    "occupation_kk",
    "summary_en",
    "summary_ru",
    "summary_kk",
    "internal_notes",
)
"""Fields of the kept record that take the removed record's value when they are blank."""

# Sealed and encrypted values are bound to their own row (safety.fields): they cannot be
# copied to another record, and must not sit in a merge record either.
PROTECTED_FIELDS = {"whereabouts": "whereabouts", "contact": "contact details"}


class MergeError(Exception):
    """A merge or unmerge that cannot be done; the message says what to do instead."""


@dataclass(frozen=True)
class _Relation:
    model: type[models.Model]
    field: str

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.field}"


def _relations() -> list[_Relation]:
    """Every foreign key to Person, hidden ones (Involvement.perpetrator) included, except
    the search app's own (its index is rebuilt, its merge records stay)."""
    relations = []
    for rel in Person._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and rel.is_relation and not rel.concrete):
            continue
        if not (rel.one_to_many or rel.one_to_one):
            continue
        model = rel.related_model
        if not (isinstance(model, type) and issubclass(model, models.Model)):
            continue
        if model._meta.app_label == "search":
            continue
        relations.append(_Relation(model, rel.field.name))  # type: ignore[union-attr]
    return sorted(relations, key=lambda r: r.label)


def _relation(label: str) -> _Relation:
    for relation in _relations():
        if relation.label == label:
            return relation
    raise MergeError(f"The merge moved rows of {label}, which no longer exists.")


def _serialise(obj: models.Model) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(serializers.serialize("json", [obj]))[0]
    return data


def _restore(data: dict[str, Any]) -> None:
    for item in serializers.deserialize("json", json.dumps([data])):
        item.save()


def merge_people(
    keep: Person, remove: Person, *, user: Any = None, reason: str = ""
) -> MergeRecord:
    """Merge `remove` into `keep`; returns the record that :func:`unmerge` undoes.

    Refused (MergeError, nothing changed) when the records are the same, when the removed
    one holds whereabouts or contact details, or when both have a row that may exist only
    once (the same role in the same event, the same membership): those must be resolved
    by hand first, and the message names them.
    """
    if keep.pk == remove.pk:
        raise MergeError("A person cannot be merged with themselves.")
    for name, label in PROTECTED_FIELDS.items():
        if getattr(remove, name):
            raise MergeError(
                f"{remove} has {label} recorded, which cannot be moved by a merge: "
                f"move them to {keep} by hand first."
            )
    with transaction.atomic():
        keep = Person.objects.select_for_update().get(pk=keep.pk)
        remove = Person.objects.select_for_update().get(pk=remove.pk)
        record = MergeRecord(
            kept=keep,
            removed_id=remove.pk,
            removed_name=remove.full_name[:400],
            removed=_serialise(remove),
            reason=reason[:500],
            merged_by=user if getattr(user, "pk", None) else None,
        )
        deleted: list[dict[str, Any]] = []
        created: list[dict[str, Any]] = []
        moved: list[dict[str, Any]] = []

        kept_names = set(keep.names.values_list("name", flat=True))
        for form in PersonName.objects.filter(person=remove, name__in=kept_names):
            deleted.append(_serialise(form))
            form.delete()

        kept_sources = set(_citations(keep).values_list("source_id", flat=True))
        for citation in _citations(remove).filter(source_id__in=kept_sources):
            deleted.append(_serialise(citation))
            citation.delete()
        citation_ids = list(_citations(remove).values_list("pk", flat=True))
        _citations(remove).update(object_id=keep.pk)
        moved.append({"model": "documentation.Citation", "field": "object_id", "ids": citation_ids})

        conflicts: list[str] = []
        for relation in _relations():
            rows = relation.model._default_manager.filter(**{relation.field: remove})
            ids = sorted(rows.values_list("pk", flat=True))
            if not ids:
                continue
            try:
                with transaction.atomic():
                    rows.update(**{relation.field: keep})
            except IntegrityError:
                conflicts.append(str(relation.model._meta.verbose_name_plural))
                continue
            moved.append({"model": relation.model._meta.label, "field": relation.field, "ids": ids})
        if conflicts:
            raise MergeError(
                f"Both records have the same {', '.join(conflicts)} (the same role in the same "
                "event, or the same membership). Remove the repeated one, then merge again."
            )

        own_name = " ".join(remove.full_name.split())
        exists = PersonName.objects.filter(person=keep, name=own_name[:300]).exists()
        if own_name and not exists and own_name != " ".join(keep.full_name.split()):
            script = script_of(own_name)
            form = PersonName.objects.create(
                person=keep,
                name=own_name[:300],
                language="ru" if script == "cyrillic" else "en",
                script=NameScript.CYRILLIC if script == "cyrillic" else NameScript.LATIN,
                kind=NameKind.VARIANT,
                # The removed record's name was shown wherever that record was.
                is_public=remove.is_public,
            )
            created.append({"model": "documentation.PersonName", "id": form.pk})

        filled: dict[str, Any] = {}
        for field_name in FILLED_FIELDS:
            value = getattr(remove, field_name)
            if value not in (None, "") and getattr(keep, field_name) in (None, ""):
                filled[field_name] = getattr(keep, field_name)
                setattr(keep, field_name, value)
        if filled:
            keep.save(update_fields=[*filled, "updated_at"])

        remove.delete()
        record.moved, record.deleted, record.created = moved, deleted, created
        record.filled = filled
        record.save()
        services.index_record(keep)
    return record


def _citations(person: Person) -> models.QuerySet[Citation]:
    return Citation.objects.filter(
        content_type=ContentType.objects.get_for_model(Person), object_id=person.pk
    )


def unmerge(record: MergeRecord, *, user: Any = None) -> Person:
    """Undo a merge: the removed record comes back with its id, and every row that moved,
    was dropped or was added returns to how it was. Returns the restored person."""
    if record.unmerged_at is not None:
        raise MergeError("This merge has already been undone.")
    with transaction.atomic():
        keep = Person.objects.select_for_update().get(pk=record.kept_id)
        if Person.objects.filter(pk=record.removed_id).exists():
            raise MergeError(f"A person with id {record.removed_id} exists again; cannot restore.")
        original = {name: record.filled[name] for name in record.filled}
        _restore(record.removed)
        removed = Person.objects.get(pk=record.removed_id)
        for entry in record.created:
            PersonName.objects.filter(pk=entry["id"], person=keep).delete()
        for entry in record.moved:
            if entry["model"] == "documentation.Citation":
                Citation.objects.filter(pk__in=entry["ids"]).update(object_id=removed.pk)
                continue
            relation = _relation(f"{entry['model']}.{entry['field']}")
            relation.model._default_manager.filter(pk__in=entry["ids"]).update(
                **{relation.field: removed}
            )
        for data in record.deleted:
            _restore(data)
        if original:
            for name, value in original.items():
                setattr(keep, name, value)
            keep.save(update_fields=[*original, "updated_at"])
        record.unmerged_at = timezone.now()
        record.unmerged_by = user if getattr(user, "pk", None) else None
        record.save(update_fields=["unmerged_at", "unmerged_by"])
        services.index_record(keep)
        services.index_record(removed)
    return removed
