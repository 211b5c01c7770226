"""Received signatures: what the public petition form writes, and how they become signatures.

A signature from the public form used to write a supporter, a signature, two audit entries and
the e-mail task while the supporter waited, about four times the server's work of the bare
request it is measured against (issue 3: signing at 50-70 % of a bare Django request's
throughput). The answer the supporter gets does not depend on any of that: it is the same
"thank you, check your e-mail" whether the address is new or has signed before (saying which
would tell anyone whether a given address signed). So the request stores what was typed, as
one encrypted row committed to disk before the answer (`receive`), and the background worker
records it as `services.sign_petition` would, within a second or two (`record`).

Nothing acknowledged is lost: the row is on disk before the "thank you" (group commit,
synchronous=FULL), and it is deleted in the transaction that records it. An erasure records and
then erases whatever the worker has not reached (`services.erase_supporter`).
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.db.models.fields import Field
from django.utils import timezone
from django.utils.translation import gettext as _

from solidarity.safety.crypto import associated_data, encrypt_personal

from . import groupcommit, services, tasks
from .models import Petition, SignatureIntake, email_index, normalise_email

logger = logging.getLogger(__name__)

# A recording that keeps failing is a bug to look at, not a reason to retry forever; the row
# stays (it was acknowledged) with the name of its failure, for an operator to look at, until
# the retention purge deletes it (core/retention.py `failed_received_signatures`).
ATTEMPTS = 3
# Rows recorded per transaction by the worker: one flush and one audit append per chunk.
CHUNK = 64


def receive(
    petition: Petition,
    details: services.SupporterDetails,
    *,
    comment: str = "",
    public_name_consent: bool = False,
    contact_consent: bool = False,
    processing_consent: bool,
    base_url: str,
) -> None:
    """Take a public signature: checked, encrypted and on disk before this returns."""
    if not processing_consent:
        raise ValidationError(_("We can only record your signature with your consent."))
    services.check_open(petition)
    typed = json.dumps(
        {
            "email": normalise_email(details.email),
            "name": details.name.strip(),
            "country": details.country.strip(),
            "comment": comment.strip(),
            "public_name_consent": public_name_consent,
            "contact_consent": contact_consent,
        },
        ensure_ascii=False,
    )
    nonce = uuid.uuid4()
    row: dict[str, object] = {
        "petition": petition.pk,
        "row_nonce": nonce,
        # As EncryptedTextField encrypts it: bound to this model, field and row (safety.fields).
        "details": encrypt_personal(typed, associated_data(_LABEL, "details", str(nonce))),
        "email_index": email_index(details.email),
        "language": details.language if details.language in ("en", "ru", "kk") else "en",
        "base_url": base_url,
        "received_at": timezone.now(),
        "attempts": 0,
        "failure": "",
        "failed_at": None,
    }

    def write() -> None:
        _insert(row)
        groupcommit.once("record-received-signatures", _schedule)

    groupcommit.write(write)


_LABEL = SignatureIntake._meta.label
_FIELDS: list[Field[Any, Any]] = [
    f for f in SignatureIntake._meta.concrete_fields if not f.primary_key
]
_SQL: dict[str, str] = {}


def _insert(row: dict[str, object]) -> None:
    """INSERT the row with one statement, each value adapted by its own field class.

    Building a model instance and saving it cost about a seventh of a signing request's CPU
    for this one row: instance signals, the compiler and its checks. A received signature has
    no signal receivers (it is not audited: audit.signals.NOT_AUDITED) and is never updated in
    place, so its INSERT is written out here, its values adapted by `get_db_prep_save` as the
    ORM adapts them. The primary key is not needed by anyone.
    """
    sql = _SQL.get(connection.vendor)
    if sql is None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in _FIELDS)
        placeholders = ", ".join(["%s"] * len(_FIELDS))
        table = quote(SignatureIntake._meta.db_table)
        sql = _SQL[connection.vendor] = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608 - names from the model
    params = [f.get_db_prep_save(row[f.name], connection) for f in _FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _schedule() -> None:
    """Queue the worker's task that records received signatures, unless one is waiting: a
    waiting run is sure to see this transaction's rows (see `tasks.recording_is_waiting`)."""
    if not tasks.recording_is_waiting():
        tasks.record_received_signatures.enqueue()


def record(rows: QuerySet[SignatureIntake] | None = None) -> int:
    """Record received signatures as `sign_petition` would have; the number recorded.

    Each is recorded in its own savepoint and deleted in the same transaction, so a crash
    leaves it either received or recorded, never both or neither. One that fails (a bug, a
    constraint) stays, with its failure's class name, and is tried again up to ATTEMPTS times.
    """
    queryset = rows if rows is not None else SignatureIntake.objects.all()
    queryset = queryset.filter(attempts__lt=ATTEMPTS).order_by("pk")
    recorded = 0
    failed: set[int] = set()  # this call's failures; recorded rows are gone
    while True:
        with transaction.atomic():
            # Several workers (PostgreSQL) take different rows instead of waiting for each
            # other; SQLite has one writer and ignores the clause.
            chunk = list(
                queryset.exclude(pk__in=failed)
                .select_related("petition")
                .select_for_update(skip_locked=True, of=("self",))[:CHUNK]
            )
            if not chunk:
                return recorded
            for received in chunk:
                try:
                    with transaction.atomic():
                        _record_one(received)
                        received.delete()
                    recorded += 1
                except Exception as error:  # kept and retried; logged without its data
                    failed.add(received.pk)
                    SignatureIntake.objects.filter(pk=received.pk).update(
                        attempts=F("attempts") + 1,
                        failure=type(error).__name__[:100],
                        failed_at=timezone.now(),
                    )
                    logger.error(
                        "Received signature %s could not be recorded: %s",
                        received.pk,
                        type(error).__name__,
                    )


def retry(rows: QuerySet[SignatureIntake]) -> int:
    """Let the worker try rows that failed ATTEMPTS times once more; how many there were."""
    with transaction.atomic():
        count = rows.update(attempts=0, failure="", failed_at=None)
        if count:
            _schedule()
    return count


def _record_one(received: SignatureIntake) -> None:
    values = json.loads(received.details)
    details = services.SupporterDetails(
        email=values["email"],
        name=values["name"],
        country=values["country"],
        language=received.language,
    )
    services.record_signature(
        received.petition,
        details,
        received.email_index,
        comment=values["comment"],
        public_name_consent=values["public_name_consent"],
        contact_consent=values["contact_consent"],
        base_url=received.base_url,
    )
