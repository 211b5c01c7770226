"""Which model fields a back-office change-list column reads, so its list can be audited.

A list_display entry that names a field is classed by the classification, but one computed by
an admin method, a model property or a callable (`def email_shown(self, obj)`) names nothing:
it could show a supporter's address on every row without a `personal_list` entry (threat
model A4, an insider reading through the contacts of their own section). Such a column says
what it reads with `@reads("supporter__email")`; audit/personal.py classes those fields as it
classes a field column, and the system check in audit/checks.py refuses a column that says
nothing, so a new one cannot be forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.functional import cached_property

F = TypeVar("F", bound=Callable[..., Any])

READS_ATTRIBUTE = "audit_reads"

# Columns always present that read no classed field: Django's row checkbox (the row's pk) and
# the model's own string, which is kept free of personal data for that reason
# (campaigns.models.Supporter.__str__).
PLAIN_COLUMNS = frozenset({"__str__", "action_checkbox"})

# Columns of third-party admins, which cannot be decorated: read in their source and declared
# here, by model label and column name.
FOREIGN_COLUMNS: dict[tuple[str, str], tuple[str, ...]] = {
    # django_tasks_db DBTaskResultAdmin: DBTaskResult.task_name, the task's dotted path.
    ("django_tasks_database.DBTaskResult", "task_name"): ("task_path",),
}


def reads(*fields: str) -> Callable[[F], F]:
    """Declare the model fields a list_display method, property or callable reads, as paths
    from the admin's model ("name", "supporter__email"); `@reads()` says it reads none.

    Stacks with `@admin.display` in either order; on a model property, put it under
    `@property`. Declare what the value is computed from, counts and dates included: the
    check can see that a column is declared, not that the declaration is true.
    """

    def declare(function: F) -> F:
        function.audit_reads = fields  # type: ignore[attr-defined]
        return function

    return declare


def field_path(model: type[models.Model], name: str) -> str | None:
    """`name` as a path of field names from `model` ("pk" and "supporter_id" become the
    fields' names), or None if some part of it is not a field."""
    parts: list[str] = []
    current: type[models.Model] | None = model
    for part in name.split("__"):
        if current is None:
            return None
        try:
            field: Any = current._meta.pk if part == "pk" else current._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        parts.append(field.name)
        related = getattr(field, "related_model", None)
        current = (
            related if isinstance(related, type) and issubclass(related, models.Model) else None
        )
    return "__".join(parts)


def declared(target: object) -> tuple[str, ...] | None:
    """The fields `target` (a function, bound method, property or callable) declares it reads,
    or None if it declares nothing."""
    if isinstance(target, property):
        target = target.fget
    elif isinstance(target, cached_property):
        target = target.func
    value = getattr(target, READS_ATTRIBUTE, None)
    return tuple(value) if isinstance(value, tuple) else None


def _forward_field(model: type[models.Model], name: str) -> bool:
    # What the admin itself shows as a field (django.contrib.admin.utils.lookup_field): not a
    # reverse relation, not a generic relation, not a foreign key's column name.
    try:
        field: Any = model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    if field.is_relation and ((field.many_to_one and not field.related_model) or field.one_to_many):
        return False
    return not (
        field.is_relation and not field.many_to_many and getattr(field, "attname", None) == name
    )


def column_reads(
    model: type[models.Model], name: object, model_admin: object | None = None
) -> tuple[str, ...] | None:
    """The field paths (from `model`) a list_display entry reads, or None if it is neither a
    field nor declares what it reads. Resolved in the admin's order: a field of the model, an
    attribute of the ModelAdmin, an attribute of the model, then a `__` path."""
    if callable(name):
        return declared(name)
    if not isinstance(name, str):
        return None
    if name in PLAIN_COLUMNS:
        return ()
    if "__" not in name and _forward_field(model, name):
        return (field_path(model, name) or name,)
    if model_admin is not None and hasattr(model_admin, name):
        return declared(getattr(model_admin, name))
    attribute = getattr(model, name, None)
    if attribute is not None:
        found = declared(attribute)
        if found is not None:
            return found
    foreign = FOREIGN_COLUMNS.get((model._meta.label, name))
    if foreign is not None:
        return foreign
    path = field_path(model, name)
    if path is not None:
        return (path,)
    # "supporter__display_name": a relation, then a property of the related model.
    head, _sep, rest = name.partition("__")
    if not rest:
        return None
    try:
        related: Any = model._meta.get_field(head).related_model
    except FieldDoesNotExist:
        return None
    if not isinstance(related, type) or not issubclass(related, models.Model):
        return None
    inner = column_reads(related, rest)
    return None if inner is None else tuple(f"{head}__{path}" for path in inner)
