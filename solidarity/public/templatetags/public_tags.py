"""How public values are written out: translations marked, missing facts said to be unknown,
dates and counts in the reader's language, and the page's address in the other languages."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.template.loader_tags import BLOCK_CONTEXT_KEY, BlockNode
from django.urls import (
    LocalePrefixPattern,
    NoReverseMatch,
    Resolver404,
    ResolverMatch,
    URLPattern,
    URLResolver,
    get_resolver,
    get_urlconf,
    resolve,
    reverse,
    translate_url,
)
from django.utils import translation
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.html import conditional_escape, format_html, linebreaks, strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from solidarity.core import buildcache, datewords
from solidarity.core.buildcache import build_cached
from solidarity.core.partialdate import PartialDate
from solidarity.core.translation import Translated
from solidarity.public import structured
from solidarity.public.values import (
    EventDetail,
    EventSummary,
    OrganisationDetail,
    Party,
    PartyKind,
    PersonDetail,
    PlaceInfo,
)

register = template.Library()


@dataclass(frozen=True)
class LanguageVersion:
    code: str
    name: str
    url: str
    absolute_url: str
    is_current: bool
    # The language switch's target: set the language, then go to this version.
    switch_url: str


@register.simple_tag(takes_context=True)
def language_versions(context: dict[str, Any]) -> list[LanguageVersion]:
    """This page in each interface language, named in that language ("Қазақша").

    The query is left out: the page would otherwise repeat whatever text a crafted link put
    there (filters keep to their own validated form, and are simply reset by a switch).
    """
    request = context.get("request")
    path = request.path if request is not None else "/"
    current = translation.get_language()
    versions = []
    urls = _page_language_urls(request, path)
    absolute = structured.absolute_urls(request) if request is not None else str
    switch = _set_language_url()
    for code, name in settings.LANGUAGES:
        url = urls[code]
        target = f"{switch}?next={quote(url)}"  # as `|urlencode` writes it
        versions.append(LanguageVersion(code, name, url, absolute(url), code == current, target))
    return versions


@build_cached
def _set_language_url() -> str:
    return reverse("set_language")


def _page_language_urls(request: Any, path: str) -> dict[str, str]:
    """`_language_urls(path)` for the page of `request`, reusing the match the request was
    routed by instead of resolving its address again (a static build's every page asks)."""
    match = getattr(request, "resolver_match", None)
    if match is None or request.path != request.path_info or request.path != path:
        return _language_urls(path)
    found, stored = buildcache.lookup(_language_urls, (path,))
    if found and isinstance(stored, dict):
        return stored
    urls = _translated_urls(path, match)
    # Only a match that leads back to this very address is this page's (not one set by some
    # other routing); anything else is resolved again, as before.
    if urls.get(translation.get_language() or "") != path:
        return _language_urls(path)
    buildcache.put(_language_urls, (path,), urls)
    return urls


@build_cached
def _language_urls(path: str) -> dict[str, str]:
    """`translate_url(path, code)` for every language, the address resolved once.

    Resolving it for each language, twice a page (here and for link previews), was a good part
    of a static build's time; a build also answers it once per address and language.
    """
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or parts.query or parts.fragment:
        return {code: translate_url(path, code) for code, _name in settings.LANGUAGES}
    try:
        match = resolve(unquote(path))
    except Resolver404:
        return {code: path for code, _name in settings.LANGUAGES}
    return _translated_urls(path, match)


# The record pages, each addressed by its slug alone (solidarity/public/urls.py).
_RECORD_PAGES = frozenset({"public:person", "public:event", "public:organisation"})


def _translated_urls(path: str, match: ResolverMatch) -> dict[str, str]:
    name = f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name
    prefix = f"/{translation.get_language()}/"
    if path.startswith(prefix) and name in _prefixed_names(get_resolver(get_urlconf())):
        # Reversed in the page's own language only: in the others the address differs by its
        # prefix alone (each language's reverse was most of this tag's time).
        try:
            if name in _RECORD_PAGES and not match.args and list(match.kwargs) == ["slug"]:
                here = structured.record_path(name, match.kwargs["slug"])
            else:
                here = reverse(name, args=match.args, kwargs=match.kwargs)
        except NoReverseMatch:
            here = None
        if here == path:
            rest = path.removeprefix(prefix)
            return {code: f"/{code}/{rest}" for code, _name in settings.LANGUAGES}
    urls: dict[str, str] = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            try:
                urls[code] = reverse(name, args=match.args, kwargs=match.kwargs)
            except NoReverseMatch:
                urls[code] = path
    return urls


@lru_cache(maxsize=8)
def _prefixed_names(resolver: URLResolver) -> frozenset[str]:
    """The URL names (with namespaces) whose address is the same in every language but for its
    /language/ prefix: each pattern of the name is inside i18n_patterns that prefix every
    language, and no part of it is a translated route or a converter of the project's own
    (which could write a value per language). A pure function of the URLconf."""
    good: set[str] = set()
    bad: set[str] = set()

    def walk(patterns: Iterable[Any], namespaces: tuple[str, ...], prefixed: bool) -> None:
        for entry in patterns:
            pattern = entry.pattern
            if isinstance(pattern, LocalePrefixPattern):
                here = pattern.prefix_default_language
            else:
                text = getattr(pattern, "_route", None) or getattr(pattern, "_regex", "")
                converters = pattern.converters.values()
                here = prefixed and not isinstance(text, Promise)
                here = here and all(c.__module__ == "django.urls.converters" for c in converters)
            if isinstance(entry, URLResolver):
                inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
                walk(entry.url_patterns, inner, here)
            elif isinstance(entry, URLPattern) and entry.name:
                (good if here else bad).add(":".join((*namespaces, entry.name)))

    walk(resolver.url_patterns, (), False)
    return frozenset(good - bad)


@register.simple_tag
def language_alternates(versions: list[LanguageVersion]) -> SafeString:
    """The page's `<link rel="alternate" hreflang>` for each language version, as a template
    loop wrote them (one per page of a static build: the loop was a part of its time)."""
    return mark_safe(  # noqa: S308  every value is escaped
        "".join(
            f'\n  <link rel="alternate" hreflang="{html.escape(v.code)}"'
            f' href="{html.escape(v.absolute_url)}">'
            for v in versions
        )
    )


@register.simple_tag
def language_buttons(versions: list[LanguageVersion], not_found: object) -> SafeString:
    """The language switch's buttons, each posting its version's address (none on the 404
    page, whose address is not to be confirmed), as a template loop wrote them."""
    buttons = []
    for v in versions:
        target = "" if not_found else f' formaction="{html.escape(v.switch_url)}"'
        current = ' aria-current="true"' if v.is_current else ""
        code = html.escape(v.code)
        buttons.append(
            f'<button type="submit" name="language" value="{code}" lang="{code}"'
            f"{target}{current}>{html.escape(str(v.name))}</button>"
        )
    return mark_safe("".join(buttons))  # noqa: S308  every value is escaped


@register.simple_tag
def record_url(name: str, slug: object) -> str:
    """`{% url name slug %}` for a record's detail page, cheaper in a static build
    (structured.record_path); escaped as the url tag escapes it."""
    return structured.record_path(name, slug)


@register.filter
def has_language_in_address(versions: list[LanguageVersion]) -> bool:
    """Whether the versions have addresses of their own (pages outside i18n_patterns do not)."""
    return len({v.url for v in versions}) == len(versions)


@register.filter
def count(value: int | None) -> str:
    """A count with the reader's digit grouping: 12,345 / 12 345."""
    return number_format(value or 0, force_grouping=True)


@register.filter
def day(value: dt.date | None) -> str:
    """A calendar day as the reader writes it: 16 December 2011 / 2011 жылғы 16 желтоқсан."""
    return _day(value) if value is not None else ""


@register.filter
def written(value: PartialDate | None) -> str:
    """`{{ value.display }}`: a partial date as the reader writes it ("June 2012")."""
    return _written(value) if value is not None else ""


@build_cached
def _written(value: PartialDate) -> str:
    # In a static build once per date and language: the same dates (an event's, a source's)
    # stand on many pages, and each was written out again.
    return value.display()


@build_cached
def _day(value: dt.date) -> str:
    return datewords.write_day(value)


@register.simple_tag
def text(value: Translated | str | None) -> SafeString:
    """A translated text; one shown in another language says so and carries its lang."""
    if isinstance(value, Translated):
        if value.is_fallback and value.text:
            return format_html(
                '<span lang="{}">{}</span> <small class="untranslated">({})</small>',
                value.language,
                value.text,
                _("untranslated"),
            )
        return conditional_escape(value.text)
    return conditional_escape(value or "")


@register.simple_tag
def party(value: Party | None) -> SafeString:
    """Someone with a part in a fact: a link to their page when public, marked when withheld.

    Was an {% include %} of a small template, several per record page and per timeline entry:
    an include cost more than what it wrote.
    """
    kind = getattr(value, "kind", "")
    name = text(getattr(value, "name", ""))
    if kind in _PARTY_PAGES:
        url = structured.record_path(_PARTY_PAGES[kind], getattr(value, "slug", ""))
        return format_html('<a href="{}">{}</a>', url, name)
    if kind == PartyKind.WITHHELD:
        return format_html('<span class="withheld">{}</span>', name)
    return name


_PARTY_PAGES = {PartyKind.PERSON: "public:person", PartyKind.ORGANISATION: "public:organisation"}


@register.simple_tag
def place(value: PlaceInfo | None) -> SafeString:
    """A place with the places it lies within: "Almaty, Kazakhstan" (each name translated)."""
    if not value:
        return mark_safe("")
    names = [text(value.name), *(text(outer) for outer in value.within)]
    return mark_safe(", ".join(names))  # noqa: S308  each name is escaped by `text`


@register.simple_tag
def paragraphs(value: Translated | None) -> SafeString:
    """A longer translated text as paragraphs, marked like `text` when it fell back."""
    if value is None or not value.text:
        return mark_safe("")
    body = linebreaks(value.text, autoescape=True)
    if value.is_fallback:
        return format_html(
            '<div lang="{}">{}</div><p><small class="untranslated">({})</small></p>',
            value.language,
            mark_safe(body),  # noqa: S308  linebreaks escaped the text above
            _("untranslated"),
        )
    return mark_safe(body)  # noqa: S308  linebreaks escaped the text above


@register.simple_tag
def known(value: object) -> SafeString:
    """A fact, or "unknown" when the record does not say: never blank, never guessed."""
    if value is None or value == "":
        return format_html('<span class="unknown">{}</span>', _("unknown"))
    if isinstance(value, Translated):
        return text(value) if value.text else known(None)
    if isinstance(value, PartialDate):
        return conditional_escape(_written(value))
    if isinstance(value, dt.date):
        return conditional_escape(_day(value))
    return conditional_escape(str(value))


@register.simple_tag
def event_entry(event: EventSummary) -> SafeString:
    """One event in a list, as public/_event_entry.html writes it.

    A static build lists each event on the timeline by its type, its year, its place and each
    person in it: there (solidarity.core.buildcache) an entry is rendered once per language.
    On the live site the cache is off and every entry is rendered for its request.
    """
    return _event_entry(event, buildcache.table(event_entry))


@register.simple_tag
def event_entries(events: Iterable[EventSummary] | None) -> SafeString:
    """The timeline's entries, each as `event_entry` writes it, spaced as a {% for %} loop of
    it in public/event_list.html spaced them. One tag for the list: the loop's nodes and a
    look-up of the active language per entry were a good part of a timeline page."""
    entries = buildcache.table(event_entry)
    return mark_safe(  # noqa: S308  each entry is the autoescaped template's
        "".join(f"\n    {_event_entry(event, entries)}\n  " for event in events or ())
    )


def _event_entry(event: EventSummary, entries: dict[Hashable, Any] | None) -> SafeString:
    stored = entries.get(event.slug) if entries is not None else None
    # The build keeps one summary per event and language: the same object means the same
    # entry (anything else, such as an event changed since, is rendered afresh).
    if isinstance(stored, tuple) and stored[0] is event:
        cached: SafeString = stored[1]
        return cached
    entry = render_to_string("public/_event_entry.html", {"event": event})
    if entries is not None:
        entries[event.slug] = (event, entry)
    return entry


@register.simple_tag
def filter_fields(form: Iterable[Any]) -> SafeString:
    """Each field of a list's filter form with its label, as a {% for %} loop of
    `<p class="filter">{{ field.label_tag }} {{ field }}</p>` in event_list.html wrote them (on
    every one of a build's thousands of timeline pages: the loop's nodes were a tenth of it)."""
    return mark_safe(  # noqa: S308  both escaped as {{ }} escapes them (safe HTML is kept)
        "".join(
            f'\n  <p class="filter">{_as_variable(field.label_tag())} {_as_variable(field)}</p>\n  '
            for field in form
        )
    )


def _as_variable(value: object) -> str:
    # What {{ value }} writes of a form's label or field: its text, escaped unless safe HTML.
    return conditional_escape(value if isinstance(value, str) else str(value))


class _SameOnEveryPage(template.Node):
    # Not walked for blocks: every {% extends %} of every page looked through the layout's
    # whole tree for them, these parts included, which can hold none (same_on_every_page
    # refuses a block inside, below).
    child_nodelists = ()

    def __init__(
        self, name: str, keys: list[template.base.FilterExpression], nodelist: template.NodeList
    ) -> None:
        self.name = name
        self.keys = keys
        self.nodelist = nodelist

    def render(self, context: template.Context) -> str:
        values = tuple(key.resolve(context) for key in self.keys)
        try:
            # A value's type too: 0 and False are equal keys, but not the same text.
            args = (self.name, *((type(value), value) for value in values))
            found, stored = buildcache.lookup(_SameOnEveryPage, args)
        except TypeError:  # a value that cannot be a key: nothing to share
            return self.nodelist.render(context)
        if found and isinstance(stored, str):
            return stored
        text = self.nodelist.render(context)
        buildcache.put(_SameOnEveryPage, args, text)
        return text


@register.tag("same_on_every_page")
def same_on_every_page(parser: template.base.Parser, token: template.base.Token) -> template.Node:
    """`{% same_on_every_page "name" [value …] %}…{% end_same_on_every_page %}`: a part of the
    layout that depends on the language (and the values named) only, such as the site's
    navigation, which a static build renders once per language (and values) instead of once
    per page. Nothing else in it may depend on the page."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("same_on_every_page takes a name")
    keys = [parser.compile_filter(bit) for bit in bits[2:]]
    nodelist = parser.parse(("end_same_on_every_page",))
    parser.delete_first_token()
    if nodelist.get_nodes_by_type(BlockNode):
        # A block is the page's own: it cannot be the same on every page.
        raise template.TemplateSyntaxError("same_on_every_page cannot hold a {% block %}")
    return _SameOnEveryPage(bits[1].strip("\"'"), keys, nodelist)


# -- Structured data and link previews (solidarity/public/structured.py) --------------------------


def _page_title(context: template.Context) -> str:
    """The text of this page's {% block title %}, rendered again for og:title.

    A block renders once where it stands; rather than repeat every page's title in a second
    block, the innermost `title` block is read back from the render's block context.
    """
    blocks = context.render_context.get(BLOCK_CONTEXT_KEY)
    block = blocks.get_block("title") if blocks is not None else None
    if block is None:
        return _("Solidarity")
    return html.unescape(strip_tags(block.nodelist.render(context))).strip() or _("Solidarity")


@register.simple_tag(takes_context=True)
def open_graph(context: template.Context, value: object = None) -> SafeString:
    """Open Graph and Twitter card tags; a detail page passes its value for type and summary."""
    request = context.get("request")
    if request is None:
        return mark_safe("")
    # The versions base.html made for this page already, else made again.
    versions = context.get("versions")
    if not isinstance(versions, list) or not all(isinstance(v, LanguageVersion) for v in versions):
        versions = language_versions({"request": request})
    alternates = (
        tuple(v.code for v in versions if not v.is_current)
        if has_language_in_address(versions)
        else ()
    )
    # A record's page is titled by its record; any other page by its title block.
    if isinstance(value, PersonDetail):
        kind, title, description = "profile", value.name, value.summary.text
    elif isinstance(value, OrganisationDetail):
        kind, title, description = "website", value.name.text, value.summary.text
    elif isinstance(value, EventDetail):
        kind, title, description = "website", value.title.text, value.summary.text
    else:
        kind, title, description = "website", _page_title(context), ""
    # The path without its query, as for the language versions: a crafted query is not echoed.
    graph = structured.OpenGraph(
        title=title,
        url=request.build_absolute_uri(request.path),
        locale=translation.get_language() or settings.LANGUAGE_CODE,
        kind=kind,
        description=description,
        alternate_locales=alternates,
    )
    return graph.tags()


@register.simple_tag(takes_context=True)
def json_ld(context: template.Context, value: object) -> SafeString:
    """The schema.org JSON-LD of a person, organisation or event page."""
    request = context.get("request")
    if request is None:
        return mark_safe("")
    absolute = structured.absolute_urls(request)
    if isinstance(value, PersonDetail):
        return structured.script(structured.person(value, absolute))
    if isinstance(value, OrganisationDetail):
        return structured.script(structured.organisation(value, absolute))
    if isinstance(value, EventDetail):
        return structured.script(structured.event(value, absolute))
    raise template.TemplateSyntaxError(f"json_ld has no schema for {type(value).__name__}")


@register.simple_tag(takes_context=True)
def page_link(context: template.Context, number: int) -> str:
    """The address of page `number` of the list shown: `?page=N` with its other filters kept,
    and the first page by the list's own address, never `?page=1`: one address per page, so
    one file per page in the mirror and one address for search engines."""
    request = context["request"]
    query = request.GET.copy()
    query.pop("page", None)
    if number != 1:
        query["page"] = str(number)
    return f"?{query.urlencode()}" if query else str(request.path)
