"""Thin views of the public site: each asks `data` for plain public values and renders them.

Nothing here touches a model. A record that is not public, and one that does not exist, get
the same 404 page, so the site never confirms that something is being withheld.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from . import data
from .forms import TimelineFilterForm
from .values import TimelineFilters


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "public/not_found.html", status=404)


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
