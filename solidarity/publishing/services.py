"""The newspaper's rules, in one place for the back office, the public site, feeds and mirror.

- `render_markdown`: an article body as safe HTML. Markdown lets an editor write raw HTML, and
  an article may be pasted from anywhere, so the output passes an allow-list (nh3): no scripts,
  frames, forms, styles or event handlers, and links only to http(s), mailto or the site.
- `refresh_body_html` / `article_html`: that HTML is made once, when an article is saved, and
  kept in `Article.body_html` with a stamp; pages, feeds and the mirror serve it only while the
  stamp says it was made from this body by today's renderer, and convert afresh otherwise.
  `refresh_stored_html` re-renders every stale row (`solidarity rerender_articles`).
- `published_articles`: what is public now (marked public and its `publish_at` has passed).
- `strip_image_metadata`: uploads are re-encoded so that no EXIF or GPS data (where and with
  which phone a photo was taken) reaches readers.
- `link_translation`: makes two articles translations of each other.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Callable
from functools import cache, lru_cache
from importlib.metadata import version
from typing import Any, Final

import markdown
import nh3
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac
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
_EXTENSIONS = ["extra", "sane_lists"]
_OUTPUT_FORMAT: Final = "html"
_CLEAN_OPTIONS: dict[str, Any] = {"link_rel": "noopener noreferrer", "strip_comments": True}


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
        converter = markdown.Markdown(extensions=_EXTENSIONS, output_format=_OUTPUT_FORMAT)
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
        **_CLEAN_OPTIONS,
    )


# -- Stored HTML -----------------------------------------------------------------------------------
# Converting Markdown was over a tenth of a mirror build, and of every uncached page view: an
# article's HTML is made when it is saved instead. The threat is stored HTML made under a looser
# policy: an allow-list since tightened, an nh3 or Markdown with a since-fixed bypass, or HTML
# written into the database behind the application's back. So stored HTML carries a stamp and
# is served only while the stamp matches the one computed now: made by today's renderer, from
# this very body (a body changed by a path that skips `save()`, such as `QuerySet.update`, never
# shows its old text), keyed with the server's secret (a database write alone cannot forge it).
# Anything else is converted afresh, as before: a tightened policy takes effect at once, with no
# migration; `solidarity rerender_articles` then makes the stored copies current again.


@cache
def renderer_version() -> str:
    """A digest of everything that decides what `render_markdown` makes of a body: Python-
    Markdown's version and options, nh3's version and options, the allow-lists and the
    attribute filter's rules. Computed once per process."""
    rule = _filter_attribute.__code__
    parts = (
        markdown.__version__,
        _EXTENSIONS,
        _OUTPUT_FORMAT,
        version("nh3"),
        sorted(ALLOWED_TAGS),
        sorted((tag, sorted(names)) for tag, names in ALLOWED_ATTRIBUTES.items()),
        sorted(ALLOWED_SCHEMES),
        sorted(_CLEAN_OPTIONS.items()),
        _REMOTE,
        # The filter's code itself: a rule changed there changes the digest (a new Python may
        # too, which costs one re-render and is otherwise harmless).
        rule.co_code,
        rule.co_consts,
        rule.co_names,
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def body_html_stamp(body: str, html: str) -> str:
    """The stamp of `html` made from `body` by today's renderer: "renderer.MAC"."""
    renderer = renderer_version()
    message = f"{renderer}\0{len(body)}\0{body}\0{html}"
    mac = salted_hmac("solidarity.publishing.body_html", message, algorithm="sha256")
    return f"{renderer}.{mac.hexdigest()[:32]}"


def _is_current(body: str, html: str, stamp: str) -> bool:
    return bool(stamp) and hmac.compare_digest(stamp, body_html_stamp(body, html))


def article_html(body: str, stored_html: str, stamp: str) -> str:
    """The safe HTML of an article body: the stored copy when its stamp is current, else the
    body converted now. Never writes (a public read must not change the database)."""
    if _is_current(body, stored_html, stamp):
        return stored_html
    return render_markdown(body)


def _is_stale(article: Any) -> bool:
    return not _is_current(article.body, article.body_html, article.body_html_stamp)


def _store_html(article: Any) -> None:
    article.body_html = render_markdown(article.body)
    article.body_html_stamp = body_html_stamp(article.body, article.body_html)


def refresh_body_html(article: Any) -> bool:
    """Make `article.body_html` (and its stamp) again unless they are current for its body;
    True when it did.

    Called by `Article.save()`, so that every way an article is written (admin, commands,
    tests) stores the HTML of what it saves. `article` may be a migration's historical model,
    which has the fields but not the methods."""
    if not _is_stale(article):
        return False
    _store_html(article)
    return True


def refresh_stored_html(
    model: type[models.Model] = Article,
    *,
    batch_size: int = 500,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Re-render every stored article HTML that is not current; return how many were (or, with
    `dry_run`, would be). `progress(seen, stale)` is called after each batch.

    For the data migration (with its historical model) and `solidarity rerender_articles`.
    Rows are written with `bulk_update`: `updated_at` stays (nobody changed the article), and
    the audit log records the rows under the caller's name for the change. A row that an
    editor saves in between keeps a stamp that no longer matches, so it is never served stale."""
    manager = model._base_manager
    seen = stale = 0
    last: Any = None
    while True:
        rows = manager.order_by("pk").only("pk", "body", "body_html", "body_html_stamp")
        if last is not None:
            rows = rows.filter(pk__gt=last)
        batch = list(rows[:batch_size])
        if not batch:
            return stale
        last = batch[-1].pk
        outdated = [row for row in batch if _is_stale(row)]
        if outdated and not dry_run:
            for row in outdated:
                _store_html(row)
            manager.bulk_update(outdated, ["body_html", "body_html_stamp"])
        seen += len(batch)
        stale += len(outdated)
        if progress is not None:
            progress(seen, stale)


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
