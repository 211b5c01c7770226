"""Thin views of the public site: each asks `data` for plain public values and renders them.

Nothing here touches a model. A record that is not public, and one that does not exist, get
the same 404 page, so the site never confirms that something is being withheld.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from . import data
from .forms import TimelineFilterForm
from .values import TimelineFilters


def _not_found(request: HttpRequest) -> HttpResponse:
    # The same page for every address, in each language: no alternates, no way back to the
    # address itself, so a withheld record's 404 cannot be told from a missing one's.
    return render(request, "public/not_found.html", {"not_found": True}, status=404)


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "public/home.html", {"home": data.home()})


@require_safe
def organisation_list(request: HttpRequest) -> HttpResponse:
    page = data.organisations(request.GET.get("page"))
    return render(request, "public/organisation_list.html", {"page": page})


@require_safe
def organisation_detail(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = data.organisation(slug)
    if organisation is None:
        return _not_found(request)
    return render(request, "public/organisation_detail.html", {"organisation": organisation})


@require_safe
def person_list(request: HttpRequest) -> HttpResponse:
    page = data.people(request.GET.get("page"))
    return render(request, "public/person_list.html", {"page": page})


@require_safe
def person_detail(request: HttpRequest, slug: str) -> HttpResponse:
    person = data.person(slug)
    if person is None:
        return _not_found(request)
    return render(request, "public/person_detail.html", {"person": person})


@require_safe
def event_list(request: HttpRequest) -> HttpResponse:
    form = TimelineFilterForm(request.GET or None)
    filters = form.filters()
    page = data.timeline(filters, request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "filtered": filters != TimelineFilters() or bool(form.is_bound and form.errors),
    }
    return render(request, "public/event_list.html", context)


@require_safe
def event_detail(request: HttpRequest, slug: str) -> HttpResponse:
    event = data.event(slug)
    if event is None:
        return _not_found(request)
    return render(request, "public/event_detail.html", {"event": event})


@require_safe
def source_list(request: HttpRequest) -> HttpResponse:
    page = data.sources(request.GET.get("page"))
    return render(request, "public/source_list.html", {"page": page})


def _posted_from_this_site(request: HttpRequest) -> bool:
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        own = f"{request.scheme}://{request.get_host()}"
        return origin == own or origin in settings.CSRF_TRUSTED_ORIGINS
    # Without a usable Origin (a page under a no-referrer policy sends "null"), the browser's
    # own account of where the request started.
    return request.headers.get("Sec-Fetch-Site") == "same-origin"


@csrf_exempt
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language, refusing a post from another site by its origin, not a token.

    A token would put a CSRF cookie on every reader of the public site and a fresh random
    string into every page, for the sake of this one form. Browsers say where a form was
    posted from; a post from anywhere else is refused, as Django's own check refuses it.
    """
    if not _posted_from_this_site(request):
        return HttpResponseForbidden(
            _("The language can only be changed from this site's own pages."),
            content_type="text/plain; charset=utf-8",
        )
    return i18n.set_language(request)
