"""The login steps: password, then a second factor (or enrolment of one), plus logout,
re-authentication and new backup codes.

The session is authenticated only when both factors have been proved. Between the two steps it
holds just a "pending" user id for 5 minutes, so no page that merely checks
`user.is_authenticated` can be reached with a password alone.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.auth import (
    REDIRECT_FIELD_NAME,
    authenticate,
    get_user_model,
)
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.models import Device

from solidarity.accounts import (
    auth_audit,
    factors,
    invitations,
    security_keys,
    signed_in,
    throttle,
)
from solidarity.accounts.decorators import require_recent_auth
from solidarity.accounts.forms import (
    CodeForm,
    EnrolForm,
    KeyNameForm,
    PasswordForm,
    ReauthForm,
    ReplacePasswordForm,
)
from solidarity.accounts.models import WebAuthnCredential
from solidarity.accounts.sessions import (
    PENDING,
    PENDING_LIMIT,
    now,
    stamp_login,
    stamp_reauth,
)

# One message for an unknown username, a wrong password and a disabled account alike: the
# answer must not tell an adversary which accounts exist (ASVS 6.3.8).
BAD_CREDENTIALS = _("The username or the password is not right. Please try again.")
BAD_CODE = _("That code is not right, or it has been used already. Please try again.")
BAD_REAUTH = _("The password or the code is not right. Please try again.")
ENROL_DEVICE = "accounts.enrol_device"
PENDING_EXPIRED = _("Your login took too long. Please enter your username and password again.")


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME)
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("admin:index")


def _with_next(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    full = {
        **admin.site.each_context(request),
        "is_nav_sidebar_enabled": False,
        "next": _next_url(request),
        "redirect_field_name": REDIRECT_FIELD_NAME,
        **context,
    }
    return render(request, template, full, status=status)


def _is_verified(user: Any) -> bool:
    check = getattr(user, "is_verified", None)
    return bool(user.is_authenticated and callable(check) and check())


# -- The pending user between the password and the second factor ------------------------------


def _start_pending(request: HttpRequest, user: AbstractBaseUser) -> None:
    # A new session key before anything is stored: a session id planted by an attacker before
    # login (session fixation) must not become the logged-in one.
    request.session.cycle_key()
    request.session[PENDING] = {
        "user": str(user.pk),
        "backend": getattr(user, "backend", ""),
        "at": now(),
    }


def _pending_user(request: HttpRequest) -> AbstractBaseUser | None:
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    if now() - int(pending.get("at", 0)) > PENDING_LIMIT.total_seconds():
        del request.session[PENDING]
        return None
    user = get_user_model()._default_manager.filter(pk=str(pending.get("user", ""))).first()
    if user is None or not user.is_active:
        return None
    user.backend = pending.get("backend") or None  # type: ignore[attr-defined]
    return user


def _step_after_password(user: AbstractBaseUser) -> str:
    """The next page of a login whose password is proved.

    A password an administrator set comes first: it must be replaced before anything else
    (accounts/invitations.py), so that a login never completes with a password someone else
    knows. Then the second factor, or its enrolment at the first login."""
    if invitations.must_replace(user):
        return "accounts:replace_password"
    return "accounts:verify" if factors.has_second_factor(user) else "accounts:enrol"


def _complete_login(
    request: HttpRequest, user: Any, device: Device, *, step: str = "second_factor"
) -> None:
    pending = request.session.pop(PENDING, None)
    request.session.pop(ENROL_DEVICE, None)
    backend = pending.get("backend") if isinstance(pending, dict) else None
    # Django's login() gives the session a new key (the pending state had no user in it).
    auth_login(request, user, backend=backend or None)
    otp_login(request, device)
    stamp_login(request.session)
    signed_in.start(request, user, device)
    throttle.clear_username(user.get_username())
    auth_audit.login_succeeded(user, device, step=step)


def _restart(request: HttpRequest) -> HttpResponse:
    messages.warning(request, PENDING_EXPIRED)
    return HttpResponseRedirect(_with_next("accounts:login", _next_url(request)))


def _device_wait(user: AbstractBaseUser) -> int | None:
    """Seconds until django-otp's own back-off lets this user's devices verify again."""
    waits = []
    for device in factors.all_devices(user):
        allowed, data = device.verify_is_allowed()
        if not allowed and data and data.get("locked_until"):
            waits.append(int((data["locked_until"] - timezone.now()).total_seconds()) + 1)
    return max(waits) if waits else None


def _code_error(user: AbstractBaseUser) -> str:
    wait = _device_wait(user)
    if wait:
        after = ngettext(
            "After several wrong codes, wait %(n)d second before the next one.",
            "After several wrong codes, wait %(n)d seconds before the next one.",
            wait,
        ) % {"n": wait}
        return f"{BAD_CODE} {after}"
    return str(BAD_CODE)


# -- Views ------------------------------------------------------------------------------------


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """Step 1: username and password."""
    if _is_verified(request.user):
        return _page(request, "accounts/logged_in.html", {"title": gettext("Logged in")})
    form = PasswordForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_valid():
        username = form.cleaned_data["username"]
        waiting = throttle.check(request, username)
        if waiting is not None:
            auth_audit.login_throttled(request, "password", waiting, username=username)
            form.add_error(None, waiting.message)
            status = 429
        else:
            # For an unknown username Django's ModelBackend still runs the password hasher on
            # a dummy, so both failures take the same time.
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is not None and invitations.one_time_password_expired(user):
                # Right, but set by an administrator too long ago: the same answer as a wrong
                # one (ASVS 6.4.1), logged under a step of its own.
                throttle.record_failure(request, username)
                auth_audit.login_failed("expired_one_time_password", user=user)
                form.add_error(None, BAD_CREDENTIALS)
            elif user is None:
                throttle.record_failure(request, username)
                auth_audit.login_failed("password", username=username)
                form.add_error(None, BAD_CREDENTIALS)
            else:
                _start_pending(request, user)
                return HttpResponseRedirect(
                    _with_next(_step_after_password(user), _next_url(request))
                )
    return _page(request, "accounts/login.html", {"form": form, "title": gettext("Log in")}, status)


@sensitive_post_parameters("code", "assertion")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Step 2: the security key, a code from the authenticator app, or a backup code."""
    user = _pending_user(request)
    if user is None:
        return _restart(request)
    if invitations.must_replace(user) or not factors.has_second_factor(user):
        return HttpResponseRedirect(_with_next(_step_after_password(user), _next_url(request)))
    key_only = security_keys.key_is_second_factor(user)
    form = CodeForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_valid():
        waiting = throttle.check(request, user.get_username())
        if waiting is not None:
            auth_audit.login_throttled(request, "second_factor", waiting, user=user)
            form.add_error(None, waiting.message)
            status = 429
        else:
            device, error = _second_factor(request, user, form, allow_app=not key_only)
            if device is None:
                throttle.record_failure(request, user.get_username())
                auth_audit.login_failed("second_factor", user=user, factor=_attempted(form))
                form.add_error(None, error)
            else:
                return _after_second_factor(request, user, device)
    context = {
        "form": form,
        "title": gettext("Second step"),
        "username": user.get_username(),
        "key_only": key_only,
        **_key_options(request, user),
    }
    return _page(request, "accounts/verify.html", context, status)


