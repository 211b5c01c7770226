"""The system check that every computed change-list column declares what it reads.

Run at every `check`, `runserver` and `migrate` (not only with --deploy): a column computed by
an admin method, a model property or a callable, which does not say with `@reads(...)`
(audit/columns.py) which fields it reads, would show a personal or sealed value without a
`personal_list` entry (threat model A4). Every ModelAdmin of every admin site is walked.

Columns a ModelAdmin adds in `get_list_display` are checked when the override's source returns
literal tuples or lists of names, `self.list_display`, `super().get_list_display(...)` or sums
of these. Anything else (names computed at run time, callables built per request) cannot be
read before a request: such an override gets a warning, and its columns are then checked by
no one; an undeclared column it adds is still shown, and logs nothing.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.contrib.admin.sites import AdminSite, all_sites
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from .columns import column_reads, field_path


def _returns_known_columns(expression: ast.expr, names: list[str]) -> bool:
    """Whether `expression` is made only of literal column names, `self.list_display` and
    `super().get_list_display(...)`; the literal names are added to `names`."""
    if isinstance(expression, ast.Tuple | ast.List):
        for element in expression.elts:
            if isinstance(element, ast.Constant) and isinstance(element.value, str):
                names.append(element.value)
            elif not (
                isinstance(element, ast.Starred) and _returns_known_columns(element.value, names)
            ):
                return False
        return True
    if isinstance(expression, ast.BinOp) and isinstance(expression.op, ast.Add):
        return _returns_known_columns(expression.left, names) and _returns_known_columns(
            expression.right, names
        )
    if isinstance(expression, ast.Attribute):
        value = expression.value
        return (
            expression.attr == "list_display" and isinstance(value, ast.Name) and value.id == "self"
        )
    if isinstance(expression, ast.Call) and isinstance(expression.func, ast.Attribute):
        owner = expression.func.value
        return (
            expression.func.attr == "get_list_display"
            and isinstance(owner, ast.Call)
            and isinstance(owner.func, ast.Name)
            and owner.func.id == "super"
        )
    return False


def dynamic_columns(model_admin: admin.ModelAdmin[Any]) -> list[str] | None:
    """The column names an overridden `get_list_display` may return besides `list_display`,
    read from its source; [] if it is not overridden, None if they cannot be known."""
    method = type(model_admin).get_list_display
    if method is admin.ModelAdmin.get_list_display:
        return []
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(method)))
    except (OSError, TypeError, SyntaxError):
        return None
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and (
            node.value is None or not _returns_known_columns(node.value, names)
        ):
            return None
    return names


def admin_column_messages(sites: Iterable[AdminSite]) -> list[CheckMessage]:
    """audit.E001 for each undeclared computed column, audit.E002 for each declared path that
    names no field, audit.W001 for each `get_list_display` the check cannot read."""
    messages: list[CheckMessage] = []
    for site in sites:
        for model, model_admin in site._registry.items():
            where = f"{type(model_admin).__qualname__} ({model._meta.label}, site {site.name!r})"
            extra = dynamic_columns(model_admin)
            if extra is None:
                messages.append(
                    Warning(
                        f"{where} overrides get_list_display in a way the check cannot read: "
                        "the columns it adds are not checked for a @reads declaration.",
                        hint="Return literal tuples of column names, self.list_display or "
                        "super().get_list_display(request) from it.",
                        obj=type(model_admin),
                        id="audit.W001",
                    )
                )
                extra = []
            for column in dict.fromkeys([*model_admin.list_display, *extra]):
                label = column if isinstance(column, str) else getattr(column, "__name__", column)
                paths = column_reads(model, column, model_admin)
                if paths is None:
                    messages.append(
                        Error(
                            f"{where}: list_display column {label!r} is not a field and does "
                            "not declare which fields it reads, so a personal or sealed value "
                            "it shows would not be audited (personal_list).",
                            hint="Decorate the method, property or callable with "
                            '@reads("field", "relation__field") from solidarity.audit.columns, '
                            "or @reads() if it reads no field; for a third-party admin, add "
                            "the column to FOREIGN_COLUMNS there.",
                            obj=type(model_admin),
                            id="audit.E001",
                        )
                    )
                    continue
                for path in paths:
                    if field_path(model, path) is None:
                        messages.append(
                            Error(
                                f"{where}: list_display column {label!r} declares it reads "
                                f"{path!r}, which is not a field path of {model._meta.label}.",
                                hint="Name fields as list_display does, from the admin's "
                                'model: "name", "supporter__email".',
                                obj=type(model_admin),
                                id="audit.E002",
                            )
                        )
    return messages


@register(Tags.admin, Tags.security)
def check_admin_columns(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    # Every site, as Django's own admin checks do: a second site registering a list would
    # escape a check of `admin.site` alone.
    return admin_column_messages(list(all_sites))
