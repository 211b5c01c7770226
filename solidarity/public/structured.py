"""schema.org JSON-LD and Open Graph for public pages, built from the public values only.

Every builder here takes the frozen values of `solidarity.public.values` (or another app's
public data layer), never a model: what a page's structured data can say is exactly what the
page itself may show, so a search engine or a link preview cannot be handed a field that was
not classed public. Dates keep the precision of the source ("June 2012" is "2012-06"); a date
schema.org cannot express honestly ("c. 2002", "before March 2012") is left out, not guessed.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import (
    Truncator,
    add_truncation_text,
    calculate_truncate_chars_length,
)
from django.utils.translation import gettext as _

from solidarity.core import buildcache
from solidarity.core.buildcache import build_cached
from solidarity.core.partialdate import MAX_DAY, MIN_DAY, PartialDate, Precision

from .values import (
    EventDetail,
    EventRef,
    OrganisationDetail,
    Party,
    PartyKind,
    PersonDetail,
    PlaceInfo,
)

Json = dict[str, Any]
# Turns a site path ("/en/people/x/") into the absolute address (request.build_absolute_uri).
Absolute = Callable[[str], str]

CONTEXT = "https://schema.org"
DESCRIPTION_LENGTH = 200
# Open Graph names locales language_TERRITORY.
OG_LOCALES = {"en": "en_US", "ru": "ru_RU", "kk": "kk_KZ"}

# The escapes of django.utils.html.json_script: inside a <script> element the HTML parser
# looks only for "</script" and "<!--", so a title such as "</script><script>…" written into
# the JSON verbatim would end the element and inject markup. As \u escapes the characters are
# still the same JSON string, and the HTML parser never sees a "<".
_SCRIPT_ESCAPES = (("&", "\\u0026"), ("<", "\\u003C"), (">", "\\u003E"))
# A site path that iri_to_uri leaves as it is (only characters it never quotes) and that
# build_absolute_uri would not join with the page's address: no "//" host, no dot segments.
_PLAIN_PATH = re.compile(r"/(?!/)[A-Za-z0-9\-._~/!$&'()*+,;=:@%]*")


# What Django's slug converter accepts, and quote() leaves as it is.
_PLAIN_SLUG = re.compile(r"[-a-zA-Z0-9_]+")
# A slug standing for the record's own in an address worked out once per language.
_SLUG_MARK = "slug-mark-0"


# -- Addresses -------------------------------------------------------------------------------------


def record_path(name: str, slug: object) -> str:
    """`reverse(name, args=[slug])` for the detail page of a record ("public:person").

    In a static build every page links many records, and each reverse was a walk of the
    URLconf: there the address is reversed once per name and language, and a plain slug (one
    the slug converter takes and quoting leaves alone) is put in its place. Anything else, and
    the live site, reverse as before.
    """
    if isinstance(slug, str) and buildcache.is_active() and _PLAIN_SLUG.fullmatch(slug):
        around = _path_around_slug(name)
        if around is not None:
            return around[0] + slug + around[1]
    return reverse(name, args=[slug])


@build_cached
def _path_around_slug(name: str) -> tuple[str, str] | None:
    """What comes before and after the slug in the address of `name` (None if it is not plain:
    the mark must stand exactly once, with the slug converter's own rule)."""
    path = reverse(name, args=[_SLUG_MARK])
    before, mark, after = path.partition(_SLUG_MARK)
    if not mark or _SLUG_MARK in after:
        return None
    return before, after


# -- Dates ---------------------------------------------------------------------------------------


def schema_date(date: PartialDate | None) -> str | None:
    """The ISO 8601 date for schema.org, exactly as precise as the source, or None.

    "2012-06" stays a month, never "2012-06-01". A range becomes the smallest calendar unit
    that holds both ends ("between 1 and 20 December 2011" is "2011-12"); an open range or an
    approximate date has no ISO form that keeps its doubt, so it is left out.
    """
    if date is None:
        return None
    if date.precision in {Precision.DAY, Precision.MONTH, Precision.YEAR}:
        return date.text
    if date.precision is not Precision.RANGE:
        return None
    first, last = date.earliest, date.latest
    if first == MIN_DAY or last == MAX_DAY:
        return None
    if first == last:
        return first.isoformat()
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.year:04d}-{first.month:02d}"
    if first.year == last.year:
        return f"{first.year:04d}"
    return None