def _second_factor(
    request: HttpRequest, user: AbstractBaseUser, form: CodeForm, *, allow_app: bool
) -> tuple[Device | None, str]:
    """The device that the posted assertion or code proves, or None and the error to show."""
    assertion = form.cleaned_data["assertion"]
    if assertion:
        try:
            return security_keys.authenticate(request, user, assertion), ""
        except security_keys.SecurityKeyError as exc:
            return None, str(exc)
    device = factors.verify_code(user, form.cleaned_data["code"], allow_app=allow_app)
    if device is None and not allow_app:
        return None, gettext(
            "Your second step is your security key. Use it, or one of your backup codes."
        )
    return device, _code_error(user) if device is None else ""


def _attempted(form: CodeForm) -> str:
    """The factor a refused second step tried (its name only, for the audit log)."""
    return auth_audit.attempted_factor(
        form.cleaned_data.get("assertion") or "", form.cleaned_data.get("code") or ""
    )


def _key_options(request: HttpRequest, user: AbstractBaseUser) -> dict[str, Any]:
    """A fresh challenge for the user's security keys, if they have any, for the page's JS."""
    if not security_keys.has_key(user):
        return {}
    return {"webauthn_get": security_keys.authentication_options(request, user)}


def _after_second_factor(request: HttpRequest, user: Any, device: Device) -> HttpResponse:
    """Log in, unless the user must have a security key and has none yet: then registering one
    is the only page they can reach (the session stays unauthenticated until they do)."""
    if security_keys.required_for(user) and not security_keys.has_key(user):
        _await_key(request, device)
        return HttpResponseRedirect(_with_next("accounts:key_enrol", _next_url(request)))
    _complete_login(request, user, device)
    return HttpResponseRedirect(_next_url(request))


