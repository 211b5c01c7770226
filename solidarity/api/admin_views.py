"""The back office's CSV import: upload, a dry-run report, then confirm.

The confirmation posts the checked text back and it is checked again before anything is
written, so what is imported is always what was just validated, whatever the browser sends.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

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
MAX_UPLOAD = 10 * 1024 * 1024


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
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("The file is larger than 10 MB; split it."))
        try:
            return str(upload.read().decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise forms.ValidationError(
                _("This is not UTF-8 text; save the CSV as UTF-8.")
            ) from None


class ConfirmForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k, k) for k in importers.KINDS], widget=forms.HiddenInput)
    text = forms.CharField(widget=forms.HiddenInput, strip=False)
    only_good = forms.BooleanField(required=False, widget=forms.HiddenInput)


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
    upload = UploadForm()
    if request.method == "POST" and "confirm" in request.POST:
        confirm = ConfirmForm(request.POST)
        if confirm.is_valid():
            kind = confirm.cleaned_data["kind"]
            _check_permission(user, kind)
            report = importers.run(
                kind,
                confirm.cleaned_data["text"],
                dry_run=False,
                only_good=confirm.cleaned_data["only_good"],
                base_url=request.build_absolute_uri("/").rstrip("/"),
                user=user,
            )
            context["report"] = report
        else:
            context["problem"] = _("The confirmation was incomplete; upload the file again.")
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
                    initial={"kind": kind, "text": text, "only_good": only_good}
                )
    context["form"] = upload
    return render(request, "admin/api/import.html", context)
