"""`solidarity mirror DIR`: a self-contained static copy of the public site.

What goes in: every page an anonymous visitor can reach on the public site, the newspaper and
the campaign pages (enumerated from the public data, then completed by following every link),
the Atom feeds, the images of published articles, the static files they use, and an offline
search (an index as JSON, the same as a script for file://, a small search script and page).
Pages are rendered by the site's own views for an anonymous visitor, so the mirror can hold
nothing the public site would not show: the documentation site's and the newspaper's views are
called directly with an anonymous request (they read only their public data layers), anything
else goes through Django's test client and the whole middleware stack. While a mirror is built,
`solidarity.core.buildcache` answers repeated questions to the data layers once (the newspaper's
languages, the timeline form's choices, each article's summary), and articles are loaded in
batches. Pages are rendered, then rewritten and written, by forked worker processes (one per
CPU) when the database allows it; each opens its own connection. Before they are forked, the
parent loads every article's summary in each language and renders one page of each kind and
language: the workers share that build cache instead of each learning it again (frozen for the
garbage collector, so that no child walks it).

Every link to the site is rewritten to a relative link to a file (`…/index.html`), so the copy
works from a USB stick (file://) and from any sub-path of any host. A link to a page that cannot
work offline (the admin, a form's target, the language switch) leads to the mirror's page that
says so in the page's language (`ru/offline.html`); a page without a language in its address
(the root's redirect, a style sheet) leads to the default language's.

The header's search by name becomes the same form sent to the mirror's offline search page of
the page's language (`ru/search.html?q=…`, which works from file:// too; `search.html` forwards
to one of them); the language switch becomes links to the page in each language; a form that
posts (a petition, a sign-up) becomes a note that it needs the live site, which leads to the
offline page of the page's language.

A list's filter form (the timeline's) becomes links to the filtered pages the mirror holds. A
filter with more than FILTER_INLINE_LIMIT choices is not repeated on every page of its list: it
becomes one link ("Choose from 1000") to a page of the mirror's own, one per filter, list and
language (`en/events/index.choose-person.html`, beside the list's own file), that links to every
choice. Repeated inline, a timeline by person put a link to each of N people on each of the N
people's timeline pages: a mirror growing with the square of the site (600 MB for 1,000 people,
30,000 pages of 600 KB for 10,000). A page of choices shows only what the list's pages showed
(the form's labels, links to public pages), and is rewritten like any page.

Incremental: `.mirror-manifest.json` keeps, for every page, a fingerprint of what it shows and
the hash of the file written. A re-run renders only pages whose fingerprint changed, writes only
files whose content changed (to a temporary name, then renamed), and deletes files that are
no longer part of the site. Fingerprints are digests of public data only, and of the code.
"""

from __future__ import annotations

import gc
import hashlib
import html
import json
import multiprocessing
import os
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain, repeat
from multiprocessing.pool import Pool
from pathlib import Path
from typing import Any, TextIO, TypeVar
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.db import connections, models
from django.http import Http404, HttpResponseBase, HttpResponseNotFound
from django.template.loader import render_to_string
from django.template.response import SimpleTemplateResponse
from django.test import Client, RequestFactory
from django.urls import Resolver404, ResolverMatch, resolve
from django.utils import translation

from solidarity.core import buildcache
from solidarity.core.classification import CLASSIFICATION, public_fields
from solidarity.core.translation import LANGUAGES
from solidarity.public import data as documentation_data

from . import public_data

MANIFEST = ".mirror-manifest.json"
MANIFEST_VERSION = 1
# URL namespaces whose pages belong in the mirror. Anything else (admin, accounts, API) is
# not followed: a link to it leads to the offline page of the linking page's language.
MIRRORED_NAMESPACES = frozenset({"public", "publishing", "campaigns"})
# Namespaces whose views are called directly, without the middleware stack (see _call).
DIRECT_NAMESPACES = frozenset({"public", "publishing"})
# The offline search: a page per language where the site keeps that language's pages
# (/ru/search.html beside /ru/…), in its language, whose results lead to that language's pages
# where the mirror holds them; every one is a directory deep, so one index of addresses from the
# mirror's root serves all. /search.html, the one page there was before, forwards to one of them
# (see mirror_search_forward.html) so that links and bookmarks to it keep working.
SEARCH_PAGE = "/search.html"
SEARCH_PAGES = {code: f"/{code}/search.html" for code in LANGUAGES}
# The site's search by name (a form in the header of every page) and what replaces it in the
# mirror: the same form, sent to the offline search page, which reads its words from ?q=.
NAME_SEARCH = "search:public"
SITE_SEARCH_FORM = "publishing/mirror_site_search.html"
# What a link to a page that cannot work offline leads to: a page per language, beside that
# language's pages, so that a Russian reader who follows one reads why in Russian. There is no
# /offline.html (the one English page there was before): only the mirror's own pages linked to
# it, a re-run rewrites all of them (the code is in every fingerprint), and the manifest
# deletes it.
OFFLINE_PAGES = {code: f"/{code}/offline.html" for code in LANGUAGES}
# Files of the mirror's own, beside the site's pages.
EXTRAS = frozenset(
    {SEARCH_PAGE, "/search.js", "/search-index.js", "/search-index.json"}
    | set(SEARCH_PAGES.values())
    | set(OFFLINE_PAGES.values())
)
# A filter with more choices than this (a timeline by person: one per person documented) is not
# repeated on every page of its list but becomes one link to a page that lists the choices (see
# the module's docstring).
FILTER_INLINE_LIMIT = 30
# Pages to render from which the parent loads every article's summary before forking workers
# (see Mirror._warm): fewer pages would not list most articles.
WARM_SUMMARIES_FROM = 500
SOURCE_SUFFIXES = {".py", ".html", ".css", ".js", ".txt", ".mo", ".json", ".yaml"}

# The value (with its quotes) of an href, src or action attribute, found by the "=" before it.
# Only one whose name follows white space is a link (group 1; not "formaction" or
# "data-href"); the value of any other is matched too (group 2) so that it is skipped whole, as
# before. Starting with "=", rare in a page, the pattern is searched about twice as fast as one
# starting with the name (h, s, a: in every word), and split() needs no Python per match.
_ATTRIBUTE_VALUE = re.compile(
    r"""=(?:(?:(?<=\shref=)|(?<=\ssrc=)|(?<=\saction=))("[^"]*"|'[^']*')"""
    r"""|(?:(?<=href=)|(?<=src=)|(?<=action=))("[^"]*"|'[^']*'))"""
)
_ESCAPED_ATTRIBUTE = re.compile(r"(\s(?:href|src))=&quot;(.*?)&quot;")
_ATOM_LINK = re.compile(r"""(<link\b[^>]*?\shref)="([^"]*)\"""")
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
_BODY = re.compile(r"<body[^>]*>")
# Alternate-language hints are for search engines on the live site. The mirror holds an
# article in its own language only, so they are dropped rather than followed.
_HREFLANG = re.compile(r"<link\b[^>]*\bhreflang=[^>]*>\n?")
# What every match of _ESCAPED_ATTRIBUTE (and _HREFLANG) holds: a page without it needs no search.
_ESCAPED_MARK = "=&quot;"
_HREFLANG_MARK = "hreflang="
_FORM_OPENING = re.compile(r"<form\b([^>]*)>")
_ACTION = re.compile(r'action="([^"]*)"')
_OPTION = re.compile(r'<option value="([^"]+)"[^>]*>(.*?)</option>', re.DOTALL)
_LABEL = re.compile(r'<label for="([^"]+)"[^>]*>(.*?)</label>', re.DOTALL)
_NAMED = re.compile(r'<(?:select|input)\b[^>]*\bname="([^"]+)"[^>]*\bid="([^"]+)"')
_SWITCH = re.compile(r'<button\b[^>]*\bformaction="([^"]+)"[^>]*>(.*?)</button>', re.DOTALL)
_SAFE_QUERY = re.compile(r"[A-Za-z0-9_.-]+")
# A root-relative path that urljoin and urlsplit would return unchanged: no query, fragment,
# escape, entity, dot segment or empty segment (the addresses of nearly every page).
_PLAIN_PATH = re.compile(r"/(?:[A-Za-z0-9_~-]+/)*[A-Za-z0-9_~-]*")
# A language switch's button ("/i18n/setlang/?next=/ru/people/x/", three on every page), whose
# query parse_qsl would read unchanged: no entity, escape, "+", fragment or second field.
_PLAIN_NEXT = re.compile(r"(?:/[A-Za-z0-9_.~-]+)*/\?next=([^?#&%+=;\x00-\x20]+)")
# The site's language switch (a form), which a search page replaces with links of its own.
_LANGUAGE_SWITCH = re.compile(r'<form class="language-switch"[^>]*>.*?</form>', re.DOTALL)


