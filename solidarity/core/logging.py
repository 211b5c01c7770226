"""The console log's two formats (settings.LOGGING): plain text for a person reading a
terminal, JSON lines (SOLIDARITY_LOG_FORMAT=json) for a log processor.

Every record is stamped in UTC with milliseconds, whatever TIME_ZONE or the TZ of the process
say, so that the application's lines, the audit chain (UTC) and another host's logs line up
(ASVS 16.2.2). Both formats write what a record already holds — time, level, logger, message
and traceback — and nothing more: no request path, client address or user name is added to a
record that does not already carry it (M19 in docs/threat-model.md).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Literal

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def utc_timestamp(created: float) -> str:
    """2026-11-29T00:01:02.345Z for a record's `created` (seconds since the epoch)."""
    moment = datetime.fromtimestamp(created, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class UtcFormatter(logging.Formatter):
    """logging.Formatter whose %(asctime)s is an ISO-8601 UTC time with milliseconds, by
    default in TEXT_FORMAT."""

    def __init__(
        self,
        fmt: str | None = None,
        datefmt: str | None = None,
        style: Literal["%", "{", "$"] = "%",
        **kwargs: Any,
    ) -> None:
        super().__init__(fmt or TEXT_FORMAT, datefmt, style, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return utc_timestamp(record.created)


class JsonLinesFormatter(UtcFormatter):
    """One JSON object a line: time, level, logger, message, and exception (the traceback) or
    stack when the record has one. ASCII only: a message's line or paragraph separator (U+2028)
    stays escaped, so no reader can split a record in two."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            # Cached on the record, as logging.Formatter does, for the other handlers.
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry)
