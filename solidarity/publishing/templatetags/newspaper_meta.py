"""`{% article_meta article %}`: an article's link preview and schema.org NewsArticle."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from solidarity.public.structured import absolute_urls, script

from .. import structured
from ..public_data import ArticleDetail

register = template.Library()


@register.simple_tag(takes_context=True)
def article_meta(context: template.Context, article: ArticleDetail) -> SafeString:
    request = context.get("request")
    if request is None:
        return mark_safe("")
    absolute = absolute_urls(request)
    return format_html(
        "{}\n{}",
        structured.open_graph(article, absolute).tags(),
        script(structured.news_article(article, absolute)),
    )
