"""The OSDI endpoints under /api/v2/: thin adapters over the campaigns domain.

Reading is plain queries; the one write, the record-signature helper, goes through
`campaigns.services.sign_petition` after the public form's own validation (`SignForm`), so a
signature that arrives by API obeys exactly the rules of one typed into the public page:
consent, confirmation by e-mail, one signature per address.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Q, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from solidarity.campaigns import services
from solidarity.campaigns.forms import SignForm
from solidarity.campaigns.models import (
    Action,
    Petition,
    Rsvp,
    Signature,
    Supporter,
    email_hash,
)

from . import osdi
from .osdi import JSON


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


def _subscribed_hashes(hashes: Iterable[str]) -> set[str]:
    """Addresses that agreed, on some submission, to hear from us again."""
    return set(
        Signature.objects.filter(
            supporter__email_hash__in=set(hashes), contact_consent=True
        ).values_list("supporter__email_hash", flat=True)
    )


def _people(request: Request, supporters: list[Supporter]) -> list[JSON]:
    subscribed = _subscribed_hashes(s.email_hash for s in supporters)
    return [osdi.person(request, s, subscribed=s.email_hash in subscribed) for s in supporters]


def _newest_of_group(supporter_id: int) -> Supporter:
    """The newest row of the address that row `supporter_id` belongs to."""
    row = get_object_or_404(Supporter, pk=supporter_id)
    newest = Supporter.objects.filter(email_hash=row.email_hash).order_by("-id").first()
    return newest or row


class PeopleView(OsdiView):
    required_scopes: ClassVar[dict[str, str]] = {"GET": "people:read"}

    @_documented(
        osdi.collection_schema("osdi:people", osdi.PERSON_SCHEMA), "people_list", paged=True
    )
    def get(self, request: Request) -> Response:
        # One row per address, named by its newest Supporter row, newest first.
        newest = (
            Supporter.objects.values("email_hash").annotate(newest=Max("id")).order_by("-newest")
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
        return Response(_people(request, [_newest_of_group(pk)])[0])


class PersonSignaturesView(OsdiView):
    required_scopes: ClassVar[dict[str, str]] = {"GET": "signatures:read"}

    @_documented(
        osdi.collection_schema("osdi:signatures", osdi.SIGNATURE_SCHEMA),
        "person_signatures_list",
        paged=True,
    )
    def get(self, request: Request, pk: int) -> Response:
        person = _newest_of_group(pk)
        queryset = Signature.objects.filter(supporter__email_hash=person.email_hash).order_by("id")
        return _page(
            request,
            queryset,
            "osdi:signatures",
            lambda items: [osdi.signature(request, s) for s in items],
        )


class PersonAttendancesView(OsdiView):
    required_scopes: ClassVar[dict[str, str]] = {"GET": "attendances:read"}

    @_documented(
        osdi.collection_schema("osdi:attendances", osdi.ATTENDANCE_SCHEMA),
        "person_attendances_list",
        paged=True,
    )
    def get(self, request: Request, pk: int) -> Response:
        person = _newest_of_group(pk)
        queryset = Rsvp.objects.filter(supporter__email_hash=person.email_hash).order_by("id")
        return _page(
            request,
            queryset,
            "osdi:attendances",
            lambda items: [osdi.attendance(request, r) for r in items],
        )


# -- Petitions and signatures ---------------------------------------------------------------------


def _petitions() -> QuerySet[Petition]:
    confirmed = Q(signatures__status=Signature.Status.CONFIRMED)
    return (
        Petition.objects.select_related("campaign", "target")
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
            _petitions(),
            "osdi:petitions",
            lambda items: [osdi.petition(request, p, _annotated(p, "confirmed")) for p in items],
        )


class PetitionView(OsdiView):
    required_scopes: ClassVar[dict[str, str]] = {"GET": "petitions:read"}

    @_documented(osdi.PETITION_SCHEMA, "petition_get")
    def get(self, request: Request, pk: int) -> Response:
        item = get_object_or_404(_petitions(), pk=pk)
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
        item = get_object_or_404(Petition, pk=pk)
        queryset = Signature.objects.filter(petition=item).order_by("id")
        return _page(
            request,
            queryset,
            "osdi:signatures",
            lambda items: [osdi.signature(request, s) for s in items],
        )

    @extend_schema(
        operation_id="record_signature_helper",
        request={
            "application/json": osdi.RECORD_SIGNATURE_SCHEMA,
            "application/hal+json": osdi.RECORD_SIGNATURE_SCHEMA,
        },
        responses={200: osdi.SIGNATURE_SCHEMA, **ERRORS},
        summary="Record signature helper",
        description=(
            "Records a signature as the public form does: the signer's consent to processing "
            "is required, the signature counts only once its e-mail link is followed, and an "
            "address signs once (a repeat matches the earlier signature by e-mail)."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        item = get_object_or_404(Petition.objects.select_related("campaign", "target"), pk=pk)
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
                base_url=request.build_absolute_uri("/").rstrip("/"),
            )
        except ValidationError as error:
            return _errors([("__all__", [str(m) for m in error.messages])])
        recorded = Signature.objects.get(
            petition=item, email_hash=email_hash(form.cleaned_data["email"])
        )
        return Response(osdi.signature(request, recorded))


class SignatureView(OsdiView):
    required_scopes: ClassVar[dict[str, str]] = {"GET": "signatures:read"}

    @_documented(osdi.SIGNATURE_SCHEMA, "signature_get")
    def get(self, request: Request, pk: int, signature_pk: int) -> Response:
        item = get_object_or_404(Signature, pk=signature_pk, petition_id=pk)
        return Response(osdi.signature(request, item))


# -- Events and attendances ------------------------------------------------------------------------


def _events() -> QuerySet[Action]:
    return (
        Action.objects.select_related("campaign", "place")
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
            _events(),
            "osdi:events",
            lambda items: [osdi.event(request, a, _annotated(a, "accepted")) for a in items],
        )


class EventView(OsdiView):
    required_scopes: ClassVar[dict[str, str]] = {"GET": "events:read"}

    @_documented(osdi.EVENT_SCHEMA, "event_get")
    def get(self, request: Request, pk: int) -> Response:
        item = get_object_or_404(_events(), pk=pk)
        return Response(osdi.event(request, item, _annotated(item, "accepted")))


class EventAttendancesView(OsdiView):
    required_scopes: ClassVar[dict[str, str]] = {"GET": "attendances:read"}

    @_documented(
        osdi.collection_schema("osdi:attendances", osdi.ATTENDANCE_SCHEMA),
        "event_attendances_list",
        paged=True,
    )
    def get(self, request: Request, pk: int) -> Response:
        item = get_object_or_404(Action, pk=pk)
        return _page(
            request,
            Rsvp.objects.filter(action=item).order_by("id"),
            "osdi:attendances",
            lambda items: [osdi.attendance(request, r) for r in items],
        )


class AttendanceView(OsdiView):
    required_scopes: ClassVar[dict[str, str]] = {"GET": "attendances:read"}

    @_documented(osdi.ATTENDANCE_SCHEMA, "attendance_get")
    def get(self, request: Request, pk: int, attendance_pk: int) -> Response:
        item = get_object_or_404(Rsvp, pk=attendance_pk, action_id=pk)
        return Response(osdi.attendance(request, item))
