"""`solidarity mirror DIR`: a self-contained static copy of the public site.

What goes in: every page an anonymous visitor can reach on the public site, the newspaper and
the campaign pages (enumerated from the public data, then completed by following every link),
the Atom feeds, the images of published articles, the static files they use, and an offline
search (an index as JSON, the same as a script for file://, a small search script and page).
Pages are rendered by the site's own views through Django's test client as an anonymous
visitor, so the mirror can hold nothing the public site would not show.

Every link to the site is rewritten to a relative link to a file (`…/index.html`), so the copy
works from a USB stick (file://) and from any sub-path of any host. A link to a page that cannot
work offline (the admin, a form's target, the language switch) leads to `offline.html`.

Incremental: `.mirror-manifest.json` keeps, for every page, a fingerprint of what it shows and
the hash of the file written. A re-run renders only pages whose fingerprint changed, writes only
files whose content changed (to a temporary name, then renamed), and deletes files that are
no longer part of the site. Fingerprints are digests of public data only, and of the code.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import posixpath
import re
import tempfile
import time
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import models
from django.http import HttpResponseBase
from django.template.loader import render_to_string
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import translation

from solidarity.core.classification import CLASSIFICATION, public_fields

from . import public_data

MANIFEST = ".mirror-manifest.json"
MANIFEST_VERSION = 1
# URL namespaces whose pages belong in the mirror. Anything else (admin, accounts, API) is
# not followed: a link to it leads to offline.html.
MIRRORED_NAMESPACES = frozenset({"public", "publishing", "campaigns"})
SEARCH_PAGE = "/search.html"
OFFLINE_PAGE = "/offline.html"
# Files of the mirror's own, beside the site's pages.
EXTRAS = frozenset(
    {SEARCH_PAGE, OFFLINE_PAGE, "/search.js", "/search-index.js", "/search-index.json"}
)
SOURCE_SUFFIXES = {".py", ".html", ".css", ".js", ".txt", ".mo", ".json", ".yaml"}

_ATTRIBUTE = re.compile(r"""(\s(?:href|src|action))=(?:"([^"]*)"|'([^']*)')""")
_ESCAPED_ATTRIBUTE = re.compile(r"(\s(?:href|src))=&quot;(.*?)&quot;")
_ATOM_LINK = re.compile(r"""(<link\b[^>]*?\shref)="([^"]*)\"""")
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
_BODY = re.compile(r"<body[^>]*>")
# Alternate-language hints are for search engines on the live site. The mirror holds an
# article in its own language only, so they are dropped rather than followed.
_HREFLANG = re.compile(r"<link\b[^>]*\bhreflang=[^>]*>\n?")
_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.DOTALL)
_OPTION = re.compile(r'<option value="([^"]+)"[^>]*>(.*?)</option>', re.DOTALL)
_LABEL = re.compile(r'<label for="([^"]+)"[^>]*>(.*?)</label>', re.DOTALL)
_NAMED = re.compile(r'<(?:select|input)\b[^>]*\bname="([^"]+)"[^>]*\bid="([^"]+)"')
_SWITCH = re.compile(r'<button\b[^>]*\bformaction="([^"]+)"[^>]*>(.*?)</button>', re.DOTALL)
_SAFE_QUERY = re.compile(r"[A-Za-z0-9_.-]+")


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


