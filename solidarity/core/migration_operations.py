"""Migration operations of our own: label changes applied once per model.

The `*_verbose_names` migrations made every model's labels translatable: 312 `AlterField`s
that change only what the database never sees (verbose names). Django re-renders a model and
every model related to it after *each* `AlterField` (`ProjectState.alter_field`), which made
those six migrations three quarters of a fresh `migrate`: about 22 s of CPU of 28 on the
2-core CI machine, paid by every test database, every `make demo` and every new install.

`labels_only(operations)` groups the consecutive `AlterField`s of one model into one
`AlterLabels`, which puts every field into the state and re-renders the model once. The final
state is the same field for field (`makemigrations --check` finds nothing to do), and nothing
changes for a database that has applied these migrations: only their names are recorded.

Because the operations of a group are applied to the database against the state before and
after the *whole* group, a group must not hold a change the database would see (two real
changes to one table would each be made from the old table). `AlterLabels` checks that and
refuses to run otherwise, so a real change slipped into a labels migration fails loudly on the
first `migrate` (every test run makes a fresh database), never silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState
from django.db.models.fields import NOT_PROVIDED


class AlterLabels(Operation):
    """Several label-only `AlterField`s of one model, with one re-rendering of the state."""

    reduces_to_sql = False

    def __init__(self, model_name: str, alterations: Sequence[migrations.AlterField]) -> None:
        self.model_name = model_name
        self.alterations = list(alterations)

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__qualname__, [self.model_name, self.alterations], {})

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        # ProjectState.alter_field without its reload_model, which is what costs (see above);
        # the relations registry is kept up to date exactly as there (Django 5.2).
        key = app_label, self.model_name.lower()
        fields = state.models[key].fields
        for alteration in self.alterations:
            field = alteration.field
            if not alteration.preserve_default:
                field = field.clone()  # type: ignore[attr-defined]  # not in django-stubs
                field.default = NOT_PROVIDED
            if state._relations is not None:  # type: ignore[attr-defined]  # private, as above
                old_field = fields.pop(alteration.name)
                if old_field.is_relation:
                    state.resolve_model_field_relations(key, alteration.name, old_field)
                fields[alteration.name] = field
                if field.is_relation:
                    state.resolve_model_field_relations(key, alteration.name, field)
            else:
                fields[alteration.name] = field
        # Related models re-rendered at once, as Django does for a relation (the conservative
        # choice; letting it wait as for a plain field measured no faster here).
        state.reload_model(*key, delay=False)

    def _check_labels_only(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        before = from_state.apps.get_model(app_label, self.model_name)._meta
        after = to_state.apps.get_model(app_label, self.model_name)._meta
        for alteration in self.alterations:
            old, new = before.get_field(alteration.name), after.get_field(alteration.name)
            if schema_editor._field_should_be_altered(old, new):  # type: ignore[attr-defined]
                raise ValueError(
                    f"{app_label}.{self.model_name}.{alteration.name}: AlterLabels may only "
                    "change labels; make this change a plain AlterField of its own."
                )

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        self._check_labels_only(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        self._check_labels_only(app_label, schema_editor, to_state, from_state)

    def describe(self) -> str:
        return f"Alter the labels of {len(self.alterations)} fields of {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"alter_{self.model_name.lower()}_labels"


def labels_only(operations: Sequence[Operation]) -> list[Operation]:
    """`operations` with each run of consecutive `AlterField`s of one model as one
    `AlterLabels`; every other operation kept where it was."""
    grouped: list[Operation] = []
    for operation in operations:
        if isinstance(operation, migrations.AlterField):
            last = grouped[-1] if grouped else None
            if isinstance(last, AlterLabels) and last.model_name == operation.model_name:
                last.alterations.append(operation)
            else:
                grouped.append(AlterLabels(operation.model_name, [operation]))
        else:
            grouped.append(operation)
    return grouped
