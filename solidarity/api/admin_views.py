"""The back office's CSV import: upload, a dry-run report, then confirm.

Between the check and the confirmation the checked file waits on the server (the shared
cache, so any app server can take the confirmation), encrypted with the keyring under its
user and a random token, for PENDING_SECONDS; the confirmation posts only the token. Posting
the file's text back, as this once did, hit Django's 2.5 MB limit on form fields: a file
between 2.5 and 10 MB passed the check and then failed to confirm. The text is checked again
before anything is written, so what is imported is always what was just validated.
"""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from solidarity.accounts.hosts import public_base_url
from solidarity.documentation.models import Event, Person
from solidarity.safety.crypto import DecryptionError, decrypt_personal, encrypt_personal
from solidarity.safety.slugs import hides_slugs

from . import importers

# What a user must be allowed to do to import each kind.
PERMISSIONS = {
    "people": ("documentation.add_person", "documentation.change_person"),
    "events": (
        "documentation.add_event",
        "documentation.change_event",
        "documentation.add_citation",
    ),
    "signatures": ("campaigns.add_signature",),
}
# How long a checked file waits for its confirmation.
PENDING_SECONDS = 30 * 60


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=[(k, k) for k in importers.KINDS])
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("A CSV file in UTF-8 whose first line names the columns."),
    )
    only_good = forms.BooleanField(
        required=False, label=gettext_lazy("Import only the good rows (skip the bad ones)")
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        # Django has received the whole upload by now (in memory up to
        # FILE_UPLOAD_MAX_MEMORY_SIZE, on disk past it); what is spared is decoding and
        # checking every row of it.
        if upload.size > importers.MAX_FILE_BYTES:
            raise forms.ValidationError(_("The file is larger than 10 MB; split it."))
        try:
            return str(upload.read().decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise forms.ValidationError(
                _("This is not UTF-8 text; save the CSV as UTF-8.")
            ) from None


class ConfirmForm(forms.Form):
    pending = forms.CharField(widget=forms.HiddenInput, max_length=64)


def _pending_key(token: str) -> str:
    return f"csv-import:{token}"


def _aad(user: User, token: str) -> bytes:
    # Bound to its user and token: another user's confirmation, or a value copied from one
    # token's row to another's, decrypts to nothing.
    return f"csv-import:{user.pk}:{token}".encode()


def _keep(user: User, kind: str, text: str, only_good: bool) -> str:
    """Keep a checked file for its confirmation; the token the confirmation posts back.

    Encrypted because the shared cache is a table of the database with PostgreSQL, and an
    import holds names and contacts (threat model M6): a dump must not show them.
    """
    token = secrets.token_urlsafe(24)
    value = {
        "kind": kind,
        "only_good": only_good,
        "text": encrypt_personal(text, _aad(user, token)),
    }
    cache.set(_pending_key(token), value, PENDING_SECONDS)
    return token


def _take(user: User, token: str) -> dict[str, Any] | None:
    """The file kept under `token` for `user` (once), or None if there is none any more."""
    value = cache.get(_pending_key(token))
    # Only the request whose delete removed the entry imports it: two confirmations at once
    # (a double click, two tabs) must not both import the file.
    if not cache.delete(_pending_key(token)) or not isinstance(value, dict):
        return None
    try:
        text = decrypt_personal(str(value["text"]), _aad(user, token))
    except (DecryptionError, KeyError, ValueError):
        return None
    return {"kind": value.get("kind"), "only_good": bool(value.get("only_good")), "text": text}


def _check_permission(user: User, kind: str) -> None:
    if not user.has_perms(PERMISSIONS[kind]):
        raise PermissionDenied(_("You may not import %(kind)s.") % {"kind": kind})


@require_http_methods(["GET", "POST"])
def import_csv(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # noqa: S101  (admin_view lets only signed-in staff in)
    context: dict[str, object] = {
        **admin.site.each_context(request),
        "title": _("Import a CSV file"),
        "columns": {kind: imp.columns for kind, imp in importers.IMPORTERS.items()},
    }
    if hides_slugs(user, Person) or hides_slugs(user, Event):
        context["slug_note"] = _(
            "A random ending is added to the slug of every person or event this file adds, so "
            "that addresses do not reveal records of other sections. Importing the same file "
            "again updates those records."
        )
    upload = UploadForm()
    if request.method == "POST" and "confirm" in request.POST:
        confirm = ConfirmForm(request.POST)
        pending = _take(user, confirm.cleaned_data["pending"]) if confirm.is_valid() else None
        if pending is not None and pending["kind"] in importers.KINDS:
            kind = pending["kind"]
            _check_permission(user, kind)
            report = importers.run(
                kind,
                pending["text"],
                dry_run=False,
                only_good=pending["only_good"],
                # The public site's, not the back office's: the links go out by e-mail (D11).
                base_url=public_base_url(request),
                user=user,
            )
            context["report"] = report
        else:
            context["problem"] = _(
                "This file is no longer waiting to be imported (it was imported already, or "
                "checked more than 30 minutes ago); upload it again."
            )
    elif request.method == "POST":
        upload = UploadForm(request.POST, request.FILES)
        if upload.is_valid():
            kind = upload.cleaned_data["kind"]
            _check_permission(user, kind)
            text = upload.cleaned_data["file"]
            only_good = upload.cleaned_data["only_good"]
            report = importers.run(kind, text, dry_run=True, only_good=only_good, user=user)
            context["report"] = report
            importable = report.created + report.updated + report.unchanged > 0
            if importable and (only_good or not report.errors):
                context["confirm"] = ConfirmForm(
                    initial={"pending": _keep(user, kind, text, only_good)}
                )
    context["form"] = upload
    return render(request, "admin/api/import.html", context)
