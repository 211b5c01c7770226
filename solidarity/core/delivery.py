"""Sending one e-mail from a background task, through an outage of the SMTP relay.

The mail is queued in the database with the change that causes it (settings.TASKS), so a relay
that is down when the change is made loses nothing yet; this is what keeps it from being lost
when the relay is still down when the worker runs the task. A failure that may pass (the relay
unreachable or answering 4xx: `safety.mail.is_temporary`) queues the same task again with the
same arguments and the next attempt's number, `run_after` a back-off that doubles from
SOLIDARITY_MAIL_RETRY_DELAY up to SOLIDARITY_MAIL_RETRY_MAX_DELAY; the run itself then ends
normally. A permanent failure (5xx) and the last of SOLIDARITY_MAIL_ATTEMPTS attempts are logged
as errors and fail the task.

Threat addressed: the failure must not carry a supporter's address into a log line or the task
table, which keeps a failed task's traceback (M19). Nothing here logs or raises the original
exception: only `safety.mail.describe` of it, and an exception raised outside the `except`
block, so that the original is not chained into the traceback either.

Delivery is at least once: a relay that accepted the message but dropped the connection before
saying so makes the task try again, and the supporter may receive the mail twice. Hence one
message per task (a batch that failed midway would send its first messages again: see
`campaigns.tasks.send_urgent_action_update`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone
from django_tasks.base import Task

from solidarity.safety.mail import MailNotSent, describe, is_temporary

logger = logging.getLogger(__name__)


def retry_delay(attempt: int) -> dt.timedelta:
    """How long to wait after the failed attempt number `attempt` (1 for the first)."""
    first: dt.timedelta = settings.SOLIDARITY_MAIL_RETRY_DELAY
    longest: dt.timedelta = settings.SOLIDARITY_MAIL_RETRY_MAX_DELAY
    # The exponent is bounded so that a very long chain cannot overflow a timedelta.
    doubled: dt.timedelta = first * 2 ** min(attempt - 1, 20)
    return min(doubled, longest)


def send_or_retry(
    message: EmailMessage, task: Task[Any, Any], args: Sequence[Any], attempt: int
) -> bool:
    """Send `message`; True once the relay accepted it.

    On a temporary failure, queue `task(*args, attempt=attempt + 1)` after the back-off and
    return False. On a permanent failure, or a temporary one at the last attempt, log an error
    and raise `MailNotSent` (the task fails, and the task table shows it). Any other error is
    raised as it is.
    """
    try:
        message.send()
    except Exception as error:  # classified at once; anything else is raised again
        temporary = is_temporary(error)
        if temporary is None:
            raise
        description = describe(error)
    else:
        return True
    # From here on outside the `except` block: the original error, with the address smtplib
    # put in it, is gone and cannot become the context of the exception raised below.
    name = task.name
    if not temporary:
        logger.error("Mail task %s: %s; not retried (permanent).", name, description)
        raise MailNotSent(description)
    attempts: int = settings.SOLIDARITY_MAIL_ATTEMPTS
    if attempt >= attempts:
        logger.error(
            "Mail task %s: %s; gave up after %d attempts: this e-mail is not sent.",
            name,
            description,
            attempt,
        )
        raise MailNotSent(f"{description}; gave up after {attempt} attempts", temporary=True)
    delay = retry_delay(attempt)
    task.using(run_after=timezone.now() + delay).enqueue(*args, attempt=attempt + 1)
    logger.warning(
        "Mail task %s: %s; attempt %d of %d failed, the next in %d seconds.",
        name,
        description,
        attempt,
        attempts,
        delay.total_seconds(),
    )
    return False
