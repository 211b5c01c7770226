"""OSDI as Action Network's API v2 implements it: HAL+JSON documents and their JSON schemas.

Solidarity's organising records map onto OSDI resources this way:

    osdi:people       supporters, one person per e-mail address (Supporter rows share it)
    osdi:petitions    campaigns.Petition
    osdi:signatures   campaigns.Signature
    osdi:events       campaigns.Action (protests, letter-writing evenings, delegations…)
    osdi:attendances  campaigns.Rsvp
    osdi:tags         campaigns.Tag (a section's label)
    osdi:taggings     campaigns.Tagging (a label on one supporter row)

Each submission keeps its own Supporter row (see campaigns.models), so a person here is all
the rows of one address, shown through the newest; any of its rows' ids reaches it. Fields
Action Network adds under its own prefix (`action_network:person_id`, …) are given too,
because scripts written for Action Network read them; ours carry a `solidarity:` prefix.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from rest_framework.exceptions import ParseError
from rest_framework.request import Request

from solidarity.accounts.hosts import public_base_url
from solidarity.campaigns.models import Action, Petition, Rsvp, Signature, Supporter, Tag, Tagging
from solidarity.core.translation import tr

JSON = dict[str, Any]
ORIGIN_SYSTEM = "Solidarity"

# The fields of its row that each document below shows (its id as an identifier, a foreign key
# as a link). The views log the personal and sealed ones among them, as the classification
# says at the time (audit/personal.py): keep this in step with the documents, which
# test_audit_personal_lists checks by changing each field and watching the document.
SHOWN: dict[type[Any], tuple[str, ...]] = {
    Supporter: ("id", "name", "email", "country", "language", "created_at"),
    Signature: ("id", "petition", "supporter", "comment", "status", "created_at", "confirmed_at"),
    Rsvp: ("id", "action", "supporter", "created_at"),
    Tagging: ("id", "tag", "supporter", "created_at"),
}

MAX_PER_PAGE = 25  # Action Network's page size, which its clients expect as the ceiling
CURIES = [
    {"name": "osdi", "href": "https://opensupporter.github.io/osdi-docs/{rel}", "templated": True}
]


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def link(request: Request, path: str) -> JSON:
    return {"href": request.build_absolute_uri(path)}


def public_page(request: Request, view: str, *args: object) -> str:
    """A record's page on the public site, at the address the site itself links to.

    The page carries its language in the address (/en/petitions/<slug>/); reverse() gives
    the active one, which for the API is the client's Accept-Language or else the default,
    so the page is in the language of the texts in the document. An address without the
    prefix would only redirect, to whatever language the follower's browser asks for.
    """
    # On the public site's host, not the back office's where the API answers (D11).
    return public_base_url(request) + reverse(view, args=args)


# -- Paging -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageMeta:
    page: int
    per_page: int
    total_pages: int
    total_records: int


def _positive_int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ParseError(f"'{name}' must be a whole number, not {raw!r}.") from None
    if value < 1:
        raise ParseError(f"'{name}' must be 1 or more.")
    return value


def paginate(request: Request, queryset: QuerySet[Any]) -> tuple[list[Any], PageMeta]:
    """One page of `queryset`; a page past the end is empty, as in Action Network."""
    page = _positive_int(request, "page", 1)
    per_page = min(_positive_int(request, "per_page", MAX_PER_PAGE), MAX_PER_PAGE)
    total = queryset.count()
    if page > 1_000_000:
        raise ParseError("'page' is far beyond the last page.")
    start = (page - 1) * per_page
    items = list(queryset[start : start + per_page]) if start < total else []
    return items, PageMeta(page, per_page, max(1, math.ceil(total / per_page)), total)


def collection(request: Request, name: str, items: list[JSON], meta: PageMeta) -> JSON:
    """The HAL collection document: paging fields, links to each item, items embedded."""
    path = request.path

    def page_link(number: int) -> JSON:
        return link(request, f"{path}?page={number}&per_page={meta.per_page}")

    links: JSON = {"self": page_link(meta.page)}
    if meta.page < meta.total_pages:
        links["next"] = page_link(meta.page + 1)
    if meta.page > 1:
        links["previous"] = page_link(min(meta.page - 1, meta.total_pages))
    links[name] = [item["_links"]["self"] for item in items]
    links["curies"] = CURIES
    return {
        "total_pages": meta.total_pages,
        "per_page": meta.per_page,
        "page": meta.page,
        "total_records": meta.total_records,
        "_links": links,
        "_embedded": {name: items},
    }


def entry_point(request: Request) -> JSON:
    return {
        "motd": "Solidarity: OSDI as Action Network's API v2 implements it.",
        "max_page_size": MAX_PER_PAGE,
        "vendor_name": ORIGIN_SYSTEM,
        "product_name": ORIGIN_SYSTEM,
        "osdi_version": "1.1.1",
        "_links": {
            "self": link(request, "/api/v2/"),
            "docs": link(request, "/api/schema/"),
            "osdi:people": {**link(request, "/api/v2/people/"), "title": "People"},
            "osdi:petitions": {**link(request, "/api/v2/petitions/"), "title": "Petitions"},
            "osdi:events": {**link(request, "/api/v2/events/"), "title": "Events"},
            "osdi:tags": {**link(request, "/api/v2/tags/"), "title": "Tags"},
            "curies": CURIES,
        },
    }


# -- People ---------------------------------------------------------------------------------------


def split_name(name: str) -> tuple[str, str]:
    """Given and family name from the one name a supporter typed, split at the last space.

    A guess for clients that want the two parts; the name as typed is given in full beside it.
    """
    given, _space, family = name.strip().rpartition(" ")
    return (given, family) if given else (family, "")


def person(request: Request, supporter: Supporter, *, subscribed: bool) -> JSON:
    given, family = split_name(supporter.name)
    base = f"/api/v2/people/{supporter.pk}/"
    return {
        "identifiers": [f"solidarity:{supporter.pk}"],
        "origin_system": ORIGIN_SYSTEM,
        "created_date": iso(supporter.created_at),
        "modified_date": iso(supporter.created_at),
        "given_name": given,
        "family_name": family,
        "solidarity:name": supporter.name,
        "languages_spoken": [supporter.language],
        "email_addresses": [
            {
                "primary": True,
                "address": supporter.email,
                "status": "subscribed" if subscribed else "unsubscribed",
            }
        ],
        "postal_addresses": [{"primary": True, "country": supporter.country}],
        "_links": {
            "self": link(request, base),
            "osdi:signatures": link(request, base + "signatures/"),
            "osdi:attendances": link(request, base + "attendances/"),
            "curies": CURIES,
        },
    }


# -- Petitions and signatures ---------------------------------------------------------------------


def petition(request: Request, item: Petition, total_signatures: int) -> JSON:
    base = f"/api/v2/petitions/{item.pk}/"
    target = item.target
    return {
        "identifiers": [f"solidarity:{item.pk}"],
        "origin_system": ORIGIN_SYSTEM,
        "created_date": iso(item.created_at),
        "modified_date": iso(item.updated_at),
        "name": item.slug,
        "title": tr(item, "title").text,
        "description": tr(item, "text").text,
        "petition_text": tr(item, "text").text,
        "browser_url": (
            public_page(request, "campaigns:petition", item.slug)
            if item.is_public and item.campaign.is_public
            else None
        ),
        "total_signatures": total_signatures,
        "target": [{"name": target.name}] if target is not None else [],
        "solidarity:accepting": item.accepting,
        "solidarity:campaign": item.campaign.slug,
        "_links": {
            "self": link(request, base),
            "osdi:signatures": link(request, base + "signatures/"),
            "osdi:record_signature_helper": link(request, base + "signatures/"),
            "curies": CURIES,
        },
    }


def signature(request: Request, item: Signature) -> JSON:
    links: JSON = {
        "self": link(request, f"/api/v2/petitions/{item.petition_id}/signatures/{item.pk}/"),
        "osdi:petition": link(request, f"/api/v2/petitions/{item.petition_id}/"),
    }
    if item.supporter_id is not None:
        links["osdi:person"] = link(request, f"/api/v2/people/{item.supporter_id}/")
    links["curies"] = CURIES
    return {
        "identifiers": [f"solidarity:{item.pk}"],
        "origin_system": ORIGIN_SYSTEM,
        "created_date": iso(item.created_at),
        "modified_date": iso(item.confirmed_at or item.created_at),
        "comments": item.comment,
        "action_network:person_id": (
            str(item.supporter_id) if item.supporter_id is not None else None
        ),
        "action_network:petition_id": str(item.petition_id),
        "solidarity:status": item.status,
        "_links": links,
    }


SIGNATURE_RECEIVED_MESSAGE = (
    "Received. If this address has not signed this petition yet, a confirmation e-mail is on "
    "its way and the signature counts once its link is followed; if it has, the e-mail says so."
)


def signature_received(request: Request, item: Petition) -> JSON:
    """The record-signature helper's answer: the same for a new and a repeated address."""
    return {
        "origin_system": ORIGIN_SYSTEM,
        "solidarity:status": "received",
        "message": SIGNATURE_RECEIVED_MESSAGE,
        "_links": {
            "osdi:petition": link(request, f"/api/v2/petitions/{item.pk}/"),
            "curies": CURIES,
        },
    }


