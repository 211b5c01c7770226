"""`{% export_notice %}`: the back-office home page's list of recent signature exports in the
user's sections (threat model M10; `services.visible_exports`)."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from .. import services

register = template.Library()


@register.inclusion_tag("campaigns/admin/export_notice.html", takes_context=True)
def export_notice(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    # Only for those who read signatures somewhere: to anyone else an export is no concern,
    # and an empty block would only say that exports exist.
    if user is None or not services.may_see_exports(user):
        return {"shown": False}
    return {
        "shown": True,
        "user": user,
        "exports": list(services.visible_exports(user)),
        "days": settings.SOLIDARITY_EXPORT_NOTICE_DAYS,
    }