def _await_key(request: HttpRequest, device: Device) -> None:
    pending = request.session[PENDING]
    # The 5 minutes start again for the registration of the key.
    request.session[PENDING] = {**pending, "factor": device.persistent_id, "at": now()}


def _proved_factor(request: HttpRequest, user: AbstractBaseUser) -> Device | None:
    """The device that proved the second factor of the pending login, if one did."""
    pending = request.session.get(PENDING)
    persistent_id = pending.get("factor") if isinstance(pending, dict) else None
    if not isinstance(persistent_id, str):
        return None
    device = Device.from_persistent_id(persistent_id)
    return device if device is not None and device.user_id == user.pk else None


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """First login: set up an authenticator app, confirm it, and receive backup codes once."""
    user = _pending_user(request)
    if user is None:
        return _restart(request)
    if invitations.must_replace(user) or factors.has_second_factor(user):
        return HttpResponseRedirect(_with_next(_step_after_password(user), _next_url(request)))
    device = factors.pending_app_device(user, request.session.get(ENROL_DEVICE))
    request.session[ENROL_DEVICE] = device.pk
    form = EnrolForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_valid():
        waiting = throttle.check(request, user.get_username())
        if waiting is not None:
            auth_audit.login_throttled(request, "enrol", waiting, user=user)
            form.add_error(None, waiting.message)
            status = 429
        else:
            codes = factors.confirm_app_device(device, form.cleaned_data["code"])
            if codes is None:
                throttle.record_failure(request, user.get_username())
                auth_audit.login_failed("enrol", user=user, factor="totp")
                form.add_error("code", _code_error(user))
            else:
                device.refresh_from_db()
                if security_keys.required_for(user):
                    _await_key(request, device)
                    then = _with_next("accounts:key_enrol", _next_url(request))
                    return _backup_codes_page(request, codes, first_time=True, then=then)
                _complete_login(request, user, device, step="enrol")
                return _backup_codes_page(request, codes, first_time=True)
    context = {
        "form": form,
        "title": gettext("Set up two-step login"),
        "username": user.get_username(),
        "qr_svg": factors.qr_svg(device),
        "secret": factors.base32_secret(device),
        "device": device,
    }
    return _page(request, "accounts/enrol.html", context, status)


def _backup_codes_page(
    request: HttpRequest, codes: list[str], *, first_time: bool, then: str | None = None
) -> HttpResponse:
    # Rendered straight from the request that made the codes, never stored in the session:
    # they exist in clear only in this response (sent with Cache-Control: no-store).
    context = {
        "codes": codes,
        "first_time": first_time,
        "title": gettext("Your backup codes"),
        "then": then,
    }
    return _page(request, "accounts/backup_codes.html", context)


@sensitive_post_parameters("password", "code", "assertion")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def reauth(request: HttpRequest) -> HttpResponse:
    """Password and second factor again, before sealed reads and exports; opens a 5-minute
    window. A user whose second factor is a security key confirms with the key (or a backup
    code), never with an authenticator code alone."""
    user = request.user
    if not user.is_authenticated:
        return HttpResponseRedirect(_with_next("accounts:login", _next_url(request)))
    key_only = security_keys.key_is_second_factor(user)
    form = ReauthForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_valid():
        username = user.get_username()
        waiting = throttle.check(request, username)
        if waiting is not None:
            auth_audit.reauth_throttled(request, user, waiting)
            form.add_error(None, waiting.message)
            status = 429
        else:
            again = authenticate(request, username=username, password=form.cleaned_data["password"])
            # Both factors are always checked, so the answer does not say which one was wrong.
            device, _error = _second_factor(request, user, form, allow_app=not key_only)
            password_ok = again is not None and again.pk == user.pk
            if not password_ok or device is None:
                throttle.record_failure(request, username)
                auth_audit.reauth_failed(
                    user,
                    password_ok=password_ok,
                    factor=_attempted(form),
                    factor_ok=device is not None,
                )
                form.add_error(None, BAD_REAUTH)
            else:
                request.session.cycle_key()
                otp_login(request, device)
                stamp_reauth(request.session)
                auth_audit.reauth_succeeded(user, device)
                return HttpResponseRedirect(_next_url(request))
    context = {
        "form": form,
        "title": gettext("Confirm it is you"),
        "username": user.get_username(),
        "key_only": key_only,
        **_key_options(request, user),
    }
    return _page(request, "accounts/reauth.html", context, status)


