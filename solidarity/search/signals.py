"""Keep the name index in step with the records, in the transaction of each change."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from solidarity.documentation.models import Event, Organisation, Person, PersonName, Place

from . import services

INDEXED = (Person, Organisation, Place, Event)


def _record_saved(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    # Fixtures load rows in any order (names before their person): `solidarity reindex`
    # rebuilds the index after a raw load.
    if not raw:
        services.index_record(instance)


def _record_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    services.unindex_record(instance)


def _name_changed(sender: Any, instance: PersonName, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    person = Person.objects.filter(pk=instance.person_id).first()
    if person is not None:
        services.index_record(person)


def connect() -> None:
    uid = "solidarity.search"
    for model in INDEXED:
        name = model._meta.model_name
        post_save.connect(_record_saved, sender=model, dispatch_uid=f"{uid}.saved.{name}")
        post_delete.connect(_record_deleted, sender=model, dispatch_uid=f"{uid}.deleted.{name}")
    post_save.connect(_name_changed, sender=PersonName, dispatch_uid=f"{uid}.name_saved")
    post_delete.connect(_name_changed, sender=PersonName, dispatch_uid=f"{uid}.name_deleted")
