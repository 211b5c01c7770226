"""Fragments that many newspaper pages share, rendered once per language in a static build.

- `{% newspaper_nav languages %}`: the newspaper's navigation, on every newspaper page.
- `{% article_item summary %}`: one article in a list. An article is listed on up to six pages
  in each language (front page, language edition, month, topic, author, issue).

While the mirror is built (`solidarity.core.buildcache`), each is rendered once per language
and value and reused; outside a build it is rendered every time, as any template.
"""

from __future__ import annotations

from django import template
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe

from solidarity.core.buildcache import build_cached

from ..public_data import ArticleSummary

register = template.Library()

Language = tuple[str, str, str, int]


@register.simple_tag
def newspaper_nav(languages: list[Language]) -> SafeString:
    return _nav(tuple(languages))


@build_cached
def _nav(languages: tuple[Language, ...]) -> SafeString:
    # The template autoescapes every value: the result is safe HTML.
    html = get_template("publishing/_newspaper_nav.html").render({"languages": languages})
    return mark_safe(html)  # noqa: S308


@register.simple_tag
@build_cached
def article_item(summary: ArticleSummary) -> SafeString:
    # Cached on the whole (frozen) summary and the active language: a label or a URL that
    # differs gives another item. The template autoescapes every value: the result is safe.
    html = get_template("publishing/_article_item.html").render({"a": summary})
    return mark_safe(html)  # noqa: S308
