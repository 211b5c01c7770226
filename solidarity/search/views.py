"""The public search page (HTML or JSON) and the back office's search, merge and unmerge pages.

The public view asks :mod:`.public_data` for plain public values. The back office views
reach records only through the safety access functions: a person of another section is
not found, and merging needs the right to delete both records (a coordinator's).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.contrib import admin, messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from solidarity.campaigns import throttle
from solidarity.documentation.models import Person
from solidarity.safety.access import can, get_for_user, scoped, sections_for

from . import private_search, public_data, services
from .merge import MergeError, merge_people, unmerge
from .models import MergeRecord, Target
from .names import likely_same_person

# -- Public site --------------------------------------------------------------------------------


def _query(request: HttpRequest) -> str:
    return " ".join(request.GET.get("q", "").split())[: services.MAX_QUERY_LENGTH]


def _too_many(request: HttpRequest, query: str, wants_json: bool) -> HttpResponse:
    """429 with Retry-After, in the reader's language, having searched nothing."""
    message = _(
        "Too many searches have come from your connection in the last minute. "
        "Please wait a little and try again."
    )
    response: HttpResponse
    if wants_json:
        response = JsonResponse({"error": message}, status=429)
    else:
        context = {"search_query": query, "too_many": message}
        response = render(request, "search/results.html", context, status=429)
    response["Retry-After"] = str(_search_rate()[1])
    return response


def _search_rate() -> tuple[int, int]:
    return throttle.rate("SOLIDARITY_SEARCH_RATE", "30/60")


@require_safe
@vary_on_headers("Accept")
def public_search(request: HttpRequest) -> HttpResponse:
    query = _query(request)
    wants_json = request.get_preferred_type(["text/html", "application/json"]) == "application/json"
    # Threat: a script walking the alphabet through the fuzzy name search to list everyone
    # documented, or just making every query cost us a trigram scan. Counted per client like
    # the public forms; only queries count, the empty search page is free.
    if query and not throttle.allow(request, "search", limit=_search_rate()):
        return _too_many(request, query, wants_json)
    results = public_data.results(query) if query else []
    if wants_json:
        return JsonResponse(
            {
                "query": query,
                "results": [
                    {**asdict(r), "url": request.build_absolute_uri(r.url)} for r in results
                ],
            },
            json_dumps_params={"ensure_ascii": False},
        )
    return render(
        request,
        "search/results.html",
        {
            "search_query": query,
            "results": results,
            "people_url": reverse("public:person_list"),
            "events_url": reverse("public:event_list"),
        },
    )


# -- Back office --------------------------------------------------------------------------------


def _admin_url(target: str, pk: int) -> str:
    model = services.MODELS[target]
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk])


@require_http_methods(["GET", "HEAD", "POST"])
def admin_search(request: HttpRequest) -> HttpResponse:
    """People, organisations, places and events of the user's sections, from one box.

    The box posts and the page answers with a session token (`_s`), as the change lists do
    (private_search.py): the name never sits in the URL, the proxy's log or the history."""
    answered = private_search.answer(request, request.method == "POST")
    if isinstance(answered, HttpResponse):
        return answered
    query = " ".join(answered.split())[: services.MAX_QUERY_LENGTH]
    rows: list[dict[str, Any]] = []
    if query:
        hits = services.search(query, public_only=False, limit=200)
        visible = services.visible_hits(
            hits, lambda model: scoped(model._default_manager.all(), request.user, "view")
        )[:50]
        labels = {
            Target.PERSON: _("person"),
            Target.ORGANISATION: _("organisation"),
            Target.PLACE: _("place"),
            Target.EVENT: _("event"),
        }
        objects: dict[tuple[str, int], Any] = {}
        for target, model in services.MODELS.items():
            pks = [h.pk for h in visible if h.target == target]
            for found in model._default_manager.filter(pk__in=pks):
                objects[(target, found.pk)] = found
        for hit in visible:
            obj = objects.get((hit.target, hit.pk))
            if obj is not None:
                rows.append(
                    {
                        "hit": hit,
                        "label": labels[Target(hit.target)],
                        "object": obj,
                        "url": _admin_url(hit.target, hit.pk),
                        "is_public": getattr(obj, "is_public", False),
                    }
                )
    context = {
        **admin.site.each_context(request),
        "title": _("Search every record"),
        "query": query,
        "rows": rows,
    }
    return TemplateResponse(request, "admin/search/search.html", context)


