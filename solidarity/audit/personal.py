"""Which of the fields a page shows are personal, and the audit entry of a page that shows them.

The classification (core/classification.py) is the one place where fields are classed: a page
names the fields it shows, and this module picks the personal and sealed ones from the
classification at the time of the request. A field classed personal tomorrow is logged on every
change list and API answer that shows it, without a change here or there. A column computed by
an admin method, a property or a callable counts with the fields it declares it reads
(`@reads`, audit/columns.py; the check in audit/checks.py refuses one that declares nothing).

Threat: an insider reading through the contacts of their own section (threat model A4). Nothing
refuses them, so only a trail shows afterwards who was shown whom. Entries name fields and row
ids, never a value: the log must not become a second copy of the data it watches over.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import HttpRequest

from solidarity.core.classification import CLASSIFICATION, FieldClass

from .columns import column_reads
from .services import model_label, record_personal_list

LOGGED_CLASSES = frozenset({FieldClass.PERSONAL, FieldClass.SEALED})


def _class_of(model: type[models.Model], name: str) -> FieldClass | None:
    """The class of `name` on `model`, following `__` through relations (list_display may
    say "supporter__name"); None for anything that is not a classed field."""
    head, _sep, rest = name.partition("__")
    cls = CLASSIFICATION.get(model_label(model), {}).get(head)
    if not rest:
        return cls
    try:
        related = model._meta.get_field(head).related_model
    except FieldDoesNotExist:
        return None
    if not isinstance(related, type) or not issubclass(related, models.Model):
        return None
    return _class_of(related, rest)


def personal_among(
    model: type[models.Model], names: Iterable[object], model_admin: object | None = None
) -> list[str]:
    """The personal and sealed fields of `model` among those the columns `names` read, in
    order, as field paths ("supporter__email").

    A field names itself; an admin method (looked up on `model_admin`), a model property or a
    callable names the fields it declares with `@reads`, never the method's own name. One that
    declares nothing (which the system check, audit/checks.py, keeps out of every admin it can
    read) counts as reading every personal and sealed field of `model`: fail closed, so that a
    column added at run time is logged rather than trusted. "__str__" names nothing (models'
    `__str__` is kept free of personal data for that reason: campaigns.models.Supporter). An
    unclassed model has nothing classed personal.
    """
    found: dict[str, None] = {}
    for name in names:
        paths = column_reads(model, name, model_admin)
        if paths is None:
            paths = tuple(CLASSIFICATION.get(model_label(model), {}))
        for path in paths:
            if _class_of(model, path) in LOGGED_CLASSES:
                found[path] = None
    return list(found)


def record_change_list(request: HttpRequest, response: Any) -> None:
    """If `response` is a back-office change list, log the personal columns it shows and the
    ids of the rows on its page (one entry per page; nothing if it shows no personal column).

    Read from the page itself (the ChangeList in its context), so the columns are those this
    user was shown (`get_list_display` may drop personal ones for a role that may not read
    them), for every ModelAdmin of every app without each one opting in.
    """
    context = getattr(response, "context_data", None)
    change_list = context.get("cl") if isinstance(context, dict) else None
    if not isinstance(change_list, ChangeList):
        return
    fields = personal_among(change_list.model, change_list.list_display, change_list.model_admin)
    if not fields:
        return
    # The same queryset object the template iterates: evaluated once, whichever comes first.
    ids = [row.pk for row in change_list.result_list]
    match = request.resolver_match
    record_personal_list(
        request.user,
        change_list.model,
        fields,
        ids,
        view=match.view_name if match is not None else "",
    )
