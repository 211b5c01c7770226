"""Thin views of the newspaper: each asks `public_data` for plain public values and renders them.

A draft, a scheduled article and one that does not exist get the same 404 page, so the site
never confirms that something is waiting to be published.
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from . import public_data as data


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "public/not_found.html", status=404)


def _nav() -> dict[str, object]:
    return {"languages": data.languages()}


@require_safe
def front(request: HttpRequest) -> HttpResponse:
    return render(request, "publishing/front.html", {"front": data.front_page(), **_nav()})


@require_safe
def language(request: HttpRequest, code: str) -> HttpResponse:
    articles = data.language_page(code)
    if articles is None:
        return _not_found(request)
    context = {
        "articles": articles,
        "code": code,
        "language_name": data.LANGUAGE_NAMES[code],
        **_nav(),
    }
    return render(request, "publishing/language.html", context)


@require_safe
def archive(request: HttpRequest) -> HttpResponse:
    return render(request, "publishing/archive.html", {"months": data.months(), **_nav()})


@require_safe
def month(request: HttpRequest, year: int, month: str) -> HttpResponse:
    found = data.month_page(year, int(month), request.GET.get("page"))
    if found is None:
        return _not_found(request)
    info, page = found
    return render(request, "publishing/month.html", {"month": info, "page": page, **_nav()})


@require_safe
def article(request: HttpRequest, slug: str) -> HttpResponse:
    found = data.article(slug)
    if found is None:
        return _not_found(request)
    return render(request, "publishing/article.html", {"article": found, **_nav()})


@require_safe
def image(request: HttpRequest, slug: str, pk: int, suffix: str) -> HttpResponse | FileResponse:
    found = data.image_file(slug, pk)
    if found is None or not found.name.lower().endswith(f".{suffix}"):
        return _not_found(request)
    if not default_storage.exists(found.name):
        return _not_found(request)
    response = FileResponse(default_storage.open(found.name), content_type=found.content_type)
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_safe
def issue_list(request: HttpRequest) -> HttpResponse:
    return render(request, "publishing/issue_list.html", {"issues": data.issues(), **_nav()})


@require_safe
def issue(request: HttpRequest, slug: str) -> HttpResponse:
    found = data.issue_detail(slug, request.GET.get("page"))
    if found is None:
        return _not_found(request)
    info, page = found
    context = {"issue": info, "page": page, **_nav()}
    return render(request, "publishing/issue.html", context)


@require_safe
def topic_list(request: HttpRequest) -> HttpResponse:
    return render(request, "publishing/topic_list.html", {"topics": data.topics(), **_nav()})


@require_safe
def topic(request: HttpRequest, slug: str) -> HttpResponse:
    found = data.topic_page(slug, request.GET.get("page"))
    if found is None:
        return _not_found(request)
    info, page = found
    context = {"topic": info, "page": page, **_nav()}
    return render(request, "publishing/topic.html", context)


@require_safe
def author_list(request: HttpRequest) -> HttpResponse:
    return render(request, "publishing/author_list.html", {"authors": data.authors(), **_nav()})


@require_safe
def author(request: HttpRequest, slug: str) -> HttpResponse:
    found = data.author_page(slug, request.GET.get("page"))
    if found is None:
        return _not_found(request)
    info, page = found
    context = {"author": info, "page": page, **_nav()}
    return render(request, "publishing/author.html", context)
