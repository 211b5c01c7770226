"""What the public search shows, as plain data: public records and their public fields only.

The index lookup itself is restricted to rows of public records (:func:`.services.search`
with ``public_only``); this module then reads each found record again, through
`public_fields` and `is_public=True`, so a record unpublished a moment ago is dropped and
nothing but public values leaves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from solidarity.core.classification import public_fields
from solidarity.core.partialdate import PartialDate
from solidarity.core.translation import LANGUAGES, pick

from . import services
from .models import Target

PUBLIC_LIMIT = 30


@dataclass(frozen=True)
class PublicResult:
    kind: str
    """person, organisation, place or event"""
    kind_label: str
    name: str
    url: str
    matched_name: str
    reason: str
    score: float
    detail: str = ""
    """The date of an event, when it has one."""


def _rows(model: type[models.Model], pks: list[int]) -> dict[int, dict[str, Any]]:
    fields = public_fields(model)
    queryset = model._default_manager.filter(is_public=True, pk__in=pks)
    return {row["id"]: row for row in queryset.values(*fields)}


def _translated(row: dict[str, Any], base: str) -> str:
    return pick({lang: row.get(f"{base}_{lang}") or "" for lang in LANGUAGES}).text


def _describe(target: str, row: dict[str, Any]) -> tuple[str, str, str, str]:
    """(kind label, name, address, detail) of one public row."""
    if target == Target.PERSON:
        parts = (row["given_name"], row["patronymic"], row["family_name"])
        name = " ".join(p for p in parts if p)
        return _("person"), name, reverse("public:person", args=[row["slug"]]), ""
    if target == Target.ORGANISATION:
        url = reverse("public:organisation", args=[row["slug"]])
        return _("organisation"), _translated(row, "name"), url, ""
    if target == Target.PLACE:
        # Places have no page of their own: their events are the timeline filtered by place.
        url = reverse("public:event_list") + "?" + urlencode({"place": row["slug"]})
        return _("place"), _translated(row, "name"), url, ""
    date = row.get("date")
    detail = date.display() if isinstance(date, PartialDate) else ""
    url = reverse("public:event", args=[row["slug"]])
    return _("event"), _translated(row, "title"), url, detail


def results(query: str, limit: int = PUBLIC_LIMIT) -> list[PublicResult]:
    """Public records matching `query`, best first."""
    hits = services.search(query, public_only=True, limit=limit)
    rows: dict[str, dict[int, dict[str, Any]]] = {}
    for target, model in services.MODELS.items():
        pks = [h.pk for h in hits if h.target == target]
        rows[target] = _rows(model, pks) if pks else {}
    found: list[PublicResult] = []
    for hit in hits:
        row = rows[hit.target].get(hit.pk)
        if row is None:
            continue
        kind_label, name, url, detail = _describe(hit.target, row)
        found.append(
            PublicResult(
                kind=hit.target,
                kind_label=kind_label,
                name=name,
                url=url,
                matched_name=hit.matched_name,
                reason=hit.reason,
                score=hit.score,
                detail=detail,
            )
        )
    return found
