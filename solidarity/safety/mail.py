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
    """Delivery failed; the message names the SMTP error's kind and codes, never an address.

    `temporary`: whether trying again later may succeed (see `is_temporary`), which the
    original error, kept from the traceback on purpose, can no longer tell the caller.
    """

    def __init__(self, description: str, *, temporary: bool = False) -> None:
        super().__init__(description)
        self.temporary = temporary


def is_temporary(error: BaseException) -> bool | None:
    """Whether a failure to send may pass if tried later (True), will not (False), or is no
    failure of delivery at all (None: a bug, to be raised as it is).

    RFC 5321's classes: a 4xx reply is temporary (greylisting, a full mailbox, a server that
    is shutting down: 421), a 5xx reply permanent (an unknown recipient, a rejected message).
    An SMTP error without a code (STARTTLS or AUTH not offered) is the relay's configuration,
    which waiting does not change. A server that hangs up mid-session and every network error
    (refused, timed out, reset, a name that does not resolve, a failed TLS handshake) are an
    outage: they pass when the relay is back.
    """
    if isinstance(error, MailNotSent):
        return error.temporary
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = {code for code, _reply in error.recipients.values()}
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(error, smtplib.SMTPException):
        return False
    # After the SMTP errors: smtplib.SMTPException is itself an OSError.
    if isinstance(error, OSError):
        return True
    return None


def describe(error: BaseException) -> str:
    """What went wrong, in words that cannot contain an address or a line of the message."""
    if isinstance(error, MailNotSent):
        return str(error)
    if isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException):
        # The kind only: an OSError's text may name the relay's host (a TLS name mismatch).
        return f"the mail server could not be reached: {type(error).__name__}"
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
            raise MailNotSent(describe(error), temporary=bool(is_temporary(error))) from None
