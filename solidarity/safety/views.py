"""Key set-up, unlock and lock, and the page that shows and edits one sealed value.

Every page needs a staff login. A sealed value of another section, or one the user's role does
not include, answers 404 like a missing one (threat model D6).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import ObjectDoesNotExist
from django.db import models, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from .access import can, get_for_user, section_of
from .crypto import DecryptionError
from .fields import SealingError
from .forms import PasswordForm, RotateKeyForm, SealedValueForm, UnlockForm
from .key_rotation import reseal_for, rotate_user_key
from .keys import (
    UNLOCK_SECONDS,
    KeyRefused,
    RecordMoved,
    forget_unlocked,
    has_key,
    is_recipient,
    lock_for_sealing,
    may_read_sealed,
    read_sealed,
    remember_unlocked,
    sealed_fields,
    setup_user_key,
    unlock_private_key,
    unlock_seconds_left,
    unlocked_key,
    user_key,
    write_sealed,
)
from .models import Role, SectionRecoveryKey
from .policy import RoleName
from .resilience import enforced, shortfall, shortfall_message


def _context(request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    return {**admin.site.each_context(request), "title": title, **extra}


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _recovery_keys(user: Any) -> list[tuple[Any, SectionRecoveryKey | None]]:
    """(section, its recovery key or None) for each section where `user` is a coordinator: the
    fingerprint and date let custodians compare with their printed copy, so a replaced key
    is noticed."""
    roles = Role.objects.filter(user=user, role=RoleName.COORDINATOR).select_related("section")
    sections = [role.section for role in roles]
    keys = {
        key.section_id: key
        for key in SectionRecoveryKey.objects.filter(section__in=[s.pk for s in sections])
    }
    return [(section, keys.get(section.pk)) for section in sections]


@staff_member_required
@require_http_methods(["GET", "POST"])
def key_page(request: HttpRequest) -> HttpResponse:
    """Set up one's key pair, or see whether it is set up and unlocked."""
    key = user_key(request.user)
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and key is None and form.is_valid():
        try:
            setup_user_key(request.user, form.cleaned_data["password"])
        except KeyRefused as error:
            form.add_error("password", str(error))
        else:
            messages.success(
                request,
                _(
                    "Your key is set up. Values sealed from now on in your sections are sealed "
                    "for you too; for older ones, ask a coordinator who can read them to grant "
                    "you access."
                ),
            )
            return HttpResponseRedirect(reverse("safety:key"))
    return render(
        request,
        "safety/key.html",
        _context(
            request,
            _("My key for sealed data"),
            key=key,
            form=form,
            unlocked=unlocked_key(request) is not None,
            seconds_left=unlock_seconds_left(request),
            recovery_keys=_recovery_keys(request.user),
        ),
    )


def _unlock_view(request: HttpRequest) -> HttpResponse:
    key = user_key(request.user)
    next_url = _safe_next(request, reverse("safety:key"))
    if key is None:
        messages.info(request, _("You have no key yet: set it up first."))
        return HttpResponseRedirect(reverse("safety:key"))
    form = UnlockForm(request.POST or None, needs_previous=key.needs_rewrap)
    if request.method == "POST" and form.is_valid():
        try:
            private_key = unlock_private_key(
                request.user,
                form.cleaned_data["password"],
                form.cleaned_data.get("previous_password", ""),
            )
        except KeyRefused as error:
            form.add_error(None, str(error))
        else:
            response = HttpResponseRedirect(next_url)
            remember_unlocked(request, response, private_key)
            return response
    return render(
        request,
        "safety/unlock.html",
        _context(
            request,
            _("Unlock sealed data"),
            form=form,
            next=next_url,
            minutes=UNLOCK_SECONDS // 60,
        ),
    )


def _with_recent_auth(view: Any) -> Any:
    # Password and second factor again before a sealed read (threat model M10), when the
    # accounts app that provides it is installed; the unlock form itself asks for the password
    # that opens the key in any case.
    try:
        from solidarity.accounts.decorators import require_recent_auth
    except ImportError:
        return view
    from django.conf import settings

    if "solidarity.accounts" not in settings.INSTALLED_APPS:
        return view
    return require_recent_auth(view)


@staff_member_required
@require_http_methods(["GET", "POST"])
def unlock(request: HttpRequest) -> HttpResponse:
    """Open one's private key with one's password, for UNLOCK_SECONDS in this browser."""
    return _with_recent_auth(_unlock_view)(request)  # type: ignore[no-any-return]


