"""Files attached to sources in the back office: the upload form and the one download view.

A source file is internal to its section (solidarity.core.classification). It has no public
address: MEDIA_ROOT is served by nothing, and this view, behind the admin's login and second
factor, fetches the row through `get_for_user`, so another section's file answers 404 like a
missing one (threat model D6). The bytes leave as an attachment that the browser may neither
sniff into HTML nor run scripts in (a PDF can carry JavaScript; threat model A10).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from solidarity.audit.context import actor_for_user
from solidarity.audit.services import append
from solidarity.safety.access import get_for_user
from solidarity.safety.sanitise import MEDIA_TYPES, cleaned_upload

from .models import SourceFile

ACCEPT = ",".join(MEDIA_TYPES.values())
# Nothing in a served file may run or load anything, even if a browser were made to render it.
FILE_CSP = "default-src 'none'; sandbox"


class SourceFileForm(forms.ModelForm[SourceFile]):
    """Cleans the upload while validating, so that a refused file gets its reason next to the
    field and an accepted one is stored exactly as cleaned (the model does not clean it twice)."""

    class Meta:
        model = SourceFile
        fields = ("file", "caption")
        # No link to the stored file (its address is not served) and no "clear" box.
        widgets = {"file": forms.FileInput(attrs={"accept": ACCEPT})}

    def clean_file(self) -> Any:
        upload = self.cleaned_data.get("file")
        if isinstance(upload, UploadedFile):
            return cleaned_upload(upload)
        return upload


def download_link(item: SourceFile) -> SafeString:
    if item.pk is None or not item.file:
        return SafeString("")
    url = reverse("documentation_source_file", args=[item.pk])
    return format_html(
        '<a href="{}">{}</a> ({})', url, _("download"), item.get_media_type_display()
    )


@require_GET
def download(request: HttpRequest, pk: int) -> FileResponse:
    """The stored (already cleaned) bytes of one source file, as an attachment."""
    item = get_for_user(SourceFile, request.user, pk, "view")
    # Who took a copy of which file off the server: evidence if one leaks (never the content).
    append(
        "file_download",
        "documentation.SourceFile",
        item.pk,
        ["file"],
        actor=actor_for_user(request.user),
    )
    response = FileResponse(
        item.file.open("rb"),
        as_attachment=True,
        filename=item.download_name,
        content_type=item.media_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    # Not kept in the browser's cache, where a seized laptop would still hold it.
    response["Cache-Control"] = "no-store, private"
    return response
