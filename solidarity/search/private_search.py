"""Back-office searches without the searched name in any URL.

Threat (threat model M19, ASVS 14.2.1): Django's change list searches by GET, so
`/admin/documentation/person/?q=Kurmanov` puts the name of a persecuted person in the reverse
proxy's access log, in the browser history of a laptop a state may seize, and in every link the
result page builds (sorting, pages, filters, "back to the list" after a save). Here the search
box posts (with the CSRF token, and `autocomplete="off"` so that the browser's form history
does not keep it either); the text is kept in the user's own session, encrypted under the
keyring, under a random token, and the list is answered with `_s=<token>` instead. The token
names nothing once the session is gone: logging out, or the session's time limit, empties it.

`PrivateSearch` is mixed into every ModelAdmin the back-office site registers
(`SolidarityAdminSite.register`), so no admin has to opt in; the site-wide search page
(`search.views.admin_search`) uses the same store.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.contrib.admin.views.main import (
    ERROR_FLAG,
    PAGE_VAR,
    SEARCH_VAR,
    ChangeList,
    ChangeListSearchForm,
)
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.utils.translation import gettext as _

from solidarity.safety.crypto import (
    DecryptionError,
    associated_data,
    decrypt_personal,
    encrypt_personal,
)

TOKEN_VAR = "_s"  # noqa: S105 (a parameter name, not a secret)
SESSION_KEY = "kept_searches"
# The recalled text, on the request, between the view and its change list.
KEPT_ATTRIBUTE = "_solidarity_kept_search"
# Bounded so that the session row does not grow into a record of every name ever searched:
# an older search's links then show the list unsearched, with a message.
MAX_KEPT = 20
MAX_LENGTH = 500


class HttpResponseSeeOther(HttpResponseRedirect):
    # 303: the browser follows with a GET, and Back does not offer to post the name again.
    status_code = 303


def _sealed(token: str, text: str) -> str:
    # Under the keyring, bound to its token: the session row is only signed, and sits in the
    # database file, its WAL and every backup while the session lives; a searched supporter's
    # address or a name must be no more readable there than in the tables (M19).
    return encrypt_personal(text, associated_data("search", "kept", token))


def _opened(token: str, stored: object) -> str | None:
    if not isinstance(stored, str):
        return None
    try:
        return decrypt_personal(stored, associated_data("search", "kept", token))
    except DecryptionError:
        return None  # another keyring, or altered: as if it had expired


def keep(session: SessionBase, text: str) -> str:
    """Keep `text` in `session` (encrypted); the token that names it (the same one for a text
    kept already). The oldest kept text goes beyond MAX_KEPT."""
    text = text[:MAX_LENGTH]
    stored = session.get(SESSION_KEY)
    kept: dict[str, str] = dict(stored) if isinstance(stored, dict) else {}
    token = next((t for t, sealed in kept.items() if _opened(t, sealed) == text), None)
    if token is None:
        token = secrets.token_urlsafe(9)
    else:
        del kept[token]  # moved to the end: the newest
    kept[token] = _sealed(token, text)
    while len(kept) > MAX_KEPT:
        del kept[next(iter(kept))]
    session[SESSION_KEY] = kept
    return token


def recall(session: SessionBase, token: str) -> str | None:
    """The text kept under `token`, or None if there is none (another session's token, one
    dropped as too old, or one that no longer opens)."""
    kept = session.get(SESSION_KEY) or {}
    return _opened(token, kept.get(token)) if isinstance(kept, dict) else None


def searched_url(request: HttpRequest, text: str) -> str:
    """This page's URL with `text` kept as a token in place of any search: every other
    parameter stays (filters, ordering, popup), the page goes back to the first."""
    params = request.GET.copy()
    for name in (SEARCH_VAR, TOKEN_VAR, PAGE_VAR, ERROR_FLAG):
        params.pop(name, None)
    if text.strip():
        params[TOKEN_VAR] = keep(request.session, text)
    return _with_query(request.path, params)


def expired_url(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop(TOKEN_VAR, None)
    return _with_query(request.path, params)


def _with_query(path: str, params: QueryDict) -> str:
    return f"{path}?{params.urlencode()}" if params else path


def expired_message() -> str:
    return _("That search has expired. Please search again.")


class _KeptSearchForm(ChangeListSearchForm):
    """Django's search form, given the kept text whatever the query string says."""

    kept = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__({SEARCH_VAR: self.kept}, **kwargs)


