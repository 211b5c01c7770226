"""Atom feeds: the newspaper per language, per topic and per campaign, and the timeline of
public documentation events. Built with Django's syndication framework from `public_data`.

Entry ids are `urn:uuid:` names rather than addresses, so that an entry keeps its identity
when the site is read from a mirror at another address.
"""

from __future__ import annotations

import datetime as dt
import io
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import NAMESPACE_URL, uuid5

from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _

from . import public_data as data
from .public_data import EventEntry, FeedItem

T = TypeVar("T")


@dataclass(frozen=True)
class _Found(Generic[T]):
    # One feed instance serves every request (and threads): per-request values live here.
    path: str
    heading: str
    items: list[T]


class _Atom(Atom1Feed):
    """Atom 1.0, written to memory and handed to the response in one piece: the XML writer
    writes a few bytes at a time, and each write to a response costs a conversion."""

    def write(self, outfile: Any, encoding: str) -> None:
        buffer = io.StringIO()
        super().write(buffer, encoding)
        # The same errors handler as the XML writer's own text wrapper would use.
        outfile.write(buffer.getvalue().encode(encoding, "xmlcharrefreplace"))


def _guid(path: str) -> str:
    return f"urn:uuid:{uuid5(NAMESPACE_URL, 'solidarity-feed:' + path)}"


class _ArticleFeed(Feed, ABC):  # type: ignore[type-arg]
    feed_type = _Atom

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> _Found[FeedItem]:
        found = self.articles(**kwargs)
        if found is None:
            raise Http404
        heading, articles = found
        return _Found(request.path, heading, articles)

    @abstractmethod
    def articles(self, **kwargs: Any) -> tuple[str, list[FeedItem]] | None:
        """The feed's heading and its articles, or None when the feed does not exist."""

    def title(self, obj: _Found[FeedItem]) -> str:
        return _("Solidarity: %(what)s") % {"what": obj.heading}

    def link(self, obj: _Found[FeedItem]) -> str:
        return obj.path

    def feed_guid(self, obj: _Found[FeedItem]) -> str:
        return _guid(obj.path)

    def items(self, obj: _Found[FeedItem]) -> list[FeedItem]:
        return obj.items

    def item_title(self, item: FeedItem) -> str:
        return item.summary.title

    def item_link(self, item: FeedItem) -> str:
        return item.summary.url

    def item_guid(self, item: FeedItem) -> str:
        return f"urn:uuid:{item.uuid}"

    item_guid_is_permalink = False

    def item_description(self, item: FeedItem) -> str:
        standfirst = f"<p><strong>{escape(item.summary.standfirst)}</strong></p>"
        return (standfirst if item.summary.standfirst else "") + item.body_html

    def item_pubdate(self, item: FeedItem) -> dt.datetime:
        return item.summary.publish_at

    def item_updateddate(self, item: FeedItem) -> dt.datetime:
        return item.summary.publish_at

    def item_author_name(self, item: FeedItem) -> str | None:
        return item.summary.byline.name if item.summary.byline else None

    def item_categories(self, item: FeedItem) -> list[str]:
        return [t.name.text for t in item.summary.topics]


def _with(
    heading: str | None, articles: list[FeedItem] | None
) -> tuple[str, list[FeedItem]] | None:
    return None if heading is None or articles is None else (heading, articles)


class LanguageFeed(_ArticleFeed):
    def articles(self, **kwargs: Any) -> tuple[str, list[FeedItem]] | None:
        code = kwargs["code"]
        heading = data.LANGUAGE_NAMES.get(code)
        return _with(heading, data.feed_articles(language=code) if heading else None)


class TopicFeed(_ArticleFeed):
    def articles(self, **kwargs: Any) -> tuple[str, list[FeedItem]] | None:
        heading = data.topic_name(kwargs["slug"])
        return _with(heading, data.feed_articles(topic=kwargs["slug"]) if heading else None)


class CampaignFeed(_ArticleFeed):
    def articles(self, **kwargs: Any) -> tuple[str, list[FeedItem]] | None:
        heading = data.campaign_title(kwargs["slug"])
        return _with(heading, data.feed_articles(campaign=kwargs["slug"]) if heading else None)


class EventFeed(Feed):  # type: ignore[type-arg]
    feed_type = _Atom

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> _Found[EventEntry]:
        return _Found(request.path, _("timeline of events"), data.latest_events())

    def title(self, obj: _Found[EventEntry]) -> str:
        return _("Solidarity: %(what)s") % {"what": obj.heading}

    def link(self, obj: _Found[EventEntry]) -> str:
        return obj.path

    def feed_guid(self, obj: _Found[EventEntry]) -> str:
        return _guid(obj.path)

    def items(self, obj: _Found[EventEntry]) -> list[EventEntry]:
        return obj.items

    def item_title(self, item: EventEntry) -> str:
        return f"{item.date.display()}: {item.title.text}"

    def item_link(self, item: EventEntry) -> str:
        return item.url

    def item_guid(self, item: EventEntry) -> str:
        return f"urn:uuid:{uuid5(NAMESPACE_URL, 'solidarity-event:' + item.slug)}"

    item_guid_is_permalink = False

    def item_description(self, item: EventEntry) -> str:
        return f"<p>{escape(item.type_label)}</p>" + linebreaks(item.summary.text, autoescape=True)

    def item_updateddate(self, item: EventEntry) -> dt.datetime:
        return item.updated

    def item_categories(self, item: EventEntry) -> list[str]:
        return [item.type_label]