def _person_for_merge(request: HttpRequest, pk: Any) -> Person:
    person = get_for_user(Person, request.user, pk, "view")
    if not can(request.user, "delete", Person, person):
        # Merging removes a record: only those who may delete it (coordinators) may merge.
        raise Http404("No person found.")
    return person


def _summary(person: Person) -> dict[str, Any]:
    counted = (
        Person.objects.filter(pk=person.pk)
        .annotate(
            n_acts=Count("acts", distinct=True),
            n_memberships=Count("memberships", distinct=True),
            n_participations=Count("participations", distinct=True),
            n_prosecutions=Count("prosecutions", distinct=True),
            n_detentions=Count("detentions", distinct=True),
        )
        .get()
    )
    return {
        "person": person,
        "names": list(person.names.values_list("name", flat=True)),
        "acts": counted.n_acts,
        "memberships": counted.n_memberships,
        "participations": counted.n_participations,
        "prosecutions": counted.n_prosecutions,
        "detentions": counted.n_detentions,
        "url": _admin_url(Target.PERSON, person.pk),
    }


def merge_view(request: HttpRequest) -> HttpResponse:
    """Compare two people and merge the second into the first chosen one, after confirming."""
    source = request.POST if request.method == "POST" else request.GET
    a = _person_for_merge(request, source.get("a"))
    b = _person_for_merge(request, source.get("b"))
    if a.pk == b.pk:
        raise Http404("Choose two different people.")
    if request.method == "POST":
        keep, remove = (a, b) if source.get("keep") == str(a.pk) else (b, a)
        if source.get("keep") not in {str(a.pk), str(b.pk)}:
            messages.error(request, _("Choose which record to keep."))
        else:
            try:
                record = merge_people(
                    keep, remove, user=request.user, reason=source.get("reason", "")
                )
            except MergeError as error:
                messages.error(request, str(error))
            else:
                messages.success(
                    request,
                    _("%(removed)s was merged into %(kept)s. The merge can be undone from %(log)s.")
                    % {
                        "removed": record.removed_name,
                        "kept": keep.full_name,
                        "log": _("the list of merges"),
                    },
                )
                return HttpResponseRedirect(_admin_url(Target.PERSON, keep.pk))
    likely, value, reason = likely_same_person(
        services.name_forms(a), services.name_forms(b), a.birth_year, b.birth_year
    )
    context = {
        **admin.site.each_context(request),
        "title": _("Merge two people"),
        "a": _summary(a),
        "b": _summary(b),
        "likely": likely,
        "score": value,
        "reason": reason,
    }
    return TemplateResponse(request, "admin/search/merge.html", context)


@require_POST
def unmerge_view(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(MergeRecord, pk=pk)
    _person_for_merge(request, record.kept_id)
    # The restored record returns to its own section: the user must be able to remove
    # records there too, as for the merge itself.
    if record.removed.get("fields", {}).get("section") not in sections_for(request.user, "delete"):
        raise Http404("No merge found.")
    try:
        restored = unmerge(record, user=request.user)
    except MergeError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(reverse("admin:search_mergerecord_change", args=[record.pk]))
    messages.success(
        request,
        _("The merge was undone: %(name)s is a record of its own again.")
        % {"name": restored.full_name},
    )
    return HttpResponseRedirect(_admin_url(Target.PERSON, restored.pk))
