"""Background tasks: e-mail to supporters, sent by the database worker (`solidarity db_worker`).

A task gets ids, never personal data or secrets: the task table keeps its arguments after the
task ran, and an e-mail address or a confirmation token there would outlive an erasure. Each
task reads the current rows, so a signature erased before the worker reached it gets no mail,
and a supporter who unsubscribed gets none either.

A relay that is down or answers 4xx when a task runs loses no mail: the task queues itself
again with back-off (`core/delivery.py`), its arguments plus the attempt's number; so does
each message of an urgent action update, one task per recipient.

Every message carries the supporter's own unsubscribe link, in the text and in the headers of
RFC 2369 and RFC 8058 (one-click: the mail client POSTs to the link). Mail providers honour the
one-click header only on DKIM-signed mail, so the outgoing relay must sign `List-Unsubscribe`
and `List-Unsubscribe-Post`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from solidarity.core.delivery import send_or_retry
from solidarity.core.translation import tr

from .models import Signature, Supporter, UrgentActionUpdate


def _unsubscribe_url(supporter: Supporter, base_url: str) -> str:
    from .services import unsubscribe_token

    # Reversed in the supporter's language (the caller overrides it): the address carries it.
    return base_url + reverse(
        "campaigns:unsubscribe", kwargs={"token": unsubscribe_token(supporter)}
    )


def _message(
    supporter: Supporter, subject: str, template: str, context: dict[str, Any], base_url: str
) -> EmailMessage:
    """One message to one supporter, rendered in the current language, with their own
    unsubscribe link in the text and the headers."""
    unsubscribe = _unsubscribe_url(supporter, base_url)
    body = render_to_string(
        template, {**context, "name": supporter.name, "unsubscribe_link": unsubscribe}
    )
    headers = {
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return EmailMessage(
        subject, body, settings.DEFAULT_FROM_EMAIL, [supporter.email], headers=headers
    )


@task()
def record_received_signatures() -> int:
    """Record every signature the public form has received (intake.py).

    Takes no arguments: the rows are in the database, encrypted, and the task table keeps its
    arguments after the task ran.
    """
    from . import intake

    return intake.record()


def recording_is_waiting() -> bool:
    """Whether a run of `record_received_signatures` is queued and not yet started, and, where
    the database can lock it, locked until this transaction ends.

    The lock is what makes the answer safe to rely on: the worker claims tasks with SELECT ...
    FOR UPDATE SKIP LOCKED, so it cannot start this run (and read the rows before this
    transaction's row is committed) until we commit; a run locked by another signer's
    transaction is skipped here too, and a new one queued. SQLite has one writer at a time and
    needs no lock. Asked by every group commit of public signatures, so written as one plain
    statement: the ORM's query building cost more than the query (waiting tasks have an index
    of their own).
    """
    table = connection.ops.quote_name(DBTaskResult._meta.db_table)
    can_lock = connection.features.has_select_for_update_skip_locked
    lock = " FOR UPDATE SKIP LOCKED" if can_lock else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE status = %s AND task_path = %s LIMIT 1{lock}",  # noqa: S608 - the table's name from the model
            [TaskResultStatus.READY, record_received_signatures.module_path],
        )
        return cursor.fetchone() is not None


@task()
def send_signature_confirmation(signature_id: int, base_url: str, attempt: int = 1) -> bool:
    """The e-mail with the link that opens the confirmation page. False if nothing was sent
    (nothing to send, or the relay failed and a later attempt is queued)."""
    from .services import may_mail, signature_token

    signature = (
        Signature.objects.select_related("supporter", "petition")
        .filter(pk=signature_id, status=Signature.Status.PENDING, erased=False)
        .first()
    )
    if signature is None or signature.supporter is None or not may_mail(signature.supporter):
        return False
    supporter = signature.supporter
    with translation.override(supporter.language):
        link = base_url + reverse(
            "campaigns:confirm_signature", kwargs={"token": signature_token(signature)}
        )
        title = tr(signature.petition, "title").text
        subject = _("Please confirm your signature: %(title)s") % {"title": title}
        message = _message(
            supporter,
            subject,
            "campaigns/email/confirm_signature.txt",
            {"petition_title": title, "link": link},
            base_url,
        )
    return send_or_retry(message, send_signature_confirmation, [signature_id, base_url], attempt)


@task()
def send_already_signed(signature_id: int, base_url: str, attempt: int = 1) -> bool:
    """Tell an address that tried to sign again that its signature already counts."""
    from .services import may_mail

    signature = (
        Signature.objects.select_related("supporter", "petition")
        .filter(pk=signature_id, status=Signature.Status.CONFIRMED, erased=False)
        .first()
    )
    if signature is None or signature.supporter is None or not may_mail(signature.supporter):
        return False
    supporter = signature.supporter
    with translation.override(supporter.language):
        title = tr(signature.petition, "title").text
        link = base_url + reverse("campaigns:petition", kwargs={"slug": signature.petition.slug})
        subject = _("You have already signed: %(title)s") % {"title": title}
        message = _message(
            supporter,
            subject,
            "campaigns/email/already_signed.txt",
            {"petition_title": title, "link": link},
            base_url,
        )
    return send_or_retry(message, send_already_signed, [signature_id, base_url], attempt)


@task()
def send_urgent_action_update(update_id: int, base_url: str) -> int:
    """Queue the update (or the closure) for everyone who reported letters and asked to hear
    back, one task per address (`send_urgent_action_update_to`); return how many.

    One task per message, not one batch: a relay that fails midway through a batch leaves no
    record of who already received the update, and trying the batch again would mail them
    twice. A task per recipient is retried alone, and only until its one message went; one
    refused address (a 5xx, or a full mailbox's 4xx) holds up nobody else either. The tasks
    carry the supporter's id, as the letter report already links the two.
    """
    from .services import update_recipients

    with transaction.atomic():
        # Locked, so that two workers cannot both find it unsent and queue everyone twice.
        update = (
            UrgentActionUpdate.objects.select_for_update()
            .filter(pk=update_id, sent_at=None)
            .first()
        )
        if update is None:
            return 0
        recipients = update_recipients(update.urgent_action)
        # `recipients` counts messages the relay accepted, each task adding its own.
        UrgentActionUpdate.objects.filter(pk=update.pk).update(sent_at=timezone.now(), recipients=0)
        for supporter in recipients:
            send_urgent_action_update_to.enqueue(update.pk, supporter.pk, base_url)
    return len(recipients)


@task()
def send_urgent_action_update_to(
    update_id: int, supporter_id: int, base_url: str, attempt: int = 1
) -> bool:
    """One supporter's message of an update; False if nothing was sent (any more).

    The rows are read again at each attempt: a supporter who unsubscribed, withdrew consent or
    was erased while the relay was down gets nothing.
    """
    from .services import consenting_reports, may_mail

    update = UrgentActionUpdate.objects.select_related("urgent_action").filter(pk=update_id).first()
    supporter = Supporter.objects.filter(pk=supporter_id).first()
    if update is None or supporter is None or not may_mail(supporter):
        return False
    urgent_action = update.urgent_action
    if not consenting_reports(urgent_action).filter(supporter=supporter).exists():
        return False
    with translation.override(supporter.language):
        # Reversed here, in the supporter's language: the address carries it (/ru/…).
        link = base_url + reverse("campaigns:urgent_action", kwargs={"slug": urgent_action.slug})
        title = tr(urgent_action, "title").text
        if update.is_closure:
            subject = _("%(number)s closed: %(title)s")
        else:
            subject = _("%(number)s update: %(title)s")
        subject = subject % {"number": urgent_action.number, "title": title}
        context = {
            "number": urgent_action.number,
            "title": title,
            "text": tr(update, "text").text,
            "is_closure": update.is_closure,
            "date": update.date,
            "link": link,
        }
        message = _message(
            supporter, subject, "campaigns/email/urgent_action_update.txt", context, base_url
        )
    arguments = [update_id, supporter_id, base_url]
    if not send_or_retry(message, send_urgent_action_update_to, arguments, attempt):
        return False
    UrgentActionUpdate.objects.filter(pk=update_id).update(recipients=F("recipients") + 1)
    return True