class PrivateSearchChangeList(ChangeList):
    """A change list whose search comes from `_s` (the session), never from `q`.

    Its links are built from the request's own parameters, which carry `_s` and no `q`:
    sorting, pages, filters, "show all", and the `_changelist_filters` of change pages (so the
    redirect after a save returns to the searched list).
    """

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        # What PrivateSearch.changelist_view recalled (one decryption per request); recalled
        # here only for a list built some other way.
        text = getattr(request, KEPT_ATTRIBUTE, None)
        if text is None:
            text = recall(request.session, request.GET.get(TOKEN_VAR, "")) or ""
        self.search_form_class = type("KeptSearchForm", (_KeptSearchForm,), {"kept": text})
        super().__init__(request, *args, **kwargs)
        # PrivateSearch.changelist_view redirects a `q` away first; should this list be built
        # from a request carrying one all the same, no link repeats it.
        self.params.pop(SEARCH_VAR, None)
        self.filter_params.pop(SEARCH_VAR, None)

    def get_filters_params(self, params: dict[str, Any] | None = None) -> dict[str, Any]:
        lookup: dict[str, Any] = super().get_filters_params(params)
        # The token is not a field to filter on (Django ignores its own `q` the same way).
        lookup.pop(TOKEN_VAR, None)
        return lookup


class PrivateSearch:
    """For every back-office ModelAdmin: the change list's search by POST and token."""

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return PrivateSearchChangeList

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        searching = _is_search_post(request)
        if searching and not self.has_view_or_change_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        answered = answer(request, searching)
        if isinstance(answered, HttpResponse):
            return answered
        setattr(request, KEPT_ATTRIBUTE, answered)  # read by PrivateSearchChangeList
        response: HttpResponse = super().changelist_view(  # type: ignore[misc]
            request, extra_context
        )
        return response


def answer(request: HttpRequest, searching: bool) -> HttpResponse | str:
    """What a page searching privately answers first: a 303 to its own URL with a token for a
    posted search (`searching`) or a `q` in the URL, a 303 without the token (and a message)
    for a token that names nothing; else the kept text ("" for no search)."""
    if searching:
        return HttpResponseSeeOther(searched_url(request, request.POST.get(SEARCH_VAR, "")))
    if SEARCH_VAR in request.GET:
        # An old bookmark, a link from elsewhere, a hand-typed URL: the name is in the one
        # log line this request made, but not in the next, nor in any link of the list.
        return HttpResponseSeeOther(searched_url(request, request.GET[SEARCH_VAR]))
    token = request.GET.get(TOKEN_VAR)
    if token is None:
        return ""
    kept = recall(request.session, token)
    if kept is None:
        messages.warning(request, expired_message())
        return HttpResponseSeeOther(expired_url(request))
    return kept


def _is_search_post(request: HttpRequest) -> bool:
    # The list's other forms post here too (actions, the editable columns); only the search
    # box posts the search field, and neither of them does.
    return (
        request.method == "POST"
        and SEARCH_VAR in request.POST
        and not {"action", "index", "_save"} & set(request.POST)
    )


def with_private_search(admin_class: type[Any]) -> type[Any]:
    """`admin_class`, or a subclass of it with PrivateSearch first among its bases."""
    if issubclass(admin_class, PrivateSearch):
        return admin_class
    return type(
        admin_class.__name__,
        (PrivateSearch, admin_class),
        {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
    )