# -- Events and attendances -----------------------------------------------------------------------


def event(request: Request, item: Action, total_accepted: int) -> JSON:
    base = f"/api/v2/events/{item.pk}/"
    place = item.place
    return {
        "identifiers": [f"solidarity:{item.pk}"],
        "origin_system": ORIGIN_SYSTEM,
        "created_date": iso(item.created_at),
        "modified_date": iso(item.updated_at),
        "name": f"action-{item.pk}",
        "title": tr(item, "title").text,
        "start_date": iso(item.starts_at),
        "end_date": iso(item.ends_at),
        "status": item.status,
        "type": "open",
        "location": {
            "venue": item.address,
            "locality": tr(place, "name").text if place is not None else "",
            "country": place.country_code if place is not None else "",
        },
        "total_accepted": total_accepted,
        "browser_url": (
            public_page(request, "campaigns:action", item.pk)
            if item.is_public and item.campaign.is_public
            else None
        ),
        "solidarity:kind": item.kind,
        "solidarity:campaign": item.campaign.slug,
        "_links": {
            "self": link(request, base),
            "osdi:attendances": link(request, base + "attendances/"),
            "curies": CURIES,
        },
    }


def attendance(request: Request, item: Rsvp) -> JSON:
    links: JSON = {
        "self": link(request, f"/api/v2/events/{item.action_id}/attendances/{item.pk}/"),
        "osdi:event": link(request, f"/api/v2/events/{item.action_id}/"),
    }
    if item.supporter_id is not None:
        links["osdi:person"] = link(request, f"/api/v2/people/{item.supporter_id}/")
    links["curies"] = CURIES
    return {
        "identifiers": [f"solidarity:{item.pk}"],
        "origin_system": ORIGIN_SYSTEM,
        "created_date": iso(item.created_at),
        "modified_date": iso(item.created_at),
        "status": "accepted",
        "action_network:person_id": (
            str(item.supporter_id) if item.supporter_id is not None else None
        ),
        "action_network:event_id": str(item.action_id),
        "_links": links,
    }


