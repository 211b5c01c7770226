"""Slugs that tell nobody what another section holds (threat model D6).

A slug is unique across all sections because the public addresses use it alone
(/en/people/<slug>/). Django's unique check, "Person with this Slug already exists", would then
tell an insider of one section that another section holds that person. So for a user who cannot
see every section, a new or changed slug always gets a random ending, whether or not what they
typed was taken: the outcome is the same either way, and the uniqueness error is never shown to
them. Users who see every section (and superusers, who can grant themselves any role) keep the
plain check: nothing they are told is hidden from them.

The back office applies this through `SlugSuffixForm` and `settle` (the common admin base,
`solidarity.documentation.admin.DocumentationAdmin`); the CSV import through `match_or_new`.
"""

from __future__ import annotations

import re
import secrets
import string
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from .access import scoped, section_path, sees_every_section

M = TypeVar("M", bound=models.Model)

SUFFIX_ALPHABET = string.ascii_lowercase + string.digits
SUFFIX_LENGTH = 6
SUFFIX_HELP = _(
    "A random ending is added to the slug you type, so that addresses do not reveal records "
    "of other sections."
)


def unique_slug_field(model: type[models.Model]) -> models.SlugField[Any, Any] | None:
    """The unique slug of a model whose rows belong to a section, or None."""
    if section_path(model) is None:
        return None  # shared rows (topics, bylines): visible to everyone who may edit them
    for field in model._meta.concrete_fields:
        if isinstance(field, models.SlugField) and field.unique:
            return field
    return None


def hides_slugs(user: Any, model: type[models.Model]) -> bool:
    """Must `user`'s new or changed slugs of `model` get a random ending?"""
    return unique_slug_field(model) is not None and not sees_every_section(user, model)


def _stem(base: str, field: models.SlugField[Any, Any]) -> str:
    # Cut the typed slug so that it, the hyphen and the ending fit the column.
    room = (field.max_length or 50) - SUFFIX_LENGTH - 1
    return base[:room]


def suffixed(model: type[models.Model], base: str) -> str:
    """`base` + "-" + six random characters, a slug no row of `model` has (in any section)."""
    field = unique_slug_field(model)
    assert field is not None  # noqa: S101  (callers ask hides_slugs first)
    stem = _stem(base, field)
    while True:
        ending = "".join(secrets.choice(SUFFIX_ALPHABET) for _ in range(SUFFIX_LENGTH))
        candidate = f"{stem}-{ending}"
        if not model._base_manager.filter(**{field.name: candidate}).exists():
            return candidate


def settle(user: Any, obj: models.Model, *, adding: bool) -> None:
    """Before a back-office save: give `obj` a random slug ending if it is new or its slug was
    changed and `user` cannot see every section. An unchanged slug is left as it is."""
    model = type(obj)
    if not hides_slugs(user, model):
        return
    field = unique_slug_field(model)
    assert field is not None  # noqa: S101  (hides_slugs says there is one)
    typed = getattr(obj, field.attname)
    if not adding:
        stored = model._base_manager.filter(pk=obj.pk).values_list(field.attname, flat=True)
        if stored.first() == typed:
            return
    setattr(obj, field.attname, suffixed(model, typed))


class SlugSuffixForm:
    """Put first among a ModelForm's bases, for a user whose slugs `settle` suffixes: the slug's
    uniqueness is not checked here (the ending makes it unique; the error would be the oracle),
    every other check is, and the slug's help text says why the slug will differ."""

    slug_field_name: str = "slug"
    fields: dict[str, Any]
    instance: models.Model

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get(self.slug_field_name)
        if field is not None:
            field.help_text = " ".join(str(t) for t in (field.help_text, SUFFIX_HELP) if t)

    def validate_unique(self) -> None:
        exclude: set[str] = self._get_validation_exclusions()  # type: ignore[attr-defined]
        exclude.add(self.slug_field_name)
        try:
            self.instance.validate_unique(exclude=exclude)
        except ValidationError as error:
            self._update_errors(error)  # type: ignore[attr-defined]


def form_for(user: Any, model: type[models.Model], form: type[Any]) -> type[Any]:
    """`form`, or for a user whose slugs of `model` are suffixed, `form` with `SlugSuffixForm`."""
    field = unique_slug_field(model)
    if field is None or not hides_slugs(user, model):
        return form
    attrs = {"slug_field_name": field.name, "__module__": form.__module__}
    return type(form.__name__, (SlugSuffixForm, form), attrs)


# -- The CSV import ------------------------------------------------------------------------------


def _earlier_suffixed(
    queryset: QuerySet[M], base: str, field: models.SlugField[Any, Any]
) -> list[M]:
    stem = _stem(base, field)
    pattern = re.compile(re.escape(stem) + f"-[{SUFFIX_ALPHABET}]{{{SUFFIX_LENGTH}}}")
    rows = queryset.filter(**{f"{field.name}__startswith": f"{stem}-"})
    return [row for row in rows if pattern.fullmatch(getattr(row, field.attname))]


class AmbiguousSlug(Exception):
    """Several of the user's records carry the row's slug with a random ending."""


def match_or_new(model: type[M], slug: str, user: Any) -> M:
    """The record an imported row's slug names, or a new one with that slug.

    Without a user (the command line, run by the operator) or for one who sees every section: the
    record with exactly that slug, wherever it is. Otherwise only among the records the user can
    see: that slug, or else that slug with a random ending (what an earlier import of the same
    row stored, so that importing a file twice still changes nothing); a new record gets an
    ending of its own, so a slug another section holds is never reported as taken.
    """
    manager = model._default_manager
    if user is None or not hides_slugs(user, model):
        return manager.filter(slug=slug).first() or model(slug=slug)
    field = unique_slug_field(model)
    assert field is not None  # noqa: S101  (hides_slugs says there is one)
    visible = scoped(manager.all(), user, "view")
    found = visible.filter(slug=slug).first()
    if found is not None:
        return found
    earlier = _earlier_suffixed(visible, slug, field)
    if len(earlier) > 1:
        raise AmbiguousSlug(slug)
    return earlier[0] if earlier else model(slug=suffixed(model, slug))
