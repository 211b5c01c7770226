"""An iCalendar (RFC 5545) feed of public actions, for calendar apps to subscribe to.

Written by hand, it is small: CRLF line ends (3.1), lines folded at 75 octets without
splitting a UTF-8 character (3.1), TEXT escaped (3.3.11), times in UTC (3.3.5, form #2).
The page's address goes in DESCRIPTION as well as URL, because most calendar clients ignore
URL (decidim/decidim#12006).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from .public_data import ActionInfo

PRODID = "-//Solidarity//Campaign actions//EN"
_STATUS = {"confirmed": "CONFIRMED", "tentative": "TENTATIVE", "cancelled": "CANCELLED"}
# Actions with no end are shown as lasting this long, which suits a protest or a meeting.
DEFAULT_DURATION = dt.timedelta(hours=2)


def escape_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Split a content line into 75-octet pieces, continuation lines starting with a space."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    pieces: list[str] = []
    current = ""
    size = 0
    limit = 75
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            pieces.append(current)
            current, size, limit = "", 0, 74  # the leading space takes one octet
        current += char
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _event(action: ActionInfo, *, url: str, host: str, stamp: dt.datetime) -> list[str]:
    ends = action.ends_at or action.starts_at + DEFAULT_DURATION
    where = ", ".join(
        part for part in (action.address, str(action.place.name) if action.place else "") if part
    )
    description = "\n".join(
        part
        for part in (
            action.kind_label,
            str(action.series_title) if action.series_title else "",
            str(action.campaign.title),
            url,
        )
        if part
    )
    lines = [
        "BEGIN:VEVENT",
        f"UID:action-{action.id}@{host}",
        f"DTSTAMP:{utc(stamp)}",
        f"DTSTART:{utc(action.starts_at)}",
        f"DTEND:{utc(ends)}",
        f"SUMMARY:{escape_text(str(action.title))}",
        f"DESCRIPTION:{escape_text(description)}",
        f"URL:{url}",
        f"STATUS:{_STATUS.get(action.status, 'CONFIRMED')}",
        f"CATEGORIES:{escape_text(action.kind_label)}",
    ]
    if where:
        lines.append(f"LOCATION:{escape_text(where)}")
    lines.append("END:VEVENT")
    return lines


def calendar(
    actions: Iterable[ActionInfo],
    *,
    name: str,
    host: str,
    url_for: dict[int, str],
    now: dt.datetime,
) -> str:
    """The VCALENDAR text; `url_for` maps an action id to its absolute page address."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for action in actions:
        lines.extend(_event(action, url=url_for[action.id], host=host, stamp=now))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
