"""Users and groups in the back office, with re-authentication before privilege grants.

Django's own `UserAdmin` and `GroupAdmin`, re-registered with `RecentAuthAdminMixin`: making
someone staff or superuser, changing their groups or permissions, setting another user's
password, or changing what a group may do needs the password and a second-factor code from
the last 5 minutes (ASVS 7.5.1, 7.5.3). Editing a name or an e-mail address does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import signed_in
from .decorators import RecentAuthAdminMixin, recent_auth_redirect

if TYPE_CHECKING:
    _UserAdmin = UserAdmin[User]
else:  # Django's admin classes are not subscriptable at run time.
    _UserAdmin = UserAdmin

# Fields whose change is a grant or withdrawal of power over the whole system.
_FLAGS = ("is_staff", "is_superuser", "is_active")
_SETS = ("groups", "user_permissions")


def _changes_privileges(user: User, data: Any) -> bool:
    # An unticked checkbox is absent from the POST; an empty multiple choice likewise.
    for flag in _FLAGS:
        if (data.get(flag) in ("on", "true", "True", "1")) != getattr(user, flag):
            return True
    for name in _SETS:
        wanted = {str(pk) for pk in data.getlist(name)}
        held = {str(pk) for pk in getattr(user, name).values_list("pk", flat=True)}
        if wanted != held:
            return True
    return False


class SolidarityUserAdmin(RecentAuthAdminMixin, _UserAdmin):
    actions = ["end_sessions"]

    def grants_privileges(self, request: HttpRequest, object_id: str | None) -> bool:
        if request.POST.get("action") == "end_sessions":
            # Only takes access away, and is wanted at once when a member's device is seized.
            return False
        if "action" in request.POST:
            return True  # a bulk action ("delete selected") may remove administrators
        if object_id is None:
            # The add form holds only a username and a password; privileges come after.
            return any(field in request.POST for field in (*_FLAGS, *_SETS))
        user = self.get_object(request, unquote(object_id))
        if user is None or request.path.endswith("/delete/"):
            return True
        return _changes_privileges(user, request.POST)

    @admin.action(
        description=_("End all logged-in sessions of the selected users"),
        permissions=["change"],
    )
    def end_sessions(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        """Log the selected users out everywhere, e.g. when a member's phone or laptop was
        seized: each of their sessions ends at its next request (accounts/signed_in.py)."""
        ended = sum(signed_in.end_all(user, by=request.user) for user in queryset)
        self.message_user(
            request,
            ngettext("%(count)d session ended.", "%(count)d sessions ended.", ended)
            % {"count": ended},
            messages.SUCCESS,
        )

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        # Setting someone else's password is taking over their account.
        if request.method == "POST":
            redirect = recent_auth_redirect(request, self.recent_auth_max_age)
            if redirect is not None:
                return redirect
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            # Django's session hash already logs the user out everywhere: the list follows.
            user = self.get_object(request, unquote(id))
            if user is not None:
                signed_in.end_all(user, by=request.user)
        return response


class SolidarityGroupAdmin(RecentAuthAdminMixin, GroupAdmin):
    """A group is a set of permissions: every change to one is a grant or a withdrawal."""


for _model, _admin in ((User, SolidarityUserAdmin), (Group, SolidarityGroupAdmin)):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _admin)
