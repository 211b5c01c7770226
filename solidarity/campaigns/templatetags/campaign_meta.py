"""`{% action_meta action %}`: an action page's link preview and schema.org Event."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from solidarity.public.structured import script
from solidarity.public.templatetags.public_tags import open_graph

from .. import structured
from ..public_data import ActionInfo

register = template.Library()


@register.simple_tag(takes_context=True)
def action_meta(context: template.Context, action: ActionInfo) -> SafeString:
    request = context.get("request")
    if request is None:
        return mark_safe("")
    data = structured.action(action, request.build_absolute_uri)
    return format_html("{}\n{}", open_graph(context), script(data))
