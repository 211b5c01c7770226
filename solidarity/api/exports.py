"""Popolo JSON and CSV exports of public documentation records: open to all, like the public
site they mirror (the same records, the same fields), so no token is needed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import popolo
from .throttling import ClientRateThrottle, ExportRateThrottle

POPOLO_LIST: dict[str, Any] = {"type": "array", "items": {"type": "object"}}
POPOLO_ALL: dict[str, Any] = {
    "type": "object",
    "properties": dict.fromkeys(
        ("persons", "organizations", "memberships", "events", "sources"), POPOLO_LIST
    ),
    "required": ["persons", "organizations", "memberships", "events", "sources"],
}
# Over the client's export or API rate (PublicExportView.throttled), with Retry-After.
THROTTLED: dict[str, Any] = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if isinstance(data, dict) and "detail" in data:
            # An error (e.g. 429 over the client's rate): its message, not a Python dict.
            return f"{data['detail']}\n".encode(self.charset)
        return str(data).encode(self.charset)


def _base_url(request: Request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


class PublicExportView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    # The API's per-client rate, and a slower one for these whole-collection documents.
    throttle_classes = [ClientRateThrottle, ExportRateThrottle]

    def throttled(self, request: Request, wait: float | None) -> NoReturn:
        """429 with Retry-After (DRF sets it from `wait`) and a message that says what to do."""
        raise Throttled(
            wait,
            detail=_(
                "Too many exports have been downloaded from your connection recently. "
                "Please wait and try again; the data changes slowly, so a copy you "
                "downloaded a few minutes ago is still current."
            ),
        )


POPOLO_KINDS: dict[str, Callable[[str], list[dict[str, Any]]]] = {
    "people": popolo.popolo_people,
    "organizations": popolo.popolo_organizations,
    "memberships": lambda base_url: popolo.popolo_memberships(),
    "events": popolo.popolo_events,
}
CSV_KINDS = popolo.CSV_EXPORTS


class PopoloView(PublicExportView):
    """One Popolo collection; `kind` is set per URL."""

    renderer_classes = [JSONRenderer]
    kind = "people"

    def get(self, request: Request) -> Response:
        return Response(POPOLO_KINDS[self.kind](_base_url(request)))


class PopoloAllView(PublicExportView):
    renderer_classes = [JSONRenderer]

    @extend_schema(operation_id="popolo_all", responses={200: POPOLO_ALL, 429: THROTTLED})
    def get(self, request: Request) -> Response:
        return Response(popolo.popolo_all(_base_url(request)))


class CsvExportView(PublicExportView):
    """One CSV table; `kind` is set per URL."""

    renderer_classes = [CSVRenderer]
    kind = "people"

    def get(self, request: Request) -> Response:
        response = Response(CSV_KINDS[self.kind]())
        response["Content-Disposition"] = f'attachment; filename="{self.kind}.csv"'
        return response


def popolo_view(kind: str) -> Callable[..., Any]:
    """The view of one Popolo collection, with its own entry in the OpenAPI schema."""

    class View(PopoloView):
        @extend_schema(operation_id=f"popolo_{kind}", responses={200: POPOLO_LIST, 429: THROTTLED})
        def get(self, request: Request) -> Response:
            return super().get(request)

    return View.as_view(kind=kind)


def csv_view(kind: str) -> Callable[..., Any]:
    """The view of one CSV table, with its own entry in the OpenAPI schema."""

    class View(CsvExportView):
        @extend_schema(
            operation_id=f"csv_{kind}",
            responses={(200, "text/csv"): OpenApiTypes.STR, (429, "text/csv"): OpenApiTypes.STR},
        )
        def get(self, request: Request) -> Response:
            return super().get(request)

    return View.as_view(kind=kind)