# -- Building blocks -------------------------------------------------------------------------------


def put(data: Json, key: str, value: Any) -> None:
    """Set `key` only when there is something to say: no empty strings or lists in the output."""
    if value not in (None, "", [], {}):
        data[key] = value


def _unique(values: Iterable[str], besides: str) -> list[str]:
    seen = {besides}
    found = []
    for value in values:
        if value and value not in seen:
            seen.add(value)
            found.append(value)
    return found


def party(value: Party, absolute: Absolute) -> Json | None:
    """A linked person or organisation; a described or withheld party is not named at all."""
    if not value.slug or not value.name.text:
        return None
    if value.kind == PartyKind.PERSON:
        kind, view = "Person", "public:person"
    elif value.kind == PartyKind.ORGANISATION:
        kind, view = "Organization", "public:organisation"
    else:
        return None
    return {
        "@type": kind,
        "name": value.name.text,
        "url": absolute(record_path(view, value.slug)),
    }


def place(info: PlaceInfo) -> Json:
    """A place inside the places that hold it: city in region in country."""
    data: Json = {"@type": "Place", "name": info.name.text}
    current = data
    for outer in info.within:
        container: Json = {"@type": "Place", "name": outer.text}
        current["containedInPlace"] = container
        current = container
    return data


def event_ref(ref: EventRef, absolute: Absolute) -> Json:
    data: Json = {
        "@type": "Event",
        "name": ref.title.text,
        "url": absolute(record_path("public:event", ref.slug)),
    }
    put(data, "startDate", schema_date(ref.date))
    return data


# -- Pages -----------------------------------------------------------------------------------------


def organisation(org: OrganisationDetail, absolute: Absolute) -> Json:
    name = org.name.text
    data: Json = {
        "@context": CONTEXT,
        "@type": "Organization",
        "name": name,
        "url": absolute(record_path("public:organisation", org.slug)),
    }
    other_names = [n.text for n in org.other_names] + [org.abbreviation]
    put(data, "alternateName", _unique(other_names, name))
    put(data, "foundingDate", schema_date(org.founded))
    put(data, "dissolutionDate", schema_date(org.dissolved))
    put(data, "description", org.summary.text)
    # website_link is the website only when it is a plain http(s)/mailto address
    # (core.links.safe_link): a javascript: sameAs would be a link on our origin.
    put(data, "sameAs", org.website_link)
    if org.country is not None:
        data["location"] = place(org.country)
    put(data, "member", _linked((m.person for m in org.members), absolute))
    return data


def person(detail: PersonDetail, absolute: Absolute) -> Json:
    data: Json = {
        "@context": CONTEXT,
        "@type": "Person",
        "name": detail.name,
        "url": absolute(record_path("public:person", detail.slug)),
    }
    forms = [form.name for group in detail.name_groups for form in group.names]
    put(data, "alternateName", _unique(forms, detail.name))
    put(data, "jobTitle", detail.occupation.text)
    put(data, "description", detail.summary.text)
    put(data, "memberOf", _linked((m.organisation for m in detail.memberships), absolute))
    return data


def event(detail: EventDetail, absolute: Absolute) -> Json:
    data: Json = {
        "@context": CONTEXT,
        "@type": "Event",
        "name": detail.title.text,
        "url": absolute(record_path("public:event", detail.slug)),
    }
    put(data, "startDate", schema_date(detail.date))
    put(data, "description", detail.summary.text)
    if detail.place is not None:
        data["location"] = place(detail.place)
        put(data["location"], "description", detail.place_detail)
    elif detail.place_detail:
        data["location"] = {"@type": "Place", "name": detail.place_detail}
    if detail.part_of is not None:
        data["superEvent"] = event_ref(detail.part_of, absolute)
    put(data, "subEvent", [event_ref(part, absolute) for part in detail.parts])
    return data


