"""Fragments that many newspaper pages share, rendered once per language in a static build.

- `{% newspaper_nav languages %}`: the newspaper's navigation, on every newspaper page.
- `{% article_items summaries %}`: the articles of a list, each as `article_item` writes it. An
  article is listed on up to six pages in each language (front page, language edition, month,
  topic, author, issue); a month lists a thousand.
- `{% links_to links %}`, `{% topic_links topics %}`, `{% translation_links translations %}`:
  an article's lists of links, joined by " · ", as {% for %} loops in article.html wrote them
  (those loops were a quarter of the work of an article page, the most common page).

While the mirror is built (`solidarity.core.buildcache`), the navigation and each article's
item are rendered once per language and value and reused; outside a build they are rendered
every time, as any template. An article's links are its own, written for its page only.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

from django import template
from django.template.loader import get_template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from solidarity.core import buildcache
from solidarity.core.buildcache import build_cached

from ..public_data import ArticleSummary, Link, TopicInfo, Translation

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
    # than finding each (shared) item. No list is an empty one, as for {% for %}. The build's
    # items of the active language are looked up once for the list, not once per item.
    items = buildcache.table(article_item)
    return mark_safe("".join(_item(summary, items) for summary in summaries or ()))  # noqa: S308


def article_item(summary: ArticleSummary) -> SafeString:
    return _item(summary, buildcache.table(article_item))


def _item(summary: ArticleSummary, items: dict[Hashable, Any] | None) -> SafeString:
    # Cached per article and active language, for the same (frozen) summary: a label or a URL
    # that differs gives another item. A build keeps one summary object per article and
    # language (public_data._summaries), so the same object is most often the very same one,
    # found without comparing (hashing the whole summary for a key cost as much as a render).
    stored = items.get(summary.slug) if items is not None else None
    if isinstance(stored, tuple) and (stored[0] is summary or stored[0] == summary):
        cached: SafeString = stored[1]
        return cached
    # The template autoescapes every value: the result is safe.
    html = mark_safe(get_template("publishing/_article_item.html").render({"a": summary}))  # noqa: S308
    if items is not None:
        items[summary.slug] = (summary, html)
    return html


# Every value below is escaped as {{ value }} escapes it (all are plain strings).
_SEPARATOR = " · "


def _joined(links: Iterable[tuple[str, str]], attributes: str = "") -> SafeString:
    """`<a{attributes} href="url">text</a>` for each (url, text), joined by the separator."""
    return mark_safe(  # noqa: S308
        _SEPARATOR.join(
            f'<a{attributes} href="{conditional_escape(url)}">{conditional_escape(text)}</a>'
            for url, text in links
        )
    )


@register.simple_tag
def links_to(links: Iterable[Link]) -> SafeString:
    """`<a href>title</a>` for each (an article's people, events, campaigns)."""
    return _joined((link.url, link.title) for link in links)


@register.simple_tag
def topic_links(topics: Iterable[TopicInfo]) -> SafeString:
    """An article's topics, each a rel="tag" link named in the reader's language."""
    return _joined(((t.url, t.name.text) for t in topics), ' rel="tag"')


@register.simple_tag
def translation_links(translations: Iterable[Translation]) -> SafeString:
    """An article's versions in other languages, each marked with its language."""
    parts = []
    for t in translations:
        code = conditional_escape(t.language)
        parts.append(
            f'<a href="{conditional_escape(t.url)}" hreflang="{code}" lang="{code}">'
            f"{conditional_escape(t.language_name)}: {conditional_escape(t.title)}</a>"
        )
    return mark_safe(_SEPARATOR.join(parts))  # noqa: S308
