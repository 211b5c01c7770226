"""The only way to fetch protected rows: every query for section data goes through here.

`perm` is an action ("view", "add", "change", "delete"); the kind of data (documentation,
campaigns, reference) comes from the model. A superuser is no exception: without a role in a
section, an administrator sees nothing of it (threat model D5). Another section's object answers
404, the same as a missing one, so an insider cannot probe what exists elsewhere (D6); the
audit log records who asked for which row (`access_refused`).
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404

from solidarity.audit.services import record_refusal
from solidarity.core.classification import FieldClass

from . import policy
from .models import Role
from .policy import Action, Kind

M = TypeVar("M", bound=models.Model)

# How a row without a section of its own reaches one: through its parent.
PARENT_SECTION_PATHS: dict[str, str] = {
    "documentation.Act": "event__section",
    "documentation.Involvement": "act__event__section",
    "documentation.Participation": "event__section",
    "documentation.PersonName": "person__section",
    "campaigns.Demand": "campaign__section",
    "campaigns.Outcome": "demand__campaign__section",
    "campaigns.UrgentActionUpdate": "urgent_action__section",
    "campaigns.LetterReport": "urgent_action__section",
    "campaigns.Rsvp": "action__section",
    "campaigns.Signature": "petition__section",
    "campaigns.SignatureIntake": "petition__section",
    "campaigns.ExportLog": "petition__section",
    "campaigns.Tagging": "tag__section",
    "publishing.ArticleImage": "article__section",
    "publishing.ArticleCampaign": "article__section",
}
# Rows that reach sections through several children: visible if any child is. A supporter who
# signed in two sections' petitions is visible to both, and to neither section's outsiders.
MULTI_PARENT_PATHS: dict[str, tuple[str, ...]] = {
    "campaigns.Supporter": (
        "signatures__petition__section",
        "rsvps__action__section",
        "letter_reports__urgent_action__section",
    ),
}
# Bookkeeping of the whole system, no section: only administrators' business.
SYSTEM_ONLY = {"campaigns.ErasureLog"}
# Rows that reach a section through a generic relation (content type + object id).
GENERIC_PARENTS = {"documentation.Citation"}


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def roles_of(user: Any) -> dict[int, str]:
    """Section id → role name for the user (cached on the user object for one request)."""
    if not _active(user):
        return {}
    cached: dict[int, str] | None = getattr(user, "_safety_roles", None)
    if cached is None:
        cached = dict(Role.objects.filter(user=user).values_list("section_id", "role"))
        user._safety_roles = cached
    return cached


def sections_for(user: Any, perm: str, kind: Kind = Kind.DOCUMENTATION) -> set[int]:
    """Ids of the sections where the user may do `perm` on data of `kind`."""
    action = Action(perm)
    return {
        section_id
        for section_id, role in roles_of(user).items()
        if policy.allows(role, kind, action)
    }


def sees_every_section(user: Any, model: type[models.Model]) -> bool:
    """May the user view rows of `model` in every section there is (or grant themselves that,
    as a superuser can)? Nothing that exists anywhere is then hidden from them, so an answer
    that reveals a row of some section tells them nothing new (D6, `safety.slugs`)."""
    if not _active(user):
        return False
    if user.is_superuser:
        return True
    from solidarity.core.models import Section

    every = set(Section.objects.values_list("pk", flat=True))
    return every <= sections_for(user, "view", _kind(model))


def sections_reading(user: Any, field_class: FieldClass) -> set[int]:
    """Ids of the sections where the user's role may read fields of `field_class`."""
    return {s for s, role in roles_of(user).items() if policy.reads(role, field_class)}


def section_path(model: type[models.Model]) -> str | None:
    """The lookup from `model` to its owning section, or None if it has none."""
    label = model._meta.label
    if label in PARENT_SECTION_PATHS:
        return PARENT_SECTION_PATHS[label]
    if any(f.name == "section" for f in model._meta.concrete_fields):
        return "section"
    return None


def _kind(model: type[models.Model]) -> Kind:
    kind = policy.kind_of(model)
    if kind is None:
        raise LookupError(f"{model._meta.label} is not covered by the safety policy")
    return kind


def scoped(queryset: QuerySet[M], user: Any, perm: str) -> QuerySet[M]:
    """The rows of `queryset` the user may `perm`; none at all for a user without a role."""
    return _within(queryset, sections_for(user, perm, _kind(queryset.model)), user, perm)


def scoped_reading(queryset: QuerySet[M], user: Any, field_class: FieldClass) -> QuerySet[M]:
    """The rows of `queryset` the user may view and whose `field_class` fields their role in the
    row's section may read: for surfaces that hand out whole rows, personal fields included
    (the API), where the back office would hide the fields instead."""
    kind = _kind(queryset.model)
    sections = sections_for(user, "view", kind) & sections_reading(user, field_class)
    return _within(queryset, sections, user, "view")


