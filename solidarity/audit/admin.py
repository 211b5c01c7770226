"""A read-only view of the audit log for superusers: the log is evidence, so nobody edits it
through the back office (threat model M11)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest

from .models import AuditEntry

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[AuditEntry]
else:  # Django's admin classes are not subscriptable at run time.
    _ModelAdmin = admin.ModelAdmin


@admin.register(AuditEntry)
class AuditEntryAdmin(_ModelAdmin):
    list_display = ("seq", "timestamp", "actor", "action", "model", "object_pk", "fields")
    list_filter = ("action", "model")
    search_fields = ("actor", "model", "object_pk")
    date_hierarchy = "timestamp"
    readonly_fields = [f.name for f in AuditEntry._meta.concrete_fields]
    list_per_page = 100

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
