"""API tokens in the back office: seen and revoked here, made with `solidarity apitoken create`
(which shows the secret once, on the terminal of whoever asked for it)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy, ngettext

from .models import ApiToken
from .tokens import revoke_token


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ["name", "user", "prefix", "scopes", "created", "last_used", "revoked"]
    list_filter = ["revoked"]
    search_fields = ["name", "user__username", "prefix"]
    fields = ["name", "user", "prefix", "scopes", "created", "last_used", "revoked"]
    readonly_fields = ["name", "user", "prefix", "scopes", "created", "last_used", "revoked"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=gettext_lazy("Revoke the selected tokens"), permissions=["delete"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = sum(revoke_token(token) for token in queryset)
        message = ngettext("Revoked %(count)d token.", "Revoked %(count)d tokens.", revoked)
        self.message_user(request, message % {"count": revoked}, messages.SUCCESS)
