"""The OSDI endpoints under /api/v2/: thin adapters over the campaigns domain.

A token acts for its user, never beyond: every row is read through `solidarity.safety.access`
with the token user's roles, so a token sees only its user's sections (an insider's token
reaches no other section's supporters; another section's petition, signature or event answers
404, as a missing one does: threat model D6). Supporters' names, addresses and comments are
personal data: people, signatures and attendances come only from sections where the user's
role reads personal fields (`scoped_reading`). The token's scopes then say which resources it
may touch at all (`auth.HasScopes`).

Reading is plain queries; the one write, the record-signature helper, goes through
`campaigns.services.sign_petition` after the public form's own validation (`SignForm`), so a
signature that arrives by API obeys exactly the rules of one typed into the public page:
consent, confirmation by e-mail, one signature per address.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Model, Q, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ParseError, PermissionDenied
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from solidarity.accounts.hosts import public_base_url
from solidarity.audit.personal import personal_among
from solidarity.audit.services import record_personal_list, record_personal_read
from solidarity.campaigns import services, tags
from solidarity.campaigns.forms import SignForm
from solidarity.campaigns.models import (
    Action,
    Petition,
    Rsvp,
    Signature,
    Supporter,
    Tag,
    Tagging,
)
from solidarity.core.classification import FieldClass
from solidarity.core.models import Section
from solidarity.safety.access import (
    MULTI_PARENT_PATHS,
    get_for_user,
    scoped,
    scoped_reading,
    sections_for,
)
from solidarity.safety.policy import Kind

from . import osdi
from .osdi import JSON

M = TypeVar("M", bound=Model)


def _visible(request: Request, queryset: QuerySet[M]) -> QuerySet[M]:
    """Rows the token's user may view in their sections."""
    return scoped(queryset, request.user, "view")


def _personal(request: Request, queryset: QuerySet[M]) -> QuerySet[M]:
    """Rows the token's user may view together with their personal fields."""
    return scoped_reading(queryset, request.user, FieldClass.PERSONAL)


class HalJSONRenderer(JSONRenderer):
    media_type = "application/hal+json"
    format = "hal"


class HalJSONParser(JSONParser):
    media_type = "application/hal+json"