def _umask_keeps_readable() -> bool:
    """Whether files created with mode 0o644 keep it (the process's umask masks none of it),
    so that no fchmod is needed. Read, not set: setting the umask would affect every thread."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8) & 0o644 == 0
    except (OSError, ValueError):
        pass
    return False


_T = TypeVar("_T")
_R = TypeVar("_R")
# Where a link leads in the mirror: the quoted parts of the file's name, the fragment to add,
# the static file it needs (see Mirror._link_file).
_LinkFile = tuple[tuple[str, ...], str, str | None]


class MirrorError(Exception):
    pass


@dataclass
class Report:
    files: int = 0
    written: int = 0
    unchanged: int = 0
    deleted: int = 0
    rendered: int = 0
    reused: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class _Choices:
    """A page of the mirror's own: every choice of one filter of one list, each a link to the
    list filtered by it (site addresses, made relative when the page is written)."""

    url: str
    listing: str
    label: str
    links: tuple[tuple[str, str], ...]


@dataclass
class _Page:
    url: str
    fingerprint: str
    kind: str  # "page", "redirect" or "missing"
    content_type: str = ""
    body: bytes | None = None  # None: reused from the previous build
    location: str = ""
    links: list[str] = field(default_factory=list)


# -- Where things go -----------------------------------------------------------------------------


def _strip_hreflang(text: str) -> str:
    first = text.find(_HREFLANG_MARK)
    if first == -1:
        return text
    # Every match holds "hreflang=" and no ">" before it: all lie between the last ">" before
    # the first one and the ">" (and newline) after the last one. Only that part of the head is
    # searched, not the whole page (twice per page: a regex pass as long as the link search).
    start = text.rfind(">", 0, first) + 1
    last = text.rfind(_HREFLANG_MARK)
    close = text.find(">", last)
    end = len(text) if close == -1 else close + 2
    return text[:start] + _HREFLANG.sub("", text[start:end]) + text[end:]


def _query(action: str) -> list[tuple[str, str]]:
    """The query of a form's action, as parse_qsl reads it (read directly where it is plain)."""
    plain = _PLAIN_NEXT.fullmatch(action)
    if plain is not None:
        return [("next", plain[1])]
    return parse_qsl(urlsplit(html.unescape(action)).query)


def _same_from_every_page(href: str) -> bool:
    """Whether `href` leads to the same address from every page: root-relative (the
    navigation) or absolute (a feed's or a page's canonical address, an outside site)."""
    return (href.startswith("/") and not href.startswith("//")) or href.startswith(
        ("http://", "https://")
    )


@lru_cache(maxsize=65536)
def file_for(url: str) -> str:
    """The mirror file of a site URL: "/en/people/x/" → "en/people/x/index.html"."""
    parts = urlsplit(url)
    path = unquote(parts.path).lstrip("/")
    query = ""
    if parts.query:
        pairs = sorted(parse_qsl(parts.query, keep_blank_values=True))
        query = "_".join(f"{k}-{v}" for k, v in pairs)
        if not _SAFE_QUERY.fullmatch(query) or len(query) > 80:
            query = hashlib.sha256(urlencode(pairs).encode()).hexdigest()[:16]
    if not path or path.endswith("/"):
        return f"{path}index{'--' + query if query else ''}.html"
    if query:
        stem, dot, suffix = path.rpartition(".")
        return f"{stem}--{query}.{suffix}" if dot and "/" not in suffix else f"{path}--{query}"
    return path


def _from_root(url: str) -> str:
    """The link to the mirror file of `url` from the mirror's root, as the search index has it."""
    return _relative("index.html", file_for(url))


def _without_language(url: str) -> str:
    """`url` without its language prefix: "/ru/people/x/" → "/people/x/"."""
    code = translation.get_language_from_path(url)
    return url[len(code) + 1 :] if code else url


def _page_for_language(pages: dict[str, str], language: str | None) -> str:
    """The one of `pages` (addresses by language code) in `language`, the default language's
    if there is none in it."""
    return pages.get(language or "") or pages[settings.LANGUAGE_CODE]


def _search_page(language: str | None) -> str:
    """The offline search page in `language`, the default language's if it has none."""
    return _page_for_language(SEARCH_PAGES, language)


def _offline_page(language: str | None) -> str:
    """The page saying what needs the live site, in `language` (the default language's if
    it has none): where a link the mirror cannot follow leads from a page in `language`."""
    return _page_for_language(OFFLINE_PAGES, language)


def _page_language(url: str) -> str:
    """The language of the mirror's page of `url`: its address's, else the default one."""
    return translation.get_language_from_path(url) or settings.LANGUAGE_CODE


def _language_switch(urls: dict[str, str]) -> str:
    """Links to a page of the mirror's own in each language (`urls`, site addresses by code),
    the active language's marked: they replace the site's switch, which knows no such page."""
    current = translation.get_language()
    links = []
    for code, name in settings.LANGUAGES:
        if code in urls:
            mark = ' aria-current="page"' if code == current else ""
            links.append(
                f'<a href="{urls[code]}" lang="{code}" hreflang="{code}"{mark}>'
                f"{html.escape(str(name))}</a>"
            )
    return f'<nav class="language-switch">{" · ".join(links)}</nav>'


@lru_cache(maxsize=65536)
def _quoted_parts(name: str) -> tuple[str, ...]:
    return tuple(quote(name).split("/"))


def _relative(from_file: str, to_file: str) -> str:
    """The relative link from one mirror file to another (both relative to the mirror's root,
    neither with "." or ".." in it), quoted for an attribute."""
    return _relative_parts(_quoted_parts(from_file)[:-1], _quoted_parts(to_file))


def _relative_parts(start: tuple[str, ...], target: tuple[str, ...]) -> str:
    """`_relative` from a directory to a file, both as quoted parts."""
    common = 0
    for mine, theirs in zip(start, target[:-1], strict=False):
        if mine != theirs:
            break
        common += 1
    return "../" * (len(start) - common) + "/".join(target[common:])


def _host() -> str:
    for host in settings.ALLOWED_HOSTS:
        if host == "*":
            return "localhost"
        return host.lstrip(".")
    return "localhost"


# -- Fingerprints: digests of public data and code only ------------------------------------------


@lru_cache(maxsize=1)
def _code_digest() -> str:
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("*")):
        if path.suffix in SOURCE_SUFFIXES and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    digest.update(repr(settings.LANGUAGES).encode())
    return digest.hexdigest()


def _public_records(model: type[models.Model]) -> models.QuerySet[Any]:
    rows = model._base_manager.order_by("pk")
    if any(f.name == "is_public" for f in model._meta.get_fields()):
        rows = rows.filter(is_public=True)
    return rows


