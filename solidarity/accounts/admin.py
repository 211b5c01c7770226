"""Users and groups in the back office, with re-authentication before privilege grants.

Django's own `UserAdmin` and `GroupAdmin`, re-registered with `RecentAuthAdminMixin`: making
someone staff or superuser, changing their groups or permissions, setting another user's
password, or changing what a group may do needs the password and a second-factor code from
the last 5 minutes (ASVS 7.5.1, 7.5.3). Editing a name or an e-mail address does not.

No administrator chooses or learns a member's password (ASVS 6.4.1; accounts/invitations.py):
"Add user" takes a username only and answers with a one-time "choose your password" link, shown
once; "New invitation link" makes another for an account whose password nobody chose yet; and
a password set with "set password" opens one login, which must replace it first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from . import invitations, signed_in
from .decorators import RecentAuthAdminMixin, recent_auth_redirect
from .forms import NewMemberForm

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
    add_form = NewMemberForm
    add_form_template = "accounts/admin_user_add_form.html"
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username",)}),)
    change_form_template = "accounts/admin_user_change_form.html"

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
                self._one_login_only(request, user)
        return response

    def _one_login_only(self, request: HttpRequest, user: User) -> None:
        # The administrator knows what they typed: it opens one login, which replaces it.
        if invitations.password_set_by_administrator(user, by=request.user):
            self.message_user(
                request,
                gettext(
                    "This password works for one login within %(hours)d hours only: %(user)s "
                    "must choose a new one right after typing it. Hand it over in person or by "
                    "a safe messenger, never by e-mail."
                )
                % {
                    "user": user.get_username(),
                    "hours": invitations.lifetime_hours(),
                },
                messages.WARNING,
            )

    # -- Invitation links ---------------------------------------------------------------------

    def response_add(
        self, request: HttpRequest, obj: User, post_url_continue: str | None = None
    ) -> HttpResponse:
        # The link is in this response and nowhere else: not in the database, the session or
        # a message (which may be stored in the session). A reload re-posts the form, which
        # is refused (the username is taken); a lost link is replaced with a new one.
        self.message_user(
            request,
            gettext("The user “%(user)s” was added.") % {"user": obj.get_username()},
            messages.SUCCESS,
        )
        return self._link_page(request, obj)

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<id>/invitation/",
                self.admin_site.admin_view(self.invitation_view),
                name="auth_user_invitation",
            )
        ]
        return own + super().get_urls()

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: User | None = None,
    ) -> HttpResponse:
        # The user the change view already loaded: no second read of the same row.
        context["may_invite"] = change and obj is not None and invitations.may_invite(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    @method_decorator(never_cache)
    def invitation_view(self, request: HttpRequest, id: str) -> HttpResponse:
        """A new link for an account whose password nobody chose yet; old links die.

        Whoever holds the link takes the account, so making one is a grant like setting a
        password: it needs the password and a code from the last 5 minutes (ASVS 7.5.3).
        """
        user = self.get_object(request, unquote(id))
        if user is None:
            raise Http404
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        change_url = reverse("admin:auth_user_change", args=[user.pk])
        if not invitations.may_invite(user):
            self.message_user(
                request,
                gettext("%(user)s chose their own password: no invitation link is made for them.")
                % {"user": user.get_username()},
                messages.ERROR,
            )
            return HttpResponseRedirect(change_url)
        if request.method != "POST":
            context = {
                **self.admin_site.each_context(request),
                "title": gettext("New invitation link"),
                "opts": self.opts,
                "member": user,
            }
            return TemplateResponse(request, "accounts/admin_invitation_confirm.html", context)
        redirect = recent_auth_redirect(request, self.recent_auth_max_age)
        if redirect is not None:
            return redirect
        return self._link_page(request, user)

    def _link_page(self, request: HttpRequest, user: User) -> HttpResponse:
        link = request.build_absolute_uri(invitations.new_link(user, by=request.user))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Invitation link"),
            "opts": self.opts,
            "member": user,
            "link": link,
            "hours": invitations.lifetime_hours(),
            "is_popup": IS_POPUP_VAR in request.POST or IS_POPUP_VAR in request.GET,
        }
        return TemplateResponse(request, "accounts/admin_invitation_link.html", context)


class SolidarityGroupAdmin(RecentAuthAdminMixin, GroupAdmin):
    """A group is a set of permissions: every change to one is a grant or a withdrawal."""


for _model, _admin in ((User, SolidarityUserAdmin), (Group, SolidarityGroupAdmin)):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _admin)