# -- Tags and taggings ---------------------------------------------------------------------------


def tag(request: Request, item: Tag) -> JSON:
    base = f"/api/v2/tags/{item.pk}/"
    return {
        "identifiers": [f"solidarity:{item.pk}"],
        "origin_system": ORIGIN_SYSTEM,
        "created_date": iso(item.created_at),
        "modified_date": iso(item.created_at),
        "name": item.name,
        "solidarity:section": item.section.slug,
        "_links": {
            "self": link(request, base),
            "osdi:taggings": link(request, base + "taggings/"),
            "curies": CURIES,
        },
    }


def tagging(request: Request, item: Tagging) -> JSON:
    return {
        "identifiers": [f"solidarity:{item.pk}"],
        "origin_system": ORIGIN_SYSTEM,
        "created_date": iso(item.created_at),
        "modified_date": iso(item.created_at),
        "action_network:person_id": str(item.supporter_id),
        "action_network:tag_id": str(item.tag_id),
        "_links": {
            "self": link(request, f"/api/v2/tags/{item.tag_id}/taggings/{item.pk}/"),
            "osdi:tag": link(request, f"/api/v2/tags/{item.tag_id}/"),
            "osdi:person": link(request, f"/api/v2/people/{item.supporter_id}/"),
            "curies": CURIES,
        },
    }