def _relative(from_file: str, to_file: str) -> str:
    start = posixpath.dirname(from_file) or "."
    return quote(posixpath.relpath(to_file, start))


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
    def __init__(self, dest: Path, *, progress: TextIO | None = None) -> None:
        self.dest = dest
        self.progress = progress
        self.host = _host()
        self.client = Client(HTTP_HOST=self.host, HTTP_ACCEPT_LANGUAGE=settings.LANGUAGE_CODE)
        self.static_url = "/" + settings.STATIC_URL.strip("/") + "/"
        self.report = Report()
        self._last_progress = 0.0
        # Filtered pages by their path, for turning filter forms into links (built once).
        self._by_path: dict[str, list[tuple[str, str]]] | None = None

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
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                for url in public_data.documentation_urls():
                    planned.setdefault(url, site)
                for url, fingerprint in public_data.newspaper_pages().items():
                    planned[url] = _combine(site, fingerprint) if fingerprint else site
        return planned

    def _namespace(self, path: str) -> str | None:
        # i18n_patterns resolve an address only in its own language.
        language = translation.get_language_from_path(path) or settings.LANGUAGE_CODE
        try:
            with translation.override(language):
                match = resolve(path)
        except Resolver404:
            return None
        return match.namespace.split(":")[0] if match.namespace else ""

    def _same_site(self, page_url: str, href: str) -> str | None:
        """The site path (with query) `href` on `page_url` points to, or None if elsewhere."""
        target = urljoin(f"http://{self.host}{page_url}", html.unescape(href.strip()))
        parts = urlsplit(target)
        if parts.scheme not in {"http", "https"} or parts.netloc != self.host:
            return None
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def _fetch(self, url: str, fingerprint: str) -> _Page:
        response: HttpResponseBase = self.client.get(url)
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
        if not self._is_text(content_type):
            return []
        text = body.decode("utf-8", errors="replace")
        if "html" in content_type:
            text = _HREFLANG.sub("", text)
        found = [m[2] if m[2] is not None else m[3] for m in _ATTRIBUTE.finditer(text)]
        found += [m[2] for m in _ESCAPED_ATTRIBUTE.finditer(text)]
        if "css" in content_type:
            found += [m[2] for m in _CSS_URL.finditer(text)]
        return [t for t in (self._same_site(url, href) for href in found) if t is not None]

    @staticmethod
    def _is_text(content_type: str) -> bool:
        return any(t in content_type for t in ("html", "xml", "css", "javascript", "calendar"))

    def _followable(self, url: str) -> bool:
        path = urlsplit(url).path
        if path.startswith(self.static_url):
            return False
        return self._namespace(path) in MIRRORED_NAMESPACES or url == "/"

    def _tick(self, done: int, total: int, force: bool = False) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if force or now - self._last_progress > 0.2:
            self._last_progress = now
            self.progress.write(f"\rmirror: {done}/{total} pages")
            self.progress.flush()

    def crawl(
        self, planned: dict[str, str], old: dict[str, Any], site: str, other: str
    ) -> dict[str, _Page]:
        pages: dict[str, _Page] = {}
        queue = deque(planned)
        queued = set(planned)
        while queue:
            url = queue.popleft()
            fingerprint = planned.get(url) or (
                other if self._namespace(urlsplit(url).path) == "publishing" else site
            )
            previous = old["pages"].get(url)
            if (
                previous
                and previous["fingerprint"] == fingerprint
                and (previous["kind"] != "page" or (self.dest / previous["file"]).exists())
            ):
                page = _Page(
                    url,
                    fingerprint,
                    previous["kind"],
                    previous.get("content_type", ""),
                    None,
                    previous.get("location", ""),
                    previous.get("links", []),
                )
                self.report.reused += 1
            else:
                page = self._fetch(url, fingerprint)
                self.report.rendered += 1
            pages[url] = page
            follow = [page.location] if page.kind == "redirect" else page.links
            for link in follow:
                if link not in queued and self._followable(link):
                    queued.add(link)
                    queue.append(link)
            self._tick(len(pages), len(queued))
        self._tick(len(pages), len(queued), force=True)
        if self.progress is not None:
            self.progress.write("\n")
        return pages

    # -- rewriting --

    def _target_file(self, target: str, pages: dict[str, _Page], statics: set[str]) -> str:
        path = urlsplit(target).path
        if path.startswith(self.static_url):
            name = unquote(path[len(self.static_url) :])
            if finders.find(name):
                statics.add(name)
                return "static/" + name
            return file_for(OFFLINE_PAGE)
        if target in EXTRAS:
            return file_for(target)
        page = pages.get(target)
        seen: set[str] = set()
        while page is not None and page.kind == "redirect" and page.url not in seen:
            seen.add(page.url)
            page = pages.get(page.location)
        if page is None or page.kind != "page":
            return file_for(OFFLINE_PAGE)
        return file_for(page.url)

    def _offline_forms(self, url: str, text: str, pages: dict[str, _Page]) -> str:
        """Forms cannot work in a static copy: each becomes links to the pages it would reach.

        A language switch becomes links to this page in each language; the timeline's filter
        form becomes links to every filtered page the mirror holds; any other form (a petition,
        a sign-up) becomes a note leading to offline.html.
        """

        def mirrored(target: str | None) -> bool:
            return target is not None and target in pages and pages[target].kind != "missing"

        def replace(match: re.Match[str]) -> str:
            attributes, inner = match[1], match[2]
            switches = [
                (parse_qsl(urlsplit(html.unescape(action)).query), label)
                for action, label in _SWITCH.findall(inner)
            ]
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
            action = re.search(r'action="([^"]*)"', attributes)
            if "post" not in attributes.lower() and action is not None:
                base = self._same_site(url, action[1])
                if base is not None:
                    return self._filter_links(base, inner, pages)
            return render_to_string("publishing/mirror_form.html", {"offline": OFFLINE_PAGE})

        return _FORM.sub(replace, text)

    def _filter_links(self, base: str, inner: str, pages: dict[str, _Page]) -> str:
        labels_by_id = {i: re.sub(r"<[^>]+>", "", t).strip() for i, t in _LABEL.findall(inner)}
        field_labels = {name: labels_by_id.get(i, name) for name, i in _NAMED.findall(inner)}
        option_labels = {v: html.unescape(t).strip() for v, t in _OPTION.findall(inner)}
        groups: dict[str, list[tuple[str, str]]] = {name: [] for name in field_labels}
        if self._by_path is None:
            self._by_path = defaultdict(list)
            for url, page in pages.items():
                parts = urlsplit(url)
                if parts.query and page.kind == "page":
                    self._by_path[parts.path].append((url, parts.query))
        for url, raw_query in self._by_path.get(urlsplit(base).path, []):
            query = parse_qsl(raw_query)
            if len(query) == 1 and query[0][0] in groups:
                value = query[0][1]
                groups[query[0][0]].append((option_labels.get(value, value), url))
        return render_to_string(
            "publishing/mirror_filters.html",
            {
                "groups": [
                    (field_labels[name], sorted(links)) for name, links in groups.items() if links
                ]
            },
        )

    def rewrite(
        self, url: str, body: bytes, content_type: str, pages: dict[str, _Page], statics: set[str]
    ) -> bytes:
        own = file_for(url)

        def link(href: str) -> str | None:
            target = self._same_site(url, href)
            if target is None:
                return None
            fragment = urlsplit(html.unescape(href)).fragment
            rel = _relative(own, self._target_file(target, pages, statics))
            return rel + (f"#{quote(fragment)}" if fragment else "")

        text = body.decode("utf-8")
        if "html" in content_type:
            text = _HREFLANG.sub("", text)
            text = self._offline_forms(url, text, pages)

        def attribute(match: re.Match[str]) -> str:
            value = match.group(2) if match.group(2) is not None else match.group(3)
            new = link(value)
            return match.group(0) if new is None else f'{match.group(1)}="{html.escape(new)}"'

        def escaped(match: re.Match[str]) -> str:
            new = link(match.group(2))
            if new is None:
                return match.group(0)
            return f"{match.group(1)}=&quot;{html.escape(html.escape(new))}&quot;"

        def css(match: re.Match[str]) -> str:
            new = link(match.group(2))
            return match.group(0) if new is None else f'url("{new}")'

        if "css" in content_type:
            text = _CSS_URL.sub(css, text)
        else:
            text = _ATTRIBUTE.sub(attribute, text)
            text = _ESCAPED_ATTRIBUTE.sub(escaped, text)
        if "html" in content_type:
            with translation.override(translation.get_language_from_path(url)):
                note = render_to_string(
                    "publishing/mirror_note.html",
                    {"search": _relative(own, file_for(SEARCH_PAGE))},
                )
            text = _BODY.sub(lambda m: m.group(0) + note, text, count=1)
        return text.encode("utf-8")

    def _redirect_page(self, url: str, target_file: str) -> bytes:
        rel = _relative(file_for(url), target_file)
        with translation.override(settings.LANGUAGE_CODE):
            page = render_to_string("publishing/mirror_redirect.html", {"target": rel})
        return page.encode()

    # -- writing --

    def _write(
        self, name: str, content: bytes, old_files: dict[str, str], new_files: dict[str, str]
    ) -> None:
        digest = hashlib.sha256(content).hexdigest()
        new_files[name] = digest
        path = self.dest / name
        if old_files.get(name) == digest and path.exists():
            self.report.unchanged += 1
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.report.written += 1

    def build(self) -> Report:
        started = time.monotonic()
        self.dest.mkdir(parents=True, exist_ok=True)
        old = self._load_manifest()
        old_files: dict[str, str] = old.get("files", {})
        site = site_digest()
        planned = self._plan(site)
        newspaper = _combine(site, *sorted(v for k, v in planned.items()))
        # Pages found only by following links (later pages of lists, campaign pages) depend on
        # the site's data; the newspaper's (its images) on anything in the newspaper.
        pages = self.crawl(planned, old, site, newspaper)

        new_files: dict[str, str] = {}
        statics: set[str] = set()
        manifest_pages: dict[str, Any] = {}
        for url, page in pages.items():
            entry: dict[str, Any] = {
                "fingerprint": page.fingerprint,
                "kind": page.kind,
                "links": page.links,
            }
            if page.kind == "redirect":
                entry["location"] = page.location
                name = file_for(url)
                if not urlsplit(url).query:
                    target = self._target_file(page.location, pages, statics)
                    self._write(name, self._redirect_page(url, target), old_files, new_files)
                    entry["file"] = name
            elif page.kind == "page":
                name = file_for(url)
                entry["file"] = name
                entry["content_type"] = page.content_type
                if page.body is None:
                    previous = old["pages"][url]
                    new_files[name] = old_files[name]
                    self.report.unchanged += 1
                    # Static files a reused page uses are still needed.
                    statics.update(previous.get("statics", []))
                    entry["statics"] = previous.get("statics", [])
                else:
                    used: set[str] = set()
                    content = page.body
                    if self._is_text(page.content_type):
                        content = self.rewrite(url, page.body, page.content_type, pages, used)
                    statics.update(used)
                    entry["statics"] = sorted(used)
                    self._write(name, content, old_files, new_files)
            manifest_pages[url] = entry

        self._write_extras(pages, statics, old_files, new_files)
        for name in sorted(statics):
            content = _static_file(name)
            if name.endswith(".css"):
                content = self.rewrite(self.static_url + name, content, "text/css", pages, set())
            self._write("static/" + name, content, old_files, new_files)

        for name in set(old_files) - set(new_files):
            path = self.dest / name
            if path.exists():
                path.unlink()
                self.report.deleted += 1
            self._prune(path.parent)

        manifest = {"version": MANIFEST_VERSION, "pages": manifest_pages, "files": new_files}
        self._write(MANIFEST, json.dumps(manifest, sort_keys=True).encode(), {}, {})
        self.report.written -= 1  # the manifest itself is not part of the site
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
        """The offline page, the search page, its script and its index."""
        with translation.override(settings.LANGUAGE_CODE):
            for url, template in ((OFFLINE_PAGE, "offline"), (SEARCH_PAGE, "search")):
                body = render_to_string(f"publishing/mirror_{template}.html", {}).encode()
                used: set[str] = set()
                content = self.rewrite(url, body, "text/html", pages, used)
                statics.update(used)
                self._write(file_for(url), content, old_files, new_files)
            search_file = file_for(SEARCH_PAGE)
            entries = [
                {
                    "kind": entry.kind,
                    "title": entry.title,
                    "text": entry.text,
                    "lang": entry.language,
                    "url": _relative(search_file, file_for(entry.url)),
                }
                for entry in public_data.search_entries()
                if entry.url in pages and pages[entry.url].kind == "page"
            ]
        index = json.dumps(entries, ensure_ascii=False, sort_keys=True)
        self._write("search-index.json", index.encode(), old_files, new_files)
        # file:// forbids reading a JSON file from a page, so the page loads it as a script.
        script = f"window.solidaritySearchIndex = {index};\n"
        self._write("search-index.js", script.encode(), old_files, new_files)
        self._write("search.js", _static_file("publishing/search.js"), old_files, new_files)


def _static_file(name: str) -> bytes:
    found = finders.find(name)
    if not isinstance(found, str):
        raise MirrorError(f"static file {name} not found")
    return Path(found).read_bytes()


def build_mirror(dest: Path, *, progress: TextIO | None = None) -> Report:
    # Each request activates its page's language; the mirror's own texts use the default.
    with translation.override(settings.LANGUAGE_CODE):
        return Mirror(dest, progress=progress).build()
