"""The accounts app, and the admin configuration that makes the two-factor site the default.

`SolidarityAdminConfig` replaces `django.contrib.admin` in INSTALLED_APPS: it is the same app
(label "admin"), but `admin.site` becomes `SolidarityAdminSite`, so every existing
`admin.site.register(...)` and `@admin.register(...)` call lands on a site that demands a
verified second factor.
"""

from __future__ import annotations

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.http import HttpRequest


class AccountsConfig(AppConfig):
    default = True
    name = "solidarity.accounts"
    label = "accounts"
    verbose_name = "Accounts and login"

    def ready(self) -> None:
        # Registers the system checks (no "*" host, Argon2 first, CSP, durable database).
        from django.contrib import admin
        from django.contrib.auth.signals import user_logged_out
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from solidarity.accounts import checks  # noqa: F401

        # Whatever logs a session out (the logout view, a time limit, a session ended
        # from another device), its row in the list of logged-in sessions goes with it.
        user_logged_out.connect(_forget_session, dispatch_uid="accounts.signed_in")

        # django-otp's TOTP model is replaced by AppDevice, whose secret is encrypted; its admin
        # pages would create devices with a plaintext secret and show any device's secret as a
        # QR code to whoever holds the admin. The model stays installed for the migration only.
        if admin.site.is_registered(TOTPDevice):
            admin.site.unregister(TOTPDevice)


def _forget_session(sender: object, request: HttpRequest | None = None, **kwargs: object) -> None:
    from solidarity.accounts.signed_in import finished

    if request is not None and hasattr(request, "session"):
        finished(request.session)


class SolidarityAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "solidarity.accounts.sites.SolidarityAdminSite"
