"""Forms of the login steps. They only shape input; the decisions are in views.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import SetPasswordForm, UsernameField
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _


class PasswordForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        # A backup code is 29 characters as shown ("xxxx-xxxx-…"), more if typed with spaces.
        max_length=64,
        required=False,
        help_text=_("The 6-digit code from your authenticator app, or one of your backup codes."),
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "one-time-code", "inputmode": "text"}
        ),
    )
    # Filled by accounts/webauthn.js with the security key's answer (JSON).
    assertion = forms.CharField(required=False, max_length=20000, widget=forms.HiddenInput)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if not data.get("code") and not data.get("assertion"):
            self.add_error("code", _("Type a code, or use your security key."))
        return data


class EnrolForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"),
        max_length=16,
        help_text=_("After scanning, type the 6-digit code the app shows now."),
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "one-time-code", "inputmode": "numeric"}
        ),
    )


class ReauthForm(CodeForm):
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autofocus": True, "autocomplete": "current-password"}),
    )
    field_order = ["password", "code", "assertion"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The password field has the focus here, not the code.
        self.fields["code"].widget.attrs.pop("autofocus", None)


class KeyNameForm(forms.Form):
    """Registration of a security key: a name to tell keys apart, and the key's answer."""

    name = forms.CharField(
        label=_("Name of the key"),
        max_length=64,
        required=False,
        help_text=_("For example “blue key on my keyring”, to tell your keys apart."),
    )
    credential = forms.CharField(max_length=20000, widget=forms.HiddenInput)


class NewMemberForm(forms.ModelForm):  # type: ignore[type-arg]
    """Adding a user in the back office: a username only. The account gets no password; the
    page after saving shows a one-time link with which the member chooses it
    (accounts/invitations.py), so the administrator never learns it (ASVS 6.4.1)."""

    class Meta:
        model = User
        fields = ("username",)
        field_classes = {"username": UsernameField}

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        # As Django's own creation form: "Anna" and "anna" would be two people at the login.
        if User._default_manager.filter(username__iexact=username).exists():
            raise forms.ValidationError(
                self.instance.unique_error_message(User, ["username"]), code="unique"
            )
        return username

    def save(self, commit: bool = True) -> User:
        user: User = super().save(commit=False)
        user.set_unusable_password()
        if commit:
            user.save()
        return user


class ReplacePasswordForm(SetPasswordForm):  # type: ignore[type-arg]
    """The member's own password in place of the one an administrator set (and knows)."""

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        password = self.cleaned_data.get("new_password2")
        if password and not self.has_error("new_password2") and self.user.check_password(password):
            self.add_error(
                "new_password2",
                forms.ValidationError(
                    _("Choose a new password, not the one you were given."),
                    code="password_unchanged",
                ),
            )
        return data
