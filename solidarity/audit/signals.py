"""Signal handlers that log every change to a model of a `solidarity.*` app.

Values are logged only for fields classed public, and only while their record is published;
everything else is logged by name. Apps are found by module prefix, so a new app is covered
without touching this file. Handlers run inside the transaction of the change when there is one
(the admin, `transaction.atomic` blocks, deletions and many-to-many changes always have one), so
the entry commits or rolls back with the change. A bare `save()` in autocommit mode has
committed before `post_save` fires; its entry then follows in a transaction of its own.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.apps import apps as global_apps
from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from . import batch, services
from .context import is_suspended

_OLD = "_audit_old_values"


@cache
def is_audited(model: type[models.Model]) -> bool:
    # Historical models in migrations live in another registry and may run before our table
    # exists; the audit log itself is never logged (it would recurse).
    if model._meta.apps is not global_apps or model._meta.proxy:
        return False
    config = model._meta.app_config
    if config is None or config.label == "audit" or model._meta.label in NOT_AUDITED:
        return False
    return config.name.startswith("solidarity.") or config.name in ALSO_AUDITED


# Accounts are where an administrator's compromise shows (threat model A5): who was made a
# superuser, given a group or a permission, and when each account last logged in; and whose
# backup codes were replaced or second factor removed (names only: codes are never logged).
ALSO_AUDITED = {"django.contrib.auth", "django_otp.plugins.otp_static"}

# Queues, not records. A received signature (campaigns.SignatureIntake) lives a second or two
# until the worker records it; the Supporter and Signature it becomes are logged then, in the
# same transaction that deletes it. Logging its arrival and removal too would add two chained
# entries to every signature on the public site's busiest path and tell an investigator nothing
# that the signature's own entries do not. A logged-in session's row (accounts.SignedInSession)
# comes and goes with each login and logout, which `accounts.auth_audit` already records, and
# its ending by a user or an administrator is an entry of its own there ("sessions_ended").
# The session store's rows (accounts.HashedSession) are saved on most requests of a logged-in
# user and hold nothing an investigator needs, as Django's own session table was not logged.
NOT_AUDITED = {"campaigns.SignatureIntake", "accounts.SignedInSession", "accounts.HashedSession"}


def _is_published(instance: models.Model) -> bool:
    # A public-class field is public only once its record is published (threat model, tier
    # table): the name of a detainee whose family asked for silence is as confidential as an
    # internal note, and the log cannot forget a value once chained. Rows without a flag of
    # their own (name forms, signatures) follow something else, so they never log values.
    return getattr(instance, "is_public", False) is True


def _public_value(field: models.Field[Any, Any], instance: models.Model) -> Any:
    value = getattr(instance, field.attname)
    if value is None or isinstance(value, bool | int | str):
        return value
    return field.value_to_string(instance)


def _fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _stored_row(model: type[models.Model], pk: Any) -> dict[str, Any] | None:
    # Rows are compared as stored, never through the model's attributes: an encrypted field
    # must not be decrypted (or a sealed one unsealed) just to be logged as changed.
    attnames = [f.attname for f in _fields(model)]
    return model._base_manager.filter(pk=pk).values(*attnames).first()


def _append(
    action: str,
    model: str,
    object_pk: object,
    fields: list[str] | None = None,
    values: dict[str, Any] | None = None,
) -> None:
    # Inside a group commit the entry is appended with the batch's others (batch.py).
    if not batch.defer(action, model, object_pk, fields or (), values):
        services.append(action, model, object_pk, fields or (), values)


def before_save(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if is_suspended() or not is_audited(sender) or instance._state.adding or instance.pk is None:
        return
    instance.__dict__[_OLD] = _stored_row(sender, instance.pk)


def after_save(
    sender: type[models.Model], instance: models.Model, created: bool, **kwargs: Any
) -> None:
    if is_suspended() or not is_audited(sender):
        return
    old: dict[str, Any] | None = instance.__dict__.pop(_OLD, None)
    fields = _fields(sender)
    if created or old is None:
        action, changed = "create", fields
    else:
        new = _stored_row(sender, instance.pk) or {}
        action = "update"
        changed = [f for f in fields if old.get(f.attname) != new.get(f.attname)]
        # A save that only renewed `updated_at` changed nothing anyone wrote.
        if all(getattr(f, "auto_now", False) for f in changed):
            return
    public = services.public_names(sender) if _is_published(instance) else set()
    _append(
        action,
        services.model_label(sender),
        instance.pk,
        [f.name for f in changed],
        {f.name: _public_value(f, instance) for f in changed if f.name in public},
    )


def after_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if is_suspended() or not is_audited(sender):
        return
    _append("delete", services.model_label(sender), instance.pk)


_M2M_ACTIONS = {"post_add": "m2m_add", "post_remove": "m2m_remove", "post_clear": "m2m_clear"}


def after_m2m(
    sender: type[models.Model],
    instance: models.Model,
    action: str,
    reverse: bool,
    model: type[models.Model],
    pk_set: set[Any] | None,
    **kwargs: Any,
) -> None:
    if is_suspended() or action not in _M2M_ACTIONS:
        return
    owner = type(instance)
    if not (is_audited(owner) or is_audited(model)):
        return
    forward_model = model if reverse else owner
    field = next(f for f in forward_model._meta.many_to_many if f.remote_field.through is sender)
    name = (field.remote_field.get_accessor_name() if reverse else None) or field.name
    values: dict[str, Any] = {}
    if pk_set and _is_published(instance) and field.name in services.public_names(forward_model):
        values[name] = sorted(pk_set, key=str)
    _append(_M2M_ACTIONS[action], services.model_label(owner), instance.pk, [name], values)


def connect() -> None:
    uid = "solidarity.audit"
    pre_save.connect(before_save, dispatch_uid=f"{uid}.pre_save")
    post_save.connect(after_save, dispatch_uid=f"{uid}.post_save")
    post_delete.connect(after_delete, dispatch_uid=f"{uid}.post_delete")
    m2m_changed.connect(after_m2m, dispatch_uid=f"{uid}.m2m_changed")