@csrf_protect
@never_cache
@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Logout by POST only: a link or an image on another site cannot log anyone out."""
    auth_audit.logged_out(request.user)
    auth_logout(request)
    messages.info(request, gettext("You are logged out."))
    response = HttpResponseRedirect(reverse("accounts:login"))
    # A shared or borrowed computer keeps nothing of the back office: the browser drops what it
    # cached or stored for this site (ASVS 14.3.1). Not "cookies": the message above and the
    # language choice travel in cookies, and the session cookie is already worthless.
    response["Clear-Site-Data"] = '"cache", "storage"'
    return response


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
@require_recent_auth
def backup_codes(request: HttpRequest) -> HttpResponse:
    """Replace one's own backup codes (after re-authentication); the old ones stop working."""
    if request.method == "POST":
        _offer_ending_sessions(request)
        return _backup_codes_page(
            request,
            factors.new_backup_codes(cast(AbstractBaseUser, request.user)),
            first_time=False,
        )
    return _page(request, "accounts/new_backup_codes.html", {"title": gettext("New backup codes")})


# -- Security keys ----------------------------------------------------------------------------


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def key_enrol(request: HttpRequest) -> HttpResponse:
    """A user who must have a security key registers one before the login completes."""
    user = _pending_user(request)
    if user is None:
        return _restart(request)
    device = _proved_factor(request, user)
    if invitations.must_replace(user):
        return HttpResponseRedirect(_with_next(_step_after_password(user), _next_url(request)))
    if device is None or security_keys.has_key(user):
        return HttpResponseRedirect(_with_next("accounts:verify", _next_url(request)))
    form = KeyNameForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        key = _register_key(request, user, form)
        if key is not None:
            _complete_login(request, user, key, step="key_enrol")
            messages.success(request, gettext("Your security key is registered."))
            return HttpResponseRedirect(_next_url(request))
    return _key_page(request, user, form, first_time=True)


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
@require_recent_auth
def key_add(request: HttpRequest) -> HttpResponse:
    """Register another security key (after re-authentication)."""
    user = cast(AbstractBaseUser, request.user)
    form = KeyNameForm(request.POST if request.method == "POST" else None)
    if form.is_valid() and _register_key(request, user, form) is not None:
        messages.success(request, gettext("Your security key is registered."))
        _offer_ending_sessions(request)
        return HttpResponseRedirect(reverse("accounts:keys"))
    return _key_page(request, user, form, first_time=False)


def _register_key(request: HttpRequest, user: AbstractBaseUser, form: KeyNameForm) -> Any | None:
    try:
        return security_keys.register(
            request, user, form.cleaned_data["credential"], form.cleaned_data["name"]
        )
    except security_keys.SecurityKeyError as exc:
        form.add_error(None, str(exc))
        return None


def _key_page(
    request: HttpRequest, user: AbstractBaseUser, form: KeyNameForm, *, first_time: bool
) -> HttpResponse:
    context = {
        "form": form,
        "title": gettext("Register a security key"),
        "first_time": first_time,
        "webauthn_create": security_keys.registration_options(request, user),
    }
    status = 400 if form.is_bound else 200
    return _page(request, "accounts/key_register.html", context, status)


