"""Atom feeds per language, topic and campaign, and of the public timeline, read by feedparser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import feedparser
import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from solidarity.core.models import Section
from solidarity.documentation.models import Event
from solidarity.publishing.models import ArticleCampaign

from .test_publishing_pages import Newspaper, build_newspaper


@pytest.fixture
def paper(section: Section, settings: pytest.FixtureRequest, tmp_path: Path) -> Newspaper:
    settings.MEDIA_ROOT = str(tmp_path / "media")  # type: ignore[attr-defined]
    return build_newspaper(section)


def parse(client: Client, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def test_language_feed_carries_the_published_articles(client: Client, paper: Newspaper) -> None:
    """The English feed has the English article with its link, id, author, topics and body."""
    feed = parse(client, "/en/feeds/newspaper/en.atom")
    assert feed.feed.title == "Solidarity: English"
    assert feed.feed.id.startswith("urn:uuid:")
    titles = [e.title for e in feed.entries]
    assert titles == ["Free Natalya Sokolova"]
    entry = feed.entries[0]
    assert entry.link == "http://testserver/en/newspaper/articles/free-natalya/"
    assert entry.id == f"urn:uuid:{paper.en.uuid}"
    assert entry.author == "A. Zhaksylyk"
    assert {t.term for t in entry.tags} == {"Political prisoners", "Strikes"}
    assert "<em>Free Natalya Sokolova</em>" in entry.summary
    assert entry.updated_parsed is not None


def test_each_language_has_its_feed(client: Client, paper: Newspaper) -> None:
    """The Russian and Kazakh feeds carry their own articles; an unknown language is a 404."""
    ru = parse(client, "/en/feeds/newspaper/ru.atom")
    assert [e.title for e in ru.entries] == ["Свободу Наталье Соколовой"]
    assert ru.entries[0].link.endswith("/ru/newspaper/articles/svobodu-natale/")
    kk = parse(client, "/kk/feeds/newspaper/kk.atom")
    assert [e.title for e in kk.entries] == ["Натальяға бостандық"]
    assert client.get("/en/feeds/newspaper/de.atom").status_code == 404


def test_topic_feed(client: Client, paper: Newspaper) -> None:
    """A topic's feed has its published articles in every language, never a scheduled one."""
    feed = parse(client, "/en/feeds/topics/prisoners.atom")
    assert len(feed.entries) == 3
    draft = parse(client, "/en/feeds/topics/draft-topic.atom")
    assert draft.entries == []
    assert client.get("/en/feeds/topics/no-such-topic.atom").status_code == 404


def test_campaign_feed(client: Client, paper: Newspaper) -> None:
    """A public campaign's feed carries the articles linked to it; a private one is a 404."""
    campaign_model = apps.get_model("campaigns", "Campaign")
    campaign = campaign_model._default_manager.create(
        section=paper.section, is_public=True, slug="free-them", title_en="Free them all"
    )
    hidden = campaign_model._default_manager.create(
        section=paper.section, slug="quiet-campaign", title_en="Quiet campaign"
    )
    content_type = ContentType.objects.get_for_model(campaign_model)
    ArticleCampaign.objects.create(
        article=paper.en, content_type=content_type, object_id=campaign.pk
    )
    ArticleCampaign.objects.create(article=paper.ru, content_type=content_type, object_id=hidden.pk)
    feed = parse(client, "/en/feeds/campaigns/free-them.atom")
    assert feed.feed.title == "Solidarity: Free them all"
    assert [e.title for e in feed.entries] == ["Free Natalya Sokolova"]
    assert client.get("/en/feeds/campaigns/quiet-campaign.atom").status_code == 404
    article = client.get("/en/newspaper/articles/free-natalya/").content.decode()
    assert "Free them all" in article
    assert (
        "Quiet campaign"
        not in client.get("/ru/newspaper/articles/svobodu-natale/").content.decode()
    )


def test_events_feed_is_the_public_timeline(client: Client, paper: Newspaper) -> None:
    """The timeline feed lists public events, latest first, and never a private one."""
    Event.objects.create(
        section=paper.section,
        is_public=True,
        slug="zhanaozen-massacre",
        type="massacre",
        title_en="Zhanaozen massacre",
        summary_en="Police fired on striking oil workers.",
        date="2011-12-16",
    )
    Event.objects.create(
        section=paper.section, slug="private-event", type="threat", title_en="Private threat",
        date="2012-01",
    )  # fmt: skip
    feed = parse(client, "/en/feeds/events.atom")
    titles = [e.title for e in feed.entries]
    assert titles == [
        "16 December 2011: Zhanaozen massacre",
        "May 2011: Zhanaozen oil workers' strike",
    ]
    assert "Police fired on striking oil workers." in feed.entries[0].summary
    assert feed.entries[0].link == "http://testserver/en/events/zhanaozen-massacre/"
    assert not any("Private" in t for t in titles)


@pytest.mark.parametrize("url", ["/en/newspaper/", "/en/newspaper/topics/prisoners/"])
def test_pages_link_their_feeds(client: Client, paper: Newspaper, url: str) -> None:
    """The newspaper pages point readers to the feeds."""
    assert "application/atom+xml" in client.get(url).content.decode()
