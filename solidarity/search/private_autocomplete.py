"""The admin's autocomplete widgets, with the typed name posted instead of put in the URL.

Threat (threat model M19, ASVS 14.2.1): Django's select2 widgets ask
`/admin/autocomplete/?term=Kurmanov&app_label=…` as they type, so every name typed into a
person, organisation or source picker lands in the reverse proxy's access log (not in the
history: the request is an XHR). Here the widgets post the same parameters, with the CSRF token
(search/static/search/admin-autocomplete.js), and a GET carrying a term is refused, so that a
page where that script did not load fails visibly instead of falling back to the URL.

Everything else is Django's AutocompleteJsonView, run unchanged on the posted parameters: the
source field and to_field checks, the view permission, the field's limit_choices_to, and the
model admin's get_queryset and get_search_results (section-scoped in this project).
"""

from __future__ import annotations

import copy
from typing import Any

from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.http import HttpRequest, HttpResponse, JsonResponse

TERM_VAR = "term"


class PostedAutocompleteJsonView(AutocompleteJsonView):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.GET.get(TERM_VAR):
            # The name is in this one log line already; refusing keeps it from being the way
            # the widget works (an old cached script, another client). No results are given.
            return JsonResponse(
                {"error": "The search term is accepted in the body of a POST only."}, status=400
            )
        # An empty term names nobody: the first page of choices may still be asked by GET.
        response: HttpResponse = super().get(request, *args, **kwargs)
        return response

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Django's view reads its parameters, the page number included, from `request.GET`.
        # It is given a copy of the request whose GET is the posted form, rather than a copy of
        # its code: every check it makes stays Django's, through upgrades too. The request the
        # middleware sees keeps its own (empty) GET, so nothing that logs it sees the term.
        params = request.POST
        posted = copy.copy(request)
        posted.GET = params
        self.request = posted
        response: HttpResponse = super().get(posted, *args, **kwargs)
        return response