@never_cache
@require_http_methods(["GET"])
def keys(request: HttpRequest) -> HttpResponse:
    """One's own security keys, with links to add and remove."""
    if not _is_verified(request.user):
        return HttpResponseRedirect(_with_next("accounts:login", request.get_full_path()))
    user = cast(AbstractBaseUser, request.user)
    context = {
        "title": gettext("Your security keys"),
        "keys": security_keys.keys_of(user),
        "required": security_keys.required_for(user),
    }
    return _page(request, "accounts/keys.html", context)


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
@require_recent_auth
def key_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove one of one's own keys, after a confirmation (someone else's key is a 404)."""
    user = cast(AbstractBaseUser, request.user)
    key = get_object_or_404(WebAuthnCredential, pk=pk, user_id=user.pk)
    last_required = security_keys.required_for(user) and len(security_keys.keys_of(user)) == 1
    if request.method == "POST" and not last_required:
        key.delete()
        messages.success(
            request, gettext("The security key “%(name)s” is removed.") % {"name": key.name}
        )
        return HttpResponseRedirect(reverse("accounts:keys"))
    context = {
        "title": gettext("Remove a security key"),
        "key": key,
        "last_required": last_required,
    }
    return _page(
        request,
        "accounts/key_remove.html",
        context,
        409 if last_required and request.method == "POST" else 200,
    )


# -- Logged-in sessions ---------------------------------------------------------------------------


def _offer_ending_sessions(request: HttpRequest) -> None:
    """After a second factor changed (ASVS 7.4.3): one may be doing it because a device was
    lost or taken, and that device may still be logged in."""
    messages.info(
        request,
        format_html(
            '{} <a href="{}">{}</a>',
            gettext("If a device of yours was lost or taken, end its session:"),
            reverse("accounts:sessions"),
            gettext("your logged-in sessions"),
        ),
    )


@never_cache
@require_http_methods(["GET"])
def sessions(request: HttpRequest) -> HttpResponse:
    """One's own logged-in sessions, with buttons to end one or all the others."""
    if not _is_verified(request.user):
        return HttpResponseRedirect(_with_next("accounts:login", request.get_full_path()))
    context = {
        "title": gettext("Your logged-in sessions"),
        "sessions": signed_in.active(request.user),
        "current": signed_in.current_id(request.session),
        "members": signed_in.members_of(request.user),
    }
    return _page(request, "accounts/sessions.html", context)


@csrf_protect
@never_cache
@require_POST
def member_sessions_end(request: HttpRequest) -> HttpResponse:
    """A coordinator ends every session of a member of their sections (`member` = user id),
    e.g. the night a member is arrested with their phone. POST only, no re-authentication (it
    only takes access away; the member logs in again), audited as `sessions_ended` by the
    coordinator. Anyone else, or another section's member, ends nothing and learns nothing."""
    if not _is_verified(request.user):
        return HttpResponseRedirect(_with_next("accounts:login", reverse("accounts:sessions")))
    member = signed_in.may_end_for(request.user, _int_or_none(request.POST.get("member")))
    if member is None:
        messages.error(request, gettext("No session was ended: you cannot end that user's."))
        return HttpResponseRedirect(reverse("accounts:sessions"))
    count = signed_in.end_all(member, by=request.user)
    messages.success(
        request,
        ngettext(
            "%(count)d session of %(user)s ended.", "%(count)d sessions of %(user)s ended.", count
        )
        % {"count": count, "user": member.get_username()},
    )
    return HttpResponseRedirect(reverse("accounts:sessions"))


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


@csrf_protect
@never_cache
@require_POST
def session_end(request: HttpRequest) -> HttpResponse:
    """End one of one's own sessions, or all but this one (`which` = "others").

    POST only, from the list's buttons (a link on another site cannot end anyone's sessions);
    no re-authentication: ending sessions only takes access away. Another user's session, or
    one already gone, ends nothing and says so.
    """
    if not _is_verified(request.user):
        return HttpResponseRedirect(_with_next("accounts:login", reverse("accounts:sessions")))
    which = request.POST.get("which", "")
    if which == "others":
        count = signed_in.end_others(request)
    elif which and which != signed_in.current_id(request.session):
        count = signed_in.end(request.user, which, by=request.user)
    else:
        count = 0
    if count:
        messages.success(
            request,
            ngettext("%(count)d session ended.", "%(count)d sessions ended.", count)
            % {"count": count},
        )
    else:
        messages.info(request, gettext("No session was ended: it had ended already."))
    return HttpResponseRedirect(reverse("accounts:sessions"))


# -- First passwords (accounts/invitations.py) -------------------------------------------------

# One page for a link that never was, was used, was replaced by a newer one or has expired: the
# answer must not tell someone trying links which accounts exist or were invited.
INVITATION_STATUS = 404


