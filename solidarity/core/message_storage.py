"""Django's message storage (a cookie, the session for what does not fit) with the cookie
named by settings, so that under HTTPS it is `__Host-messages` like every other cookie of ours
(settings.py explains the prefix). Django's CookieStorage fixes the name "messages"."""

from __future__ import annotations

from django.conf import settings
from django.contrib.messages.storage import cookie, fallback, session


class CookieStorage(cookie.CookieStorage):
    # A property (read per request, never assigned) where Django has a class attribute.
    @property
    def cookie_name(self) -> str:  # type: ignore[override]
        return str(settings.SOLIDARITY_MESSAGES_COOKIE_NAME)


class FallbackStorage(fallback.FallbackStorage):
    storage_classes = (CookieStorage, session.SessionStorage)