def _public_rows(model: type[models.Model]) -> Iterable[tuple[Any, ...]]:
    names = [n for n in public_fields(model) if not model._meta.get_field(n).many_to_many]
    if not names:
        # Nothing of it is ever shown (an audit log, a consent record): it cannot change a page.
        return []
    return _public_records(model).values_list(*names)


def site_digest() -> str:
    """A digest of the code and of every public field of every public record outside the
    newspaper (whose pages have finer fingerprints of their own)."""
    digest = hashlib.sha256(_code_digest().encode())
    for key in sorted(CLASSIFICATION):
        if key.startswith("publishing."):
            continue
        try:
            model = apps.get_model(key)
        except LookupError:
            continue
        digest.update(key.encode())
        for row in _public_rows(model):
            digest.update(repr(row).encode())
        for m2m in model._meta.many_to_many:
            if m2m.name not in public_fields(model):
                continue
            through = m2m.remote_field.through
            owner = f"{m2m.m2m_field_name()}__in"
            links = through._base_manager.filter(**{owner: _public_records(model).values("pk")})
            digest.update(repr(list(links.order_by("pk").values_list())).encode())
    return digest.hexdigest()


def _combine(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


# -- Building ------------------------------------------------------------------------------------


class Mirror:
    def __init__(self, dest: Path, *, progress: TextIO | None = None, workers: int = 1) -> None:
        self.dest = dest
        self.progress = progress
        self.workers = max(1, workers)
        self.host = _host()
        self._origins = (f"http://{self.host}/", f"https://{self.host}/")
        self.client = Client(HTTP_HOST=self.host, HTTP_ACCEPT_LANGUAGE=settings.LANGUAGE_CODE)
        self.factory = RequestFactory(
            HTTP_HOST=self.host, HTTP_ACCEPT_LANGUAGE=settings.LANGUAGE_CODE
        )
        self.static_url = "/" + settings.STATIC_URL.strip("/") + "/"
        self.report = Report()
        self._last_progress = 0.0
        # Filtered pages by their path, for turning filter forms into links (built once).
        self._by_path: dict[str, list[tuple[str, list[tuple[str, str]]]]] | None = None
        # Memos of pure functions of a URL or an href: a site has few distinct links (the
        # navigation repeats on every page), and resolving each again was most of the rewriting.
        self._hrefs: dict[tuple[str, str], tuple[str, str] | None] = {}
        self._namespaces: dict[str, str | None] = {}
        self._matches: dict[str, ResolverMatch | None] = {}
        self._followables: dict[str, bool] = {}
        self._root_follows: dict[str, str | None] = {}
        # By the language of the linking page: a link the mirror cannot follow leads to the
        # offline page of that language.
        self._root_files: dict[str, dict[str, _LinkFile | None]] = {}
        # In any language; "" for the offline page (see _target_file).
        self._targets: dict[str, tuple[str, str | None]] = {}
        self._fragments: dict[tuple[str, ...], str] = {}
        self._directories: set[str] = set()
        self._root = str(dest)
        self._umask_keeps_readable = _umask_keeps_readable()
        self._rewritten: dict[tuple[str, str], tuple[str, frozenset[str]]] = {}
        # Links made relative, by their pages' language and the directory above their pages',
        # and the href: the link, the file it leads to and the static file it needs (see
        # _rewrite_links).
        self._beside: dict[tuple[str, ...], dict[str, tuple[str, str, str | None]]] = {}
        # The filter links of a list's form, and the pages of choices they lead to (by their
        # address); the digest and static files of each such page this process wrote.
        self._filter_navs: dict[tuple[str, ...], tuple[str, frozenset[str]]] = {}
        self._choices: dict[str, _Choices] = {}
        self._choice_files: dict[str, tuple[str, frozenset[str]]] = {}
        # Marks the place of a shared fragment in a page while its links are rewritten.
        self._marker = f"mirror-fragment-{os.urandom(8).hex()}"
        # Set by build() for the writing phase (and read there by forked workers).
        self._planned: set[str] = set()
        self._pages: dict[str, _Page] = {}
        self._old: dict[str, Any] = {}

    # -- reading the old state --

    def _load_manifest(self) -> dict[str, Any]:
        path = self.dest / MANIFEST
        if not path.exists():
            return {"pages": {}, "files": {}}
        try:
            manifest: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError):
            return {"pages": {}, "files": {}}
        if manifest.get("version") != MANIFEST_VERSION:
            return {"pages": {}, "files": {}}
        return manifest

    # -- what to render --

    def _plan(self, site: str) -> dict[str, str]:
        planned: dict[str, str] = {"/": site}
        codes = [code for code, _name in settings.LANGUAGES]
        for code in codes:
            with translation.override(code):
                for url in public_data.documentation_urls():
                    planned.setdefault(url, site)
        for url, fingerprint in public_data.newspaper_pages(codes).items():
            planned[url] = _combine(site, fingerprint) if fingerprint else site
        return planned

    def _match(self, path: str) -> ResolverMatch | None:
        """`resolve(path)` in the path's language (None if nothing), once per path: a page's
        address was resolved three times (its namespace, its batch, its call)."""
        if path not in self._matches:
            # i18n_patterns resolve an address only in its own language.
            language = translation.get_language_from_path(path) or settings.LANGUAGE_CODE
            try:
                with translation.override(language):
                    self._matches[path] = resolve(path)
            except Resolver404:
                self._matches[path] = None
        return self._matches[path]

    def _namespace(self, path: str) -> str | None:
        if path not in self._namespaces:
            match = self._match(path)
            if match is None:
                self._namespaces[path] = None
            else:
                self._namespaces[path] = match.namespace.split(":")[0] if match.namespace else ""
        return self._namespaces[path]

    def _resolve_href(self, page_url: str, href: str) -> tuple[str, str] | None:
        """(site path with query, fragment) `href` on `page_url` points to; None if elsewhere."""
        # A root-relative or absolute href means the same on every page: resolve it once.
        base = "/" if _same_from_every_page(href) else page_url
        key = (base, href)
        if key not in self._hrefs:
            # This site's own address ("http://host/…"): its path is what to look at.
            path = "/" + href.split("/", 3)[3] if href.startswith(self._origins) else href
            if _PLAIN_PATH.fullmatch(path):
                # What the resolution below gives, without it (a tenth of finding the links).
                self._hrefs[key] = (path, "")
                return self._hrefs[key]
            target = urljoin(f"http://{self.host}{base}", html.unescape(href.strip()))
            parts = urlsplit(target)
            if parts.scheme not in {"http", "https"} or parts.netloc != self.host:
                self._hrefs[key] = None
            else:
                path = parts.path + (f"?{parts.query}" if parts.query else "")
                self._hrefs[key] = (path, parts.fragment)
        return self._hrefs[key]

    def _same_site(self, page_url: str, href: str) -> str | None:
        """The site path (with query) `href` on `page_url` points to, or None if elsewhere."""
        found = self._resolve_href(page_url, href)
        return found[0] if found else None

    def _call(self, url: str) -> HttpResponseBase:
        """The site's response to an anonymous GET of `url`.

        The documentation site's and the newspaper's views are thin readers of their public
        data layers and need nothing from the middleware (sessions, CSRF, OTP, audit and
        security headers matter to a live visitor only), so they are called directly with an
        anonymous request: the middleware stack cost more than most pages. Everything else
        (the redirect of "/", campaign pages) goes through the whole stack as before. Either
        way the page is what the site shows an anonymous visitor, and nothing more.
        """
        path = urlsplit(url).path
        language = translation.get_language_from_path(path)
        if language is not None:
            match = self._match(path)
            with translation.override(language):
                if match is not None and match.namespace.split(":")[0] in DIRECT_NAMESPACES:
                    request = self.factory.get(url)
                    request.user = AnonymousUser()
                    request.LANGUAGE_CODE = language
                    # As the handler sets it (the language switch reads it).
                    request.resolver_match = match
                    try:
                        response: HttpResponseBase = match.func(
                            request, *match.args, **match.kwargs
                        )
                    except Http404:
                        return HttpResponseNotFound()
                    if isinstance(response, SimpleTemplateResponse):
                        response.render()
                    return response
        return self.client.get(url)

    def _fetch(self, url: str, fingerprint: str) -> _Page:
        response = self._call(url)
        status = response.status_code
        if status in {301, 302, 303, 307, 308}:
            location = self._same_site(url, response["Location"])
            return _Page(
                url, fingerprint, "redirect" if location else "missing", location=location or ""
            )
        content_type = response.get("Content-Type", "")
        if status != 200:
            return _Page(url, fingerprint, "missing")
        body: bytes = (
            b"".join(response.streaming_content)  # type: ignore[attr-defined]
            if response.streaming
            else response.content  # type: ignore[attr-defined]
        )
        links = self._links(url, body, content_type)
        return _Page(url, fingerprint, "page", content_type, body, links=links)

    def _links(self, url: str, body: bytes, content_type: str) -> list[str]:
        """The pages this one links to that the mirror should hold (each once)."""
        if not self._is_text(content_type):
            return []
        text = body.decode("utf-8", errors="replace")
        if "html" in content_type:
            text = _strip_hreflang(text)
        values = dict.fromkeys(_ATTRIBUTE_VALUE.split(text)[1::3])
        found = [value[1:-1] for value in values if value is not None]
        if _ESCAPED_MARK in text:  # the search would find nothing: not worth a pass
            found += [m[2] for m in _ESCAPED_ATTRIBUTE.finditer(text)]
        if "css" in content_type:
            found += [m[2] for m in _CSS_URL.finditer(text)]
        hrefs = list(dict.fromkeys(found))
        # Most links (the navigation's) were looked up on an earlier page: "" marks the others.
        targets = list(map(self._root_follows.get, hrefs, repeat("")))
        if "" in targets:
            for index, target in enumerate(targets):
                if target == "":
                    targets[index] = self._followed(url, hrefs[index])
        return [target for target in dict.fromkeys(targets) if target is not None]

    def _followed(self, page_url: str, href: str) -> str | None:
        """The page of the mirror `href` on `page_url` leads to (None if none is followed)."""
        # A root-relative href (the navigation, most links) or an absolute one leads to the same
        # page from every page: one look-up, not a resolution and a check per page that has it.
        if _same_from_every_page(href):
            if href not in self._root_follows:
                target = self._same_site("/", href)
                self._root_follows[href] = (
                    target if target is not None and self._followable(target) else None
                )
            return self._root_follows[href]
        target = self._same_site(page_url, href)
        return target if target is not None and self._followable(target) else None

    @staticmethod
    def _is_text(content_type: str) -> bool:
        return any(t in content_type for t in ("html", "xml", "css", "javascript", "calendar"))

    def _followable(self, url: str) -> bool:
        if url not in self._followables:
            path = urlsplit(url).path
            self._followables[url] = not path.startswith(self.static_url) and (
                self._namespace(path) in MIRRORED_NAMESPACES or url == "/"
            )
        return self._followables[url]

    def _render_batch(self, batch: list[tuple[str, str]]) -> list[_Page]:
        """Render pages; the articles among them are loaded in bulk first."""
        articles: dict[str, list[str]] = defaultdict(list)
        # Documentation pages (people, events) are loaded in bulk too: solidarity.public.data.
        records: dict[tuple[str, str], list[str]] = defaultdict(list)
        for url, _fingerprint in batch:
            path = urlsplit(url).path
            language = translation.get_language_from_path(path)
            namespace = self._namespace(path) if language is not None else None
            if language is None or namespace not in {"publishing", "public"}:
                continue
            match = self._match(path)
            if match is None:
                continue
            if namespace == "publishing" and match.url_name == "article":
                articles[language].append(match.kwargs["slug"])
            elif namespace == "public" and "slug" in match.kwargs:
                records[(language, match.url_name or "")].append(match.kwargs["slug"])
        for language, slugs in articles.items():
            with translation.override(language):
                public_data.prefetch_articles(slugs)
        for (language, kind), slugs in records.items():
            with translation.override(language):
                documentation_data.prefetch_pages(kind, slugs)
        return [self._fetch(url, fingerprint) for url, fingerprint in batch]

    def _tick(self, done: int, total: int, what: str = "pages", force: bool = False) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if force or now - self._last_progress > 0.2:
            self._last_progress = now
            self.progress.write(f"\rmirror: {done}/{total} {what}")
            self.progress.flush()
            if force:
                self.progress.write("\n")

    def _reused(self, url: str, fingerprint: str, old: dict[str, Any]) -> _Page | None:
        previous = old["pages"].get(url)
        if (
            not previous
            or previous["fingerprint"] != fingerprint
            or (previous["kind"] == "page" and not (self.dest / previous["file"]).exists())
            or not all(
                file_for(choice) in old.get("files", {}) and (self.dest / file_for(choice)).exists()
                for choice in previous.get("choices", [])
            )
        ):
            return None
        return _Page(
            url,
            fingerprint,
            previous["kind"],
            previous.get("content_type", ""),
            None,
            previous.get("location", ""),
            previous.get("links", []),
        )

    def crawl(
        self, planned: dict[str, str], old: dict[str, Any], site: str, other: str
    ) -> dict[str, _Page]:
        """Every page of the site: the planned ones, then those they link to, round by round
        (the later pages of lists, campaign pages, images). Unchanged pages are not rendered."""
        pages: dict[str, _Page] = {}
        queued = set(planned)
        frontier = list(planned)
        with ExitStack() as stack:
            # Workers are forked once for every round: each keeps what it has learnt (the build
            # cache, converted articles, resolved links), which new ones would learn again.
            pool: Pool | None = None
            while frontier:
                to_render: list[tuple[str, str]] = []
                for url in frontier:
                    fingerprint = planned.get(url) or (
                        other if self._namespace(urlsplit(url).path) == "publishing" else site
                    )
                    page = self._reused(url, fingerprint, old)
                    if page is None:
                        to_render.append((url, fingerprint))
                    else:
                        pages[url] = page
                        self.report.reused += 1
                batches = _batches(to_render, 100)
                if pool is None and len(batches) > 1:
                    if self.workers > 1 and _can_fork():
                        for page in self._warm(to_render):
                            pages[page.url] = page
                            self.report.rendered += 1
                        done = set(pages)
                        batches = _batches([p for p in to_render if p[0] not in done], 100)
                    pool = stack.enter_context(self._pool(self.workers))
                for rendered in self._parallel(_render_task, batches, pool):
                    for page in rendered:
                        pages[page.url] = page
                    self.report.rendered += len(rendered)
                    self._tick(len(pages), len(queued))
                frontier = self._following(frontier, pages, queued)
        self._tick(len(pages), len(queued), force=True)
        return pages

    def _warm(self, to_render: list[tuple[str, str]]) -> list[_Page]:
        """Learn here, once, what every worker would learn again: forked workers share it
        (copy-on-write). Each worker of a cold build listed nearly every article, so loaded
        nearly every summary, in each language; and met each kind of page in each language
        (the newspaper's languages, months and topics, the timeline form's choices, the
        fragments of every page). Returns the pages rendered here: one of each kind and
        language. Only while a build cache is active (outside one nothing would be kept)."""
        if not buildcache.is_active():
            return []
        # A build that renders few pages would not list most articles: not worth loading them.
        if len(to_render) >= WARM_SUMMARIES_FROM:
            public_data.warm_summaries(code for code, _name in settings.LANGUAGES)
        sample: dict[tuple[str | None, str, str | None], tuple[str, str]] = {}
        for url, fingerprint in to_render:
            path = urlsplit(url).path
            match = self._match(path)
            if match is not None:
                kind = (translation.get_language_from_path(path), match.namespace, match.url_name)
                sample.setdefault(kind, (url, fingerprint))
        return self._render_batch(list(sample.values()))

    def _following(
        self, frontier: list[str], pages: dict[str, _Page], queued: set[str]
    ) -> list[str]:
        """The pages the pages of `frontier` lead to that are not queued yet (now queued)."""
        following: list[str] = []
        for url in frontier:
            page = pages[url]
            follow = [page.location] if page.kind == "redirect" else page.links
            for link in follow:
                if link not in queued and self._followable(link):
                    queued.add(link)
                    following.append(link)
        return following

    # -- working in parallel --

    @contextmanager
    def _pool(self, size: int) -> Iterator[Pool | None]:
        """`size` forked worker processes, or None to work in this process: when one worker
        would do, or when the database cannot be opened again by a child (an in-memory
        database, a transaction a child could not see)."""
        global _WORKER
        _WORKER = self
        try:
            if self.workers < 2 or size < 2 or not _can_fork():
                yield None
                return
            # A child must not share the parent's database connection: each opens its own.
            connections.close_all()
            context = multiprocessing.get_context("fork")
            # What the parent learnt (the build cache) is the workers' too: frozen, the
            # children's collections do not walk it (nor copy its pages by touching it).
            gc.freeze()
            try:
                with context.Pool(min(self.workers, size)) as pool:
                    yield pool
            finally:
                gc.unfreeze()
        finally:
            _WORKER = None

    def _parallel(
        self, task: Callable[[_T], _R], batches: list[_T], pool: Pool | None = None
    ) -> Iterator[_R]:
        """`task` over the batches, in order: by `pool`'s workers, or by workers forked for
        these batches when there are several (see _pool)."""
        if pool is not None:
            yield from pool.imap(task, batches)
            return
        with self._pool(len(batches)) as fresh:
            if fresh is not None:
                yield from fresh.imap(task, batches)
                return
            for batch in batches:
                yield task(batch)

    # -- rewriting --

    def _target_file(
        self, target: str, pages: dict[str, _Page], language: str
    ) -> tuple[str, str | None]:
        """The mirror file `target` leads to from a page in `language`, and the static file it
        needs (if it is one)."""
        if target in self._choices:
            return (file_for(target), None)
        found = self._targets.get(target)
        if found is None:
            found = self._targets[target] = self._find_target(target, pages)
        return found if found[0] else (file_for(_offline_page(language)), None)

    def _find_target(self, target: str, pages: dict[str, _Page]) -> tuple[str, str | None]:
        """`_target_file` in any language: "" for a target the mirror cannot hold."""
        path = urlsplit(target).path
        found: tuple[str, str | None]
        if path.startswith(self.static_url):
            name = unquote(path[len(self.static_url) :])
            found = ("static/" + name, name) if finders.find(name) else ("", None)
        elif target in EXTRAS:
            found = (file_for(target), None)
        else:
            page = pages.get(target)
            seen: set[str] = set()
            while page is not None and page.kind == "redirect" and page.url not in seen:
                seen.add(page.url)
                page = pages.get(page.location)
            ok = page is not None and page.kind == "page"
            found = (file_for(page.url) if page is not None and ok else "", None)
        return found

    def _offline_forms(
        self,
        url: str,
        text: str,
        pages: dict[str, _Page],
        shared: list[str],
        choices: set[str] | None = None,
    ) -> str:
        """Forms cannot work in a static copy: each becomes links to the pages it would reach.

        A language switch becomes links to this page in each language; the header's search by
        name becomes a form sent to the offline search page; the timeline's filter form becomes
        links to every filtered page the mirror holds; any other form (a petition, a sign-up)
        becomes a note leading to the offline page. The last three are the same on many
        pages: they are left as markers, their text appended to `shared` (see rewrite).
        """

        def marker(fragment: str) -> str:
            shared.append(fragment)
            return f"\0{self._marker}-{len(shared) - 1}\0"

        def mirrored(target: str | None) -> bool:
            return target is not None and target in pages and pages[target].kind != "missing"

        def replace(attributes: str, inner: str) -> str:
            switches = [(_query(action), label) for action, label in _SWITCH.findall(inner)]
            targets = [(dict(query).get("next"), label) for query, label in switches if query]
            if targets and all(t for t, _label in targets):
                links = []
                for target, label in targets:
                    # A page the mirror holds in one language only (an article) switches to
                    # the home page of the other language.
                    home = "/" + (target or "").strip("/").split("/")[0] + "/"
                    for candidate in (target, home):
                        if mirrored(candidate):
                            links.append(f'<a href="{html.escape(candidate or "")}">{label}</a>')
                            break
                return f'<nav class="language-switch">{" · ".join(links)}</nav>'
            action = _ACTION.search(attributes)
            if "post" not in attributes.lower() and action is not None:
                base = self._same_site(url, action[1])
                if base is not None and self._is_name_search(base):
                    # The header's name search (on every page) searches the copy's own index,
                    # on the search page of the page's language (active here, see rewrite).
                    search = _search_page(translation.get_language())
                    return marker(self._fragment(SITE_SEARCH_FORM, search=search))
                if base is not None:
                    return marker(self._filter_links(base, inner, pages, choices))
            # The note leads to the offline page of the page's language (active here).
            offline = _offline_page(translation.get_language())
            return marker(self._fragment("publishing/mirror_form.html", offline=offline))

        # What `<form\b([^>]*)>(.*?)</form>` (DOTALL) would replace, found with str.find: the
        # lazy group tried "</form>" at every character of a form (a thousand options).
        out: list[str] = []
        position = 0
        while (start := text.find("<form", position)) != -1:
            opening = _FORM_OPENING.match(text, start)
            if opening is None:
                out.append(text[position : start + 5])
                position = start + 5
                continue
            end = text.find("</form>", opening.end())
            if end == -1:
                break
            out.append(text[position:start])
            out.append(replace(opening[1], text[opening.end() : end]))
            position = end + len("</form>")
        if not out:
            return text
        out.append(text[position:])
        return "".join(out)

    def _is_name_search(self, target: str) -> bool:
        """Whether `target` is the site's search by name, which the mirror cannot answer."""
        match = self._match(urlsplit(target).path)
        return match is not None and match.view_name == NAME_SEARCH

    def _fragment(self, template: str, **context: str) -> str:
        """A small template of the mirror's own, rendered once per language and context."""
        key = (template, translation.get_language() or "", *sorted(context.items()))
        flat = tuple(str(part) for part in key)
        if flat not in self._fragments:
            self._fragments[flat] = render_to_string(template, context)
        return self._fragments[flat]

    def _filter_links(
        self, base: str, inner: str, pages: dict[str, _Page], choices: set[str] | None = None
    ) -> str:
        """The filter form `inner` (of the list at `base`) as links to the filtered pages the
        mirror holds; the pages of choices it links to are added to `choices`."""
        # Every page of a timeline shows the same form but for what is selected: its links are
        # made once (a timeline by person has a thousand options to read).
        language = translation.get_language() or ""
        path = urlsplit(base).path
        key = ("filters", language, path, inner.replace(" selected", ""))
        if key not in self._filter_navs:
            self._filter_navs[key] = self._filter_nav(path, inner, pages)
        nav, used = self._filter_navs[key]
        if choices is not None:
            choices.update(used)
        return nav

    def _filter_nav(
        self, path: str, inner: str, pages: dict[str, _Page]
    ) -> tuple[str, frozenset[str]]:
        labels_by_id = {i: re.sub(r"<[^>]+>", "", t).strip() for i, t in _LABEL.findall(inner)}
        # A label tag ends with the form's label suffix (":"), which the links' heading adds.
        field_labels = {
            name: labels_by_id.get(i, name).removesuffix(":").rstrip()
            for name, i in _NAMED.findall(inner)
        }
        option_labels = {v: html.unescape(t).strip() for v, t in _OPTION.findall(inner)}
        groups: dict[str, list[tuple[str, str]]] = {name: [] for name in field_labels}
        for url, query in self._filtered_pages(pages).get(path, []):
            if len(query) == 1 and query[0][0] in groups:
                value = query[0][1]
                groups[query[0][0]].append((option_labels.get(value, value), url))
        rows: list[tuple[str, list[tuple[str, str]], str, int]] = []
        used: set[str] = set()
        for name, links in groups.items():
            if not links:
                continue
            links.sort()
            if len(links) > FILTER_INLINE_LIMIT and _SAFE_QUERY.fullmatch(name):
                # Not repeated on every page of the list (that grew with the square of the
                # number of people): one link to a page of the mirror's own that lists them.
                choice = self._choices_page(path, name, field_labels[name], links, pages)
                used.add(choice)
                rows.append((field_labels[name], [], choice, len(links)))
            else:
                rows.append((field_labels[name], links, "", 0))
        nav = render_to_string("publishing/mirror_filters.html", {"groups": rows})
        return nav, frozenset(used)

    def _filtered_pages(
        self, pages: dict[str, _Page]
    ) -> dict[str, list[tuple[str, list[tuple[str, str]]]]]:
        """The pages with a query the mirror holds, by their path, with their query read (found
        once: each list's form in each language looks at them all)."""
        if self._by_path is None:
            self._by_path = defaultdict(list)
            for url, page in pages.items():
                parts = urlsplit(url)
                if parts.query and page.kind == "page":
                    self._by_path[parts.path].append((url, parse_qsl(parts.query)))
        return self._by_path

    def _choices_page(
        self,
        path: str,
        name: str,
        label: str,
        links: list[tuple[str, str]],
        pages: dict[str, _Page],
    ) -> str:
        """The address of the page of every choice of the filter `name` of the list at `path`
        (in the current language, as `path` is), registered to be written with the list."""
        stem, _dot, _suffix = file_for(path).rpartition(".")
        url = f"/{stem}.choose-{name}.html"
        if url not in self._choices:
            # file_for never makes such a name of a site address (a query becomes "--"), but a
            # page of the site must never be overwritten by one of the mirror's own.
            if url in pages or url in EXTRAS:
                raise MirrorError(f"{url} is both a page of the site and a page of choices")
            self._choices[url] = _Choices(url, path, label, tuple(links))
        return url

    def _choices_file(self, url: str, pages: dict[str, _Page], statics: set[str]) -> bytes:
        """The page of choices `url`, rendered in its list's language like the list's pages."""
        choices = self._choices[url]
        language = translation.get_language_from_path(url) or settings.LANGUAGE_CODE
        with translation.override(language):
            # A request for the list itself: the page's language switch leads to the list in
            # the other languages. Anonymous, as every page of the mirror.
            request = self.factory.get(choices.listing)
            request.user = AnonymousUser()
            body = render_to_string(
                "publishing/mirror_choices.html",
                {"label": choices.label, "listing": choices.listing, "links": choices.links},
                request=request,
            )
        return self.rewrite(url, body.encode(), "text/html", pages, statics)

    def rewrite(
        self,
        url: str,
        body: bytes,
        content_type: str,
        pages: dict[str, _Page],
        statics: set[str],
        choices: set[str] | None = None,
    ) -> bytes:
        """The page `url` made for the mirror: its links relative, its forms links. The static
        files it uses are added to `statics`, the pages of choices it links to to `choices`."""
        own = file_for(url)
        text = body.decode("utf-8")
        shared: list[str] = []
        # What the mirror adds (the filter links' heading, the notes on forms that need the
        # live site) is in the page's language, whatever rendering the page left active.
        language = _page_language(url)
        with translation.override(language):
            if "html" in content_type:
                text = _strip_hreflang(text)
                text = self._offline_forms(url, text, pages, shared, choices)
            text = self._rewrite_links(url, own, text, content_type, pages, statics)
            if shared:
                # A filter form's links (a thousand on a timeline by person) are the same on
                # every page of a directory: rewritten once per directory, not once per page.
                done = [self._shared_fragment(url, own, part, pages, statics) for part in shared]
                for index, part in enumerate(done):
                    text = text.replace(f"\0{self._marker}-{index}\0", part, 1)
            if "html" in content_type:
                search = _relative(own, file_for(_search_page(language)))
                note = self._fragment("publishing/mirror_note.html", search=search)
                text = _BODY.sub(lambda m: m.group(0) + note, text, count=1)
        return text.encode("utf-8")

    def _shared_fragment(
        self, url: str, own: str, fragment: str, pages: dict[str, _Page], statics: set[str]
    ) -> str:
        key = (own.rpartition("/")[0], fragment)
        if key not in self._rewritten:
            used: set[str] = set()
            text = self._rewrite_links(url, own, fragment, "text/html", pages, used)
            self._rewritten[key] = (text, frozenset(used))
        text, used_here = self._rewritten[key]
        statics.update(used_here)
        return text

    def _rewrite_links(
        self,
        url: str,
        own: str,
        text: str,
        content_type: str,
        pages: dict[str, _Page],
        statics: set[str],
    ) -> str:
        """Every link of `text` (on the page `url`, in the file `own`) made relative."""

        start = _quoted_parts(own)[:-1]
        language = _page_language(url)
        root_files = self._root_files.setdefault(language, {})
        # Most pages are alone in their directory (en/people/x/index.html) and link to the same
        # places as the pages beside it: a link that leads out of the page's directory is "../"
        # and the link from the directory above, the same from each of them. Those of hrefs
        # that mean the same on every page are made once per directory above and language (a
        # link the mirror cannot follow leads to the offline page of the page's language: one
        # made for en/index.html is not one for ru/index.html).
        beside = self._beside.setdefault((language, *start[:-1]), {}) if start else {}
        inside = "/".join(start) + "/"

        def link(href: str) -> str | None:
            known = beside.get(href)
            if known is not None and not known[1].startswith(inside):
                new, _target, static = known
            else:
                # A root-relative href (the navigation, most links) was found on an earlier page.
                if href in root_files:
                    found = root_files[href]
                else:
                    found = self._link_file(url, href, pages, language)
                if found is None:
                    return None
                target, suffix, static = found
                new = _relative_parts(start, target) + suffix
                name = "/".join(target)
                if href in root_files and not name.startswith(inside):
                    beside[href] = (new, name, static)
            if static is not None:
                statics.add(static)
            return new

        def escaped(match: re.Match[str]) -> str:
            new = link(match.group(2))
            if new is None:
                return match.group(0)
            return f"{match.group(1)}=&quot;{html.escape(html.escape(new))}&quot;"

        def css(match: re.Match[str]) -> str:
            new = link(match.group(2))
            return match.group(0) if new is None else f'url("{new}")'

        if "css" in content_type:
            return _CSS_URL.sub(css, text)
        parts = _ATTRIBUTE_VALUE.split(text)
        # A page repeats its links (a list names each topic and author many times): each
        # distinct value of this page is made relative once.
        replaced: dict[str, str] = {}
        for index in range(1, len(parts), 3):
            value = parts[index]
            if value is None:  # the value of "formaction", "data-href"...: no link, kept
                parts[index] = "=" + parts[index + 1]
            else:
                new = replaced.get(value)
                if new is None:
                    href = link(value[1:-1])
                    # A relative link is made of quote()d parts, "../" and "#": nothing in it
                    # needs escaping in an attribute (html.escape would return it unchanged).
                    new = replaced[value] = "=" + value if href is None else f'="{href}"'
                parts[index] = new
            parts[index + 1] = ""
        text = "".join(parts)
        return _ESCAPED_ATTRIBUTE.sub(escaped, text) if _ESCAPED_MARK in text else text

    def _link_file(
        self, url: str, href: str, pages: dict[str, _Page], language: str
    ) -> _LinkFile | None:
        """Where `href` on the page `url` (in `language`) leads in the mirror: the quoted parts
        of the file's name, the fragment to add ("#…" or ""), the static file it needs; None if
        elsewhere."""
        # A root-relative or absolute href leads to the same file from every page of a
        # language: found once per language.
        root = _same_from_every_page(href)
        root_files = self._root_files.setdefault(language, {})
        if root and href in root_files:
            return root_files[href]
        found = self._resolve_href(url, href)
        result = None
        if found is not None:
            target, fragment = found
            name, static = self._target_file(target, pages, language)
            result = (_quoted_parts(name), f"#{quote(fragment)}" if fragment else "", static)
        if root:
            root_files[href] = result
        return result

    def _redirect_page(self, url: str, target_file: str) -> bytes:
        rel = _relative(file_for(url), target_file)
        with translation.override(settings.LANGUAGE_CODE):
            page = render_to_string("publishing/mirror_redirect.html", {"target": rel})
        return page.encode()

    # -- writing --

    def _write(self, name: str, content: bytes, old_files: dict[str, str]) -> tuple[str, bool]:
        """Write `content` to `name` unless the file already holds it: (digest, written).

        Written to a temporary name in the same directory, then renamed over the old file, so
        a reader (a web server, an interrupted run) never sees half a file.
        """
        digest = hashlib.sha256(content).hexdigest()
        # Plain strings and os calls: four system calls for a new file (open, write, close,
        # rename), where a Path and a Python file object cost seven and most of the time.
        path = f"{self._root}/{name}"
        if old_files.get(name) == digest and os.path.exists(path):
            return digest, False
        directory, _slash, filename = path.rpartition("/")
        if directory not in self._directories:
            self._make_directory(directory)
        # Unique per process; an earlier crash's leftover of the same name is overwritten.
        tmp = f"{directory}/.tmp-{os.getpid()}-{filename}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
            try:
                if not self._umask_keeps_readable:
                    os.fchmod(fd, 0o644)  # readable by a web server whatever the umask
                view = memoryview(content)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return digest, True

    def _make_directory(self, directory: str) -> None:
        """Make `directory` (and those above it) unless there. One whose parent this process
        made or found is made with one system call (makedirs looks at the parent first): most
        of the 16,000 directories of a large mirror."""
        parent = directory.rpartition("/")[0]
        try:
            if parent not in self._directories:
                raise FileNotFoundError(parent)
            os.mkdir(directory)
        except FileExistsError:
            pass
        except FileNotFoundError:
            os.makedirs(directory, exist_ok=True)
            while len(parent) >= len(self._root) and parent not in self._directories:
                self._directories.add(parent)  # made, or found, by makedirs
                parent = parent.rpartition("/")[0]
        self._directories.add(directory)

    def _put(
        self, name: str, content: bytes, old_files: dict[str, str], new_files: dict[str, str]
    ) -> None:
        digest, written = self._write(name, content, old_files)
        new_files[name] = digest
        if written:
            self.report.written += 1
        else:
            self.report.unchanged += 1

    def _output(self, url: str, pages: dict[str, _Page], old: dict[str, Any]) -> _Output:
        """The file of one page (rewritten and written if it was rendered) and its manifest
        entry."""
        page = pages[url]
        out = _Output(url, {"fingerprint": page.fingerprint, "kind": page.kind})
        # Only links to pages outside the plan are kept: a re-run reuses them to find pages
        # such as the later pages of a list without rendering the page that links to them.
        out.entry["links"] = [link for link in page.links if link not in self._planned]
        old_files: dict[str, str] = old.get("files", {})
        name = file_for(url)
        if page.kind == "redirect":
            out.entry["location"] = page.location
            if not urlsplit(url).query:
                target, _static = self._target_file(page.location, pages, _page_language(url))
                self._record(out, name, self._redirect_page(url, target), old_files)
                out.entry["file"] = name
        elif page.kind == "page":
            out.entry["file"] = name
            out.entry["content_type"] = page.content_type
            if page.body is None:
                out.files[name] = old_files[name]
                out.unchanged += 1
                # Static files and pages of choices a reused page uses are still needed.
                previous = old["pages"][url]
                out.entry["statics"] = previous.get("statics", [])
                out.entry["choices"] = previous.get("choices", [])
                for choice in out.entry["choices"]:
                    out.files[file_for(choice)] = old_files[file_for(choice)]
            else:
                used: set[str] = set()
                choices: set[str] = set()
                content = page.body
                if self._is_text(page.content_type):
                    content = self.rewrite(url, page.body, page.content_type, pages, used, choices)
                self._record(out, name, content, old_files)
                for choice in sorted(choices):
                    used.update(self._record_choices(out, choice, pages, old_files))
                out.entry["statics"] = sorted(used)
                if choices:
                    out.entry["choices"] = sorted(choices)
        return out

    def _record_choices(
        self, out: _Output, url: str, pages: dict[str, _Page], old_files: dict[str, str]
    ) -> frozenset[str]:
        """Record the page of choices `url` as a file of `out` (written once by this process,
        for the first page of its list), and give the static files it uses."""
        name = file_for(url)
        if url not in self._choice_files:
            used: set[str] = set()
            content = self._choices_file(url, pages, used)
            digest, out.choices[name] = self._write(name, content, old_files)
            self._choice_files[url] = (digest, frozenset(used))
        digest, used_there = self._choice_files[url]
        out.files[name] = digest
        return used_there

    def _record(self, out: _Output, name: str, content: bytes, old_files: dict[str, str]) -> None:
        digest, written = self._write(name, content, old_files)
        out.files[name] = digest
        if written:
            out.written += 1
        else:
            out.unchanged += 1

    def build(self) -> Report:
        started = time.monotonic()
        self.dest.mkdir(parents=True, exist_ok=True)
        old = self._load_manifest()
        old_files: dict[str, str] = old.get("files", {})
        site = site_digest()
        planned = self._plan(site)
        self._planned = set(planned)
        newspaper = _combine(site, *sorted(v for k, v in planned.items()))
        # Pages found only by following links (later pages of lists, campaign pages) depend on
        # the site's data; the newspaper's (its images) on anything in the newspaper.
        pages = self.crawl(planned, old, site, newspaper)

        new_files: dict[str, str] = {}
        statics: set[str] = set()
        manifest_pages: dict[str, Any] = {}
        self._pages = pages
        self._old = old
        done = 0
        counted: set[str] = set()
        # Reused pages only need their manifest entry: no worker is started for them.
        fresh = [url for url, page in pages.items() if page.body is not None]
        reused = [[self._output(url, pages, old) for url in pages if pages[url].body is None]]
        for outputs in chain(reused, self._parallel(_output_task, _batches(fresh, 200))):
            for out in outputs:
                manifest_pages[out.url] = out.entry
                new_files.update(out.files)
                statics.update(out.entry.get("statics", []))
                self.report.written += out.written
                self.report.unchanged += out.unchanged
                for name, written in out.choices.items():
                    if name not in counted:
                        counted.add(name)
                        self.report.written += written
                        self.report.unchanged += not written
            done += len(outputs)
            self._tick(done, len(pages), "files")
        self._tick(done, len(pages), "files", force=True)

        self._write_extras(pages, statics, old_files, new_files)
        for name in sorted(statics):
            content = _static_file(name)
            if name.endswith(".css"):
                content = self.rewrite(self.static_url + name, content, "text/css", pages, set())
            self._put("static/" + name, content, old_files, new_files)

        for name in set(old_files) - set(new_files):
            path = self.dest / name
            if path.exists():
                path.unlink()
                self.report.deleted += 1
            self._prune(path.parent)

        manifest = {"version": MANIFEST_VERSION, "pages": manifest_pages, "files": new_files}
        self._write(MANIFEST, json.dumps(manifest, sort_keys=True).encode(), {})
        self.report.files = len(new_files)
        self.report.seconds = time.monotonic() - started
        return self.report

    def _prune(self, directory: Path) -> None:
        while directory != self.dest and directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
            directory = directory.parent

    def _write_extras(
        self,
        pages: dict[str, _Page],
        statics: set[str],
        old_files: dict[str, str],
        new_files: dict[str, str],
    ) -> None:
        """The offline pages and the search pages (one of each per language, and the search
        page that forwards to them), the search's script and its index."""
        with translation.override(settings.LANGUAGE_CODE):
            self._put(file_for(SEARCH_PAGE), self._search_forward(), old_files, new_files)
        for code, url in OFFLINE_PAGES.items():
            with translation.override(code):
                body = self._offline_page_body()
            self._put_page(url, body, pages, statics, old_files, new_files)
        for code, url in SEARCH_PAGES.items():
            with translation.override(code):
                body = self._search_page_body(url)
            self._put_page(url, body, pages, statics, old_files, new_files)
        index = json.dumps(self._search_index(pages), ensure_ascii=False, sort_keys=True)
        self._put("search-index.json", index.encode(), old_files, new_files)
        # file:// forbids reading a JSON file from a page, so the page loads it as a script.
        script = f"window.solidaritySearchIndex = {index};\n"
        self._put("search-index.js", script.encode(), old_files, new_files)
        self._put("search.js", _static_file("publishing/search.js"), old_files, new_files)

    def _put_page(
        self,
        url: str,
        body: bytes,
        pages: dict[str, _Page],
        statics: set[str],
        old_files: dict[str, str],
        new_files: dict[str, str],
    ) -> None:
        """Write a page of the mirror's own, made for the mirror like the site's pages."""
        used: set[str] = set()
        content = self.rewrite(url, body, "text/html", pages, used)
        statics.update(used)
        self._put(file_for(url), content, old_files, new_files)

    def _search_page_body(self, url: str) -> bytes:
        """The search page `url`, in the active language. Its language switch leads to the
        search page of each language: the site's switch knows no such page and led home."""
        root = "../" * file_for(url).count("/")
        context = {"root": root, "default_language": settings.LANGUAGE_CODE}
        body = render_to_string("publishing/mirror_search.html", context)
        switch = _language_switch(SEARCH_PAGES)
        return _LANGUAGE_SWITCH.sub(lambda _match: switch, body, count=1).encode()

    def _offline_page_body(self) -> bytes:
        """The offline page of the active language, with the site's layout in that language.
        Its links lead to that language's pages; its language switch, to the offline page of
        each language (the site's switch, rendered without a page, led to the home page)."""
        body = render_to_string("publishing/mirror_offline.html", {})
        switch = _language_switch(OFFLINE_PAGES)
        return _LANGUAGE_SWITCH.sub(lambda _match: switch, body, count=1).encode()

    def _search_forward(self) -> bytes:
        """/search.html: the search page before there was one per language. Old links and
        bookmarks (with their ?q=…) lead on to the page in the reader's browser's language."""
        languages = [
            (code, name, file_for(SEARCH_PAGES[code]))
            for code, name in settings.LANGUAGES
            if code in SEARCH_PAGES
        ]
        default = file_for(_search_page(settings.LANGUAGE_CODE))
        context = {"languages": languages, "default": default}
        return render_to_string("publishing/mirror_search_forward.html", context).encode()

    def _search_index(self, pages: dict[str, _Page]) -> list[dict[str, Any]]:
        """The entries the search pages search: each article in its own language; each person,
        organisation and event in the default language, with its address (and its name and
        summary where they differ) in each other language the mirror holds its page in."""

        def held(entry: public_data.SearchEntry) -> bool:
            return entry.url in pages and pages[entry.url].kind == "page"

        with translation.override(settings.LANGUAGE_CODE):
            found = [entry for entry in public_data.search_entries() if held(entry)]
        entries: list[dict[str, Any]] = [
            {
                "kind": entry.kind,
                "title": entry.title,
                "text": entry.text,
                "lang": entry.language,
                "url": _from_root(entry.url),
            }
            for entry in found
        ]
        records = {
            (entry.kind, _without_language(entry.url)): made
            for entry, made in zip(found, entries, strict=True)
            if not entry.language
        }
        for code in SEARCH_PAGES:
            if code == settings.LANGUAGE_CODE:
                continue
            with translation.override(code):
                others = public_data.record_search_entries()
            for other in others:
                record = records.get((other.kind, _without_language(other.url)))
                if record is None or not held(other):
                    continue
                page = {"url": _from_root(other.url)}
                # Only what differs: most names are written the same in every language.
                page.update(
                    (key, value)
                    for key, value in (("title", other.title), ("text", other.text))
                    if value != record[key]
                )
                record.setdefault("pages", {})[code] = page
        return entries