def _invitation_invalid(request: HttpRequest) -> HttpResponse:
    context = {"title": gettext("This link does not work")}
    return _page(request, "accounts/invitation_invalid.html", context, INVITATION_STATUS)


# The token and a pasted link stay out of error reports, like the passwords.
@sensitive_post_parameters("new_password1", "new_password2", "t", "link")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest) -> HttpResponse:
    """A new member chooses their password with the one-time link an administrator handed them.

    Anonymous. The link's token is in its fragment, which no request carries (so no access log
    has it): the GET shows a page whose script posts the fragment's `u` and `t` (or a form
    where the member pastes the link), and every check is made on those POSTs. The site sends
    no Referer. Throttled like the login: a guessed or replayed link counts as a failed attempt
    against the account it names and the client."""
    if request.method == "GET":
        return _invitation_open(request)
    uid = request.POST.get("u", "")
    token = request.POST.get("t", "")
    if not (uid or token):
        uid, token = invitations.link_parameters(request.POST.get("link", ""))
    # A separate counter from the account's login: a stranger's bad links do not lock the
    # member out of their login, and the other way round.
    key = f"invitation:{uid[: invitations.MAX_UID]}"
    user = invitations.invited_user(uid)
    waiting = throttle.check(request, key)
    if waiting is not None:
        auth_audit.login_throttled(request, "invitation", waiting, username=key, user=user)
        throttled = {"title": gettext("This link does not work"), "waiting": waiting.message}
        return _page(request, "accounts/invitation_invalid.html", throttled, 429)
    if user is None or not invitations.link_works(user, token):
        throttle.record_failure(request, key)
        auth_audit.login_failed("invitation", username=key, user=user)
        return _invitation_invalid(request)
    # The first POST (from the script or the pasted link) opens the form; the form's own POST
    # carries the passwords and, in hidden fields, the same u and t.
    form = SetPasswordForm(user, request.POST if "new_password1" in request.POST else None)
    if form.is_valid():
        if not invitations.accept(user, token, form.cleaned_data["new_password1"]):
            return _invitation_invalid(request)
        messages.success(
            request,
            gettext("Your password is set. Log in with it now; next you set up the second step."),
        )
        return HttpResponseRedirect(reverse("accounts:login"))
    context: dict[str, Any] = {
        "form": form,
        "title": gettext("Choose your password"),
        "username": user.get_username(),
        "hours": invitations.lifetime_hours(),
        "uid": uid,
        "token": token,
    }
    return _page(request, "accounts/invitation.html", context)


def _invitation_open(request: HttpRequest) -> HttpResponse:
    if "u" in request.GET or "t" in request.GET:
        # A link made before the token moved to the fragment, still alive for its 72 hours. Its
        # request line is in the access log already; the 303 at least takes the token out of
        # the address bar (the script then clears the fragment). Cut one past the longest real
        # value: a longer one stays too long, and is refused on the POST like any other.
        uid = request.GET.get("u", "")[: invitations.MAX_UID + 1]
        token = request.GET.get("t", "")[: invitations.MAX_TOKEN + 1]
        return HttpResponseRedirect(invitations.link_path(uid, token), status=303)
    context = {"title": gettext("Choose your password"), "max_link": invitations.MAX_LINK}
    return _page(request, "accounts/invitation_open.html", context)


@sensitive_post_parameters("new_password1", "new_password2")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def replace_password(request: HttpRequest) -> HttpResponse:
    """Right after the password step, when the password was set by an administrator: the
    member chooses their own before the second factor; no other page of the login opens."""
    user = _pending_user(request)
    if user is None:
        return _restart(request)
    if not invitations.must_replace(user):
        return HttpResponseRedirect(_with_next(_step_after_password(user), _next_url(request)))
    form = ReplacePasswordForm(user, request.POST if request.method == "POST" else None)
    if form.is_valid():
        invitations.replace_forced_password(user, form.cleaned_data["new_password1"])
        # The 5 minutes of the pending login start again for the second factor.
        request.session[PENDING] = {**request.session[PENDING], "at": now()}
        messages.success(request, gettext("Your new password is set."))
        return HttpResponseRedirect(_with_next(_step_after_password(user), _next_url(request)))
    context = {
        "form": form,
        "title": gettext("Choose a new password"),
        "username": user.get_username(),
    }
    return _page(request, "accounts/replace_password.html", context)
