"""The back office on host names of its own (ASVS 3.5.4; threat model D11).

Threat addressed: the public site is what a state blocks, seizes or has a provider hand over,
and what every reader, crawler and probe knows the address of. If /admin/, /accounts/ and
/api/ answered there too, taking or watching the public host would give the adversary the
login page to phish or guess against, and the API that carries personal data. With
SOLIDARITY_BACKOFFICE_HOSTS set (say, an .onion name and a host name nobody links to), the
back office answers only on those hosts, and the public site only on the others.

Each side answers the other's addresses exactly as it answers an address that does not exist:
the request goes through every middleware as usual, but with a URLconf that lacks the other
side's patterns (request.urlconf), so the resolver itself gives the 404 — the same page, the
same headers, no redirect (not even APPEND_SLASH's or the language prefix's), nothing that
says the back office lives elsewhere. Reversing URLs is untouched (the request keeps the full
URLconf whenever its own side is served), so a back-office page can still name a public page.

The public site does not answer on a back-office host: a public page's absolute links
(canonical, structured data, feeds, the petition form's confirmation e-mails) are built from
the host it is served on, so a page read there and shared, or an address copied from the
browser, would publish the back-office host; and a back-office host that shows nothing at "/"
is one a prober cannot match to the organisation's public site by its content.

Left on both sides: the language switch (/i18n/setlang/, which both sides' forms post to) and
static files (WhiteNoise answers them before any URL is resolved; the admin needs its CSS).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import import_module
from types import ModuleType

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.http.request import split_domain_port
from django.urls import URLPattern, URLResolver

# First segments of the addresses only staff (and their integrations) use. The API is among
# them: its tokens are made by staff, it carries personal data, and an OSDI client is given
# one base URL, which can as well be the back office's (its OpenAPI schema goes with it).
BACK_OFFICE_SEGMENTS = frozenset({"admin", "accounts", "api"})
# Except the open exports of public records (api/exports.py: no token, the public site's own
# data), which are the public site's.
PUBLIC_UNDER = {"api": frozenset({"popolo", "export"})}
# Addresses that both sides use: the language switch.
SHARED_SEGMENTS = frozenset({"i18n"})

Handler = Callable[[HttpRequest], HttpResponseBase]


def backoffice_hosts() -> frozenset[str]:
    hosts: list[str] = list(getattr(settings, "SOLIDARITY_BACKOFFICE_HOSTS", []))
    return frozenset(normalise(h) for h in hosts if h.strip())


def normalise(host: str) -> str:
    return host.strip().lower().rstrip(".")


def is_backoffice_host(request: HttpRequest) -> bool:
    # get_host() has already refused a host outside ALLOWED_HOSTS (DisallowedHost, a 400).
    domain, _port = split_domain_port(request.get_host())
    return normalise(domain) in backoffice_hosts()


def side_of(path: str) -> str:
    """Which side an address belongs to ("back office", "shared" or "public"), by its first
    segment: "/admin" is the back office's as much as "/admin/", or APPEND_SLASH would
    redirect the one to the other on a host that does not serve it."""
    first, _slash, rest = path.lstrip("/").partition("/")
    if rest.split("/", 1)[0] in PUBLIC_UNDER.get(first, ()):
        return "public"
    if first in BACK_OFFICE_SEGMENTS:
        return "back office"
    if first in SHARED_SEGMENTS:
        return "shared"
    return "public"


def _route(pattern: URLPattern | URLResolver) -> str | None:
    # i18n_patterns (LocalePrefixPattern) have none; they are the public site's.
    route = getattr(pattern.pattern, "_route", None)
    return route if isinstance(route, str) else None


def _without(
    patterns: list[URLPattern | URLResolver], side: str, prefix: str = ""
) -> list[URLPattern | URLResolver]:
    kept: list[URLPattern | URLResolver] = []
    for pattern in patterns:
        route = _route(pattern)
        if route is None:
            if side != "public":
                kept.append(pattern)
            continue
        first = (prefix + route).partition("/")[0]
        if isinstance(pattern, URLResolver) and first in PUBLIC_UNDER and not prefix:
            # Both sides live under it (/api/): told apart by the next segment.
            inner = _without(pattern.url_patterns, side, route)
            if inner:
                kept.append(
                    URLResolver(
                        pattern.pattern,
                        inner,
                        pattern.default_kwargs,
                        pattern.app_name,
                        pattern.namespace,
                    )
                )
        elif side_of(prefix + route) != side:
            kept.append(pattern)
    return kept


def hides(request: HttpRequest) -> bool:
    """Whether this request's address belongs to the side this host does not serve (set by
    the middleware below): other middleware must then treat it as any missing page."""
    return getattr(request, "urlconf", None) in _HIDING.values()


_HIDING: dict[tuple[str, str], ModuleType] = {}


@cache
def urlconf_without(side: str, root: str) -> ModuleType:
    """The project's URLconf without one side's patterns, as a module: built once (Django
    caches a resolver per URLconf, so a new one per request would grow without bound), and
    hashable as that cache requires."""
    full = import_module(root)
    module = ModuleType(f"{root}.without_{side.replace(' ', '_')}")
    # The same error pages as the full URLconf, should it ever name its own.
    for handler in ("handler400", "handler403", "handler404", "handler500"):
        if hasattr(full, handler):
            setattr(module, handler, getattr(full, handler))
    module.urlpatterns = _without(full.urlpatterns, side)  # type: ignore[attr-defined]
    _HIDING[side, root] = module
    return module


class BackOfficeHostsMiddleware:
    """Serves the back office on SOLIDARITY_BACKOFFICE_HOSTS only, and the public site on the
    other allowed hosts only; with the setting empty (the demo), both everywhere."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if backoffice_hosts():
            hidden = "public" if is_backoffice_host(request) else "back office"
            if side_of(request.path_info) == hidden:
                # Django reads it in place of ROOT_URLCONF for this request.
                request.urlconf = urlconf_without(hidden, settings.ROOT_URLCONF)  # type: ignore[attr-defined]
        return self.get_response(request)


def public_host() -> str | None:
    """The public site's host name: the first allowed host that is not a back-office host
    (a pattern such as ".example.org" stands for example.org), or None if there is none."""
    office = backoffice_hosts()
    for pattern in settings.ALLOWED_HOSTS:
        name = normalise(pattern.lstrip("."))
        if name and name != "*" and name not in office:
            return name
    return None


def public_base_url(request: HttpRequest) -> str:
    """The public site's address ("https://host", no slash), for links that leave the back
    office for the public: the confirmation and unsubscribe links of e-mails to supporters,
    and the public pages named in API documents and exports.

    Built from the request's own host, they would carry a back-office host into mailboxes
    and published data (publishing the very name D11 keeps apart), and lead to a 404 there.
    """
    own = request.build_absolute_uri("/").rstrip("/")
    host = public_host()
    if host is None or not backoffice_hosts() or not is_backoffice_host(request):
        return own
    # An .onion back office may well be plain http; the public site is https in production.
    scheme = "https" if getattr(settings, "HTTPS", False) else request.scheme
    return f"{scheme}://{host}"