# -- JSON schemas of the documents above, for the OpenAPI description ------------------------------

STRING: JSON = {"type": "string"}
NULLABLE_STRING: JSON = {"type": "string", "nullable": True}
DATE_TIME: JSON = {"type": "string", "format": "date-time"}
NULLABLE_DATE_TIME: JSON = {"type": "string", "format": "date-time", "nullable": True}
LINK_SCHEMA: JSON = {
    "type": "object",
    "properties": {"href": STRING, "title": STRING},
    "required": ["href"],
}
CURIES_SCHEMA: JSON = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"name": STRING, "href": STRING, "templated": {"type": "boolean"}},
        "required": ["name", "href"],
    },
}
ERROR_SCHEMA: JSON = {
    "type": "object",
    "properties": {"error": STRING, "detail": {}},
    "required": ["error"],
}


def _links_schema(*required: str, optional: tuple[str, ...] = ()) -> JSON:
    properties: JSON = dict.fromkeys((*required, *optional), LINK_SCHEMA)
    properties["curies"] = CURIES_SCHEMA
    return {"type": "object", "properties": properties, "required": [*required, "curies"]}


def _resource_schema(properties: JSON, links: JSON) -> JSON:
    common: JSON = {
        "identifiers": {"type": "array", "items": STRING},
        "origin_system": STRING,
        "created_date": DATE_TIME,
        "modified_date": DATE_TIME,
    }
    all_properties = {**common, **properties, "_links": links}
    return {"type": "object", "properties": all_properties, "required": list(all_properties)}


