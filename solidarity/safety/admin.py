"""Roles in the back office: administrators grant and withdraw them; nobody else sees them.

Granting a role is running the system, not reading it, so it is the one thing here a superuser
does by being a superuser. Withdrawing a coordinator's role drops their wrapped keys for the
section's sealed values (solidarity.safety.signals).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest

from solidarity.accounts.decorators import RecentAuthAdminMixin

from .models import Role

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Role]
else:  # Django's admin classes are not subscriptable at run time.
    _ModelAdmin = admin.ModelAdmin


@admin.register(Role)
class RoleAdmin(RecentAuthAdminMixin, _ModelAdmin):
    # Granting or withdrawing a role needs a recent password + code (accounts/decorators.py).

    list_display = ("user", "section", "role", "granted_at")
    list_filter = ("role", "section")
    search_fields = ("user__username", "section__name_en", "section__slug")
    autocomplete_fields = ("user", "section")
    fields = ("user", "section", "role")

    def _is_admin(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._is_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_admin(request)
