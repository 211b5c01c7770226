"""Fragments that many newspaper pages share, rendered once per language in a static build.

- `{% newspaper_nav languages %}`: the newspaper's navigation, on every newspaper page.
- `{% article_items summaries %}`: the articles of a list, each as `article_item` writes it. An
  article is listed on up to six pages in each language (front page, language edition, month,
  topic, author, issue); a month lists a thousand.

While the mirror is built (`solidarity.core.buildcache`), each is rendered once per language
and value and reused; outside a build it is rendered every time, as any template.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe

from solidarity.core import buildcache
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
def article_items(summaries: Iterable[ArticleSummary] | None) -> SafeString:
    # One tag for the whole list rather than one per item: a loop of template nodes cost more
    # than finding each (shared) item. No list is an empty one, as for {% for %}.
    return mark_safe("".join(article_item(summary) for summary in summaries or ()))  # noqa: S308


def article_item(summary: ArticleSummary) -> SafeString:
    # Cached per article and active language, for the same (frozen) summary: a label or a URL
    # that differs gives another item. A build keeps one summary object per article and
    # language (public_data._summaries), so the same object is most often the very same one,
    # found without comparing (hashing the whole summary for a key cost as much as a render).
    found, stored = buildcache.lookup(article_item, (summary.slug,))
    if found and isinstance(stored, tuple) and (stored[0] is summary or stored[0] == summary):
        cached: SafeString = stored[1]
        return cached
    # The template autoescapes every value: the result is safe.
    html = mark_safe(get_template("publishing/_article_item.html").render({"a": summary}))  # noqa: S308
    buildcache.put(article_item, (summary.slug,), (summary, html))
    return html
