"""Who may do what: the one table of roles, actions and readable field classes.

Everything that decides access reads this table through `solidarity.safety.access`; the access
matrix test is generated from it, so a change here changes the tests with it. A superuser has no
row here: administrators run the system, they read section data only through a role they were
granted (threat model D5).
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _

from solidarity.core.classification import FieldClass


class RoleName(models.TextChoices):
    COORDINATOR = "coordinator", _("coordinator")
    RESEARCHER = "researcher", _("researcher")
    SECTION_ORGANISER = "section_organiser", _("section organiser")
    EDITOR = "editor", _("editor")
    READ_ONLY = "read_only", _("read-only")


class Action(StrEnum):
    VIEW = "view"
    ADD = "add"
    CHANGE = "change"
    DELETE = "delete"


class Kind(StrEnum):
    """What a model is, for the policy: the table grants actions per kind, not per model."""

    DOCUMENTATION = "documentation"  # cases, people, events, sources of one section
    REFERENCE = "reference"  # shared vocabularies (PACE criteria), no section
    CAMPAIGNS = "campaigns"  # campaigns, actions, petitions and their supporters
    # The newspaper: issues and articles of one section; their images and campaign links follow
    # the article. Topics and bylines have no section: they are shared, printed names.
    PUBLISHING = "publishing"


V, A, C, D = Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE
ALL = frozenset({V, A, C, D})

ACTIONS: dict[RoleName, dict[Kind, frozenset[Action]]] = {
    RoleName.COORDINATOR: {
        Kind.DOCUMENTATION: ALL,
        Kind.REFERENCE: ALL,
        Kind.CAMPAIGNS: ALL,
        Kind.PUBLISHING: ALL,
    },
    RoleName.RESEARCHER: {
        Kind.DOCUMENTATION: frozenset({V, A, C}),
        Kind.REFERENCE: frozenset({V}),
        Kind.CAMPAIGNS: frozenset({V}),
        Kind.PUBLISHING: frozenset({V}),
    },
    RoleName.SECTION_ORGANISER: {
        Kind.DOCUMENTATION: frozenset({V}),
        Kind.REFERENCE: frozenset({V}),
        Kind.CAMPAIGNS: ALL,
        Kind.PUBLISHING: frozenset({V}),
    },
    # Editors review and publish texts; they do not create or remove case records.
    RoleName.EDITOR: {
        Kind.DOCUMENTATION: frozenset({V, C}),
        Kind.REFERENCE: frozenset({V}),
        Kind.CAMPAIGNS: frozenset({V, C}),
        Kind.PUBLISHING: ALL,
    },
    RoleName.READ_ONLY: {
        Kind.DOCUMENTATION: frozenset({V}),
        Kind.REFERENCE: frozenset({V}),
        Kind.CAMPAIGNS: frozenset({V}),
        Kind.PUBLISHING: frozenset({V}),
    },
}

PUB, INT, PERS, SEAL = (
    FieldClass.PUBLIC,
    FieldClass.INTERNAL,
    FieldClass.PERSONAL,
    FieldClass.SEALED,
)

# Sealed data needs more than the role: the user must also be a recipient of the record's data
# key and unlock their private key with their password.
FIELD_CLASSES: dict[RoleName, frozenset[FieldClass]] = {
    RoleName.COORDINATOR: frozenset({PUB, INT, PERS, SEAL}),
    RoleName.RESEARCHER: frozenset({PUB, INT, PERS}),
    RoleName.SECTION_ORGANISER: frozenset({PUB, INT, PERS}),
    RoleName.EDITOR: frozenset({PUB, INT}),
    RoleName.READ_ONLY: frozenset({PUB, INT}),
}

KINDS: dict[str, Kind] = {
    "documentation": Kind.DOCUMENTATION,
    "campaigns": Kind.CAMPAIGNS,
    "publishing": Kind.PUBLISHING,
}
REFERENCE_MODELS = {"documentation.PaceCriterion"}


def kind_of(model: type[models.Model]) -> Kind | None:
    """The policy kind of a model, or None for a model the policy does not cover."""
    label = f"{model._meta.app_label}.{model._meta.object_name}"
    if label in REFERENCE_MODELS:
        return Kind.REFERENCE
    return KINDS.get(model._meta.app_label)


def allows(role: str, kind: Kind, action: Action) -> bool:
    return action in ACTIONS[RoleName(role)].get(kind, frozenset())


def reads(role: str, field_class: FieldClass) -> bool:
    return field_class in FIELD_CLASSES[RoleName(role)]


def roles_allowing(kind: Kind, action: Action) -> list[str]:
    return [str(role) for role in RoleName if allows(role, kind, action)]


def roles_reading(field_class: FieldClass) -> list[str]:
    return [str(role) for role in RoleName if reads(role, field_class)]