def _exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with Action Network's `error` key beside DRF's `detail`."""
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" in response.data:
        response.data["error"] = str(response.data["detail"])
    return response


ERRORS = {
    400: osdi.ERROR_SCHEMA,
    401: osdi.ERROR_SCHEMA,
    403: osdi.ERROR_SCHEMA,
    404: osdi.ERROR_SCHEMA,
    # Over the token's rate (throttling.py), with Retry-After.
    429: osdi.ERROR_SCHEMA,
}
PAGING = [
    OpenApiParameter("page", int, description="Page number, from 1."),
    OpenApiParameter("per_page", int, description=f"Items per page, at most {osdi.MAX_PER_PAGE}."),
]


F = TypeVar("F", bound=Callable[..., Any])


def _documented(schema: JSON, operation_id: str, *, paged: bool = False) -> Callable[[F], F]:
    decorator: Callable[[F], F] = extend_schema(
        operation_id=operation_id,
        responses={200: schema, **ERRORS},
        parameters=PAGING if paged else None,
    )
    return decorator


class OsdiView(APIView):
    renderer_classes = [HalJSONRenderer, JSONRenderer]
    parser_classes = [JSONParser, HalJSONParser]
    required_scopes: ClassVar[dict[str, str]] = {}

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response | None]:
        return _exception_handler


def _shown(request: Request, rows: Sequence[Model], *, many: bool = True) -> None:
    """Log which personal fields of `rows` this answer carries, by name and row id, never a
    value: one entry for a page of a collection, one per record otherwise (ASVS 16.3.2).

    Threat: an insider's token, or one stolen from them, reading out their section's
    supporters (threat model A4): the scope lets it through, so only the trail shows it.
    """
    if not rows:
        return
    model = type(rows[0])
    fields = personal_among(model, osdi.SHOWN[model])
    match = request._request.resolver_match
    token = request.auth
    where = {
        # The URL name, never the path; and which token, since a user may hold several.
        "view": match.view_name if match is not None else "",
        "token": str(token.pk) if token is not None else "",
    }
    if many:
        record_personal_list(request.user, model, fields, [row.pk for row in rows], **where)
    else:
        for row in rows:
            record_personal_read(request.user, row, fields, **where)


def _signatures(request: Request, items: Sequence[Signature], *, many: bool = True) -> list[JSON]:
    _shown(request, items, many=many)
    return [osdi.signature(request, item) for item in items]


def _attendances(request: Request, items: Sequence[Rsvp], *, many: bool = True) -> list[JSON]:
    _shown(request, items, many=many)
    return [osdi.attendance(request, item) for item in items]


def _tagging_documents(
    request: Request, items: Sequence[Tagging], *, many: bool = True
) -> list[JSON]:
    _shown(request, items, many=many)
    return [osdi.tagging(request, item) for item in items]


def _annotated(obj: Any, name: str) -> int:
    """A count the queryset annotated onto `obj`."""
    return int(vars(obj)[name])


def _page(
    request: Request,
    queryset: QuerySet[Any],
    name: str,
    represent: Callable[[list[Any]], Iterable[JSON]],
) -> Response:
    items, meta = osdi.paginate(request, queryset)
    return Response(osdi.collection(request, name, list(represent(items)), meta))


# -- Entry point ----------------------------------------------------------------------------------


class EntryPointView(OsdiView):
    """The OSDI entry point: links to each collection. Open without a token."""

    permission_classes = [AllowAny]

    @_documented(osdi.ENTRY_POINT_SCHEMA, "osdi_entry_point")
    def get(self, request: Request) -> Response:
        return Response(osdi.entry_point(request))


# -- People ---------------------------------------------------------------------------------------


def _subscribed_indexes(request: Request, indexes: Iterable[str]) -> set[str]:
    """Addresses that agreed, on some submission the user may see, to hear from us again (a
    consent given to another section is that section's business)."""
    return set(
        _personal(request, Signature.objects.all())
        .filter(supporter__email_index__in=set(indexes), contact_consent=True)
        .values_list("supporter__email_index", flat=True)
    )


def _people(request: Request, supporters: list[Supporter], *, many: bool = True) -> list[JSON]:
    _shown(request, supporters, many=many)
    subscribed = _subscribed_indexes(request, (s.email_index for s in supporters))
    return [osdi.person(request, s, subscribed=s.email_index in subscribed) for s in supporters]


def _supporters(request: Request) -> QuerySet[Supporter]:
    # Through a list of ids: the scoped query joins to the submissions and is distinct, which
    # does not mix with grouping.
    visible = _personal(request, Supporter.objects.all()).values("pk")
    return Supporter.objects.filter(pk__in=visible)


def _newest_of_group(request: Request, supporter_id: int) -> Supporter:
    """The newest row the user may see of the address that row `supporter_id` belongs to."""
    supporters = _supporters(request)
    row = get_object_or_404(supporters, pk=supporter_id)
    newest = supporters.filter(email_index=row.email_index).order_by("-id").first()
    return newest or row


class PeopleView(OsdiView):
    required_scopes: ClassVar[dict[str, str]] = {"GET": "people:read"}

    @_documented(
        osdi.collection_schema("osdi:people", osdi.PERSON_SCHEMA), "people_list", paged=True
    )
    def get(self, request: Request) -> Response:
        # One row per address, named by its newest Supporter row, newest first.
        newest = (
            _supporters(request)
            .values("email_index")
            .annotate(newest=Max("id"))
            .order_by("-newest")
        )

        def represent(groups: list[dict[str, Any]]) -> list[JSON]:
            ids = [group["newest"] for group in groups]
            rows = {s.pk: s for s in Supporter.objects.filter(pk__in=ids)}
            return _people(request, [rows[i] for i in ids if i in rows])

        return _page(request, newest, "osdi:people", represent)


class PersonView(OsdiView):
    required_scopes: ClassVar[dict[str, str]] = {"GET": "people:read"}

    @_documented(osdi.PERSON_SCHEMA, "person_get")
    def get(self, request: Request, pk: int) -> Response:
        return Response(_people(request, [_newest_of_group(request, pk)], many=False)[0])


class PersonSignaturesView(OsdiView):
    required_scopes: ClassVar[dict[str, str]] = {"GET": "signatures:read"}

    @_documented(
        osdi.collection_schema("osdi:signatures", osdi.SIGNATURE_SCHEMA),
        "person_signatures_list",
        paged=True,
    )
    def get(self, request: Request, pk: int) -> Response:
        person = _newest_of_group(request, pk)
        queryset = (
            _personal(request, Signature.objects.all())
            .filter(supporter__email_index=person.email_index)
            .order_by("id")
        )
        return _page(
            request,
            queryset,
            "osdi:signatures",
            lambda items: _signatures(request, items),
        )


class PersonAttendancesView(OsdiView):
    required_scopes: ClassVar[dict[str, str]] = {"GET": "attendances:read"}

    @_documented(
        osdi.collection_schema("osdi:attendances", osdi.ATTENDANCE_SCHEMA),
        "person_attendances_list",
        paged=True,
    )
    def get(self, request: Request, pk: int) -> Response:
        person = _newest_of_group(request, pk)
        queryset = (
            _personal(request, Rsvp.objects.all())
            .filter(supporter__email_index=person.email_index)
            .order_by("id")
        )
        return _page(
            request,
            queryset,
            "osdi:attendances",
            lambda items: _attendances(request, items),
        )


# -- Petitions and signatures ---------------------------------------------------------------------


def _petitions(request: Request) -> QuerySet[Petition]:
    confirmed = Q(signatures__status=Signature.Status.CONFIRMED)
    return (
        _visible(request, Petition.objects.select_related("campaign", "target"))
        .annotate(confirmed=Count("signatures", filter=confirmed))
        .order_by("id")
    )


class PetitionsView(OsdiView):
    required_scopes: ClassVar[dict[str, str]] = {"GET": "petitions:read"}

    @_documented(
        osdi.collection_schema("osdi:petitions", osdi.PETITION_SCHEMA), "petitions_list", paged=True
    )
    def get(self, request: Request) -> Response:
        return _page(
            request,
            _petitions(request),
            "osdi:petitions",
            lambda items: [osdi.petition(request, p, _annotated(p, "confirmed")) for p in items],
        )


class PetitionView(OsdiView):
    required_scopes: ClassVar[dict[str, str]] = {"GET": "petitions:read"}

    @_documented(osdi.PETITION_SCHEMA, "petition_get")
    def get(self, request: Request, pk: int) -> Response:
        item = get_object_or_404(_petitions(request), pk=pk)
        return Response(osdi.petition(request, item, _annotated(item, "confirmed")))


# The public form's field for each part of the helper's body, to name the culprit in errors.
_FORM_TO_OSDI = {
    "name": "person.given_name",
    "email": "person.email_addresses",
    "country": "person.postal_addresses.country",
    "language": "person.languages_spoken",
    "comment": "comments",
    "processing_consent": "solidarity:consent.processing",
    "public_name_consent": "solidarity:consent.public_name",
    "contact_consent": "solidarity:consent.contact",
    "__all__": "petition",
}


def _first(value: Any, key: str) -> str:
    """`value[0][key]` of an OSDI list such as email_addresses, or "" when not given."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        found = value[0].get(key)
        return found if isinstance(found, str) else ""
    return ""


def _sign_form(body: Any) -> SignForm:
    if not isinstance(body, dict):
        raise ParseError("The body must be a JSON object with 'person' and 'solidarity:consent'.")
    person = body.get("person")
    person = person if isinstance(person, dict) else {}
    consent = body.get("solidarity:consent")
    consent = consent if isinstance(consent, dict) else {}
    languages = person.get("languages_spoken")
    language = languages[0] if isinstance(languages, list) and languages else "en"
    name = " ".join(
        part.strip()
        for part in (person.get("given_name"), person.get("family_name"))
        if isinstance(part, str) and part.strip()
    )
    comments = body.get("comments")
    data = {
        "name": name,
        "email": _first(person.get("email_addresses"), "address"),
        "country": _first(person.get("postal_addresses"), "country"),
        "language": language if isinstance(language, str) else "",
        "comment": comments if isinstance(comments, str) else "",
    }
    # An HTML checkbox is sent only when ticked: send the consent keys only when true.
    for key in ("processing", "public_name", "contact"):
        if consent.get(key) is True:
            data[f"{key}_consent"] = "on"
    return SignForm(data)


def _errors(pairs: Iterable[tuple[str, list[str]]]) -> Response:
    errors = {_FORM_TO_OSDI.get(field, field): messages for field, messages in pairs}
    summary = "; ".join(f"{field}: {' '.join(m)}" for field, m in errors.items())
    return Response({"error": summary, "detail": errors}, status=status.HTTP_400_BAD_REQUEST)


class PetitionSignaturesView(OsdiView):
    """GET lists a petition's signatures; POST is the record-signature helper."""

    required_scopes: ClassVar[dict[str, str]] = {
        "GET": "signatures:read",
        "POST": "signatures:write",
    }

    @_documented(
        osdi.collection_schema("osdi:signatures", osdi.SIGNATURE_SCHEMA),
        "petition_signatures_list",
        paged=True,
    )
    def get(self, request: Request, pk: int) -> Response:
        item = get_for_user(Petition, request.user, pk, "view")
        queryset = _personal(request, Signature.objects.filter(petition=item)).order_by("id")
        return _page(
            request,
            queryset,
            "osdi:signatures",
            lambda items: _signatures(request, items),
        )

    @extend_schema(
        operation_id="record_signature_helper",
        request={
            "application/json": osdi.RECORD_SIGNATURE_SCHEMA,
            "application/hal+json": osdi.RECORD_SIGNATURE_SCHEMA,
        },
        responses={202: osdi.SIGNATURE_RECEIVED_SCHEMA, **ERRORS},
        summary="Record signature helper",
        description=(
            "Records a signature as the public form does: the signer's consent to processing "
            "is required, the signature counts only once its e-mail link is followed, and an "
            "address signs once. The answer is the same whether or not the address had signed "
            "before; the signer learns it from the e-mail."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        # Recording adds to the petition's section: only where the user may add campaigns data.
        item = get_for_user(Petition, request.user, pk, "add")
        form = _sign_form(request.data)
        if not form.is_valid():
            return _errors((f, [str(m) for m in msgs]) for f, msgs in form.errors.items())
        try:
            services.sign_petition(
                item,
                form.details(),
                comment=form.cleaned_data["comment"],
                public_name_consent=form.cleaned_data["public_name_consent"],
                contact_consent=form.cleaned_data["contact_consent"],
                processing_consent=form.cleaned_data["processing_consent"],
                # The public site's, not the back office's: the link goes out by e-mail (D11).
                base_url=public_base_url(request),
            )
        except ValidationError as error:
            return _errors([("__all__", [str(m) for m in error.messages])])
        # Not the signature itself: an earlier one (its id, dates, status) would tell whoever
        # holds the token, or anyone who can make it submit an address, that the address has
        # signed before. The public form answers "check your e-mail" either way; so does this.
        return Response(osdi.signature_received(request, item), status=status.HTTP_202_ACCEPTED)


class SignatureView(OsdiView):
    required_scopes: ClassVar[dict[str, str]] = {"GET": "signatures:read"}

    @_documented(osdi.SIGNATURE_SCHEMA, "signature_get")
    def get(self, request: Request, pk: int, signature_pk: int) -> Response:
        item = get_object_or_404(
            _personal(request, Signature.objects.all()), pk=signature_pk, petition_id=pk
        )
        return Response(_signatures(request, [item], many=False)[0])


# -- Events and attendances ------------------------------------------------------------------------


def _events(request: Request) -> QuerySet[Action]:
    return (
        _visible(request, Action.objects.select_related("campaign", "place"))
        .annotate(accepted=Count("rsvps"))
        .order_by("starts_at", "id")
    )


class EventsView(OsdiView):
    required_scopes: ClassVar[dict[str, str]] = {"GET": "events:read"}

    @_documented(
        osdi.collection_schema("osdi:events", osdi.EVENT_SCHEMA), "events_list", paged=True
    )
    def get(self, request: Request) -> Response:
        return _page(
            request,
            _events(request),
            "osdi:events",
            lambda items: [osdi.event(request, a, _annotated(a, "accepted")) for a in items],
        )


class EventView(OsdiView):
    required_scopes: ClassVar[dict[str, str]] = {"GET": "events:read"}

    @_documented(osdi.EVENT_SCHEMA, "event_get")
    def get(self, request: Request, pk: int) -> Response:
        item = get_object_or_404(_events(request), pk=pk)
        return Response(osdi.event(request, item, _annotated(item, "accepted")))


class EventAttendancesView(OsdiView):
    required_scopes: ClassVar[dict[str, str]] = {"GET": "attendances:read"}

    @_documented(
        osdi.collection_schema("osdi:attendances", osdi.ATTENDANCE_SCHEMA),
        "event_attendances_list",
        paged=True,
    )
    def get(self, request: Request, pk: int) -> Response:
        item = get_for_user(Action, request.user, pk, "view")
        return _page(
            request,
            _personal(request, Rsvp.objects.filter(action=item)).order_by("id"),
            "osdi:attendances",
            lambda items: _attendances(request, items),
        )


class AttendanceView(OsdiView):
    required_scopes: ClassVar[dict[str, str]] = {"GET": "attendances:read"}

    @_documented(osdi.ATTENDANCE_SCHEMA, "attendance_get")
    def get(self, request: Request, pk: int, attendance_pk: int) -> Response:
        item = get_object_or_404(
            _personal(request, Rsvp.objects.all()), pk=attendance_pk, action_id=pk
        )
        return Response(_attendances(request, [item], many=False)[0])


# -- Tags and taggings -----------------------------------------------------------------------------


def _tags(request: Request, perm: str = "view") -> QuerySet[Tag]:
    return scoped(Tag.objects.select_related("section"), request.user, perm).order_by("id")


def _section_for_new_tag(request: Request, body: dict[str, Any]) -> Section:
    """The section named in the body, or the only one the user may add tags in."""
    allowed = Section.objects.filter(pk__in=sections_for(request.user, "add", Kind.CAMPAIGNS))
    if not allowed.exists():
        raise PermissionDenied("The token's user has no role that makes tags in any section.")
    slug = body.get("solidarity:section")
    if slug is None and allowed.count() == 1:
        return allowed.get()
    if slug is None:
        raise ParseError("Name the tag's section in 'solidarity:section' (its slug).")
    section = allowed.filter(slug=slug).first() if isinstance(slug, str) else None
    if section is None:
        # The same words for a section that does not exist and one the user has no role in.
        raise ParseError(f"solidarity:section: no section {slug!r} you may add tags to.")
    return section


class TagsView(OsdiView):
    """GET lists the tags of the token user's sections; POST makes one (or returns the
    section's tag of that name)."""

    required_scopes: ClassVar[dict[str, str]] = {"GET": "tags:read", "POST": "tags:write"}

    @_documented(osdi.collection_schema("osdi:tags", osdi.TAG_SCHEMA), "tags_list", paged=True)
    def get(self, request: Request) -> Response:
        return _page(
            request,
            _tags(request),
            "osdi:tags",
            lambda items: [osdi.tag(request, t) for t in items],
        )

    @extend_schema(
        operation_id="tag_create",
        request={
            "application/json": osdi.CREATE_TAG_SCHEMA,
            "application/hal+json": osdi.CREATE_TAG_SCHEMA,
        },
        responses={200: osdi.TAG_SCHEMA, 201: osdi.TAG_SCHEMA, **ERRORS},
        description="Makes a tag; a name the section already has returns that tag (200).",
    )
    def post(self, request: Request) -> Response:
        body = request.data
        if not isinstance(body, dict):
            raise ParseError("The body must be a JSON object with a 'name'.")
        section = _section_for_new_tag(request, body)
        try:
            item, made = tags.create_tag(section, body.get("name"))
        except ValidationError as error:
            return _errors([("name", [str(m) for m in error.messages])])
        answer = status.HTTP_201_CREATED if made else status.HTTP_200_OK
        return Response(osdi.tag(request, item), status=answer)


class TagView(OsdiView):
    required_scopes: ClassVar[dict[str, str]] = {"GET": "tags:read"}

    @_documented(osdi.TAG_SCHEMA, "tag_get")
    def get(self, request: Request, pk: int) -> Response:
        return Response(osdi.tag(request, get_object_or_404(_tags(request), pk=pk)))


def _taggings(request: Request) -> QuerySet[Tagging]:
    # Who carries a tag is personal: only roles reading personal data see taggings.
    return _personal(request, Tagging.objects.all()).order_by("id")


_PERSON_HREF = re.compile(r"/api/v2/people/([1-9][0-9]{0,17})/?$")


def _person_to_tag(request: Request, tag: Tag, body: Any) -> Supporter:
    """The supporter the body's `osdi:person` link names, if they took part in the tag's
    section and the user may read them; a ParseError otherwise, the same for every reason."""
    links = body.get("_links") if isinstance(body, dict) else None
    person = links.get("osdi:person") if isinstance(links, dict) else None
    href = person.get("href") if isinstance(person, dict) else None
    found = _PERSON_HREF.search(href) if isinstance(href, str) else None
    in_section = Q(pk__in=[])
    for child_path in MULTI_PARENT_PATHS["campaigns.Supporter"]:
        in_section |= Q(**{child_path: tag.section_id})
    supporter = (
        _supporters(request).filter(in_section, pk=int(found.group(1))).first() if found else None
    )
    if supporter is None:
        raise ParseError(
            "_links.osdi:person: give the link of a person of the tag's section, "
            "e.g. {'_links': {'osdi:person': {'href': '.../api/v2/people/12/'}}}."
        )
    return supporter


class TagTaggingsView(OsdiView):
    """GET lists who carries a tag; POST puts it on a person."""

    required_scopes: ClassVar[dict[str, str]] = {"GET": "tags:read", "POST": "tags:write"}

    @_documented(
        osdi.collection_schema("osdi:taggings", osdi.TAGGING_SCHEMA), "taggings_list", paged=True
    )
    def get(self, request: Request, pk: int) -> Response:
        item = get_object_or_404(_tags(request), pk=pk)
        return _page(
            request,
            _taggings(request).filter(tag=item),
            "osdi:taggings",
            lambda items: _tagging_documents(request, items),
        )

    @extend_schema(
        operation_id="tagging_create",
        request={
            "application/json": osdi.CREATE_TAGGING_SCHEMA,
            "application/hal+json": osdi.CREATE_TAGGING_SCHEMA,
        },
        responses={200: osdi.TAGGING_SCHEMA, 201: osdi.TAGGING_SCHEMA, **ERRORS},
        description="Puts the tag on a person; tagging them again returns the tagging (200).",
    )
    def post(self, request: Request, pk: int) -> Response:
        # Tagging adds to the tag's section: only where the user may add campaigns data.
        item = get_object_or_404(_tags(request, "add"), pk=pk)
        supporter = _person_to_tag(request, item, request.data)
        tagging, made = tags.tag_supporter(item, supporter)
        answer = status.HTTP_201_CREATED if made else status.HTTP_200_OK
        return Response(_tagging_documents(request, [tagging], many=False)[0], status=answer)


class TaggingView(OsdiView):
    required_scopes: ClassVar[dict[str, str]] = {"GET": "tags:read"}

    @_documented(osdi.TAGGING_SCHEMA, "tagging_get")
    def get(self, request: Request, pk: int, tagging_pk: int) -> Response:
        item = get_object_or_404(_taggings(request), pk=tagging_pk, tag_id=pk)
        return Response(_tagging_documents(request, [item], many=False)[0])