def _within(queryset: QuerySet[M], sections: set[int], user: Any, perm: str) -> QuerySet[M]:
    if not sections:
        return queryset.none()
    model = queryset.model
    label = model._meta.label
    if label in GENERIC_PARENTS:
        return queryset.filter(_generic_parent_q(model, user, perm))
    if label in SYSTEM_ONLY:
        return queryset.none()
    if label in MULTI_PARENT_PATHS:
        condition = Q(pk__in=[])
        for child_path in MULTI_PARENT_PATHS[label]:
            condition |= Q(**{f"{child_path}__in": sections})
        return queryset.filter(condition).distinct()
    path = section_path(model)
    if path is None:
        # Shared reference data: visible to anyone allowed the action in some section.
        return queryset
    return queryset.filter(**{f"{path}__in": sections})


def _generic_parent_q(model: type[models.Model], user: Any, perm: str) -> Q:
    """Citations of the facts the user may reach, fact model by fact model."""
    from solidarity.documentation.models import Sourced

    condition = Q(pk__in=[])
    for fact_model in _concrete_subclasses(Sourced):
        visible = scoped(fact_model._default_manager.all(), user, perm).values("pk")
        content_type = ContentType.objects.get_for_model(fact_model)
        condition |= Q(content_type=content_type, object_id__in=visible)
    return condition


def _concrete_subclasses(base: type[models.Model]) -> list[type[models.Model]]:
    from django.apps import apps

    return [m for m in apps.get_models() if issubclass(m, base) and not m._meta.abstract]


def get_for_user(model: type[M], user: Any, pk: Any, perm: str) -> M:
    """One object the user may `perm`; Http404 for another section's, a missing or a bad id."""
    try:
        return scoped(model._default_manager.all(), user, perm).get(pk=pk)
    except ObjectDoesNotExist as error:
        note_refusal(user, model, pk, perm)
        raise Http404(f"No {model._meta.verbose_name} found.") from error
    except (ValueError, TypeError, ValidationError) as error:
        raise Http404(f"No {model._meta.verbose_name} found.") from error


def note_refusal(user: Any, model: type[models.Model], pk: Any, perm: str) -> None:
    """Before answering 404 for `pk`: if the row exists (in a section the user may not reach),
    say so in the audit log. The answer stays the same 404; a missing or malformed id, which
    reveals nothing and reaches nothing, is not logged."""
    try:
        exists = model._default_manager.filter(pk=pk).exists()
    except (ValueError, TypeError, ValidationError):
        return
    if exists:
        record_refusal(user, model, pk, perm)


def section_of(obj: models.Model) -> int | None:
    """The id of the section owning `obj`, following its parent where needed."""
    path = section_path(type(obj))
    if path is None:
        fact = getattr(obj, "fact", None)
        return section_of(fact) if isinstance(fact, models.Model) else None
    target: Any = obj
    for step in path.split("__")[:-1]:
        target = getattr(target, step, None)
        if target is None:
            return None
    return getattr(target, "section_id", None)


def can(user: Any, perm: str, model: type[models.Model], obj: models.Model | None = None) -> bool:
    """May the user `perm` on `obj`, or (obj None) on some object of `model` somewhere?"""
    sections = sections_for(user, perm, _kind(model))
    if obj is None or not sections:
        return bool(sections)
    label = type(obj)._meta.label
    if label in MULTI_PARENT_PATHS or label in SYSTEM_ONLY:
        rows = type(obj)._default_manager.filter(pk=obj.pk)
        return scoped(rows, user, perm).exists()
    section = section_of(obj)
    if section is None:
        return section_path(type(obj)) is None
    return section in sections


def readable_classes(user: Any, obj: models.Model | None) -> set[FieldClass]:
    """The field classes the user may read on `obj` (on a new object: in any of their sections)."""
    roles = roles_of(user)
    section = section_of(obj) if obj is not None else None
    if obj is None or section is None:
        names = list(roles.values())
    elif section in roles:
        names = [roles[section]]
    else:
        names = []
    return {cls for role in names for cls in policy.FIELD_CLASSES[policy.RoleName(role)]}


def writable_sections(user: Any, model: type[models.Model]) -> set[int]:
    """Ids of the sections where the user may file a new or changed row of `model`.

    The section a form offers must be one of these, so that an insider cannot move a record into
    (or create one in) a section where their role does not let them write (threat model D6).
    """
    kind = _kind(model)
    return sections_for(user, "add", kind) | sections_for(user, "change", kind)


def choices_for(user: Any, model: type[models.Model], field: Any) -> QuerySet[Any] | None:
    """What the relation `field` of a form for `model` may point to, or None to leave it alone.

    A section: one the user may write `model` in. The parent a row without a section of its own
    hangs from (a demand's campaign, an outcome's demand): one the user may change, since adding
    the row changes the parent's section. Anything else in the policy: what the user may view.
    """
    from solidarity.core.models import Section

    related = field.related_model
    if related is Section:
        return Section.objects.filter(pk__in=writable_sections(user, model))
    if policy.kind_of(related) is None:
        return None
    parent = PARENT_SECTION_PATHS.get(model._meta.label, "").split("__")[0]
    perm = "change" if field.name == parent else "view"
    return scoped(related._default_manager.all(), user, perm)
