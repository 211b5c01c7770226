"""Every field of every Solidarity model has a class, declared in one place."""

from __future__ import annotations

from django.apps import apps

from solidarity.core.classification import CLASSIFICATION, FieldClass, public_fields
from solidarity.documentation.models import Person

OUR_APPS = {"core", "documentation"}


def _our_models() -> list[str]:
    return [
        f"{m._meta.app_label}.{m._meta.object_name}"
        for m in apps.get_models()
        if m._meta.app_label in OUR_APPS or m.__module__.startswith("solidarity.")
    ]


def test_every_field_of_every_model_is_classed() -> None:
    """A field with no class fails the suite, so nothing reaches a public page by default."""
    missing = []
    for label in _our_models():
        model = apps.get_model(label)
        classes = CLASSIFICATION.get(label, {})
        data_fields = [*model._meta.concrete_fields, *model._meta.many_to_many]
        missing += [f"{label}.{f.name}" for f in data_fields if f.name not in classes]
    assert missing == []


def test_the_classification_names_only_real_fields() -> None:
    """A stale entry (a renamed or deleted field) is caught as well."""
    stale = []
    for label, classes in CLASSIFICATION.items():
        model = apps.get_model(label)
        names = {f.name for f in [*model._meta.concrete_fields, *model._meta.many_to_many]}
        stale += [f"{label}.{name}" for name in classes if name not in names]
    assert stale == []


def test_sensitive_person_fields_are_never_public() -> None:
    """Whereabouts are sealed, contacts personal, and neither is a public field."""
    assert CLASSIFICATION["documentation.Person"]["whereabouts"] is FieldClass.SEALED
    assert CLASSIFICATION["documentation.Person"]["contact"] is FieldClass.PERSONAL
    published = public_fields(Person)
    assert "whereabouts" not in published
    assert "contact" not in published
    assert "internal_notes" not in published
    assert "is_public" not in published
    assert {"slug", "given_name", "family_name", "summary_en"} <= set(published)