@dataclass
class _Output:
    url: str
    entry: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)
    written: int = 0
    unchanged: int = 0
    # Pages of choices this output wrote (True) or found unchanged (False): each worker writes
    # one for the first page of its list, and the report counts it once.
    choices: dict[str, bool] = field(default_factory=dict)


# -- Worker processes ------------------------------------------------------------------------------
# A forked worker finds the Mirror (and, while writing, the crawled pages) in this global, set by
# Mirror._pool before the fork: the pages are never copied through a pipe to the workers.

_WORKER: Mirror | None = None


def _worker() -> Mirror:
    if _WORKER is None:
        raise MirrorError("no mirror is being built")
    return _WORKER


def _render_task(batch: list[tuple[str, str]]) -> list[_Page]:
    with buildcache.active():
        return _worker()._render_batch(batch)


def _output_task(urls: list[str]) -> list[_Output]:
    mirror = _worker()
    with buildcache.active():
        return [mirror._output(url, mirror._pages, mirror._old) for url in urls]


def _batches(items: list[_T], size: int) -> list[list[_T]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def _can_fork() -> bool:
    """Whether worker processes could open the database themselves and see what we see."""
    if not hasattr(os, "fork"):
        return False
    for connection in connections.all():
        if connection.in_atomic_block:
            return False  # a child would not see this transaction's uncommitted rows
        if connection.vendor == "sqlite" and connection.is_in_memory_db():  # type: ignore[attr-defined]
            return False  # a child cannot open this process's in-memory database
    return True


def _static_file(name: str) -> bytes:
    found = finders.find(name)
    if not isinstance(found, str):
        raise MirrorError(f"static file {name} not found")
    return Path(found).read_bytes()


def build_mirror(
    dest: Path, *, progress: TextIO | None = None, workers: int | None = None
) -> Report:
    """Write or update the mirror in `dest`, with `workers` processes (default: one per CPU,
    at most four)."""
    if workers is None:
        workers = min(os.cpu_count() or 1, 4)
    # Each request activates its page's language; the mirror's own texts use the default.
    with translation.override(settings.LANGUAGE_CODE), buildcache.active():
        return Mirror(dest, progress=progress, workers=workers).build()
