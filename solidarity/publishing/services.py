"""The newspaper's rules, in one place for the back office, the public site, feeds and mirror.

- `render_markdown`: an article body as safe HTML. Markdown lets an editor write raw HTML, and
  an article may be pasted from anywhere, so the output passes an allow-list (nh3): no scripts,
  frames, forms, styles or event handlers, and links only to http(s), mailto or the site.
- `published_articles`: what is public now (marked public and its `publish_at` has passed).
- `strip_image_metadata`: uploads are re-encoded so that no EXIF or GPS data (where and with
  which phone a photo was taken) reaches readers.
- `link_translation`: makes two articles translations of each other.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import markdown
import nh3
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

# Shared with every other upload (documentation's source files): one place strips metadata.
from solidarity.safety.sanitise import strip_image_metadata as strip_image_metadata

from .models import Article

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "h1", "br", "caption", "cite", "code", "dd", "del", "dl", "dt",
    "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd",
    "li", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "*": {"lang"},
}
ALLOWED_SCHEMES = {"http", "https", "mailto"}
# Images only from the site itself: a remote image would tell its host who reads the article.
_REMOTE = ("http:", "https:", "//", "data:")


def _filter_attribute(element: str, attribute: str, value: str) -> str | None:
    if element == "img" and attribute == "src" and value.strip().lower().startswith(_REMOTE):
        return None
    return value


# A converter per thread, reset before each text: building one (and loading its extensions)
# cost a fifth of each conversion. A converter keeps state while it works: never shared.
_converters = threading.local()


def _converter() -> markdown.Markdown:
    converter: markdown.Markdown | None = getattr(_converters, "markdown", None)
    if converter is None:
        converter = markdown.Markdown(extensions=["extra", "sane_lists"], output_format="html")
        _converters.markdown = converter
    return converter


@lru_cache(maxsize=2048)
def render_markdown(text: str) -> str:
    """Markdown → HTML that is safe to put in a public page (and a feed, and the mirror)."""
    html = _converter().reset().convert(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        attribute_filter=_filter_attribute,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def published_articles() -> QuerySet[Article]:
    return Article.objects.filter(is_public=True, publish_at__lte=timezone.now())


def is_published(article: Article) -> bool:
    return bool(article.is_public and article.publish_at and article.publish_at <= timezone.now())


def publication_status(article: Article) -> str:
    if not article.is_public or article.publish_at is None:
        return str(_("draft"))
    if article.publish_at > timezone.now():
        return str(_("scheduled"))
    return str(_("published"))


def link_translation(article: Article, original: Article) -> None:
    """Join `article` (and any translations it already has) to the translations of `original`."""
    if article.pk == original.pk:
        raise ValidationError(_("An article cannot be a translation of itself."))
    with transaction.atomic():
        group = Article.objects.filter(translation_group=article.translation_group)
        taken = set(
            Article.objects.filter(translation_group=original.translation_group).values_list(
                "language", flat=True
            )
        )
        clash = taken & set(group.values_list("language", flat=True))
        if clash:
            raise ValidationError(
                _("“%(title)s” already has a translation in %(languages)s.")
                % {"title": original.title, "languages": ", ".join(sorted(clash))}
            )
        group.update(translation_group=original.translation_group)
        article.translation_group = original.translation_group
