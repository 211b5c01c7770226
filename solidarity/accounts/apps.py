"""The accounts app, and the admin configuration that makes the two-factor site the default.

`SolidarityAdminConfig` replaces `django.contrib.admin` in INSTALLED_APPS: it is the same app
(label "admin"), but `admin.site` becomes `SolidarityAdminSite`, so every existing
`admin.site.register(...)` and `@admin.register(...)` call lands on a site that demands a
verified second factor.
"""

from __future__ import annotations

from typing import Any

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
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import post_save
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from solidarity.accounts import checks  # noqa: F401

        # Whatever logs a session out (the logout view, a time limit, a session ended
        # from another device), its row in the list of logged-in sessions goes with it.
        user_logged_out.connect(_forget_session, dispatch_uid="accounts.signed_in")
        # A deactivated account's sessions end (ASVS 7.4.2). Django already refuses an inactive
        # user at each request, but reactivating the account would bring back the session of a
        # browser that someone else may hold by then; without its row it is logged out instead.
        post_save.connect(
            _end_sessions_of_inactive, sender=get_user_model(), dispatch_uid="accounts.inactive"
        )

        # django-otp's TOTP model is replaced by AppDevice, whose secret is encrypted; its admin
        # pages would create devices with a plaintext secret and show any device's secret as a
        # QR code to whoever holds the admin. The model stays installed for the migration only.
        if admin.site.is_registered(TOTPDevice):
            admin.site.unregister(TOTPDevice)


def _forget_session(sender: object, request: HttpRequest | None = None, **kwargs: object) -> None:
    from solidarity.accounts.signed_in import finished

    if request is not None and hasattr(request, "session"):
        finished(request.session)


def _end_sessions_of_inactive(
    sender: object, instance: Any, raw: bool = False, **kwargs: object
) -> None:
    # `raw`: a restore (loaddata) writes rows as they were, sessions included.
    if raw or instance.is_active:
        return
    from solidarity.accounts.signed_in import end_all

    # by=None: the audit context names whoever made the change (admin, command).
    end_all(instance, by=None)


class SolidarityAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "solidarity.accounts.sites.SolidarityAdminSite"
