"""How drf-spectacular describes our token authentication in the OpenAPI schema (imported
by the app's ready(), so that the extension is registered before a schema is built)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from .auth import HEADER


class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "solidarity.api.auth.ApiTokenAuthentication"
    name = "OSDIApiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": HEADER}
