"""Forms of the key pages: set up a key, unlock it, edit a sealed value."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class PasswordForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )


class UnlockForm(PasswordForm):
    previous_password = forms.CharField(
        label=_("Your previous password"),
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text=_(
            "Your password was changed since your key was set up. Your key is still protected "
            "by the previous password; enter it once and the key is re-protected by the new one."
        ),
    )

    def __init__(self, *args: Any, needs_previous: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if needs_previous:
            self.fields["previous_password"].required = True
        else:
            del self.fields["previous_password"]


class RotateKeyForm(UnlockForm):
    reseal = forms.BooleanField(
        label=_("Also reseal every value I can read"),
        required=False,
        help_text=_(
            "Rewrites each sealed value you can read under a new data key, for every coordinator "
            "who can read it, so that the data keys in a copy of the database taken before open "
            "none of the values stored now. Takes longer; every value is recorded as read and "
            "changed."
        ),
    )


class SealedValueForm(forms.Form):
    value = forms.CharField(
        label=_("New value"),
        required=False,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off"}),
        help_text=_(
            "Sealed for every coordinator of the section who has a key. Leave empty to erase."
        ),
    )
