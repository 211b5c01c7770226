"""The SMTP e-mail backend, with errors that name no recipient.

Threat addressed: a refused or failed delivery must not copy a supporter's e-mail address into
the logs or the database. smtplib's exceptions carry it — `SMTPRecipientsRefused` holds a
dict keyed by the refused addresses, and servers echo the address in their reply text
("550 5.1.1 <anna@example.org>: Recipient address rejected"). The task worker logs a failed
task's traceback and stores it in its result table (django_tasks_db keeps it after the task
ran), so an address in an exception would outlive an erasure of the supporter and turn up in
any log file or backup that a host can be made to hand over. Here every SMTP error is replaced,
at the place it is raised, by one that says only its kind and the server's reply codes.
"""

from __future__ import annotations

import smtplib
from collections.abc import Sequence

from django.core.mail.backends import smtp
from django.core.mail.message import EmailMessage


class MailNotSent(Exception):
    """Delivery failed; the message names the SMTP error's kind and codes, never an address."""


def describe(error: smtplib.SMTPException) -> str:
    """What went wrong, in words that cannot contain an address or a line of the message."""
    codes: list[int] = []
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _reply in error.recipients.values()})
    elif isinstance(error, smtplib.SMTPResponseException):
        codes = [error.smtp_code]
    suffix = f" (SMTP {', '.join(map(str, codes))})" if codes else ""
    return f"the mail server did not accept the message: {type(error).__name__}{suffix}"


class EmailBackend(smtp.EmailBackend):
    """Django's SMTP backend, whose failures are re-raised without their original text."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        try:
            return super().send_messages(email_messages)
        except smtplib.SMTPException as error:
            # `from None`: the original exception, with the address, must not be chained into
            # the traceback that the worker logs and stores.
            raise MailNotSent(describe(error)) from None
