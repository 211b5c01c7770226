"""schema.org Event for a public campaign action, from its public values only.

Like the documentation pages' structured data (solidarity/public/structured.py): built from
`public_data.ActionInfo`, never from a model, so a place, series or campaign that is not public
cannot be named in it. Times are exact here (an action is scheduled to the minute), in UTC.
"""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from solidarity.public.structured import CONTEXT, Absolute, Json, put

from .public_data import ActionInfo

# schema.org's EventStatusType; a tentative action has no status that says so, and gets none.
_STATUS = {
    "confirmed": "https://schema.org/EventScheduled",
    "cancelled": "https://schema.org/EventCancelled",
}


def _moment(when: dt.datetime | None) -> str | None:
    return when.replace(microsecond=0).isoformat() if when is not None else None


def action(info: ActionInfo, absolute: Absolute) -> Json:
    data: Json = {
        "@context": CONTEXT,
        "@type": "Event",
        "name": info.title.text,
        "url": absolute(reverse("campaigns:action", args=[info.id])),
        "startDate": _moment(info.starts_at),
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
    }
    put(data, "endDate", _moment(info.ends_at))
    put(data, "eventStatus", _STATUS.get(info.status))
    if info.place is not None or info.address:
        where: Json = {"@type": "Place", "name": info.place.name.text if info.place else ""}
        address: Json = {"@type": "PostalAddress"}
        put(address, "streetAddress", info.address)
        if info.place is not None:
            put(address, "addressLocality", info.place.name.text)
            put(address, "addressCountry", info.place.country_code)
        where["address"] = address
        if not where["name"]:
            where["name"] = info.address
        data["location"] = where
    if info.series_title is not None and info.series_title.text:
        data["superEvent"] = {"@type": "Event", "name": info.series_title.text}
    return data
