"""The migrations describe the models exactly, and the label-only grouping keeps to labels."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import ModelState, ProjectState

from solidarity.core.migration_operations import AlterLabels, labels_only


@pytest.mark.django_db
def test_the_migrations_leave_nothing_for_makemigrations_to_do() -> None:
    """The final state of every migration, the grouped label migrations included, is the
    models' state: `makemigrations --check` finds no change."""
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def _state(field: models.Field[object, object]) -> ProjectState:
    state = ProjectState()
    state.add_model(
        ModelState("labels", "thing", [("id", models.AutoField(primary_key=True)), ("name", field)])
    )
    return state


def _editor() -> BaseDatabaseSchemaEditor:
    # Not entered: it only collects what it would run (SQLite refuses to enter one inside the
    # test's transaction), which is all these operations may do.
    return connection.SchemaEditorClass(connection, collect_sql=True)


def test_consecutive_alterations_of_one_model_become_one_operation() -> None:
    options = migrations.AlterModelOptions(name="thing", options={"verbose_name": "thing"})
    first = migrations.AlterField("thing", "name", models.CharField(max_length=10))
    second = migrations.AlterField("thing", "code", models.CharField(max_length=3))
    other = migrations.AlterField("other", "name", models.CharField(max_length=10))
    grouped = labels_only([options, first, second, other])
    assert grouped[0] is options
    assert isinstance(grouped[1], AlterLabels) and grouped[1].alterations == [first, second]
    assert isinstance(grouped[2], AlterLabels) and grouped[2].alterations == [other]


@pytest.mark.django_db
def test_a_label_change_reaches_the_state_and_asks_nothing_of_the_database() -> None:
    before = _state(models.CharField(max_length=10))
    after = before.clone()
    operation = AlterLabels(
        "thing", [migrations.AlterField("thing", "name", models.CharField("Name", max_length=10))]
    )
    operation.state_forwards("labels", after)
    assert after.apps.get_model("labels", "thing")._meta.get_field("name").verbose_name == "Name"
    editor = _editor()
    operation.database_forwards("labels", editor, before, after)
    operation.database_backwards("labels", editor, after, before)
    assert editor.collected_sql == []


@pytest.mark.django_db
def test_a_change_the_database_would_see_is_refused() -> None:
    """A real change slipped into a labels migration fails loudly instead of being made from
    the wrong table (the operations of a group share one before and one after)."""
    before = _state(models.CharField(max_length=10))
    after = before.clone()
    operation = AlterLabels(
        "thing", [migrations.AlterField("thing", "name", models.CharField(max_length=20))]
    )
    operation.state_forwards("labels", after)
    with pytest.raises(ValueError, match=r"labels\.thing\.name: AlterLabels may only change"):
        operation.database_forwards("labels", _editor(), before, after)
