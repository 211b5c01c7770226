"""Everything the newspaper's public pages, feeds and the mirror show, as plain data.

The only module of the publishing app's public side that reads models, the way
`solidarity.public.data` does: `.values(*public_fields(Model))` on records that are public,
handed out as frozen dataclasses, never model instances. An article is public when it is
marked public and its `publish_at` has passed; a topic, byline or issue appears only through
the public articles it has (a byline used only on drafts stays unknown). A person, event or
campaign an article is about is linked only when it is public itself, and left out otherwise.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Count, F, QuerySet
from django.db.models.functions import Cast, Substr
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from solidarity.core import buildcache
from solidarity.core.buildcache import build_cached
from solidarity.core.classification import public_fields
from solidarity.core.partialdate import MAX_DAY, MIN_DAY, PartialDate
from solidarity.core.translation import LANGUAGES, Translated, pick
from solidarity.documentation.models import Event, Organisation, Person, Place
from solidarity.documentation.vocabularies import EventType
from solidarity.public.values import Page

from .models import LANGUAGE_CHOICES, Article, ArticleCampaign, ArticleImage, Byline, Issue, Topic
from .services import article_html

LATEST = 30
FEED_LENGTH = 50
# Articles on a page of a newspaper list (month, topic, author, issue). More than the
# documentation lists' 25: an entry here is a title, a date and a line, and a month of a
# busy paper would otherwise be 50 pages (and 50 files in every mirror).
ARTICLES_PER_PAGE = 100
LANGUAGE_NAMES: dict[str, str] = dict(LANGUAGE_CHOICES)

Row = dict[str, Any]


# -- Reading models ------------------------------------------------------------------------------


# An article's stored HTML is read only where its body is shown (`_article_values`): lists and
# fingerprints would read a second copy of every body for nothing.
_ONLY_WHERE_SHOWN: dict[type[models.Model], set[str]] = {Article: {"body_html"}}


def _fields(model: type[models.Model]) -> list[str]:
    # A many-to-many field in .values() multiplies rows; those are read on their own.
    skipped = _ONLY_WHERE_SHOWN.get(model, set())
    return [
        name
        for name in public_fields(model)
        if not model._meta.get_field(name).many_to_many and name not in skipped
    ]


def _values(queryset: QuerySet[Any]) -> list[Row]:
    return list(queryset.values(*_fields(queryset.model)))


def _columns(model: type[models.Model], *names: str) -> list[str]:
    """`names`, each a public field of `model` (a page that reads only some columns must still
    read public ones only): a field classed otherwise is a mistake here, not a thing to show."""
    public = set(public_fields(model))
    hidden = [name for name in names if name not in public]
    if hidden:
        raise ImproperlyConfigured(f"{model.__name__} fields {hidden} are not public")
    return list(names)


# What an article's summary shows, all that its lists read: the Markdown body was most of each
# row, read (and its UUID parsed) for every article of every page of a list.
_SUMMARY_COLUMNS = (
    "id",
    "slug",
    "title",
    "standfirst",
    "language",
    "publish_at",
    "byline",
    "issue",
)


def _summary_values(queryset: QuerySet[Article]) -> list[Row]:
    return list(queryset.values(*_columns(Article, *_SUMMARY_COLUMNS)))


def _counted(queryset: QuerySet[Any], key: Any) -> dict[Any, int]:
    """{key: how many rows of `queryset` have it}, counted by the database (an index walk)."""
    rows = queryset.order_by().annotate(_key=key).values("_key").annotate(_n=Count("pk"))
    return {row["_key"]: row["_n"] for row in rows}


def _published() -> QuerySet[Article]:
    return Article.objects.filter(is_public=True, publish_at__lte=timezone.now())


def _article_values(queryset: QuerySet[Article]) -> list[Row]:
    """Article rows whose body is shown: with the stored HTML's stamp, which is internal and
    read only to decide whether that HTML may be served (`_body_html`), never shown."""
    return list(queryset.values(*_fields(Article), "body_html", "body_html_stamp"))


def _campaign_model() -> type[models.Model] | None:
    try:
        return apps.get_model("campaigns", "Campaign")
    except LookupError:
        return None


def _tr(row: Row, base: str) -> Translated:
    return pick({lang: row.get(f"{base}_{lang}") or "" for lang in LANGUAGES})


def _language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code) or code


def _translated(base: str) -> tuple[str, ...]:
    """The columns of a translated field (`_tr` reads them)."""
    return tuple(f"{base}_{lang}" for lang in LANGUAGES)


_NAME_COLUMNS = ("slug", "given_name", "patronymic", "family_name")


def _full_name(row: Row) -> str:
    return " ".join(p for p in (row["given_name"], row["patronymic"], row["family_name"]) if p)


# -- Values ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class TopicInfo:
    slug: str
    name: Translated
    url: str
    count: int = 0


@dataclass(frozen=True)
class BylineInfo:
    slug: str
    name: str
    bio: Translated
    url: str
    count: int = 0


@dataclass(frozen=True)
class IssueInfo:
    slug: str
    label: str
    title: Translated
    published: dt.date | None
    url: str
    count: int = 0


@dataclass(frozen=True)
class ArticleSummary:
    slug: str
    url: str
    title: str
    standfirst: str
    language: str
    language_name: str
    publish_at: dt.datetime
    byline: BylineInfo | None
    issue: IssueInfo | None
    topics: tuple[TopicInfo, ...]


@dataclass(frozen=True)
class ImageInfo:
    url: str
    caption: str
    credit: str
    alt_text: str


@dataclass(frozen=True)
class Translation:
    language: str
    language_name: str
    title: str
    url: str


@dataclass(frozen=True)
class ArticleDetail:
    summary: ArticleSummary
    body_html: SafeString
    images: tuple[ImageInfo, ...]
    translations: tuple[Translation, ...]
    people: tuple[Link, ...]
    events: tuple[Link, ...]
    campaigns: tuple[Link, ...]
    uuid: str


@dataclass(frozen=True)
class FeedItem:
    """An article as its feeds show it."""

    summary: ArticleSummary
    body_html: SafeString
    uuid: str


@dataclass(frozen=True)
class MonthInfo:
    year: int
    month: int
    label: str
    url: str
    count: int


@dataclass(frozen=True)
class FrontPage:
    latest: tuple[ArticleSummary, ...]
    issues: tuple[IssueInfo, ...]
    months: tuple[MonthInfo, ...]


@dataclass(frozen=True)
class ImageFile:
    name: str
    content_type: str


@dataclass(frozen=True)
class EventEntry:
    slug: str
    title: Translated
    summary: Translated
    date: PartialDate
    type_label: str
    url: str
    updated: dt.datetime


# -- URLs: an article lives under its own language -------------------------------------------------


# An address argument put in place of its mark as it is: what Django's slug converter accepts,
# and quote() leaves alone (structured.record_path's rule), or a whole number.
_PLAIN_ARGUMENT = re.compile(r"[-a-zA-Z0-9_]+")
# A mark per argument of a reversed address: "addr-mark-0" for a word, 975310 for a number.
_WORD_MARK = "addr-mark-{}"
_NUMBER_MARK = 975310
# The converters that take every plain argument of their kind, as the marks are taken: with
# another (a regex of its own), an argument the mark stood for might be refused by reverse().
_CONVERTERS = re.compile(r"<(?:(\w+):)?\w+>")
_TAKE_EVERY_PLAIN = {"", "str", "slug", "int"}  # "": a route's default, str


def address(name: str, *args: str | int, language: str | None = None) -> str:
    """`reverse(name, args=args)` in `language` (by default the active one).

    A static build makes hundreds of thousands of addresses of a few patterns (every article
    in every list, in each language), and each reverse() walked the URLconf (4 s of a build).
    There each pattern is reversed once per language with marks for its arguments, and plain
    arguments are put in their place: the same text reverse() gives, as quoting leaves them
    alone and the converters take them. Anything else, and the live site, reverse as ever."""
    if buildcache.is_active() and all(_is_plain(arg) for arg in args):
        numbers = tuple(type(arg) is int for arg in args)
        pieces = _address_pieces(name, language or translation.get_language(), numbers)
        if pieces is not None:
            spliced = (piece + str(arg) for piece, arg in zip(pieces, args, strict=False))
            return "".join(spliced) + pieces[-1]
    if language is None:
        return reverse(name, args=list(args))
    with translation.override(language):
        return reverse(name, args=list(args))


def _slug_addresses(name: str, language: str | None = None) -> Callable[[str], str]:
    """`address` of `name` with a slug, for many slugs: the pattern looked up once."""
    pieces = (
        _address_pieces(name, language or translation.get_language(), (False,))
        if buildcache.is_active()
        else None
    )

    def of(slug: str) -> str:
        if pieces is not None and _PLAIN_ARGUMENT.fullmatch(slug):
            return pieces[0] + slug + pieces[1]
        return address(name, slug, language=language)

    return of


def article_urls(rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """`article_url` of each of the rows (with their "slug" and "language")."""
    url_of: dict[str, Callable[[str], str]] = {}
    for row in rows:
        language = row["language"]
        if language not in url_of:
            url_of[language] = _slug_addresses("publishing:article", language)
        yield url_of[language](row["slug"])


def _is_plain(arg: object) -> bool:
    if type(arg) is int:
        return arg >= 0
    return isinstance(arg, str) and _PLAIN_ARGUMENT.fullmatch(arg) is not None


@build_cached
def _address_pieces(name: str, language: str, numbers: tuple[bool, ...]) -> tuple[str, ...] | None:
    """The text around each argument of `name`'s address in `language`: None unless the
    pattern is a plain route of `_TAKE_EVERY_PLAIN` converters and each argument's mark
    stands exactly once, in order."""
    marks = [
        str(_NUMBER_MARK + i) if number else _WORD_MARK.format(i)
        for i, number in enumerate(numbers)
    ]
    args: list[object] = [int(m) if n else m for m, n in zip(marks, numbers, strict=True)]
    try:
        with translation.override(language):
            path = reverse(name, args=args)
            match = resolve(path)
    except (NoReverseMatch, Resolver404):
        return None
    route = match.route or ""
    if (
        match.view_name != name
        or "(?" in route
        or any(kind not in _TAKE_EVERY_PLAIN for kind in _CONVERTERS.findall(route))
        or any(path.count(mark) != 1 for mark in marks)
    ):
        return None
    pieces = []
    for mark in marks:
        before, found, path = path.partition(mark)
        if not found:  # a later argument's mark came first
            return None
        pieces.append(before)
    return (*pieces, path)


def article_url(slug: str, language: str) -> str:
    return address("publishing:article", slug, language=language)


def _image_url(article_slug: str, language: str, image_id: int, name: str) -> str:
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else "jpg"
    return address("publishing:image", article_slug, image_id, suffix, language=language)


def _optional_reverse(name: str, args: list[Any]) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


# -- Building blocks -------------------------------------------------------------------------------


def _topic_info(row: Row, count: int = 0) -> TopicInfo:
    return TopicInfo(row["slug"], _tr(row, "name"), address("publishing:topic", row["slug"]), count)


def _byline_info(row: Row, count: int = 0) -> BylineInfo:
    return BylineInfo(
        row["slug"],
        row["name"],
        _tr(row, "bio"),
        address("publishing:author", row["slug"]),
        count,
    )


def _issue_info(row: Row, count: int = 0) -> IssueInfo:
    label = _("No. %(number)s (%(year)s)") % {"number": row["number"], "year": row["year"]}
    return IssueInfo(
        row["slug"],
        label,
        _tr(row, "title"),
        row["published"],
        address("publishing:issue", row["slug"]),
        count,
    )


@build_cached
def _summary_table() -> dict[int, ArticleSummary]:
    """A static build's summaries by article id, in the active language, filled as they are
    made: each article's once per language (it is listed on the front page, its topics,
    author, issue and month, in every language), found with one look-up per list."""
    return {}


def _summaries(rows: list[Row]) -> list[ArticleSummary]:
    """Summaries of article rows (in a static build, those not summarised yet are made)."""
    if not buildcache.is_active():
        return _load_summaries(rows)
    known = _summary_table()
    missing = [row for row in rows if row["id"] not in known]
    known.update(zip([row["id"] for row in missing], _load_summaries(missing), strict=True))
    return [known[row["id"]] for row in rows]


def _summaries_of(ids: list[int]) -> list[ArticleSummary]:
    """Summaries of published articles by id (`_listed`'s), in order. Rows are read only for
    articles not summarised yet: in a static build, most often none."""
    known = _summary_table() if buildcache.is_active() else {}
    missing = [article_id for article_id in ids if article_id not in known]
    if missing:
        rows = _summary_values(Article.objects.filter(id__in=missing))
        known.update(zip([row["id"] for row in rows], _load_summaries(rows), strict=True))
    # One unpublished since it was listed (the live site, between two queries) is left out.
    return [known[article_id] for article_id in ids if article_id in known]


def _load_summaries(rows: list[Row]) -> list[ArticleSummary]:
    """Summaries of article rows, with their byline, issue and topics in three more queries."""
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    bylines = {
        r["id"]: _byline_info(r)
        for r in _values(Byline.objects.filter(id__in={row["byline"] for row in rows}))
    }
    issues = {
        r["id"]: _issue_info(r)
        for r in _values(
            Issue.objects.filter(is_public=True, id__in={row["issue"] for row in rows})
        )
    }
    topic_links = list(
        Article.topics.through.objects.filter(article_id__in=ids).values_list(
            "article_id", "topic_id"
        )
    )
    topics = {
        r["id"]: _topic_info(r)
        for r in _values(Topic.objects.filter(id__in={t for _a, t in topic_links}))
    }
    topics_of: dict[int, list[TopicInfo]] = defaultdict(list)
    for article_id, topic_id in topic_links:
        topics_of[article_id].append(topics[topic_id])
    return [
        ArticleSummary(
            slug=row["slug"],
            url=url,
            title=row["title"],
            standfirst=row["standfirst"],
            language=row["language"],
            language_name=_language_name(row["language"]),
            publish_at=row["publish_at"],
            byline=bylines.get(row["byline"]) if row["byline"] is not None else None,
            issue=issues.get(row["issue"]) if row["issue"] is not None else None,
            topics=tuple(sorted(topics_of[row["id"]], key=lambda t: t.name.text)),
        )
        for row, url in zip(rows, article_urls(rows), strict=True)
    ]


def _month_label(year: int, month: int) -> str:
    return date_format(dt.date(year, month, 1), "F Y")


def _month_url(year: int, month: int) -> str:
    return address("publishing:month", year, f"{month:02d}")


# -- Pages -----------------------------------------------------------------------------------------


@build_cached
def months() -> list[MonthInfo]:
    """Every month with published articles, the latest first, with how many."""
    # "YYYY-MM" of the stored UTC time, as text: SQLite keeps that text and PostgreSQL writes it
    # so in the connection's time zone, which Django sets to UTC. Django's TruncMonth would
    # call a Python function per row on SQLite (150 ms at 10,000 articles).
    month = Substr(Cast("publish_at", models.CharField()), 1, 7)
    counts = _counted(_published().exclude(publish_at=None), month)
    latest_first = sorted(((int(key[:4]), int(key[5:7])), n) for key, n in counts.items())[::-1]
    return [
        MonthInfo(year, number, _month_label(year, number), _month_url(year, number), n)
        for (year, number), n in latest_first
    ]


def front_page() -> FrontPage:
    return FrontPage(
        latest=tuple(_summaries(_summary_values(_published()[:LATEST]))),
        issues=tuple(issues()[:5]),
        months=tuple(months()),
    )


def language_page(language: str) -> list[ArticleSummary] | None:
    if language not in LANGUAGE_NAMES:
        return None
    return _summaries(_summary_values(_published().filter(language=language)[:LATEST]))


@build_cached
def _listed(*, oldest_first: bool = False, **where: Any) -> tuple[int, ...]:
    """The ids of the published articles that match `where`, in their list's order (the latest
    first). Only ids: ordering whole rows (bodies and all) cost a month page 60 ms. A static
    build reads each list once for all of its pages, in every language."""
    articles = _published().filter(**where)
    if oldest_first:
        articles = articles.order_by("publish_at", "id")
    return tuple(articles.values_list("id", flat=True))


def _page_of(ids: tuple[int, ...], number: str | None) -> Page[ArticleSummary] | None:
    """One page (`?page=N`) of a list of articles; None if the list is empty. Paginated as the
    documentation site's lists are (`solidarity.public.data`), ARTICLES_PER_PAGE to a page: a
    bad or out-of-range number gives the nearest page, not an error. Only the page's articles
    are read and summarised: a month lists a thousand."""
    if not ids:
        return None
    paginator = Paginator(ids, ARTICLES_PER_PAGE)
    page = paginator.get_page(number)
    return Page(
        tuple(_summaries_of(list(page.object_list))),
        page.number,
        paginator.num_pages,
        paginator.count,
        page.start_index(),
        page.end_index(),
        page.previous_page_number() if page.has_previous() else None,
        page.next_page_number() if page.has_next() else None,
    )


def _page_urls(url: str, count: int) -> dict[str, slice]:
    """{URL: which of the list's articles it shows} of every page of a list of `count` articles
    at `url`, as the page navigation links to them (the first page by its own address, never
    `?page=1`). For the mirror's fingerprints (`newspaper_pages`)."""
    pages = {url: slice(0, ARTICLES_PER_PAGE)}
    for number in range(2, (count - 1) // ARTICLES_PER_PAGE + 2):
        pages[f"{url}?page={number}"] = slice(
            (number - 1) * ARTICLES_PER_PAGE, number * ARTICLES_PER_PAGE
        )
    return pages


def month_page(
    year: int, month: int, page: str | None = None
) -> tuple[MonthInfo, Page[ArticleSummary]] | None:
    if not 1 <= month <= 12 or not 1 <= year <= 9999:
        return None
    start = dt.datetime(year, month, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=dt.UTC)
    found = _page_of(_listed(publish_at__gte=start, publish_at__lt=end), page)
    if found is None:
        return None
    url = _month_url(year, month)
    return MonthInfo(year, month, _month_label(year, month), url, found.count), found


@build_cached
def languages() -> list[tuple[str, str, str, int]]:
    """(code, name, url, number of articles) of every language with published articles."""
    counts = _counted(_published(), F("language"))
    return [
        (code, name, reverse("publishing:language", args=[code]), counts[code])
        for code, name in LANGUAGE_CHOICES
        if counts.get(code)
    ]


@build_cached
def topics() -> list[TopicInfo]:
    counts = _counted(
        Article.topics.through.objects.filter(article__in=_published()), F("topic_id")
    )
    rows = _values(Topic.objects.filter(id__in=counts))
    return sorted((_topic_info(r, counts[r["id"]]) for r in rows), key=lambda t: t.name.text)


def topic_page(slug: str, page: str | None = None) -> tuple[TopicInfo, Page[ArticleSummary]] | None:
    rows = _values(Topic.objects.filter(slug=slug))
    if not rows:
        return None
    found = _page_of(_listed(topics__id=rows[0]["id"]), page)
    if found is None:
        return None
    return _topic_info(rows[0], found.count), found


@build_cached
def authors() -> list[BylineInfo]:
    counts = _counted(_published().exclude(byline=None), F("byline_id"))
    rows = _values(Byline.objects.filter(id__in=counts))
    return [_byline_info(r, counts[r["id"]]) for r in rows]


def author_page(
    slug: str, page: str | None = None
) -> tuple[BylineInfo, Page[ArticleSummary]] | None:
    rows = _values(Byline.objects.filter(slug=slug))
    if not rows:
        return None
    found = _page_of(_listed(byline_id=rows[0]["id"]), page)
    if found is None:
        return None
    return _byline_info(rows[0], found.count), found


@build_cached
def issues() -> list[IssueInfo]:
    counts = _counted(_published().filter(issue__is_public=True), F("issue_id"))
    rows = _values(Issue.objects.filter(is_public=True, id__in=counts))
    return [_issue_info(r, counts[r["id"]]) for r in rows]


def issue_detail(
    slug: str, page: str | None = None
) -> tuple[IssueInfo, Page[ArticleSummary]] | None:
    rows = _values(Issue.objects.filter(is_public=True, slug=slug))
    if not rows:
        return None
    # The oldest first, as an issue always listed them (every other list: the latest first).
    found = _page_of(_listed(issue_id=rows[0]["id"], oldest_first=True), page)
    if found is None:
        return None
    return _issue_info(rows[0], found.count), found


@build_cached
def article(slug: str) -> ArticleDetail | None:
    found = _details(_article_values(_published().filter(slug=slug)))
    return found[0] if found else None


def warm_summaries(languages: Iterable[str]) -> None:
    """In a static build, summarise every published article in each language now, before the
    mirror forks its workers: they inherit the summaries instead of each loading nearly all
    of them again (a cold build lists every article). Outside a build it does nothing."""
    if not buildcache.is_active():
        return
    rows = _summary_values(_published().order_by("pk"))
    for code in languages:
        with translation.override(code):
            for start in range(0, len(rows), 500):
                _summaries(rows[start : start + 500])


def prefetch_articles(slugs: Iterable[str]) -> None:
    """In a static build, load these articles in bulk, so that `article(slug)` finds them.

    The same `_details` as `article` uses, in a fixed number of queries for the whole batch
    instead of a dozen per article. Outside a build it does nothing.
    """
    if not buildcache.is_active():
        return
    wanted = list(slugs)
    found: dict[str, ArticleDetail] = {}
    for start in range(0, len(wanted), 500):
        rows = _article_values(_published().filter(slug__in=wanted[start : start + 500]))
        found.update((detail.summary.slug, detail) for detail in _details(rows))
    for slug in wanted:
        buildcache.put(article, (slug,), found.get(slug))


def _linked(
    through: type[models.Model],
    column: str,
    model: type[models.Model],
    ids: list[int],
    shown: tuple[str, ...],
) -> dict[int, list[Row]]:
    """Public records linked to the given articles through a many-to-many table, with the
    columns of theirs that an article shows (`shown`: its link's text and slug)."""
    pairs = list(
        through._default_manager.filter(article_id__in=ids).values_list("article_id", column)
    )
    found = {
        r["id"]: r
        for r in model._default_manager.filter(
            is_public=True, id__in={other for _a, other in pairs}
        ).values(*_columns(model, "id", *shown))
    }
    linked: dict[int, list[Row]] = defaultdict(list)
    for article_id, other in pairs:
        if other in found:
            linked[article_id].append(found[other])
    return linked


def _body_html(row: Row) -> SafeString:
    # Sanitised by render_markdown's allow-list, the one place article HTML is made: when the
    # article was saved if the stored copy's stamp is current, else now (article_html says why).
    return mark_safe(article_html(row["body"], row["body_html"], row["body_html_stamp"]))  # noqa: S308


def _details(rows: list[Row]) -> list[ArticleDetail]:
    """Full articles for published article rows, in a fixed number of queries for any count."""
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    images: dict[int, list[Row]] = defaultdict(list)
    for r in _values(ArticleImage.objects.filter(article_id__in=ids).exclude(image="")):
        if r["image"]:
            images[r["article"]].append(r)
    groups: dict[Any, list[Row]] = defaultdict(list)
    for s in (
        _published()
        .filter(translation_group__in={row["translation_group"] for row in rows})
        .order_by("language")
        .values(*_columns(Article, "id", "slug", "title", "language", "translation_group"))
    ):
        groups[s["translation_group"]].append(s)
    people = _linked(Article.people.through, "person_id", Person, ids, _NAME_COLUMNS)
    events = _linked(
        Article.events.through, "event_id", Event, ids, ("slug", *_translated("title"))
    )
    campaigns = _campaign_links(ids)
    person_url = _slug_addresses("public:person")
    event_url = _slug_addresses("public:event")
    details = []
    for row, summary in zip(rows, _summaries(rows), strict=True):
        article_id = row["id"]
        details.append(
            ArticleDetail(
                summary=summary,
                body_html=_body_html(row),
                images=tuple(
                    ImageInfo(
                        url=_image_url(row["slug"], row["language"], r["id"], r["image"]),
                        caption=r["caption"],
                        credit=r["credit"],
                        alt_text=r["alt_text"],
                    )
                    for r in sorted(images[article_id], key=lambda r: (r["position"], r["id"]))
                ),
                translations=tuple(
                    Translation(
                        s["language"],
                        _language_name(s["language"]),
                        s["title"],
                        article_url(s["slug"], s["language"]),
                    )
                    for s in groups[row["translation_group"]]
                    if s["id"] != article_id
                ),
                people=tuple(
                    Link(_full_name(p), person_url(p["slug"])) for p in people[article_id]
                ),
                events=tuple(
                    Link(_tr(e, "title").text, event_url(e["slug"])) for e in events[article_id]
                ),
                campaigns=tuple(campaigns.get(article_id, ())),
                uuid=str(row["uuid"]),
            )
        )
    return details


def _campaign_links(article_ids: Iterable[int]) -> dict[int, list[Link]]:
    campaign_model = _campaign_model()
    if campaign_model is None:
        return {}
    links = _values(
        ArticleCampaign.objects.filter(
            article_id__in=list(article_ids),
            content_type=ContentType.objects.get_for_model(campaign_model),
        )
    )
    campaigns = {
        c["id"]: c
        for c in _values(
            campaign_model._default_manager.filter(
                is_public=True, id__in={link["object_id"] for link in links}
            )
        )
    }
    found: dict[int, list[Link]] = defaultdict(list)
    for link in links:
        c = campaigns.get(link["object_id"])
        if c is None:
            continue
        url = _optional_reverse("campaigns:campaign", [c["slug"]])
        if url:
            found[link["article"]].append(Link(_tr(c, "title").text, url))
    return found


def image_file(article_slug: str, image_id: int) -> ImageFile | None:
    """The stored name of an image, only when its article is published."""
    rows = _values(
        ArticleImage.objects.filter(
            id=image_id, article__in=_published().filter(slug=article_slug)
        ).exclude(image="")
    )
    if not rows or not rows[0]["image"]:
        return None
    name: str = rows[0]["image"]
    suffix = name.rsplit(".", 1)[-1].lower()
    content_type = {"png": "image/png", "webp": "image/webp"}.get(suffix, "image/jpeg")
    return ImageFile(name, content_type)


# -- Feeds -----------------------------------------------------------------------------------------


def feed_articles(
    *, language: str = "", topic: str = "", campaign: str = ""
) -> list[FeedItem] | None:
    """The latest published articles of a language, topic or campaign; None if it is unknown."""
    articles = _published()
    if language:
        if language not in LANGUAGE_NAMES:
            return None
        articles = articles.filter(language=language)
    if topic:
        if not Topic.objects.filter(slug=topic).exists():
            return None
        articles = articles.filter(topics__slug=topic)
    if campaign:
        campaign_model = _campaign_model()
        if campaign_model is None:
            return None
        found = list(
            campaign_model._default_manager.filter(is_public=True, slug=campaign).values_list(
                "id", flat=True
            )
        )
        if not found:
            return None
        articles = articles.filter(
            campaign_links__content_type=ContentType.objects.get_for_model(campaign_model),
            campaign_links__object_id=found[0],
        )
    rows = _article_values(articles[:FEED_LENGTH])
    # A feed shows an article's summary and body only: no need for its full details (images,
    # translations, people…), and the summaries are those its lists show (cached in a build).
    return [
        FeedItem(summary, _body_html(row), str(row["uuid"]))
        for row, summary in zip(rows, _summaries(rows), strict=True)
    ]


def campaign_title(slug: str) -> str | None:
    campaign_model = _campaign_model()
    if campaign_model is None:
        return None
    rows = _values(campaign_model._default_manager.filter(is_public=True, slug=slug))
    return _tr(rows[0], "title").text if rows else None


def topic_name(slug: str) -> str | None:
    rows = _values(Topic.objects.filter(slug=slug))
    return _tr(rows[0], "name").text if rows else None


def latest_events() -> list[EventEntry]:
    """Public documentation events, the most recent first, for the timeline feed."""
    rows = _values(
        Event.objects.filter(is_public=True).order_by("-date_latest", "-date_earliest", "-slug")[
            :FEED_LENGTH
        ]
    )
    labels = dict(EventType.choices)
    entries = []
    for row in rows:
        date: PartialDate = row["date"]
        day = date.latest if date.latest != MAX_DAY else date.earliest
        entries.append(
            EventEntry(
                slug=row["slug"],
                title=_tr(row, "title"),
                summary=_tr(row, "summary"),
                date=date,
                type_label=str(labels.get(row["type"], row["type"])),
                url=reverse("public:event", args=[row["slug"]]),
                updated=dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC),
            )
        )
    return entries


# -- The mirror: which pages exist, and what each one shows ---------------------------------------


def _digest(*parts: Any) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def newspaper_pages(languages: Iterable[str] = ()) -> dict[str, str]:
    """{URL: fingerprint} of every public page and feed of the newspaper.

    URLs are in the URL space of each of `languages` (by default the active language), articles
    in their own language's; the data is read once for all of them. The
    fingerprint is a digest of everything the page shows, computed from a few bulk queries,
    so that the mirror re-renders only pages whose content changed: editing one article's
    body changes its page and the feeds that carry it, not the lists that show its title.
    """
    rows = _values(_published())
    ids = {row["id"] for row in rows}
    topic_rows = {r["id"]: r for r in _values(Topic.objects.all())}
    bylines = {r["id"]: r for r in _values(Byline.objects.all())}
    issue_rows = {r["id"]: r for r in _values(Issue.objects.filter(is_public=True))}
    topics_of: dict[int, list[int]] = defaultdict(list)
    for article_id, topic_id in Article.topics.through.objects.order_by("id").values_list(
        "article_id", "topic_id"
    ):
        if article_id in ids:
            topics_of[article_id].append(topic_id)
    extra: dict[int, list[Any]] = defaultdict(list)
    # Every row, the published articles' picked here: ten thousand ids as query parameters
    # cost more than the rows of the articles not published yet.
    for r in _values(ArticleImage.objects.order_by("id")):
        if r["article"] in ids:
            extra[r["article"]].append(r)
    for r in _values(ArticleCampaign.objects.order_by("id")):
        if r["article"] in ids:
            extra[r["article"]].append(r)
    for model, column in (
        (Article.people.through, "person_id"),
        (Article.events.through, "event_id"),
    ):
        for article_id, other in model.objects.order_by("id").values_list("article_id", column):
            if article_id in ids:
                extra[article_id].append((column, other))
    groups: dict[Any, list[tuple[str, str, str]]] = defaultdict(list)
    for row in rows:
        groups[row["translation_group"]].append((row["language"], row["slug"], row["title"]))

    listed: dict[int, str] = {}
    full: dict[int, str] = {}
    for row in rows:
        shown = [
            row["slug"], row["title"], row["standfirst"], row["language"], row["publish_at"],
            bylines.get(row["byline"]), issue_rows.get(row["issue"]),
            [topic_rows.get(t) for t in topics_of[row["id"]]],
        ]  # fmt: skip
        listed[row["id"]] = _digest(shown)
        full[row["id"]] = _digest(shown, row["body"], row["uuid"], extra[row["id"]],
                                  sorted(groups[row["translation_group"]]))  # fmt: skip

    language_codes = sorted({row["language"] for row in rows})
    pages: dict[str, str] = {}
    # What each page shows does not depend on the language it is shown in: each fingerprint
    # is worked out once, and only the addresses in each language's URL space.
    list_pages = _list_pages(rows, language_codes, listed, full, topics_of, topic_rows, bylines,
                        issue_rows, ids)  # fmt: skip
    for code in list(languages) or [translation.get_language()]:
        for name, args, query, fingerprint in list_pages:
            pages[address(name, *args, language=code) + query] = fingerprint
    for row, url in zip(rows, article_urls(rows), strict=True):
        pages[url] = _digest(language_codes, full[row["id"]])
    return pages


# A page of `newspaper_pages`: its URL name, arguments and query, and its fingerprint.
_ListPage = tuple[str, tuple[str | int, ...], str, str]


def _list_pages(
    rows: list[Row],
    language_codes: list[str],
    listed: dict[int, str],
    full: dict[int, str],
    topics_of: dict[int, list[int]],
    topic_rows: dict[int, Row],
    bylines: dict[int, Row],
    issue_rows: dict[int, Row],
    ids: set[int],
) -> list[_ListPage]:
    """The newspaper's pages other than articles, each with a digest of what it shows."""
    found: list[_ListPage] = []

    def page(name: str, args: tuple[str | int, ...], *parts: Any, query: str = "") -> None:
        found.append((name, args, query, _digest(language_codes, *parts)))

    def listing(members: Iterable[Row]) -> list[str]:
        return [listed[r["id"]] for r in members]

    def paged(name: str, args: tuple[str | int, ...], info: Any, members: list[Row]) -> None:
        # Each page of a list by what it shows: its own articles, and how many there are
        # (its page navigation). A changed article changes the pages that list it only.
        for query, part in _page_urls("", len(members)).items():
            page(name, args, info, len(members), listing(members[part]), query=query)

    def feed(members: list[Row]) -> list[str]:
        return [full[r["id"]] for r in members[:FEED_LENGTH]]

    by_issue: dict[int, list[Row]] = defaultdict(list)
    for r in rows:
        if r["issue"] in issue_rows:
            by_issue[r["issue"]].append(r)
    issues_shown = sorted(
        (issue_rows[i] for i in by_issue), key=lambda r: (-r["year"], -r["number"])
    )
    month_counts: dict[tuple[int, int], list[Row]] = defaultdict(list)
    for r in rows:
        month_counts[(r["publish_at"].year, r["publish_at"].month)].append(r)
    months_shown = sorted(((k, len(v)) for k, v in month_counts.items()), reverse=True)

    page(
        "publishing:front",
        (),
        listing(rows[:LATEST]),
        [(r, len(by_issue[r["id"]])) for r in issues_shown[:5]],
        months_shown,
    )
    page("publishing:archive", (), months_shown)
    for (year, month), members in month_counts.items():
        paged("publishing:month", (year, f"{month:02d}"), None, members)
    for code in language_codes:
        members = [r for r in rows if r["language"] == code]
        page("publishing:language", (code,), listing(members[:LATEST]))
        page("publishing:language_feed", (code,), feed(members))
    by_topic: dict[int, list[Row]] = defaultdict(list)
    for r in rows:
        for topic_id in topics_of[r["id"]]:
            by_topic[topic_id].append(r)
    page("publishing:topics", (), [(topic_rows[t], len(m)) for t, m in sorted(by_topic.items())])
    for topic_id, members in by_topic.items():
        slug = topic_rows[topic_id]["slug"]
        paged("publishing:topic", (slug,), topic_rows[topic_id], members)
        page("publishing:topic_feed", (slug,), topic_rows[topic_id], feed(members))
    by_byline: dict[int, list[Row]] = defaultdict(list)
    for r in rows:
        if r["byline"] is not None:
            by_byline[r["byline"]].append(r)
    page("publishing:authors", (), [(bylines[b], len(m)) for b, m in sorted(by_byline.items())])
    for byline_id, members in by_byline.items():
        paged("publishing:author", (bylines[byline_id]["slug"],), bylines[byline_id], members)
    page("publishing:issues", (), [(r, len(by_issue[r["id"]])) for r in issues_shown])
    for r in issues_shown:
        members = sorted(by_issue[r["id"]], key=lambda a: (a["publish_at"], a["id"]))
        paged("publishing:issue", (r["slug"],), r, members)
    campaign_model = _campaign_model()
    if campaign_model is not None:
        campaign_type = ContentType.objects.get_for_model(campaign_model)
        linked: dict[int, set[int]] = defaultdict(set)
        for article_id, campaign_id in ArticleCampaign.objects.filter(
            content_type=campaign_type
        ).values_list("article_id", "object_id"):
            if article_id in ids:
                linked[campaign_id].add(article_id)
        for c in _values(campaign_model._default_manager.filter(is_public=True, id__in=linked)):
            members = [r for r in rows if r["id"] in linked[c["id"]]]
            page("publishing:campaign_feed", (c["slug"],), c, feed(members))
    # The events feed shows documentation only: the mirror re-renders it with the site's data.
    found.append(("publishing:events_feed", (), "", ""))
    return found


def timeline_filter_urls() -> Iterator[str]:
    """The timeline filtered by each event type, each year with public events, and each place.

    (Filtered by person, it is reached from each person's page.)
    """
    base = reverse("public:event_list")
    for event_type in EventType.values:
        yield f"{base}?type={event_type}"
    years: set[int] = set()
    for earliest, latest in Event.objects.filter(is_public=True).values_list(
        "date_earliest", "date_latest"
    ):
        # An open end ("before 2012") would span every year since year 1: only its known end.
        first = latest.year if earliest == MIN_DAY else earliest.year
        last = earliest.year if latest == MAX_DAY else latest.year
        years.update(range(first, last + 1))
    for year in sorted(years):
        yield f"{base}?year={year}"
    for slug in Place.objects.filter(is_public=True).values_list("slug", flat=True):
        yield f"{base}?place={slug}"


def documentation_urls() -> Iterator[str]:
    """Every page of the documentation site reachable without a filter form."""
    yield reverse("public:home")
    yield reverse("public:organisation_list")
    yield reverse("public:person_list")
    yield reverse("public:event_list")
    yield reverse("public:source_list")
    for model, name in ((Person, "public:person"), (Event, "public:event")):
        for slug in model.objects.filter(is_public=True).values_list("slug", flat=True):
            yield address(name, slug)
    for slug in Organisation.objects.filter(is_public=True).values_list("slug", flat=True):
        yield address("public:organisation", slug)
    # Later pages of the lists are reached by the mirror through their pagination links.
    yield from timeline_filter_urls()


# -- The mirror's search index -----------------------------------------------------------------


@dataclass(frozen=True)
class SearchEntry:
    kind: str
    title: str
    text: str
    language: str
    url: str


def search_entries() -> list[SearchEntry]:
    """What the mirror's offline search finds: articles, people, organisations and events."""
    rows = list(_published().values("slug", "title", "standfirst", "language"))
    entries = [
        SearchEntry("article", row["title"], row["standfirst"][:300], row["language"], url)
        for row, url in zip(rows, article_urls(rows), strict=True)
    ]
    return entries + record_search_entries()


def record_search_entries() -> list[SearchEntry]:
    """The offline search's people, organisations and events, in the active language: their
    names, summaries and addresses (a page in each language) differ by language, an article's
    do not (it is written in one)."""
    entries = [
        SearchEntry(
            "person",
            _full_name(row),
            _tr(row, "occupation").text,
            "",
            address("public:person", row["slug"]),
        )
        for row in _values(Person.objects.filter(is_public=True))
    ]
    entries += [
        SearchEntry(
            "organisation",
            _tr(row, "name").text,
            row["abbreviation"],
            "",
            address("public:organisation", row["slug"]),
        )
        for row in _values(Organisation.objects.filter(is_public=True))
    ]
    entries += [
        SearchEntry(
            "event",
            _tr(row, "title").text,
            row["date"].display() if row["date"] else "",
            "",
            address("public:event", row["slug"]),
        )
        for row in _values(Event.objects.filter(is_public=True))
    ]
    return entries