def _rotate_view(request: HttpRequest) -> HttpResponse:
    key = user_key(request.user)
    if key is None:
        messages.info(request, _("You have no key yet: set it up first."))
        return HttpResponseRedirect(reverse("safety:key"))
    form = RotateKeyForm(request.POST or None, needs_previous=key.needs_rewrap)
    if request.method == "POST" and form.is_valid():
        try:
            _result, private_key = rotate_user_key(
                request.user,
                form.cleaned_data["password"],
                form.cleaned_data.get("previous_password", ""),
            )
        except KeyRefused as error:
            form.add_error(None, str(error))
        else:
            resealed = 0
            if form.cleaned_data["reseal"]:
                try:
                    resealed = reseal_for(request.user, private_key)
                except KeyRefused as error:  # RecipientsChanged: the pair itself was replaced
                    messages.error(request, str(error))
            messages.success(
                request,
                _(
                    "Your key pair was replaced: nothing in the database opens with the old key "
                    "any more. Sealed data is locked in all your sessions."
                ),
            )
            if resealed:
                messages.success(
                    request,
                    ngettext(
                        "%(count)d sealed value was resealed under a new data key.",
                        "%(count)d sealed values were resealed under new data keys.",
                        resealed,
                    )
                    % {"count": resealed},
                )
            response = HttpResponseRedirect(reverse("safety:key"))
            # This session's unlocked copy holds the old private key (threat: the same leak).
            forget_unlocked(request, response)
            return response
    return render(
        request, "safety/rotate_key.html", _context(request, _("Replace my key pair"), form=form)
    )


@staff_member_required
@require_http_methods(["GET", "POST"])
def rotate_key(request: HttpRequest) -> HttpResponse:
    """Replace one's key pair after a leak of the private key and password. Password and second
    factor again first, as for an unlock (M10): a phished password typed into a session left
    open must not be enough to rewrite every wrapped key and reseal every value."""
    return _with_recent_auth(_rotate_view)(request)  # type: ignore[no-any-return]


@staff_member_required
@require_POST
def lock(request: HttpRequest) -> HttpResponse:
    response = HttpResponseRedirect(_safe_next(request, reverse("safety:key")))
    forget_unlocked(request, response)
    messages.info(request, _("Sealed data is locked again."))
    return response


def _sealed_model(app_label: str, model_name: str, field: str) -> type[models.Model]:
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError:
        raise Http404 from None
    if (model, field) not in sealed_fields():
        raise Http404
    return model


def _change_url(obj: models.Model) -> str:
    try:
        return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return reverse("admin:index")


@staff_member_required
@require_http_methods(["GET", "POST"])
def sealed_value(
    request: HttpRequest, app_label: str, model_name: str, pk: int, field: str
) -> HttpResponse:
    """Show one sealed value to a recipient with an unlocked key, and let them replace it."""
    model = _sealed_model(app_label, model_name, field)
    obj = get_for_user(model, request.user, pk, "view")
    if not may_read_sealed(request.user, obj):
        raise Http404
    private_key = unlocked_key(request)
    if private_key is None:
        query = f"?next={request.get_full_path()}"
        return HttpResponseRedirect(reverse("safety:unlock") + query)
    may_change = can(request.user, "change", model, obj)
    form = SealedValueForm(request.POST or None)
    if request.method == "POST":
        if not may_change:
            raise Http404
        if form.is_valid():
            new_value = form.cleaned_data["value"]
            try:
                # One transaction: the recipients counted for D4 are those the value is sealed
                # for, and a key that changed meanwhile rolls it all back (RecipientsChanged).
                with transaction.atomic():
                    # The record as stored now, locked: the copy loaded above may predate a
                    # move to another section, where this user may have no role and its
                    # value would be sealed for the old section's keys (RecordMoved).
                    current = lock_for_sealing(model, obj.pk)
                    if section_of(current) != section_of(obj):
                        raise RecordMoved
                    obj = current
                    # D4: a value fewer than two coordinators can open is one arrest from loss.
                    short = shortfall(obj, new_value)
                    refused = short is not None and enforced()
                    if not refused:
                        write_sealed(obj, field, new_value)
            except ObjectDoesNotExist:
                raise Http404 from None  # deleted meanwhile
            except SealingError as error:
                form.add_error("value", str(error))
            else:
                if refused and short is not None:
                    form.add_error("value", shortfall_message(short, refused=True))
                else:
                    messages.success(request, _("The sealed value was saved."))
                    if short is not None:
                        messages.warning(request, shortfall_message(short))
                    return HttpResponseRedirect(_change_url(obj))
    value: str | None = None
    problem = ""
    if not is_recipient(request.user, obj, field) and getattr(obj, field):
        problem = _(
            "This value was not sealed for you. A coordinator who can read it must grant you "
            "access: solidarity keys grant --to %(user)s."
        ) % {"user": request.user.get_username()}
    else:
        try:
            value = read_sealed(request.user, obj, field, private_key)
        except (KeyRefused, DecryptionError) as error:
            problem = str(error)
    verbose = getattr(model._meta.get_field(field), "verbose_name", field)
    return render(
        request,
        "safety/sealed_value.html",
        _context(
            request,
            _("%(field)s of %(object)s") % {"field": verbose, "object": obj},
            obj=obj,
            field_label=verbose,
            value=value,
            problem=problem,
            form=form if may_change else None,
            back_url=_change_url(obj),
            seconds_left=unlock_seconds_left(request),
            has_key=has_key(request.user),
        ),
    )