def _linked(parties: Iterable[Party], absolute: Absolute) -> list[Json]:
    found: list[Json] = []
    seen: set[str] = set()
    for value in parties:
        linked = party(value, absolute)
        if linked is not None and linked["url"] not in seen:
            seen.add(linked["url"])
            found.append(linked)
    return found


# -- Writing it into a page -----------------------------------------------------------------------


def absolute_urls(request: HttpRequest) -> Absolute:
    """`request.build_absolute_uri`, for the many site paths one page's metadata names.

    A plain path (all a page's own links are) is only prefixed with the scheme and host, which
    is what build_absolute_uri returns for it; anything else is left to build_absolute_uri.
    Each call of it parsed and quoted the whole address again, a dozen times per article page.
    """
    base = request.build_absolute_uri("/")[:-1]

    def absolute(location: str) -> str:
        if _PLAIN_PATH.fullmatch(location) and "/./" not in location and "/../" not in location:
            return base + location
        return request.build_absolute_uri(location)

    return absolute


def script(data: Json) -> SafeString:
    """`<script type="application/ld+json">` holding `data`, safe for any text inside it.

    A data block is not executed, so the strict script-src of the CSP does not apply to it
    (tests/test_structured_data_browser.py checks Chromium reports no violation) and it needs
    no nonce: a nonce would put a fresh random value into every public page and mirror file.
    """
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    for character, escaped in _SCRIPT_ESCAPES:
        text = text.replace(character, escaped)
    # The JSON carries no "<", ">" or "&" any more (escaped above): nothing in it is markup.
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))  # noqa: S308


def cut(text: str) -> str:
    """A description short enough for a link preview, cut at a word."""
    # As Truncator.chars normalises it; a text that short already is what it returns.
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    if len(text) <= DESCRIPTION_LENGTH:
        return text
    head = text[: DESCRIPTION_LENGTH + 1]
    if any(unicodedata.combining(character) for character in set(head)):
        return Truncator(text).chars(DESCRIPTION_LENGTH)
    # Without combining characters each character counts as one, and Truncator.chars (which
    # counted them one by one, a good part of a detail page's metadata) keeps as many as
    # leave room for its ellipsis in the reader's language.
    room = calculate_truncate_chars_length(DESCRIPTION_LENGTH, None)
    return str(add_truncation_text(text[:room]))


def _attribute(value: object) -> str:
    """`conditional_escape` for an attribute value, without its wrappers (it runs for every
    tag of every page's preview)."""
    if isinstance(value, Promise):
        value = str(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value))


@dataclass(frozen=True)
class OpenGraph:
    """What a link preview shows: all absolute addresses, all public texts."""

    title: str
    url: str
    locale: str
    kind: str = "website"
    description: str = ""
    alternate_locales: tuple[str, ...] = ()
    image: str = ""
    image_alt: str = ""
    published: str = ""

    def tags(self) -> SafeString:
        pairs: list[tuple[str, str]] = [
            ("og:site_name", _("Solidarity")),
            ("og:title", self.title),
            ("og:type", self.kind),
            ("og:url", self.url),
            ("og:locale", OG_LOCALES.get(self.locale, self.locale)),
        ]
        pairs += [
            ("og:locale:alternate", OG_LOCALES.get(code, code)) for code in self.alternate_locales
        ]
        if self.description:
            pairs.append(("og:description", cut(self.description)))
        if self.image:
            pairs.append(("og:image", self.image))
            if self.image_alt:
                pairs.append(("og:image:alt", self.image_alt))
        if self.published:
            pairs.append(("article:published_time", self.published))
        tags = [f'<meta property="{name}" content="{_attribute(value)}">' for name, value in pairs]
        card = "summary_large_image" if self.image else "summary"
        tags.append(f'<meta name="twitter:card" content="{card}">')
        # Every value above is escaped (the property names and the card are constants).
        return mark_safe("\n".join(tags))  # noqa: S308