PERSON_SCHEMA = _resource_schema(
    {
        "given_name": STRING,
        "family_name": STRING,
        "solidarity:name": STRING,
        "languages_spoken": {"type": "array", "items": STRING},
        "email_addresses": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "primary": {"type": "boolean"},
                    "address": STRING,
                    "status": {"type": "string", "enum": ["subscribed", "unsubscribed"]},
                },
                "required": ["primary", "address", "status"],
            },
        },
        "postal_addresses": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"primary": {"type": "boolean"}, "country": STRING},
            },
        },
    },
    _links_schema("self", "osdi:signatures", "osdi:attendances"),
)
PETITION_SCHEMA = _resource_schema(
    {
        "name": STRING,
        "title": STRING,
        "description": STRING,
        "petition_text": STRING,
        "browser_url": NULLABLE_STRING,
        "total_signatures": {"type": "integer", "minimum": 0},
        "target": {
            "type": "array",
            "items": {"type": "object", "properties": {"name": STRING}, "required": ["name"]},
        },
        "solidarity:accepting": {"type": "boolean"},
        "solidarity:campaign": STRING,
    },
    _links_schema("self", "osdi:signatures", "osdi:record_signature_helper"),
)
SIGNATURE_SCHEMA = _resource_schema(
    {
        "comments": STRING,
        "action_network:person_id": NULLABLE_STRING,
        "action_network:petition_id": STRING,
        "solidarity:status": {"type": "string", "enum": list(Signature.Status.values)},
    },
    _links_schema("self", "osdi:petition", optional=("osdi:person",)),
)
SIGNATURE_RECEIVED_SCHEMA: JSON = {
    "type": "object",
    "properties": {
        "origin_system": STRING,
        "solidarity:status": {"type": "string", "enum": ["received"]},
        "message": STRING,
        "_links": _links_schema("osdi:petition"),
    },
    "required": ["origin_system", "solidarity:status", "message", "_links"],
}
EVENT_SCHEMA = _resource_schema(
    {
        "name": STRING,
        "title": STRING,
        "start_date": DATE_TIME,
        "end_date": NULLABLE_DATE_TIME,
        "status": {"type": "string", "enum": list(Action.Status.values)},
        "type": STRING,
        "location": {
            "type": "object",
            "properties": {"venue": STRING, "locality": STRING, "country": STRING},
            "required": ["venue", "locality", "country"],
        },
        "total_accepted": {"type": "integer", "minimum": 0},
        "browser_url": NULLABLE_STRING,
        "solidarity:kind": STRING,
        "solidarity:campaign": STRING,
    },
    _links_schema("self", "osdi:attendances"),
)
ATTENDANCE_SCHEMA = _resource_schema(
    {
        "status": {"type": "string", "enum": ["accepted"]},
        "action_network:person_id": NULLABLE_STRING,
        "action_network:event_id": STRING,
    },
    _links_schema("self", "osdi:event", optional=("osdi:person",)),
)
TAG_SCHEMA = _resource_schema(
    {"name": STRING, "solidarity:section": STRING},
    _links_schema("self", "osdi:taggings"),
)
TAGGING_SCHEMA = _resource_schema(
    {"action_network:person_id": STRING, "action_network:tag_id": STRING},
    _links_schema("self", "osdi:tag", "osdi:person"),
)
CREATE_TAG_SCHEMA: JSON = {
    "type": "object",
    "properties": {
        "name": STRING,
        "solidarity:section": {
            "type": "string",
            "description": (
                "The slug of the section the tag belongs to; needed only when the token's user "
                "may make tags in more than one section."
            ),
        },
    },
    "required": ["name"],
}
CREATE_TAGGING_SCHEMA: JSON = {
    "type": "object",
    "properties": {
        "_links": {
            "type": "object",
            "properties": {"osdi:person": LINK_SCHEMA},
            "required": ["osdi:person"],
        }
    },
    "required": ["_links"],
}
ENTRY_POINT_SCHEMA: JSON = {
    "type": "object",
    "properties": {
        "motd": STRING,
        "max_page_size": {"type": "integer"},
        "vendor_name": STRING,
        "product_name": STRING,
        "osdi_version": STRING,
        "_links": _links_schema(
            "self", "docs", "osdi:people", "osdi:petitions", "osdi:events", "osdi:tags"
        ),
    },
    "required": ["motd", "max_page_size", "vendor_name", "product_name", "_links"],
}


def collection_schema(name: str, item: JSON) -> JSON:
    links = _links_schema("self", optional=("next", "previous"))
    links["properties"][name] = {"type": "array", "items": LINK_SCHEMA}
    links["required"].append(name)
    return {
        "type": "object",
        "properties": {
            "total_pages": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            "page": {"type": "integer", "minimum": 1},
            "total_records": {"type": "integer", "minimum": 0},
            "_links": links,
            "_embedded": {
                "type": "object",
                "properties": {name: {"type": "array", "items": item}},
                "required": [name],
            },
        },
        "required": ["total_pages", "per_page", "page", "total_records", "_links", "_embedded"],
    }


RECORD_SIGNATURE_SCHEMA: JSON = {
    "type": "object",
    "properties": {
        "person": {
            "type": "object",
            "properties": {
                "given_name": STRING,
                "family_name": STRING,
                "email_addresses": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"address": STRING},
                        "required": ["address"],
                    },
                },
                "postal_addresses": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"country": STRING}},
                },
                "languages_spoken": {"type": "array", "items": STRING},
            },
            "required": ["email_addresses"],
        },
        "comments": STRING,
        "solidarity:consent": {
            "type": "object",
            "description": (
                "What the signer agreed to, as on the public form: 'processing' (required, "
                "true), 'public_name' and 'contact' (optional)."
            ),
            "properties": {
                "processing": {"type": "boolean"},
                "public_name": {"type": "boolean"},
                "contact": {"type": "boolean"},
            },
            "required": ["processing"],
        },
    },
    "required": ["person", "solidarity:consent"],
}
